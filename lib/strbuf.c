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
		else if (*p < 0x20 || *p >= 0x7f)
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
