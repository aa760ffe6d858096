/*
 * firstseen - when each TLSA record was first seen on each nameserver
 * address, for the pre-deploy gate's minimum age (tlsagen --check --dns).
 *
 * The state is a small text file, one record per line:
 *	ADDRESS OWNER USAGE SELECTOR MTYPE HEX FIRST-SEEN
 *	192.0.2.53 _25._tcp.mx1.example.com. 3 1 1 8a1f...e0 1764362481
 * (FIRST-SEEN in seconds since 1970), '#' comments and blank lines. It is
 * rewritten whole and atomically, so a reader never sees half of it.
 *
 * A line that does not parse, or whose time lies in the future, is
 * dropped with a warning naming file:line rather than refused: losing an
 * entry can only make a record look younger than it is, so the gate errs
 * on the safe side (it waits longer), and the next save leaves a clean
 * file behind instead of demanding a hand repair.
 */
#ifndef DG_FIRSTSEEN_H
#define DG_FIRSTSEEN_H

#include <stddef.h>
#include <time.h>

#include "errbuf.h"
#include "tlsa.h"

struct firstseen_entry {
	char *server;			/* numeric address of the nameserver */
	struct tlsa_record rec;		/* owner set (normalised), ttl -1 */
	time_t first;			/* first seen, seconds since 1970 */
};

struct firstseen {
	char *path;
	struct firstseen_entry *v;
	size_t n;
	char **warnings;		/* "FILE:LINE: ignored: why", one each */
	size_t nwarnings;
};

/* Empty state for path (copied). */
void firstseen_init(struct firstseen *fs, const char *path);

/*
 * Read fs->path into fs (entries appended). A missing file is an empty
 * state. Bad lines are skipped and described in fs->warnings (see
 * above); now is the clock for "in the future". Returns 0, or -1 with
 * err naming the file when it cannot be read.
 */
int firstseen_load(struct firstseen *fs, time_t now, struct errbuf *err);

/*
 * Parse one line (no newline) into *entry. Returns 1 for an entry, 0 for
 * a blank or comment line, -1 for a bad line with why set (no location).
 */
int firstseen_parse_line(const char *line, time_t now,
    struct firstseen_entry *entry, struct errbuf *why);

/*
 * When the record rec (its owner and rdata) was first seen on server, or
 * -1 if it is not in the state.
 */
time_t firstseen_get(const struct firstseen *fs, const char *server,
    const struct tlsa_record *rec);

/*
 * server answered for owner with exactly the records of set (validated):
 * its entries for owner become those records, each keeping its earlier
 * first-seen time or getting now. Records no longer served are forgotten,
 * so a record that comes back starts its age again.
 */
void firstseen_observe(struct firstseen *fs, const char *server,
    const char *owner, const struct tlsa_set *set, time_t now);

/* The file's content, sorted (server, owner, rdata); malloc'd. */
char *firstseen_render(const struct firstseen *fs);

/*
 * Write the state to fs->path atomically (lib/atomicfile; mode 0644 for
 * a new file). Returns 0, or -1 with err naming the file (the old file
 * is then untouched).
 */
int firstseen_save(const struct firstseen *fs, struct errbuf *err);

void firstseen_free(struct firstseen *fs);

#endif
