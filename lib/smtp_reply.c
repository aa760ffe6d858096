/*
 * smtp_reply - see smtp_reply.h.
 *
 * The parser is stateless: every call starts at buf[0], so the caller
 * simply appends what arrives and calls again. A reply is at most
 * SMTP_REPLY_LINES_MAX lines of SMTP_REPLY_LINE_MAX bytes, so scanning it
 * again costs at most 128 KiB per call; in practice replies are a few
 * hundred bytes. Everything is decided from the bytes seen so far: an
 * overlong line or a 65th line is refused as soon as it shows, so a
 * caller's buffer of SMTP_REPLY_LINES_MAX * SMTP_REPLY_LINE_MAX bytes
 * can never fill up without a verdict.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp_reply.h"
#include "xalloc.h"

static void
reply_reset(struct smtp_reply *reply)
{
	reply->code = 0;
	reply->lines = NULL;
	reply->nlines = 0;
}

void
smtp_reply_clear(struct smtp_reply *reply)
{
	size_t i;

	if (reply == NULL)
		return;
	for (i = 0; i < reply->nlines; i++)
		free(reply->lines[i]);
	free(reply->lines);
	reply_reset(reply);
}

/*
 * The first bytes of a line, made printable, for messages: a hostile
 * server must not put control characters into our log lines.
 */
static void
printable_prefix(char *dst, size_t dstlen, const char *src, size_t len)
{
	size_t i, n = len < dstlen - 1 ? len : dstlen - 1;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[n] = '\0';
}

/*
 * Check the start of a line (which may not be complete yet): the code,
 * then ' ', '-' or the end of the line. Returns the code, 0 if too few
 * bytes are there to tell, -1 with err set if the line can never be a
 * reply line. complete says whether line[0..len) is the whole line
 * (without its line ending).
 */
static int
line_code(const char *line, size_t len, int complete, struct errbuf *err)
{
	char shown[16];
	size_t i;

	for (i = 0; i < 3 && i < len; i++) {
		if (!isdigit((unsigned char)line[i])) {
			printable_prefix(shown, sizeof(shown), line,
			    len < 3 ? len : 3);
			errbuf_set(err, "reply code \"%s\" is not three digits",
			    shown);
			return -1;
		}
	}
	if (len < 3) {
		if (!complete)
			return 0;
		printable_prefix(shown, sizeof(shown), line, len);
		errbuf_set(err, "reply code \"%s\" is not three digits", shown);
		return -1;
	}
	if (line[0] < '2' || line[0] > '5') {
		printable_prefix(shown, sizeof(shown), line, 3);
		errbuf_set(err, "reply code \"%s\" is not between 200 and 599",
		    shown);
		return -1;
	}
	if (len > 3 && line[3] != ' ' && line[3] != '-') {
		printable_prefix(shown, sizeof(shown), line, len < 12 ? len : 12);
		errbuf_set(err, "reply line \"%s\" has neither space nor "
		    "hyphen after the code", shown);
		return -1;
	}
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

int
smtp_reply_parse(const char *buf, size_t len, size_t *used,
    struct smtp_reply *out, struct errbuf *err)
{
	const char *line, *lf, *end;
	size_t off = 0, avail, textlen, n = 0;
	int code = 0, this, last;
	char **lines;

	reply_reset(out);
	*used = 0;
	lines = xcalloc(SMTP_REPLY_LINES_MAX, sizeof(*lines));
	for (;;) {
		line = buf + off;
		avail = len - off;
		lf = memchr(line, '\n', avail < SMTP_REPLY_LINE_MAX ?
		    avail : SMTP_REPLY_LINE_MAX);
		if (lf == NULL) {
			if (avail >= SMTP_REPLY_LINE_MAX) {
				errbuf_set(err, "reply line longer than %d bytes",
				    SMTP_REPLY_LINE_MAX);
				goto bad;
			}
			/*
			 * Refuse a bad start now rather than at the timeout;
			 * a CR at the end may be half of the line's CRLF.
			 */
			if (avail > 0 && line[avail - 1] == '\r')
				avail--;
			this = line_code(line, avail, 0, err);
			if (this < 0)
				goto bad;
			if (this > 0 && code != 0 && this != code)
				goto changes;
			goto more;
		}
		end = lf;
		if (end > line && end[-1] == '\r')
			end--;
		textlen = (size_t)(end - line);
		if (memchr(line, '\0', textlen) != NULL) {
			errbuf_set(err, "reply line contains a NUL byte");
			goto bad;
		}
		if (memchr(line, '\r', textlen) != NULL) {
			errbuf_set(err, "reply line contains a CR that does "
			    "not end the line");
			goto bad;
		}
		if ((this = line_code(line, textlen, 1, err)) < 0)
			goto bad;
		if (code != 0 && this != code)
			goto changes;
		code = this;
		last = textlen == 3 || line[3] == ' ';
		lines[n++] = textlen > 4 ? xstrndup(line + 4, textlen - 4) :
		    xstrdup("");
		off = (size_t)(lf - buf) + 1;
		if (last)
			break;
		if (n == SMTP_REPLY_LINES_MAX) {
			errbuf_set(err, "reply has more than %d lines",
			    SMTP_REPLY_LINES_MAX);
			goto bad;
		}
	}
	out->code = code;
	out->lines = lines;
	out->nlines = n;
	*used = off;
	return 1;

changes:
	errbuf_set(err, "reply code changes from %d to %d within one reply",
	    code, this);
bad:
	while (n > 0)
		free(lines[--n]);
	free(lines);
	return -1;
more:
	while (n > 0)
		free(lines[--n]);
	free(lines);
	return 0;
}

int
smtp_reply_has_keyword(const struct smtp_reply *ehlo, const char *keyword)
{
	size_t i, klen = strlen(keyword);
	const char *l;

	for (i = 1; i < ehlo->nlines; i++) {
		l = ehlo->lines[i];
		if (strncasecmp(l, keyword, klen) == 0 &&
		    (l[klen] == '\0' || l[klen] == ' '))
			return 1;
	}
	return 0;
}

char *
smtp_reply_summary(const struct smtp_reply *reply)
{
	const char *text = reply->nlines > 0 ? reply->lines[0] : "";
	char *s, *p;

	s = *text ? xasprintf("%03d %s", reply->code, text) :
	    xasprintf("%03d", reply->code);
	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return s;
}
