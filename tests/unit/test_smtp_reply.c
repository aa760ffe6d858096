/*
 * test_smtp_reply - lib/smtp_reply.c: replies as servers send them,
 * split and pipelined as a socket delivers them, and every way a broken
 * or hostile server can get one wrong.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtp_reply.h"
#include "xalloc.h"

static int
parse(const char *s, size_t len, size_t *used, struct smtp_reply *r,
    struct errbuf *err)
{
	err->msg[0] = '\0';
	return smtp_reply_parse(s, len, used, r, err);
}

/* Expect -1 with a message containing want. */
static void
expect_error(const char *s, size_t len, const char *want)
{
	struct smtp_reply r = { 0 };
	struct errbuf err;
	size_t used = 99;

	assert_int_equal(parse(s, len, &used, &r, &err), -1);
	if (strstr(err.msg, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err.msg, want);
	assert_int_equal(r.nlines, 0);
	assert_null(r.lines);
	assert_int_equal(used, 0);
}

static void
test_single_line(void **state)
{
	static const char s[] = "220 mx1.example.test ESMTP Postfix\r\n";
	struct smtp_reply r = { 0 };
	struct errbuf err;
	size_t used;
	char *sum;

	(void)state;
	assert_int_equal(parse(s, strlen(s), &used, &r, &err), 1);
	assert_int_equal(used, strlen(s));
	assert_int_equal(r.code, 220);
	assert_int_equal(r.nlines, 1);
	assert_string_equal(r.lines[0], "mx1.example.test ESMTP Postfix");
	sum = smtp_reply_summary(&r);
	assert_string_equal(sum, "220 mx1.example.test ESMTP Postfix");
	free(sum);
	smtp_reply_clear(&r);
	assert_null(r.lines);
	assert_int_equal(r.nlines, 0);
	/* A bare code is a complete last line (RFC 5321 4.2: text optional). */
	assert_int_equal(parse("250\r\n", 5, &used, &r, &err), 1);
	assert_int_equal(r.code, 250);
	assert_int_equal(r.nlines, 1);
	assert_string_equal(r.lines[0], "");
	sum = smtp_reply_summary(&r);
	assert_string_equal(sum, "250");
	free(sum);
	smtp_reply_clear(&r);
}

static void
test_multi_line_ehlo(void **state)
{
	static const char s[] =
	    "250-mx1.example.test\r\n"
	    "250-PIPELINING\r\n"
	    "250-SIZE 10240000\r\n"
	    "250-starttls\r\n"
	    "250-XCLIENT NAME ADDR PROTO HELO\r\n"
	    "250-AUTH=LOGIN\r\n"
	    "250 CHUNKING\r\n";
	struct smtp_reply r = { 0 };
	struct errbuf err;
	size_t used;

	(void)state;
	assert_int_equal(parse(s, strlen(s), &used, &r, &err), 1);
	assert_int_equal(used, strlen(s));
	assert_int_equal(r.code, 250);
	assert_int_equal(r.nlines, 7);
	assert_string_equal(r.lines[0], "mx1.example.test");
	assert_string_equal(r.lines[2], "SIZE 10240000");
	assert_string_equal(r.lines[6], "CHUNKING");
	assert_int_equal(smtp_reply_has_keyword(&r, "STARTTLS"), 1);
	assert_int_equal(smtp_reply_has_keyword(&r, "xclient"), 1);
	assert_int_equal(smtp_reply_has_keyword(&r, "SIZE"), 1);
	assert_int_equal(smtp_reply_has_keyword(&r, "CHUNKING"), 1);
	/* Prefixes and the "AUTH=" form are not the keyword. */
	assert_int_equal(smtp_reply_has_keyword(&r, "START"), 0);
	assert_int_equal(smtp_reply_has_keyword(&r, "AUTH"), 0);
	assert_int_equal(smtp_reply_has_keyword(&r, "8BITMIME"), 0);
	/* The greeting line is not a keyword. */
	assert_int_equal(smtp_reply_has_keyword(&r, "mx1.example.test"), 0);
	smtp_reply_clear(&r);
}

static void
test_pipelined(void **state)
{
	static const char s[] =
	    "220-first\r\n220 banner\r\n250-x\r\n250 y\r\n221 2.0.0 Bye\r\n";
	struct smtp_reply r = { 0 };
	struct errbuf err;
	size_t used, off = 0;

	(void)state;
	assert_int_equal(parse(s, strlen(s), &used, &r, &err), 1);
	assert_int_equal(r.code, 220);
	assert_int_equal(r.nlines, 2);
	assert_int_equal(used, strlen("220-first\r\n220 banner\r\n"));
	off += used;
	smtp_reply_clear(&r);
	assert_int_equal(parse(s + off, strlen(s) - off, &used, &r, &err), 1);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.lines[1], "y");
	off += used;
	smtp_reply_clear(&r);
	assert_int_equal(parse(s + off, strlen(s) - off, &used, &r, &err), 1);
	assert_int_equal(r.code, 221);
	off += used;
	assert_int_equal(off, strlen(s));
	smtp_reply_clear(&r);
	assert_int_equal(parse(s + off, 0, &used, &r, &err), 0);
}

