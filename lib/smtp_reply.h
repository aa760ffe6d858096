/*
 * smtp_reply - parse SMTP server replies (RFC 5321 section 4.2).
 *
 * A reply is one or more lines "CODE-text" ... "CODE text", each ended by
 * CRLF. The parser is fed whatever bytes have arrived and says whether a
 * complete reply is there yet; it never reads past len and refuses what a
 * hostile or broken server may send: overlong lines, codes that are not
 * three digits or change between lines, too many lines, bytes after a
 * lone LF. It is fuzzed (tests/fuzz/fuzz_smtp_reply.c).
 */
#ifndef DG_SMTP_REPLY_H
#define DG_SMTP_REPLY_H

#include <stddef.h>

#include "errbuf.h"

/* Longest reply line we accept, CRLF included (RFC 5321 says 512). */
#define SMTP_REPLY_LINE_MAX	2048
/* Most lines in one reply (an EHLO reply has one per extension). */
#define SMTP_REPLY_LINES_MAX	64

struct smtp_reply {
	int code;		/* e.g. 250 */
	char **lines;		/* text after "250-"/"250 ", NUL-terminated */
	size_t nlines;
};

/*
 * Parse buf[0..len). Returns 1 when a complete reply was parsed into out
 * (*used = bytes consumed, so pipelined bytes after it stay for the next
 * call), 0 when more bytes are needed, -1 when the bytes can never be a
 * reply (err says why, e.g. "reply line longer than 2048 bytes",
 * "reply code \"2x0\" is not three digits", "reply code changes from 250
 * to 251 within one reply"). A line ended by LF alone is accepted.
 * out is overwritten; clear it with smtp_reply_clear.
 */
int smtp_reply_parse(const char *buf, size_t len, size_t *used,
    struct smtp_reply *out, struct errbuf *err);

void smtp_reply_clear(struct smtp_reply *reply);

/*
 * 1 if an EHLO reply advertises keyword (case-insensitive; the first
 * word of any line but the first, which is the greeting), else 0.
 */
int smtp_reply_has_keyword(const struct smtp_reply *ehlo,
    const char *keyword);

/* "250 first line" (the code and first line, for messages), malloc'd. */
char *smtp_reply_summary(const struct smtp_reply *reply);

#endif
