/*
 * accessmap - see accessmap.h.
 *
 * The lookup mirrors sendmail.cf's ruleset A (cf/m4/proto.m4, LookUpAddress)
 * rather than inventing CIDR semantics: sendmail matches an address by
 * dropping its last dot- or colon-separated part until a key is found, and
 * the administrator's entries are written for exactly that.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "accessmap.h"
#include "fileio.h"
#include "errbuf.h"
#include "xalloc.h"

#define SRV_FEATURES	"Srv_Features"

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * "Tag:rest" -> tag length, or 0 when the key has no tag. A tag is an
 * identifier; "IPv6:..." is an address, not a tag.
 */
static size_t
tag_len(const char *key, size_t n)
{
	size_t i;

	for (i = 0; i < n && key[i] != ':'; i++)
		if (!(isalnum((unsigned char)key[i]) || key[i] == '_'))
			return 0;
	if (i == 0 || i == n)
		return 0;
	if (i == 4 && strncasecmp(key, "IPv6", 4) == 0)
		return 0;
	if (isdigit((unsigned char)key[0]))
		return 0;
	return i;
}

static void
add_entry(struct accessmap *m, size_t *alloc, const char *key, size_t klen,
    const char *value, size_t vlen, unsigned line)
{
	struct accessmap_entry *e;
	size_t t = tag_len(key, klen);

	if (m->n == *alloc) {
		*alloc = *alloc ? 2 * *alloc : 16;
		m->v = xreallocarray(m->v, *alloc, sizeof(*m->v));
	}
	e = &m->v[m->n++];
	e->tag = xstrndup(key, t);
	e->key = t ? xstrndup(key + t + 1, klen - t - 1) : xstrndup(key, klen);
	e->value = xstrndup(value, vlen);
	e->line = line;
}

int
accessmap_parse(const char *text, size_t len, const char *name,
    struct accessmap *out, struct errbuf *err)
{
	const char *p = text, *end = text + len, *eol, *k, *v, *ve;
	size_t alloc = 0, klen;
	unsigned line = 0;

	out->v = NULL;
	out->n = 0;
	if (len > 0 && memchr(text, '\0', len) != NULL) {
		errbuf_set(err, "%s: not a text file (NUL bytes): give "
		    "sendmail_access the source of the access map (e.g. "
		    "/etc/mail/access), not access.db", name);
		return -1;
	}
	while (p < end) {
		line++;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		k = p;
		p = eol < end ? eol + 1 : end;
		while (k < eol && is_blank((unsigned char)*k))
			k++;
		if (k == eol || *k == '#')
			continue;
		for (v = k; v < eol && !is_blank((unsigned char)*v); v++)
			;
		klen = (size_t)(v - k);
		while (v < eol && is_blank((unsigned char)*v))
			v++;
		for (ve = eol; ve > v && is_blank((unsigned char)ve[-1]); ve--)
			;
		if (ve == v) {
			errbuf_set(err, "%s:%u: key \"%.*s\" has no value: "
			    "write KEY VALUE (makemap would refuse the line "
			    "too)", name, line, klen > 80 ? 80 : (int)klen, k);
			accessmap_free(out);
			return -1;
		}
		add_entry(out, &alloc, k, klen, v, (size_t)(ve - v), line);
	}
	return 0;
}

int
accessmap_load(const char *path, struct accessmap *out, struct errbuf *err)
{
	struct errbuf why;
	size_t len;
	char *buf;
	int rc;

	out->v = NULL;
	out->n = 0;
	if (fileio_read(path, ACCESSMAP_MAX_BYTES, 0, &buf, &len, &why) < 0) {
		errbuf_set(err, "%s (sendmail_access names the access map's "
		    "text source)", why.msg);
		return -1;
	}
	rc = accessmap_parse(buf, len, path, out, err);
	free(buf);
	return rc;
}

void
accessmap_free(struct accessmap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].tag);
		free(m->v[i].key);
		free(m->v[i].value);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

int
accessmap_no_starttls(const char *value)
{
	const char *p = value;
	int off = 0;

	while (*p != '\0') {
		while (is_blank((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		if (*p == 'S')
			off = 1;
		else if (*p == 's')
			off = 0;
		while (*p != '\0' && !is_blank((unsigned char)*p))
			p++;
	}
	return off;
}
