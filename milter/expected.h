/*
 * expected - the expected TLSA set (lib/expect) of each configured host
 * as of a sweep, and the last good set kept per host.
 *
 * The guard reads the key files (keeping their public halves) and the
 * issuer files as root at start (checks_preload), and keeps them in
 * struct checks_keep by their paths; a set is made from them and the
 * chain files, read afresh (checks_expect). After the privilege drop a
 * key file may no longer be readable: while it is unchanged nothing needs
 * to read it; once changed (or newly named by a reload) it is read again
 * if it can be, else what was read before stays in use, with a log line
 * (see keep_keys in expected.c).
 */
#ifndef DG_EXPECTED_H
#define DG_EXPECTED_H

#include <time.h>

#include "conf.h"
#include "errbuf.h"
#include "expect.h"

struct checks_keep;

/*
 * The expected set of h as of now into *out, from the keys and issuers
 * kept in keep (read now when new or changed), or all read now when keep
 * is NULL; files read now are read through cache (lib/expect; may be
 * NULL: one per sweep, so that sections sharing a key file decode it
 * once). A cert section whose files cannot be used is listed in
 * (*out)->failed. Returns 0, or -1 with err set.
 */
int checks_expect(const struct conf_host *h, struct checks_keep *keep,
    struct expect_cache *cache, time_t now, struct expect **out,
    struct errbuf *err);

/*
 * The expected set of h for a sweep, borrowed from keep: the kept set
 * while the files it was made from are unchanged (same device, inode,
 * size, mtime and ctime) and it is less than an hour old, else a new one
 * (checks_expect, as of the wall time now), which replaces it. So a sweep
 * reads and decodes keys only when a file changed. The age is measured on
 * mono (duration_clock()): a wall clock set back must not keep a set for
 * hours. Returns 0, or -1 with err set (keep's set stays as it was).
 */
int checks_expect_kept(struct checks_keep *keep, const struct conf_host *h,
    struct expect_cache *cache, time_t now, time_t mono,
    const struct expect **out, struct errbuf *err);

/* h's name, or "" (for messages and keys). */
const char *checks_host_name(const struct conf_host *h);

#endif
