/*
 * tlsrpt_store - the TLS-RPT counts in state_dir/tlsrpt (see
 * tlsrpt_store.h). A shard is read whole, merged with the new report's
 * lines (sorted, equal keys summed, expired days dropped) and replaced
 * atomically while its byte of "lock" is held.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "atomicfile.h"
#include "fileio.h"
#include "tlsrpt_store.h"
#include "xalloc.h"

/* A shard larger than this is not one we wrote. */
#define MAX_SHARD	(TLSRPT_STORE_MAX_LINES * 4096L)

long
tlsrpt_store_day(time_t t)
{
	return t >= 0 ? (long)(t / 86400) : -(long)((-t + 86399) / 86400);
}

static unsigned
shard_of(const char *domain)
{
	uint32_t h = 2166136261u;

	for (; *domain != '\0'; domain++)
		h = (h ^ (unsigned char)*domain) * 16777619u;
	return (h ^ (h >> 8) ^ (h >> 16) ^ (h >> 24)) & 0xff;
}

/* ---------------------------------------------------------------- text */

struct buf {
	char *p;
	size_t len, cap;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* A field: tab, then s percent-encoded ("-" when empty). */
static void
buf_field(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3];

	buf_add(b, "\t", 1);
	if (*s == '\0' || strcmp(s, "-") == 0) {
		buf_str(b, *s == '\0' ? "-" : "%2D");
		return;
	}
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c == '%' || c == 0x7f) {
			esc[0] = '%';
			esc[1] = hex[c >> 4];
			esc[2] = hex[c & 15];
			buf_add(b, esc, 3);
		} else
			buf_add(b, s, 1);
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode a field in place; "-" is "". */
static char *
field_decode(char *s)
{
	char *r = s, *w = s;

	if (strcmp(s, "-") == 0) {
		*s = '\0';
		return s;
	}
	while (*r != '\0') {
		if (r[0] == '%' && hexval(r[1]) >= 0 && hexval(r[2]) >= 0) {
			*w++ = (char)(hexval(r[1]) << 4 | hexval(r[2]));
			r += 3;
		} else
			*w++ = *r++;
	}
	*w = '\0';
	return s;
}

/* ---------------------------------------------------------------- shard */

struct entry {
	char *key;		/* the line without its count ("c..." or "i...") */
	long day;
	long long count;	/* c lines */
};

struct shard {
	struct entry *v;
	size_t n, alloc;
};

static void
shard_push(struct shard *s, char *key, long day, long long count)
{
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : 64;
		s->v = xreallocarray(s->v, s->alloc, sizeof(*s->v));
	}
	s->v[s->n].key = key;
	s->v[s->n].day = day;
	s->v[s->n].count = count;
	s->n++;
}

static void
shard_free(struct shard *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].key);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/*
 * Read path whole into *out (NUL-terminated); a missing file is "".
 * Returns 0 or -1 with err set.
 */
static int
slurp(const char *path, char **out, size_t *outlen, struct errbuf *err)
{
	*out = NULL;
	if (fileio_read(path, MAX_SHARD, 0, out, outlen, err) == 0)
		return 0;
	if (errno == ENOENT) {
		*out = xstrdup("");
		*outlen = 0;
		return 0;
	}
	if (errno == EFBIG || errno == EISDIR || errno == EINVAL)
		errbuf_set(err, "%s: not a TLS-RPT store file (not a regular "
		    "file, or larger than %ld bytes); remove it", path,
		    (long)MAX_SHARD);
	return -1;
}

/* The day of a line ("c\tDAY\t..."), or -1 when it has none. */
static long
line_day(const char *line)
{
	char *end;
	long day;

	if ((line[0] != 'c' && line[0] != 'i') || line[1] != '\t')
		return -1;
	day = strtol(line + 2, &end, 10);
	if (end == line + 2 || *end != '\t' || day < 0)
		return -1;
	return day;
}

/* Lines of text with a day after first_day (others dropped) into s. */
static void
shard_parse(char *text, long first_day, struct shard *s)
{
	char *line, *next, *tab, *end;
	long long count;
	long day;

	for (line = text; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if ((day = line_day(line)) < first_day)
			continue;
		if (line[0] == 'i') {
			shard_push(s, xstrdup(line), day, 0);
			continue;
		}
		if ((tab = strrchr(line, '\t')) == NULL)
			continue;
		count = strtoll(tab + 1, &end, 10);
		if (end == tab + 1 || *end != '\0' || count < 0)
			continue;
		shard_push(s, xstrndup(line, (size_t)(tab - line)), day, count);
	}
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key,
	    ((const struct entry *)b)->key);
}

