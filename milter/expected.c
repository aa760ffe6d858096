/*
 * expected - the expected TLSA set of each host for a sweep, and the last
 * good one kept per host. See expected.h.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "duration.h"
#include "expect.h"
#include "expected.h"
#include "log.h"
#include "xalloc.h"

/* How long a kept set is reused while its files are unchanged: the
 * expiry notes are computed as of when the set was made. Measured on
 * duration_clock(): a wall clock set back must not keep them for hours. */
#define CHECKS_KEEP_MAX_AGE	3600

/*
 * One cert section's protected files (key, next_key, passphrase_file,
 * issuers), as read: by the list of their paths, so that a reload that
 * names the same files finds them.
 */
struct keep_keys {
	char *paths;
	char *stamp;		/* their identity when read */
	struct expect_keys keys;
};

struct checks_keep {
	char **names;		/* host names */
	struct expect **sets;
	char **stamps;		/* the files' identity when the set was made, or NULL */
	time_t *made;		/* duration_clock() */
	size_t n;
	struct keep_keys *keys;
	size_t nkeys;
};

struct checks_keep *
checks_keep_new(void)
{
	return xcalloc(1, sizeof(struct checks_keep));
}

void
checks_keep_free(struct checks_keep *keep)
{
	size_t i;

	if (keep == NULL)
		return;
	for (i = 0; i < keep->n; i++) {
		free(keep->names[i]);
		expect_free(keep->sets[i]);
		free(keep->stamps[i]);
	}
	free(keep->names);
	free(keep->sets);
	free(keep->stamps);
	free(keep->made);
	for (i = 0; i < keep->nkeys; i++) {
		free(keep->keys[i].paths);
		free(keep->keys[i].stamp);
		expect_keys_clear(&keep->keys[i].keys);
	}
	free(keep->keys);
	free(keep);
}

/* Store e (taking it) and stamp (taking it, may be NULL) for host. */
static void
keep_store(struct checks_keep *keep, const char *host, struct expect *e,
    char *stamp, time_t mono)
{
	size_t i;

	for (i = 0; i < keep->n; i++)
		if (strcmp(keep->names[i], host) == 0)
			break;
	if (i == keep->n) {
		keep->names = xreallocarray(keep->names, keep->n + 1,
		    sizeof(*keep->names));
		keep->sets = xreallocarray(keep->sets, keep->n + 1,
		    sizeof(*keep->sets));
		keep->stamps = xreallocarray(keep->stamps, keep->n + 1,
		    sizeof(*keep->stamps));
		keep->made = xreallocarray(keep->made, keep->n + 1,
		    sizeof(*keep->made));
		keep->names[i] = xstrdup(host);
		keep->sets[i] = NULL;
		keep->stamps[i] = NULL;
		keep->n++;
	}
	expect_free(keep->sets[i]);
	free(keep->stamps[i]);
	keep->sets[i] = e;
	keep->stamps[i] = stamp;
	keep->made[i] = mono;
}

