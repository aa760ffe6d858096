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

#include <openssl/evp.h>

#include "certkey.h"
#include "checks.h"
#include "expect.h"
#include "expected.h"
#include "xalloc.h"

/* How long a kept set is reused while its files are unchanged: the
 * expiry notes are computed as of when the set was made. */
#define CHECKS_KEEP_MAX_AGE	3600

struct checks_keep {
	char **names;		/* host names */
	struct expect **sets;
	char **stamps;		/* the files' identity when the set was made, or NULL */
	time_t *made;
	size_t n;
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
	free(keep);
}

/* Store e (taking it) and stamp (taking it, may be NULL) for host. */
static void
keep_store(struct checks_keep *keep, const char *host, struct expect *e,
    char *stamp, time_t now)
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
	keep->made[i] = now;
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
    time_t now, const struct expect **out, struct errbuf *err)
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
	    now - keep->made[i] < CHECKS_KEEP_MAX_AGE) {
		free(stamp);
		*out = keep->sets[i];
		return 0;
	}
	if (checks_expect(h, i < keep->n ? keep->sets[i] : NULL, now, &e,
	    err) < 0) {
		free(stamp);
		return -1;
	}
	keep_store(keep, host, e, stamp, now);
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

/*
 * The expected set of h as of now. When expect_load fails because a key
 * file can no longer be read, rebuild it from the chain files (read
 * afresh) and the next keys of prev: the key files only checked the
 * leaf and supplied the next key's public half, which cannot have
 * changed without the file changing, and then root must restart or
 * reload us anyway.
 */
int
checks_expect(const struct conf_host *h, const struct expect *prev,
    time_t now, struct expect **out, struct errbuf *err)
{
	struct certkey_chain *chain;
	struct certkey_key *key, *next;
	struct expect *e;
	char *problem = NULL;
	size_t i, j;
	int any = 0;

	if (expect_load_each(h, NULL, now, out, err) < 0)
		return -1;
	if ((*out)->nfailed == 0)
		return 0;
	for (i = 0; i < h->ncerts; i++)
		if (unreadable(h->certs[i].key) ||
		    unreadable(h->certs[i].next_key) ||
		    unreadable(h->certs[i].passphrase_file))
			any = 1;
	/* Broken files, not privileges: reported section by section. */
	if (!any || prev == NULL)
		return 0;
	expect_free(*out);
	*out = NULL;
	e = expect_new(h);
	for (i = 0; i < h->ncerts; i++) {
		const struct conf_cert *cc = &h->certs[i];

		if (certkey_chain_load(cc->chain, &chain, err) < 0)
			goto fail;
		key = next = NULL;
		if (cc->key != NULL && cc->passphrase_file == NULL &&
		    !unreadable(cc->key)) {
			if (certkey_key_load(cc->key, NULL, &key, err) < 0) {
				certkey_chain_free(chain);
				goto fail;
			}
			if (!certkey_key_matches_cert(key->pkey,
			    certkey_chain_leaf(chain)))
				problem = xasprintf("%s does not match the "
				    "certificate in %s", cc->key, cc->chain);
		}
		if (cc->next_key != NULL && !unreadable(cc->next_key) &&
		    cc->passphrase_file == NULL) {
			if (certkey_key_load(cc->next_key, NULL, &next,
			    err) < 0) {
				certkey_key_free(key);
				certkey_chain_free(chain);
				goto fail;
			}
		} else if (cc->next_key != NULL) {
			for (j = 0; j < prev->ncerts; j++)
				if (prev->certs[j].next != NULL &&
				    prev->certs[j].name != NULL &&
				    cc->name != NULL &&
				    strcmp(prev->certs[j].name, cc->name) == 0)
					break;
			if (j == prev->ncerts) {
				errbuf_set(err, "%s: cannot read it any more "
				    "and it was not loaded at start",
				    cc->next_key);
				certkey_key_free(key);
				certkey_chain_free(chain);
				goto fail;
			}
			next = xcalloc(1, sizeof(*next));
			next->path = xstrdup(prev->certs[j].next->path);
			next->pkey = prev->certs[j].next->pkey;
			EVP_PKEY_up_ref(next->pkey);
			next->is_private = prev->certs[j].next->is_private;
		}
		expect_add_cert(e, cc->name, chain, key, next);
		e->certs[e->ncerts - 1].problem = problem;
		problem = NULL;
	}
	if (expect_compute(e, now, err) < 0)
		goto fail;
	*out = e;
	return 0;

fail:
	free(problem);
	expect_free(e);
	return -1;
}

int
checks_preload(const struct conf *conf, struct checks_keep *keep,
    struct errbuf *err)
{
	struct expect *e;
	char *stamp;
	size_t i;

	for (i = 0; i < conf->nhosts; i++) {
		const struct conf_host *h = &conf->hosts[i];

		/* Stamped before loading: a file that changes meanwhile
		 * makes the first sweep load it again. */
		stamp = host_stamp(h);
		if (expect_load_each(h, NULL, time(NULL), &e, err) < 0) {
			free(stamp);
			errbuf_prefix(err, "host %s", checks_host_name(h));
			return -1;
		}
		keep_store(keep, checks_host_name(h), e, stamp, time(NULL));
	}
	return 0;
}