/* Sort, sum the counts of equal keys. */
static void
shard_merge(struct shard *s)
{
	size_t i, w = 0;

	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof(*s->v), entry_cmp);
	for (i = 1; i < s->n; i++) {
		if (strcmp(s->v[w].key, s->v[i].key) == 0) {
			s->v[w].count += s->v[i].count;
			if (s->v[w].count > TLSRPT_MAX_COUNT * 1000)
				s->v[w].count = TLSRPT_MAX_COUNT * 1000;
			free(s->v[i].key);
		} else
			s->v[++w] = s->v[i];
	}
	s->n = w + 1;
}

static char *
shard_render(const struct shard *s, size_t *len)
{
	struct buf b = { NULL, 0, 0 };
	char num[32];
	size_t i;

	buf_str(&b, "# daneguard TLS-RPT store 1 (tlsrpt_store.h)\n");
	for (i = 0; i < s->n; i++) {
		buf_str(&b, s->v[i].key);
		if (s->v[i].key[0] == 'c') {
			snprintf(num, sizeof(num), "\t%lld", s->v[i].count);
			buf_str(&b, num);
		}
		buf_add(&b, "\n", 1);
	}
	*len = b.len;
	return b.p;
}

/* ---------------------------------------------------------------- add */

/*
 * A report-id's line: the first 128 bits of its SHA-256, in hex. GLib's
 * checksum (GLib is here for GMime already) rather than OpenSSL's: an
 * EVP digest initialises OpenSSL's providers and configuration, which
 * cost an intake process more than the whole rest of a report.
 */
static char *
id_line(long day, const char *report_id)
{
	gchar *hex;
	char *line;

	hex = g_compute_checksum_for_string(G_CHECKSUM_SHA256, report_id, -1);
	line = xasprintf("i\t%ld\t%.32s", day, hex);
	g_free(hex);
	return line;
}

static char *
count_key(long day, const char *org, const struct tlsrpt_policy *p,
    const char *result, const char *mx, const char *ip)
{
	struct buf b = { NULL, 0, 0 };
	char num[32];

	snprintf(num, sizeof(num), "c\t%ld", day);
	buf_str(&b, num);
	buf_field(&b, org);
	buf_field(&b, p->domain);
	buf_field(&b, tlsrpt_policy_type_name(p->type));
	buf_field(&b, result);
	buf_field(&b, mx);
	buf_field(&b, ip);
	return b.p;
}