/* Append path's identity (device, inode, size, mtime, ctime) to *s. */
static void
stamp_file(char **s, const char *path)
{
	struct stat st;
	char *n;

	if (path == NULL)
		return;
	if (stat(path, &st) < 0)
		n = xasprintf("%s%s:-;", *s, path);
	else
		n = xasprintf("%s%s:%lu:%lu:%lld:%lld.%09ld:%lld.%09ld;", *s,
		    path, (unsigned long)st.st_dev, (unsigned long)st.st_ino,
		    (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		    st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec,
		    st.st_ctim.tv_nsec);
	free(*s);
	*s = n;
}

/*
 * What h's expected set is made from: its parameters (a reload may change
 * them and keep the files) and the identity of every file; malloc'd.
 */
static char *
host_stamp(const struct conf_host *h)
{
	char *s, *n;
	size_t i, j;

	s = xasprintf("%u:%ld:%d:%d;", h->port, h->ttl, (int)h->rollover,
	    h->issuer_depth);
	for (i = 0; i < h->nrecords; i++) {
		n = xasprintf("%s%u %u %u;", s, h->records[i].usage,
		    h->records[i].selector, h->records[i].mtype);
		free(s);
		s = n;
	}
	for (i = 0; i < h->ncerts; i++) {
		n = xasprintf("%s[%s]", s, h->certs[i].name ? h->certs[i].name : "");
		free(s);
		s = n;
		stamp_file(&s, h->certs[i].chain);
		stamp_file(&s, h->certs[i].key);
		stamp_file(&s, h->certs[i].next_key);
		stamp_file(&s, h->certs[i].passphrase_file);
		for (j = 0; j < h->certs[i].nissuers; j++)
			stamp_file(&s, h->certs[i].issuers[j]);
	}
	return s;
}

int
checks_expect_kept(struct checks_keep *keep, const struct conf_host *h,
    struct expect_cache *cache, time_t now, time_t mono,
    const struct expect **out, struct errbuf *err)
{
	const char *host = checks_host_name(h);
	char *stamp = host_stamp(h);
	struct expect *e;
	size_t i;

	for (i = 0; i < keep->n; i++)
		if (strcmp(keep->names[i], host) == 0)
			break;
	if (i < keep->n && keep->stamps[i] != NULL &&
	    strcmp(keep->stamps[i], stamp) == 0 &&
	    mono - keep->made[i] < CHECKS_KEEP_MAX_AGE) {
		free(stamp);
		*out = keep->sets[i];
		return 0;
	}
	if (checks_expect(h, keep, cache, now, &e, err) < 0) {
		free(stamp);
		return -1;
	}
	keep_store(keep, host, e, stamp, mono);
	*out = e;
	return 0;
}

const char *
checks_host_name(const struct conf_host *h)
{
	return h->name != NULL ? h->name : "";
}

/* 1 if path exists but this process may not read it (privileges dropped). */
static int
unreadable(const char *path)
{
	return path != NULL && access(path, R_OK) < 0 && errno == EACCES;
}

/* The protected files of cc, one a line (malloc'd); "" for none. */
static char *
section_paths(const struct conf_cert *cc)
{
	const char *one[3] = { cc->key, cc->next_key, cc->passphrase_file };
	char *s = xstrdup(""), *n;
	size_t i;

	for (i = 0; i < 3 + cc->nissuers; i++) {
		n = xasprintf("%s%s\n", s, i < 3 ? (one[i] ? one[i] : "") :
		    cc->issuers[i - 3]);
		free(s);
		s = n;
	}
	return s;
}

/* 1 if a protected file of cc cannot be read for want of permission. */
static int
section_unreadable(const struct conf_cert *cc)
{
	size_t i;

	if (unreadable(cc->key) || unreadable(cc->next_key) ||
	    unreadable(cc->passphrase_file))
		return 1;
	for (i = 0; i < cc->nissuers; i++)
		if (unreadable(cc->issuers[i]))
			return 1;
	return 0;
}

static char *
section_stamp(const struct conf_cert *cc)
{
	char *s = xstrdup("");
	size_t i;

	stamp_file(&s, cc->key);
	stamp_file(&s, cc->next_key);
	stamp_file(&s, cc->passphrase_file);
	for (i = 0; i < cc->nissuers; i++)
		stamp_file(&s, cc->issuers[i]);
	return s;
}

/*
 * The keys (public halves) and issuers of cc, borrowed from keep: those
 * read before while their files are unchanged, else read now. Files read
 * at start (as root) that have changed since and that this process may
 * no longer read (after the privilege drop; also after a reload) keep
 * what was read: the next key's public half and the issuers, but not
 * the current key, which is not known to belong to the leaf any more.
 * That is logged once per change: restarting daneguard reads them.
 */
static const struct expect_keys *
keep_keys(struct checks_keep *keep, const struct conf_host *h,
    const struct conf_cert *cc, struct expect_cache *cache)
{
	struct keep_keys *k = NULL;
	struct expect_keys fresh;
	struct errbuf err;
	char *paths = section_paths(cc), *stamp = section_stamp(cc);
	size_t i;

	for (i = 0; i < keep->nkeys; i++)
		if (strcmp(keep->keys[i].paths, paths) == 0) {
			k = &keep->keys[i];
			break;
		}
	if (k != NULL && strcmp(k->stamp, stamp) == 0) {
		free(paths);
		free(stamp);
		return &k->keys;
	}
	if (k == NULL) {
		keep->keys = xreallocarray(keep->keys, keep->nkeys + 1,
		    sizeof(*keep->keys));
		k = &keep->keys[keep->nkeys++];
		memset(k, 0, sizeof(*k));
		k->paths = paths;
	} else
		free(paths);
	free(k->stamp);
	k->stamp = stamp;
	if (expect_keys_load_cached(cc, NULL, cache, &fresh, &err) == 0) {
		expect_keys_clear(&k->keys);
		k->keys = fresh;
	} else if (section_unreadable(cc) && k->keys.error == NULL &&
	    (k->keys.key != NULL || k->keys.next != NULL ||
	    k->keys.nissuers > 0)) {
		log_warnx("host %s cert \"%s\": %s: changed, and not readable "
		    "after the privilege drop; the next key and issuers read "
		    "before stay in use, the key is not checked against the "
		    "certificate; restart daneguard to read them",
		    checks_host_name(h), cc->name ? cc->name : "", err.msg);
		certkey_key_free(k->keys.key);
		k->keys.key = NULL;
	} else {
		expect_keys_clear(&k->keys);
		k->keys.error = section_unreadable(cc) ? xasprintf("%s (not "
		    "readable after the privilege drop, and not read before: "
		    "restart daneguard to read it)", err.msg) :
		    xstrdup(err.msg);
	}
	return &k->keys;
}

/*
 * The expected set of h as of now: the chain files read afresh, the keys
 * and issuers as read before (keep_keys); keep NULL reads them all now.
 */
int
checks_expect(const struct conf_host *h, struct checks_keep *keep,
    struct expect_cache *cache, time_t now, struct expect **out,
    struct errbuf *err)
{
	struct expect_keys *keys;
	size_t i;
	int rc;

	if (keep == NULL)
		return expect_load_each(h, NULL, cache, now, out, err);
	keys = xcalloc(h->ncerts ? h->ncerts : 1, sizeof(*keys));
	for (i = 0; i < h->ncerts; i++)
		keys[i] = *keep_keys(keep, h, &h->certs[i], cache);
	rc = expect_load_each_loaded(h, keys, now, out, err);
	free(keys);
	return rc;
}

int
checks_preload(const struct conf *conf, struct checks_keep *keep,
    struct errbuf *err)
{
	struct expect_cache *cache = expect_cache_new();
	struct expect *e;
	char *stamp;
	size_t i;
	int rc = 0;

	for (i = 0; i < conf->nhosts; i++) {
		const struct conf_host *h = &conf->hosts[i];

		/* Stamped before loading: a file that changes meanwhile
		 * makes the first sweep load it again. */
		stamp = host_stamp(h);
		if (checks_expect(h, keep, cache, time(NULL), &e, err) < 0) {
			free(stamp);
			errbuf_prefix(err, "host %s", checks_host_name(h));
			rc = -1;
			break;
		}
		keep_store(keep, checks_host_name(h), e, stamp,
		    duration_clock());
	}
	expect_cache_free(cache);
	return rc;
}