static void
test_lf_only(void **state)
{
	static const char s[] = "250-a\n250-b\r\n250 c\n";
	struct smtp_reply r = { 0 };
	struct errbuf err;
	size_t used;

	(void)state;
	assert_int_equal(parse(s, strlen(s), &used, &r, &err), 1);
	assert_int_equal(used, strlen(s));
	assert_int_equal(r.nlines, 3);
	assert_string_equal(r.lines[0], "a");
	assert_string_equal(r.lines[1], "b");
	assert_string_equal(r.lines[2], "c");
	smtp_reply_clear(&r);
}

/* Every prefix of a complete reply is "need more", never an error. */
static void
test_partial(void **state)
{
	static const char s[] =
	    "250-mx1.example.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n";
	struct smtp_reply r = { 0 };
	struct errbuf err;
	size_t used, n;

	(void)state;
	for (n = 0; n < strlen(s); n++) {
		used = 99;
		if (parse(s, n, &used, &r, &err) != 0)
			fail_msg("prefix of %zu bytes: not 0 (%s)", n, err.msg);
		assert_int_equal(used, 0);
		assert_null(r.lines);
	}
	assert_int_equal(parse(s, n, &used, &r, &err), 1);
	smtp_reply_clear(&r);
	/* A CR whose LF has not arrived yet is no error. */
	assert_int_equal(parse("250\r", 4, &used, &r, &err), 0);
	assert_int_equal(parse("250 ok\r", 7, &used, &r, &err), 0);
}

static void
test_errors(void **state)
{
	char *s;
	size_t i, off;

	(void)state;
	expect_error("2x0 hello\r\n", 11, "reply code \"2x0\" is not three digits");
	expect_error("25\r\n", 4, "is not three digits");
	expect_error("\r\n", 2, "is not three digits");
	expect_error("HTTP/1.1 400 Bad Request\r\n", 26, "not three digits");
	/* Refused before the line ends: no waiting for a timeout. */
	expect_error("SSH-2.0-OpenSSH", 15, "not three digits");
	expect_error("099 x\r\n", 7, "not between 200 and 599");
	expect_error("600 x\r\n", 7, "not between 200 and 599");
	expect_error("250_x\r\n", 7, "neither space nor hyphen");
	expect_error("250-a\r\n251 b\r\n", 14,
	    "reply code changes from 250 to 251 within one reply");
	/* ... also when the changed code has not got its line end yet. */
	expect_error("250-a\r\n251", 10, "changes from 250 to 251");
	expect_error("250 a\0b\r\n", 9, "NUL byte");
	expect_error("250 a\rb\r\n", 9, "CR that does not end the line");

	/* A line of exactly SMTP_REPLY_LINE_MAX bytes, CRLF included, is fine. */
	s = xmalloc(SMTP_REPLY_LINE_MAX + 8);
	memset(s, 'a', SMTP_REPLY_LINE_MAX + 8);
	memcpy(s, "250 ", 4);
	memcpy(s + SMTP_REPLY_LINE_MAX - 2, "\r\n", 2);
	{
		struct smtp_reply r = { 0 };
		struct errbuf err;
		size_t used;

		assert_int_equal(parse(s, SMTP_REPLY_LINE_MAX, &used, &r,
		    &err), 1);
		assert_int_equal(used, SMTP_REPLY_LINE_MAX);
		smtp_reply_clear(&r);
	}
	/* One more byte is too long, with or without the line end. */
	memset(s + SMTP_REPLY_LINE_MAX - 2, 'a', 2);
	memcpy(s + SMTP_REPLY_LINE_MAX - 1, "\r\n", 2);
	expect_error(s, SMTP_REPLY_LINE_MAX + 1, "reply line longer than 2048 bytes");
	memset(s + SMTP_REPLY_LINE_MAX - 1, 'a', 9);
	expect_error(s, SMTP_REPLY_LINE_MAX + 8, "longer than 2048 bytes");
	free(s);

	/* 64 lines are fine, a 65th is refused as soon as the 64th is a "-". */
	s = xmalloc(SMTP_REPLY_LINES_MAX * 8 + 16);
	for (i = 0, off = 0; i < SMTP_REPLY_LINES_MAX - 1; i++)
		off += (size_t)sprintf(s + off, "250-%02zu\r\n", i % 100);
	off += (size_t)sprintf(s + off, "250 ok\r\n");
	{
		struct smtp_reply r = { 0 };
		struct errbuf err;
		size_t used;

		assert_int_equal(parse(s, off, &used, &r, &err), 1);
		assert_int_equal(r.nlines, SMTP_REPLY_LINES_MAX);
		smtp_reply_clear(&r);
	}
	off -= strlen("250 ok\r\n");
	off += (size_t)sprintf(s + off, "250-ok\r\n");
	expect_error(s, off, "reply has more than 64 lines");
	free(s);
}

static void
test_summary_printable(void **state)
{
	static const char s[] = "554 \x1b[31mgo\x7f away\xff\r\n";
	struct smtp_reply r = { 0 };
	struct errbuf err;
	size_t used;
	char *sum;

	(void)state;
	assert_int_equal(parse(s, strlen(s), &used, &r, &err), 1);
	sum = smtp_reply_summary(&r);
	assert_string_equal(sum, "554 ?[31mgo? away?");
	free(sum);
	smtp_reply_clear(&r);
	smtp_reply_clear(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_line),
		cmocka_unit_test(test_multi_line_ehlo),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_lf_only),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_summary_printable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
