/*
 * strbuf - see strbuf.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "xalloc.h"

static void
strbuf_grow(struct strbuf *sb, size_t n)
{
	size_t alloc;

	if (sb->len + n + 1 <= sb->alloc)
		return;
	alloc = sb->alloc ? sb->alloc : 256;
	while (alloc < sb->len + n + 1)
		alloc *= 2;
	sb->buf = xrealloc(sb->buf, alloc);
	sb->alloc = alloc;
}

void
strbuf_add(struct strbuf *sb, const void *p, size_t n)
{
	strbuf_grow(sb, n);
	memcpy(sb->buf + sb->len, p, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void
strbuf_puts(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void
strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	strbuf_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void
strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vprintf(sb, fmt, ap);
	va_end(ap);
}

/*
 * The UTF-8 sequence at p as JSON \u escapes (a surrogate pair above
 * U+FFFF): the output stays ASCII, and the arrow of a CNAME reason reads
 * as U+2192 in any JSON reader, not as three Latin-1 characters. A byte
 * that does not start a well-formed sequence (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF) becomes U+FFFD. Returns
 * how many bytes it consumed (at least 1).
 */
static size_t
json_utf8(struct strbuf *sb, const unsigned char *p)
{
	static const unsigned long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	unsigned long c;
	size_t n, i;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2, c = *p & 0x1f;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3, c = *p & 0x0f;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4, c = *p & 0x07;
	else
		goto bad;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			goto bad;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		goto bad;
	if (c > 0xffff)
		strbuf_printf(sb, "\\u%04lx\\u%04lx", 0xd800 + ((c - 0x10000) >> 10),
		    0xdc00 + ((c - 0x10000) & 0x3ff));
	else
		strbuf_printf(sb, "\\u%04lx", c);
	return n;
bad:
	strbuf_add(sb, "\\ufffd", 6);
	return 1;
}

void
strbuf_json(struct strbuf *sb, const char *s)
{
	const unsigned char *p;

	if (s == NULL) {
		strbuf_add(sb, "null", 4);
		return;
	}
	strbuf_add(sb, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			strbuf_add(sb, "\\", 1);
			strbuf_add(sb, p, 1);
		} else if (*p == '\n')
			strbuf_add(sb, "\\n", 2);
		else if (*p == '\t')
			strbuf_add(sb, "\\t", 2);
		else if (*p >= 0x80)
			p += json_utf8(sb, p) - 1;
		else if (*p < 0x20 || *p == 0x7f)
			strbuf_printf(sb, "\\u%04x", *p);
		else
			strbuf_add(sb, p, 1);
	}
	strbuf_add(sb, "\"", 1);
}

char *
strbuf_take(struct strbuf *sb)
{
	char *s = sb->buf != NULL ? sb->buf : xstrdup("");

	sb->buf = NULL;
	sb->len = sb->alloc = 0;
	return s;
}

void
strbuf_free(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
}
