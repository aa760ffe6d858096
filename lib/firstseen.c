/*
 * firstseen - see firstseen.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomicfile.h"
#include "fileio.h"
#include "firstseen.h"
#include "xalloc.h"

/* A record per line, about 150 bytes: room for 400,000 of them. */
#define FIRSTSEEN_MAX_FILE	((size_t)64 * 1024 * 1024)

#define FIRSTSEEN_HEADER \
"# tlsagen --check --dns: when each TLSA record was first seen on each\n" \
"# nameserver address. Rewritten by every run; lines:\n" \
"# ADDRESS OWNER USAGE SELECTOR MTYPE HEX FIRST-SEEN(seconds since 1970)\n"

void
firstseen_init(struct firstseen *fs, const char *path)
{
	memset(fs, 0, sizeof(*fs));
	fs->path = xstrdup(path);
}

static void
entry_clear(struct firstseen_entry *e)
{
	free(e->server);
	tlsa_record_clear(&e->rec);
	memset(e, 0, sizeof(*e));
}

void
firstseen_free(struct firstseen *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		entry_clear(&fs->v[i]);
	free(fs->v);
	for (i = 0; i < fs->nwarnings; i++)
		free(fs->warnings[i]);
	free(fs->warnings);
	free(fs->path);
	memset(fs, 0, sizeof(*fs));
}

/* The next blank-separated word of *p, or NULL; *p moves past it. */
static char *
next_word(char **p)
{
	char *s = *p, *w;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0')
		return NULL;
	w = s;
	while (*s != '\0' && *s != ' ' && *s != '\t')
		s++;
	if (*s != '\0')
		*s++ = '\0';
	*p = s;
	return w;
}

static int
is_address(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

int
firstseen_parse_line(const char *line, time_t now,
    struct firstseen_entry *entry, struct errbuf *why)
{
	char *copy, *p, *w[7], *rdata, *end;
	struct errbuf err;
	long long t;
	size_t i;
	int ret = -1;

	memset(entry, 0, sizeof(*entry));
	p = copy = xstrdup(line);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#') {
		free(copy);
		return 0;
	}
	for (i = 0; i < 7; i++)
		if ((w[i] = next_word(&p)) == NULL)
			break;
	if (i < 7 || next_word(&p) != NULL) {
		errbuf_set(why, "expected 7 fields (ADDRESS OWNER USAGE "
		    "SELECTOR MTYPE HEX FIRST-SEEN)");
		goto out;
	}
	if (!is_address(w[0])) {
		errbuf_set(why, "'%s' is not an IP address", w[0]);
		goto out;
	}
	if (w[1][strlen(w[1]) - 1] != '.') {
		errbuf_set(why, "owner '%s' is not absolute (no trailing dot)",
		    w[1]);
		goto out;
	}
	rdata = xasprintf("%s %s %s %s", w[2], w[3], w[4], w[5]);
	if (tlsa_rdata_parse(rdata, &entry->rec, &err) < 0) {
		errbuf_set(why, "%s", err.msg);
		free(rdata);
		goto out;
	}
	free(rdata);
	errno = 0;
	t = strtoll(w[6], &end, 10);
	if (!isdigit((unsigned char)w[6][0]) || *end != '\0' || errno != 0 ||
	    (time_t)t != t) {
		errbuf_set(why, "'%s' is not a time in seconds since 1970",
		    w[6]);
		goto out;
	}
	if ((time_t)t > now) {
		errbuf_set(why, "first-seen time %s lies in the future", w[6]);
		goto out;
	}
	entry->first = (time_t)t;
	entry->server = xstrdup(w[0]);
	tlsa_record_set_owner(&entry->rec, w[1]);
	ret = 1;
out:
	if (ret < 0)
		tlsa_record_clear(&entry->rec);
	free(copy);
	return ret;
}

static void
add_entry(struct firstseen *fs, struct firstseen_entry *e)
{
	fs->v = xreallocarray(fs->v, fs->n + 1, sizeof(*fs->v));
	fs->v[fs->n++] = *e;
}