/* Hold (or release) the byte of lock that stands for a shard. */
static int
shard_lock(int fd, unsigned shard, int type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = (short)type;
	fl.l_whence = SEEK_SET;
	fl.l_start = shard;
	fl.l_len = 1;
	while (fcntl(fd, F_SETLKW, &fl) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* The lines of r's policies whose domain lies in shard, into s. */
static void
shard_add_report(struct shard *s, unsigned shard,
    const struct tlsrpt_report *r, long day)
{
	size_t i, j;

	for (i = 0; i < r->npolicies; i++) {
		const struct tlsrpt_policy *p = &r->policies[i];

		if (shard_of(p->domain) != shard)
			continue;
		shard_push(s, count_key(day, r->organization, p, "success",
		    "", ""), day, p->success);
		if (p->failure > 0)
			shard_push(s, count_key(day, r->organization, p,
			    "failure", "", ""), day, p->failure);
		for (j = 0; j < p->nfailures; j++) {
			const struct tlsrpt_failure *f = &p->failures[j];

			shard_push(s, count_key(day, r->organization, p,
			    f->result_type, f->receiving_mx, f->receiving_ip),
			    day, f->count);
		}
	}
}

/* 1 when s holds the report-id of the id line idl (any day). */
static int
shard_has_id(const struct shard *s, const char *idl)
{
	const char *digest = strrchr(idl, '\t');
	size_t i, n = strlen(digest), k;

	for (i = 0; i < s->n; i++) {
		k = strlen(s->v[i].key);
		if (s->v[i].key[0] == 'i' && k > n &&
		    strcmp(s->v[i].key + k - n, digest) == 0)
			return 1;
	}
	return 0;
}

int
tlsrpt_store_add(const char *dir, long days, const struct tlsrpt_report *r,
    time_t now, enum tlsrpt_store_status *status, struct errbuf *err)
{
	struct shard s = { NULL, 0, 0 };
	unsigned char used[TLSRPT_STORE_SHARDS];
	unsigned order[TLSRPT_STORE_SHARDS], home, sh;
	char *path = NULL, *lockpath, *text = NULL, *idl, **out = NULL;
	size_t *outlen = NULL;
	long day = tlsrpt_store_day(r->end - 1);
	long first = tlsrpt_store_day(now) - days + 1;
	size_t i, n = 0, len;
	int fd, rc = -1;

	*status = TLSRPT_STORE_ADDED;
	if (day < first) {
		*status = TLSRPT_STORE_TOO_OLD;
		return 0;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		errbuf_set(err, "%s: %s", dir, strerror(errno));
		return -1;
	}
	lockpath = xasprintf("%s/lock", dir);
	fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		errbuf_set(err, "%s: %s", lockpath, strerror(errno));
		free(lockpath);
		return -1;
	}
	/*
	 * The shards r touches, its first policy domain's (which keeps the
	 * report-id) last; locked in ascending order, so two writers never
	 * wait for each other in a circle.
	 */
	home = shard_of(r->policies[0].domain);
	memset(used, 0, sizeof(used));
	for (i = 0; i < r->npolicies; i++)
		used[shard_of(r->policies[i].domain)] = 1;
	for (sh = 0; sh < TLSRPT_STORE_SHARDS; sh++) {
		if (!used[sh])
			continue;
		if (shard_lock(fd, sh, F_WRLCK) < 0) {
			errbuf_set(err, "%s: cannot lock: %s", lockpath,
			    strerror(errno));
			goto out;
		}
		if (sh != home)
			order[n++] = sh;
	}
	order[n++] = home;
	out = xcalloc(n, sizeof(*out));
	outlen = xcalloc(n, sizeof(*outlen));
	idl = id_line(day, r->report_id);
	/* Everything is read and merged before anything is written. */
	for (i = 0; i < n; i++) {
		free(path);
		path = xasprintf("%s/%02x", dir, order[i]);
		if (slurp(path, &text, &len, err) < 0) {
			free(idl);
			goto out;
		}
		shard_parse(text, first, &s);
		free(text);
		text = NULL;
		if (order[i] == home) {
			if (shard_has_id(&s, idl)) {
				*status = TLSRPT_STORE_DUPLICATE;
				free(idl);
				rc = 0;
				goto out;
			}
			shard_push(&s, idl, day, 0);
		}
		shard_add_report(&s, order[i], r, day);
		shard_merge(&s);
		if (s.n > TLSRPT_STORE_MAX_LINES) {
			errbuf_set(err, "%s: full (more than %d entries); "
			    "lower tlsrpt_days or look at who sends so many "
			    "reports", path, TLSRPT_STORE_MAX_LINES);
			if (order[i] != home)
				free(idl);
			goto out;
		}
		out[i] = shard_render(&s, &outlen[i]);
		shard_free(&s);
	}
	for (i = 0; i < n; i++) {
		free(path);
		path = xasprintf("%s/%02x", dir, order[i]);
		if (atomicfile_replace(path, out[i], outlen[i], 0644, NULL,
		    err) < 0)
			goto out;
	}
	rc = 0;
out:
	for (i = 0; out != NULL && i < n; i++)
		free(out[i]);
	free(out);
	free(outlen);
	shard_free(&s);
	free(text);
	free(path);
	free(lockpath);
	close(fd);		/* releases the locks */
	return rc;
}

/* ---------------------------------------------------------------- scan */

static int
scan_text(char *text, long since_day, const char *domain, tlsrpt_store_fn fn,
    void *arg)
{
	struct tlsrpt_store_count c;
	char *line, *next, *f[9], *end;
	size_t n;

	for (line = text; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (line[0] != 'c' || (c.day = line_day(line)) < since_day)
			continue;
		for (n = 0, f[0] = line; n < 8; n++) {
			if ((f[n + 1] = strchr(f[n], '\t')) == NULL)
				break;
			*f[n + 1]++ = '\0';
		}
		if (n != 8 || strchr(f[8], '\t') != NULL)
			continue;
		c.domain = field_decode(f[3]);
		if (domain != NULL && strcmp(c.domain, domain) != 0)
			continue;
		c.org = field_decode(f[2]);
		c.policy_type = field_decode(f[4]);
		c.result = field_decode(f[5]);
		c.mx = field_decode(f[6]);
		c.ip = field_decode(f[7]);
		c.count = strtoll(f[8], &end, 10);
		if (end == f[8] || *end != '\0' || c.count < 0)
			continue;
		if (fn(&c, arg) != 0)
			return 1;
	}
	return 0;
}

int
tlsrpt_store_scan(const char *dir, long since_day, const char *domain,
    tlsrpt_store_fn fn, void *arg, struct errbuf *err)
{
	unsigned shard, last;
	char *path, *text;
	size_t len;
	int stop;

	shard = domain != NULL ? shard_of(domain) : 0;
	last = domain != NULL ? shard : TLSRPT_STORE_SHARDS - 1;
	for (; shard <= last; shard++) {
		path = xasprintf("%s/%02x", dir, shard);
		if (slurp(path, &text, &len, err) < 0) {
			free(path);
			return -1;
		}
		free(path);
		stop = scan_text(text, since_day, domain, fn, arg);
		free(text);
		if (stop)
			break;
	}
	return 0;
}
