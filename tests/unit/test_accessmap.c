/*
 * Tests for lib/accessmap.c: makemap's text format, the Srv_Features S
 * flag as sendmail reads it, and the address lookup of ruleset A.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "accessmap.h"
#include "errbuf.h"

static const char sample[] =
    "# sendmail access map\n"
    "\n"
    "Connect:127\t\t\tRELAY\n"
    "   To:example.test   RELAY   \n"
    "Srv_Features:127.0.0.2\tS\n"
    "srv_features:192.0.2\tV S\n"
    "Srv_Features:192.0.2.7\tS s\n"
    "Srv_Features:IPv6:2001:db8::66\tS\n"
    "SRV_FEATURES:mail.example.net\tS\n"
    "IPv6:2001:db8::1\tREJECT\n"
    "example.com\tOK\r\n"
    "Srv_Features:\tl";

static void
parse_sample(struct accessmap *m)
{
	struct errbuf err;

	assert_int_equal(accessmap_parse(sample, sizeof(sample) - 1,
	    "access", m, &err), 0);
}

static void
test_parse(void **state)
{
	struct accessmap m;

	(void)state;
	parse_sample(&m);
	assert_int_equal(m.n, 10);
	assert_string_equal(m.v[0].tag, "Connect");
	assert_string_equal(m.v[0].key, "127");
	assert_string_equal(m.v[0].value, "RELAY");
	assert_int_equal(m.v[0].line, 3);
	/* leading and trailing blanks go, inner ones stay */
	assert_string_equal(m.v[1].tag, "To");
	assert_string_equal(m.v[1].value, "RELAY");
	assert_string_equal(m.v[3].tag, "srv_features");
	assert_string_equal(m.v[3].value, "V S");
	assert_string_equal(m.v[5].key, "IPv6:2001:db8::66");
	/* "IPv6:" is an address, not a tag */
	assert_string_equal(m.v[7].tag, "");
	assert_string_equal(m.v[7].key, "IPv6:2001:db8::1");
	assert_string_equal(m.v[8].key, "example.com");
	assert_string_equal(m.v[8].value, "OK");	/* CR stripped */
	/* the tag's default, last line without a newline */
	assert_string_equal(m.v[9].tag, "Srv_Features");
	assert_string_equal(m.v[9].key, "");
	assert_string_equal(m.v[9].value, "l");
	assert_int_equal(m.v[9].line, 12);
	accessmap_free(&m);
	assert_int_equal(m.n, 0);
	assert_null(m.v);
}

static void
test_no_starttls(void **state)
{
	(void)state;
	assert_int_equal(accessmap_no_starttls("S"), 1);
	assert_int_equal(accessmap_no_starttls("V S"), 1);
	assert_int_equal(accessmap_no_starttls("  S  "), 1);
	assert_int_equal(accessmap_no_starttls("S s"), 0);	/* last wins */
	assert_int_equal(accessmap_no_starttls("s S"), 1);
	/* sendmail reads the first letter of each word only */
	assert_int_equal(accessmap_no_starttls("VS"), 0);
	assert_int_equal(accessmap_no_starttls("Sx"), 1);
	assert_int_equal(accessmap_no_starttls("l"), 0);
	assert_int_equal(accessmap_no_starttls(""), 0);
}

static void
test_errors(void **state)
{
	struct accessmap m;
	struct errbuf err;
	static const char nul[] = "Srv_Features:1.2.3.4 S\n\0\0\x61";
	char path[] = "/tmp/test_accessmap.XXXXXX";
	int fd;

	(void)state;
	assert_int_equal(accessmap_parse(nul, sizeof(nul) - 1, "access.db",
	    &m, &err), -1);
	assert_non_null(strstr(err.msg, "access.db: not a text file"));
	assert_int_equal(m.n, 0);

	assert_int_equal(accessmap_parse("a OK\nlonely\n", 12, "acc", &m,
	    &err), -1);
	assert_string_equal(err.msg, "acc:2: key \"lonely\" has no value: "
	    "write KEY VALUE (makemap would refuse the line too)");
	assert_int_equal(m.n, 0);
	assert_null(m.v);

	assert_int_equal(accessmap_load("/nonexistent/access", &m, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/access: No such file or directory "
	    "(sendmail_access names"));
	assert_int_equal(accessmap_load("/tmp", &m, &err), -1);
	assert_non_null(strstr(err.msg, "not a regular file"));

	/* an empty file is an empty map; a real one loads */
	assert_int_equal(accessmap_parse("", 0, "e", &m, &err), 0);
	assert_int_equal(m.n, 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, sample, sizeof(sample) - 1),
	    (ssize_t)(sizeof(sample) - 1));
	close(fd);
	assert_int_equal(accessmap_load(path, &m, &err), 0);
	assert_int_equal(m.n, 10);
	accessmap_free(&m);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_no_starttls),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
