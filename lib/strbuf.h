/*
 * strbuf - a growing, NUL-terminated string, and JSON string literals.
 *
 * What the programs render (status.json, metrics, tlsagen's outputs and
 * verdict lines) is built in memory and written once, so a failed run
 * never leaves half a file behind.
 */
#ifndef DG_STRBUF_H
#define DG_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

/* Zero-initialised is empty; buf is NULL until something is added. */
struct strbuf {
	char *buf;		/* NUL-terminated once anything was added */
	size_t len;
	size_t alloc;
};

void strbuf_add(struct strbuf *sb, const void *p, size_t n);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * Append s as a JSON string literal, quotes included; NULL gives null.
 * Control characters and DEL are written as \u00XX, a well-formed UTF-8
 * sequence as its code point (\uXXXX, a surrogate pair above U+FFFF), and
 * any other byte from 0x80 up as \ufffd: text from the network (SMTP
 * replies, certificate names) need not be UTF-8, and the output stays
 * ASCII and valid JSON whatever it holds.
 */
void strbuf_json(struct strbuf *sb, const char *s);

/* The text (malloc'd, "" if nothing was added); sb is empty after. */
char *strbuf_take(struct strbuf *sb);

void strbuf_free(struct strbuf *sb);

#endif