int
firstseen_load(struct firstseen *fs, time_t now, struct errbuf *err)
{
	struct firstseen_entry e;
	struct errbuf why;
	char *buf, *line, *end, *nl;
	size_t len, lineno = 0;
	int rc;

	if (fileio_read(fs->path, FIRSTSEEN_MAX_FILE, 0, &buf, &len,
	    &why) < 0) {
		if (errno == ENOENT)
			return 0;
		errbuf_set(err, "%s (the first-seen state)", why.msg);
		return -1;
	}
	end = buf + len;
	for (line = buf; line < end; line = nl + 1) {
		lineno++;
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		*nl = '\0';
		if ((size_t)(nl - line) != strlen(line)) {
			errbuf_set(&why, "NUL byte in line");
			rc = -1;
		} else
			rc = firstseen_parse_line(line, now, &e, &why);
		if (rc > 0)
			add_entry(fs, &e);
		else if (rc < 0) {
			fs->warnings = xreallocarray(fs->warnings,
			    fs->nwarnings + 1, sizeof(*fs->warnings));
			fs->warnings[fs->nwarnings++] = xasprintf(
			    "%s:%zu: ignored: %s", fs->path, lineno, why.msg);
		}
	}
	free(buf);
	return 0;
}

static int
entry_matches(const struct firstseen_entry *e, const char *server,
    const char *owner, const struct tlsa_record *rec)
{
	return strcmp(e->server, server) == 0 &&
	    tlsa_name_equal(e->rec.owner, owner) &&
	    (rec == NULL || tlsa_rdata_cmp(&e->rec, rec) == 0);
}

time_t
firstseen_get(const struct firstseen *fs, const char *server,
    const struct tlsa_record *rec)
{
	size_t i;

	if (rec->owner == NULL)
		return -1;
	for (i = 0; i < fs->n; i++)
		if (entry_matches(&fs->v[i], server, rec->owner, rec))
			return fs->v[i].first;
	return -1;
}

void
firstseen_observe(struct firstseen *fs, const char *server,
    const char *owner, const struct tlsa_set *set, time_t now)
{
	struct firstseen_entry e;
	size_t i, k, keep = 0;
	time_t *first;

	/* The earlier times of the records still served. */
	first = xreallocarray(NULL, set->n + 1, sizeof(*first));
	for (k = 0; k < set->n; k++) {
		first[k] = now;
		for (i = 0; i < fs->n; i++)
			if (entry_matches(&fs->v[i], server, owner,
			    &set->v[k]) && fs->v[i].first < first[k])
				first[k] = fs->v[i].first;
	}
	/* Drop (server, owner), keep the rest in order. */
	for (i = 0; i < fs->n; i++) {
		if (entry_matches(&fs->v[i], server, owner, NULL))
			entry_clear(&fs->v[i]);
		else
			fs->v[keep++] = fs->v[i];
	}
	fs->n = keep;
	for (k = 0; k < set->n; k++) {
		memset(&e, 0, sizeof(e));
		e.server = xstrdup(server);
		tlsa_record_copy(&e.rec, &set->v[k]);
		tlsa_record_set_owner(&e.rec, owner);
		e.rec.ttl = -1;
		e.first = first[k];
		/* An RRset never holds a record twice, but be sure. */
		if (firstseen_get(fs, server, &e.rec) >= 0) {
			entry_clear(&e);
			continue;
		}
		add_entry(fs, &e);
	}
	free(first);
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct firstseen_entry *x = *(const struct firstseen_entry *const *)a;
	const struct firstseen_entry *y = *(const struct firstseen_entry *const *)b;
	int c;

	if ((c = strcmp(x->server, y->server)) != 0)
		return c;
	if ((c = strcmp(x->rec.owner, y->rec.owner)) != 0)
		return c;
	return tlsa_rdata_cmp(&x->rec, &y->rec);
}

char *
firstseen_render(const struct firstseen *fs)
{
	const struct firstseen_entry **sorted;
	char *out, *hex, *line, *next;
	size_t i;

	sorted = xreallocarray(NULL, fs->n + 1, sizeof(*sorted));
	for (i = 0; i < fs->n; i++)
		sorted[i] = &fs->v[i];
	qsort(sorted, fs->n, sizeof(*sorted), entry_cmp);
	out = xstrdup(FIRSTSEEN_HEADER);
	for (i = 0; i < fs->n; i++) {
		hex = tlsa_hex(sorted[i]->rec.data, sorted[i]->rec.len);
		line = xasprintf("%s %s %u %u %u %s %lld\n", sorted[i]->server,
		    sorted[i]->rec.owner, sorted[i]->rec.type.usage,
		    sorted[i]->rec.type.selector, sorted[i]->rec.type.mtype,
		    hex, (long long)sorted[i]->first);
		next = xasprintf("%s%s", out, line);
		free(out);
		free(line);
		free(hex);
		out = next;
	}
	free(sorted);
	return out;
}

int
firstseen_save(const struct firstseen *fs, struct errbuf *err)
{
	char *text;
	int rc;

	text = firstseen_render(fs);
	rc = atomicfile_replace(fs->path, text, strlen(text), 0644, NULL, err);
	free(text);
	if (rc < 0)
		errbuf_prefix(err, "first-seen state (--state)");
	return rc;
}
