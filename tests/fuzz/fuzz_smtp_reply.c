/*
 * fuzz_smtp_reply - libFuzzer target for lib/smtp_reply.c.
 *
 * The input is parsed as a stream of pipelined replies, the way the probe
 * meets it: reply after reply until the bytes run out or are refused.
 * Every prefix length of the first reply is tried too, since a socket
 * delivers any split. Invariants that abort: a complete reply consumed
 * no bytes or more than there were, has no line or more than
 * SMTP_REPLY_LINES_MAX, a code outside 200-599; "need more" on a prefix
 * of what later parsed completely; a summary with a byte that is not
 * printable.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "smtp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_reply(const struct smtp_reply *r, size_t used, size_t len)
{
	const char *p;
	char *sum;
	size_t i;

	if (used == 0 || used > len || r->nlines == 0 ||
	    r->nlines > SMTP_REPLY_LINES_MAX || r->code < 200 || r->code > 599)
		abort();
	for (i = 0; i < r->nlines; i++)
		if (strlen(r->lines[i]) >= SMTP_REPLY_LINE_MAX)
			abort();
	sum = smtp_reply_summary(r);
	for (p = sum; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			abort();
	free(sum);
	(void)smtp_reply_has_keyword(r, "STARTTLS");
	(void)smtp_reply_has_keyword(r, "");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct smtp_reply r = { 0 };
	struct errbuf err;
	size_t off = 0, used, first = 0, n;
	int rc;

	for (;;) {
		rc = smtp_reply_parse(buf + off, size - off, &used, &r, &err);
		if (rc != 1) {
			if (r.lines != NULL || r.nlines != 0 || used != 0)
				abort();
			break;
		}
		check_reply(&r, used, size - off);
		smtp_reply_clear(&r);
		if (off == 0)
			first = used;
		off += used;
	}
	/* A prefix of a complete reply is "need more", never an error. */
	for (n = 0; n < first; n += 1 + n / 8) {
		if (smtp_reply_parse(buf, n, &used, &r, &err) != 0)
			abort();
	}
	return 0;
}
