/*
 * report - the guard's verdicts and the three forms they are shown in:
 * status.json and metrics.prom (Prometheus textfile format) in state_dir,
 * and the summary line plus table of "daneguard --check".
 *
 * A report is a list of items, one per (check, host, address, algorithm,
 * client): the key of a state. Fields that do not apply are "" (G4 is per
 * host and algorithm, not per address; G7 per host; only G6 names a
 * client). Items keep the order they were added in, so every output is
 * deterministic for a given sweep.
 */
#ifndef DG_REPORT_H
#define DG_REPORT_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "errbuf.h"
#include "state.h"
#include "stats.h"

struct report_item {
	enum check_id check;
	char *host;		/* MX host name, or "" */
	char *addr;		/* probe address or listener, or "" */
	char *alg;		/* "rsa", "ecdsa", ..., or "" */
	char *client;		/* G6: the client impersonated, or "" */
	enum verdict_state state;
	char *reason;		/* one line, never NULL */
	time_t since;		/* when this state began (guard.c keeps it) */
	int counted;		/* count applies (G10) */
	long long count;	/* G10: failed sessions senders reported */
	int dated;		/* G11: the days below apply */
	long served_days;	/* G11: days to the served leaf's notAfter */
	int disk_dated;		/* G11: a leaf on disk was loaded */
	long disk_days;		/* G11: days to its notAfter */
	int sig_dated;		/* G9: sig_seconds applies */
	long long sig_seconds;	/* G9: to the earliest RRSIG expiration */
	int ns_serialed;	/* G8: the serial below applies */
	long ns_serial;		/* G8: the SOA serial the address serves */
};

struct report {
	time_t when;			/* start of the sweep */
	double duration;		/* seconds the sweep took */
	struct report_item *items;
	size_t n, alloc;
	struct stats_listener *listeners;	/* owned; may be NULL */
	size_t nlisteners;
};

/* Zero-initialised is an empty report; report_clear frees and resets. */
void report_clear(struct report *r);

/*
 * Add an item (strings are copied; NULL is taken as ""); since is set to
 * r->when. Returns the item, valid until the next add.
 */
struct report_item *report_add(struct report *r, enum check_id check,
    const char *host, const char *addr, const char *alg, const char *client,
    enum verdict_state state, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

/* Append a deep copy of item (its since included). */
void report_add_item(struct report *r, const struct report_item *item);

/* 1 when a and b have the same key (check, host, addr, alg, client). */
int report_same_key(const struct report_item *a, const struct report_item *b);

/* Index of the item with item's key, or -1. */
long report_find(const struct report *r, const struct report_item *item);

/* Worst state of all items: UNKNOWN ranks between WARNING and CRITICAL
 * (a sweep that found a CRITICAL says so even if some probes failed);
 * an empty report is UNKNOWN. */
enum verdict_state report_worst(const struct report *r);


/*
 * A listener as the reports name it: "127.0.0.1:25", "[::1]:25", and
 * "*:25" when the MTA gave no address (a daemon bound to all of them).
 */
void report_listener(const char *addr, unsigned port, char *buf,
    size_t len);

/* The whole status.json / metrics.prom text, malloc'd. */
char *report_json(const struct report *r);
char *report_prom(const struct report *r);

/*
 * "DANEGUARD STATE - summary" then a table (check host addr alg state
 * reason), for daneguard --check.
 */
void report_print(const struct report *r, FILE *out);

/*
 * The states alone (check, host, addr, alg, client, state, since; no
 * reasons), one item a line, malloc'd: REPORT_STATE_FILE in state_dir,
 * which a restarted guard reads back so that "since" survives a crash.
 */
#define REPORT_STATE_FILE	"guard.state"
char *report_state(const struct report *r);

/*
 * Append the items of dir/REPORT_STATE_FILE to r (lines that do not
 * parse are skipped: the file only saves re-logging). Returns 0, or -1
 * with err (errno ENOENT: no file).
 */
int report_state_load(const char *dir, struct report *r,
    struct errbuf *err);

/*
 * Write status.json, metrics.prom and REPORT_STATE_FILE into dir (made, mode 0755, if
 * missing) with atomicfile_replace. Returns 0, or -1 with err set.
 */
int report_write(const struct report *r, const char *dir, struct errbuf *err);

#endif
