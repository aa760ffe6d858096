/*
 * accessmap - the text source of sendmail's access map (/etc/mail/access,
 * what makemap reads to build access.db), for the facts daneguard needs
 * from it: which clients Srv_Features entries deny STARTTLS (flag S).
 *
 * The format is makemap's: one "KEY VALUE" per line, separated by white
 * space; empty lines and lines that start with '#' are skipped. A key is
 * "Tag:rest" (Srv_Features:192.0.2.66, Connect:example.com) or untagged
 * (example.com, IPv6:2001:db8::1 - "IPv6" is no tag). makemap folds keys
 * to lower case, so tags and keys compare case-insensitively.
 *
 * Only the text is read: access.db is a Berkeley DB file that the guard
 * does not parse; a file that is not text is refused with a message that
 * says so. Reading happens in the guard thread, never in a milter
 * callback.
 */
#ifndef DG_ACCESSMAP_H
#define DG_ACCESSMAP_H

#include <stddef.h>

#include "errbuf.h"

/* Files larger than this are refused (a real access map is far smaller). */
#define ACCESSMAP_MAX_BYTES	(16 * 1024 * 1024)

struct accessmap_entry {
	char *tag;		/* "Srv_Features", ...; "" when untagged */
	char *key;		/* after "Tag:"; "" for the tag's default */
	char *value;		/* the right-hand side, trimmed */
	unsigned line;		/* 1-based line in the source */
};

struct accessmap {
	struct accessmap_entry *v;	/* in file order */
	size_t n;
};

/*
 * Parse len bytes of access map text. name (a file name) goes into
 * messages. Returns 0 with *out filled (free with accessmap_free), or -1
 * with err naming name:LINE and the problem: NUL bytes (not text: give
 * the source, not access.db), a key without a value. On -1 *out is empty.
 */
int accessmap_parse(const char *text, size_t len, const char *name,
    struct accessmap *out, struct errbuf *err);

/* Read and parse path (at most ACCESSMAP_MAX_BYTES). 0, or -1 with err. */
int accessmap_load(const char *path, struct accessmap *out,
    struct errbuf *err);

/* Free what accessmap_parse/_load filled; leaves an empty map. */
void accessmap_free(struct accessmap *m);

/*
 * 1 when a Srv_Features value withholds STARTTLS, else 0. sendmail reads
 * the first character of each white-space separated word: 'S' turns
 * STARTTLS off, 's' on, the last one wins ("V S" is off, "S s" on).
 */
int accessmap_no_starttls(const char *value);

#endif
