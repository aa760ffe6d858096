/*
 * Tests for lib/errbuf.c, lib/log.c and lib/xalloc.c: the small pieces
 * every message and allocation goes through.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "errbuf.h"
#include "log.h"
#include "xalloc.h"

static void
test_errbuf_set_prefix(void **state)
{
	struct errbuf err;

	(void)state;
	errbuf_set(&err, "truncated PEM at line %d", 7);
	assert_string_equal(err.msg, "truncated PEM at line 7");
	errbuf_prefix(&err, "%s", "mx1.pem");
	assert_string_equal(err.msg, "mx1.pem: truncated PEM at line 7");
	errbuf_set(NULL, "dropped");	/* must not crash */
}

static void
test_errbuf_long_message_truncated(void **state)
{
	struct errbuf err;
	char big[3 * ERRBUF_SIZE];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	errbuf_set(&err, "%s", big);
	assert_int_equal(strlen(err.msg), ERRBUF_SIZE - 1);
	errbuf_prefix(&err, "file");
	assert_int_equal(strlen(err.msg), ERRBUF_SIZE - 1);
	assert_memory_equal(err.msg, "file: xxx", 9);
}

static void
test_errbuf_ssl_drains_queue(void **state)
{
	struct errbuf err;
	BIO *bio;
	X509 *x;

	(void)state;
	/* Make OpenSSL queue a real error: parse garbage as a certificate. */
	bio = BIO_new_mem_buf("-----BEGIN CERTIFICATE-----\n!!\n", -1);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_null(x);
	BIO_free(bio);
	assert_int_not_equal(ERR_peek_error(), 0);
	errbuf_ssl(&err, "%s: cannot read certificate", "bad.pem");
	assert_non_null(strstr(err.msg, "bad.pem: cannot read certificate: "));
	assert_true(strlen(err.msg) > strlen("bad.pem: cannot read certificate: "));
	assert_int_equal(ERR_peek_error(), 0);
	/* With an empty queue nothing is appended. */
	errbuf_ssl(&err, "plain");
	assert_string_equal(err.msg, "plain");
}

static void
test_xalloc(void **state)
{
	char *s;
	int *v;

	(void)state;
	s = xasprintf("%s-%d", "rsa", 2048);
	assert_string_equal(s, "rsa-2048");
	free(s);
	s = xstrndup("ecdsa-p256", 5);
	assert_string_equal(s, "ecdsa");
	free(s);
	v = xreallocarray(NULL, 1000, sizeof(*v));
	v[999] = 1;
	free(v);
	v = xcalloc(4, sizeof(*v));
	assert_int_equal(v[3], 0);
	free(v);
}

/* Capture what log_* writes to stderr. */
static char *
capture_stderr(void (*fn)(void))
{
	char path[] = "/tmp/test_errbuf.XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	static char buf[4096];
	ssize_t n;

	assert_true(fd >= 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	unlink(path);
	return buf;
}

static void
emit_lines(void)
{
	log_warnx("host=%s check=%s state=%s", "mx1.example.test", "G3",
	    "CRITICAL");
	errno = ENOENT;
	log_warn("%s", "rsa.pem");
	log_debug("hidden at verbosity 0");
}

static void
test_log_stderr_format(void **state)
{
	char *out;

	(void)state;
	log_init("testprog", 1, 0);
	out = capture_stderr(emit_lines);
	assert_string_equal(out,
	    "testprog: host=mx1.example.test check=G3 state=CRITICAL\n"
	    "testprog: rsa.pem: No such file or directory\n");
	log_set_verbose(1);
	out = capture_stderr(emit_lines);
	assert_non_null(strstr(out, "testprog: hidden at verbosity 0\n"));
	log_set_verbose(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errbuf_set_prefix),
		cmocka_unit_test(test_errbuf_long_message_truncated),
		cmocka_unit_test(test_errbuf_ssl_drains_queue),
		cmocka_unit_test(test_xalloc),
		cmocka_unit_test(test_log_stderr_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
