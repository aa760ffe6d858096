/*
 * test_checks - the verdicts of G1-G5 (milter/checks.c) through the
 * public checks_sweep, against a STARTTLS server in this process (a real
 * OpenSSL server holding an RSA and an ECDSA chain of CERTDIR at once),
 * with the published records in a tlsa_file written from what the
 * openssl command line computes (tests/tlsagen/oracle.sh), never from
 * lib/tlsa.c. A second coverage of each verdict beside
 * tests/lab/guard-check.sh (a live Postfix): healthy; a chain deployed on
 * disk but not served (G5, G4); served but not published (G3, G4); a next
 * key not published (G4 WARNING); no STARTTLS (G1); nobody listening
 * (UNKNOWN, never a G3 CRITICAL).
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/ssl.h>

#include "checks.h"
#include "conf.h"
#include "report.h"
#include "xalloc.h"

static const char *certdir, *top_srcdir;
static char tmpdir[] = "/tmp/test_checks.XXXXXX";

/* ------------------------------------------------------------ the server */

struct server {
	int lfd;
	unsigned port;
	int starttls;		/* offer STARTTLS */
	SSL_CTX *ctx;
	pthread_t tid;
};

static int
readline(int fd, SSL *ssl, char *buf, size_t len)
{
	size_t n = 0;
	char c;
	int r;

	while (n + 1 < len) {
		r = ssl ? SSL_read(ssl, &c, 1) : (int)read(fd, &c, 1);
		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		if (c != '\r')
			buf[n++] = c;
	}
	buf[n] = '\0';
	return 0;
}

static void
say(int fd, SSL *ssl, const char *s)
{
	if (ssl)
		(void)SSL_write(ssl, s, (int)strlen(s));
	else
		(void)!write(fd, s, strlen(s));
}

/* One SMTP session: EHLO, STARTTLS and QUIT, in plaintext or TLS. */
static void
session(struct server *sv, int fd)
{
	char line[1024];
	SSL *ssl = NULL;

	say(fd, NULL, "220 mx1.example.test ESMTP fake\r\n");
	while (readline(fd, ssl, line, sizeof(line)) == 0) {
		if (strncasecmp(line, "EHLO", 4) == 0)
			say(fd, ssl, ssl || !sv->starttls ?
			    "250-mx1.example.test\r\n250 8BITMIME\r\n" :
			    "250-mx1.example.test\r\n250 STARTTLS\r\n");
		else if (strncasecmp(line, "STARTTLS", 8) == 0 && !ssl &&
		    sv->starttls) {
			say(fd, NULL, "220 go ahead\r\n");
			ssl = SSL_new(sv->ctx);
			SSL_set_fd(ssl, fd);
			if (SSL_accept(ssl) != 1)
				break;
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			say(fd, ssl, "221 bye\r\n");
			break;
		} else
			say(fd, ssl, "502 no\r\n");
	}
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	close(fd);
}

/* Sessions one after the other until the listening socket is shut. */
static void *
serve(void *arg)
{
	struct server *sv = arg;
	int fd;

	while ((fd = accept(sv->lfd, NULL, NULL)) >= 0)
		session(sv, fd);
	return NULL;
}

/* Serve RSA chain rsa (with key rsakey) and the ECDSA chain. */
static void
server_start(struct server *sv, const char *rsa, const char *rsakey,
    int starttls)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char *p;

	memset(sv, 0, sizeof(*sv));
	sv->starttls = starttls;
	assert_non_null(sv->ctx = SSL_CTX_new(TLS_server_method()));
	p = xasprintf("%s/%s", certdir, rsa);
	assert_int_equal(SSL_CTX_use_certificate_chain_file(sv->ctx, p), 1);
	free(p);
	p = xasprintf("%s/%s", certdir, rsakey);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(sv->ctx, p,
	    SSL_FILETYPE_PEM), 1);
	free(p);
	p = xasprintf("%s/ecdsa-chain.pem", certdir);
	assert_int_equal(SSL_CTX_use_certificate_chain_file(sv->ctx, p), 1);
	free(p);
	p = xasprintf("%s/ecdsa.key", certdir);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(sv->ctx, p,
	    SSL_FILETYPE_PEM), 1);
	free(p);
	assert_true((sv->lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(sv->lfd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	assert_int_equal(getsockname(sv->lfd, (struct sockaddr *)&sin, &len),
	    0);
	assert_int_equal(listen(sv->lfd, 16), 0);
	sv->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&sv->tid, NULL, serve, sv), 0);
}

static void
server_stop(struct server *sv)
{
	shutdown(sv->lfd, SHUT_RDWR);
	close(sv->lfd);
	pthread_join(sv->tid, NULL);
	SSL_CTX_free(sv->ctx);
}

/* A port that was free a moment ago, with nobody listening. */
static unsigned
closed_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* ------------------------------------------------------------ a sweep */

/* "3 1 1 HEX" of the leaf or key in CERTDIR/file, by oracle.sh. */
static char *
oracle_311(const char *file)
{
	char *cmd, line[8192], sel[4], mt[4], hex[8000], idx[8];
	char *rec = NULL;
	FILE *p;

	cmd = xasprintf("sh '%s/tests/tlsagen/oracle.sh' '%s/%s'", top_srcdir,
	    certdir, file);
	assert_non_null(p = popen(cmd, "r"));
	while (fgets(line, sizeof(line), p) != NULL)
		if (sscanf(line, "%3s %3s %7999s %7s", sel, mt, hex, idx) == 4 &&
		    strcmp(sel, "1") == 0 && strcmp(mt, "1") == 0 &&
		    strcmp(idx, "0") == 0 && rec == NULL)
			rec = xasprintf("3 1 1 %s", hex);
	pclose(p);
	free(cmd);
	if (rec == NULL)
		fail_msg("oracle.sh gave no 3 1 1 data for %s", file);
	return rec;
}

/*
 * Write the published zone (records for the files named, NULL-ended) and
 * a configuration with the given RSA chain and key on disk, probing
 * 127.0.0.1 at port; run one sweep into r.
 */
static void
sweep(unsigned port, const char *rsa, const char *rsakey,
    const char *const *published, struct report *r)
{
	char *zone = xasprintf("%s/published.zone", tmpdir);
	char *cf = xasprintf("%s/daneguard.conf", tmpdir), *rec;
	struct conf *conf = NULL;
	struct errbuf err;
	FILE *f;
	size_t i;

	assert_non_null(f = fopen(zone, "w"));
	for (i = 0; published[i] != NULL; i++) {
		rec = oracle_311(published[i]);
		fprintf(f, "_%u._tcp.mx1.example.test. 3600 IN TLSA %s\n", port,
		    rec);
		free(rec);
	}
	fclose(f);
	assert_non_null(f = fopen(cf, "w"));
	fprintf(f, "state_dir = \"%s\"\nprobe_timeout = 5\n"
	    "tlsa_file = \"%s\"\n"
	    "host \"mx1.example.test\" {\n  port = %u\n"
	    "  rollover = \"current+next\"\n  probe = { \"127.0.0.1\" }\n"
	    "  cert \"rsa\" { chain = \"%s/%s\" key = \"%s/%s\"\n"
	    "    next_key = \"%s/rsa-next.key\" }\n"
	    "  cert \"ecdsa\" { chain = \"%s/ecdsa-chain.pem\"\n"
	    "    key = \"%s/ecdsa.key\" next_key = \"%s/ecdsa-next.key\" }\n"
	    "}\n", tmpdir, zone, port, certdir, rsa, certdir, rsakey, certdir,
	    certdir, certdir, certdir);
	fclose(f);
	if (conf_load(cf, &conf, &err) != 0)
		fail_msg("conf_load: %s", err.msg);
	memset(r, 0, sizeof(*r));
	r->when = time(NULL);
	checks_sweep(conf, "probe.daneguard.test", NULL, NULL, r);
	conf_free(conf);
	unlink(zone);
	unlink(cf);
	free(zone);
	free(cf);
}

/* The state of check (addr "" for G4) and alg in r; -1 when missing. */
static int
state_of(const struct report *r, const char *check, const char *addr,
    const char *alg)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(check_name(r->items[i].check), check) == 0 &&
		    strcmp(r->items[i].addr, addr) == 0 &&
		    strcmp(r->items[i].alg, alg) == 0)
			return (int)r->items[i].state;
	return -1;
}

/*
 * Every row of want ("CHECK ADDR ALG STATE", ADDR "-" for none) holds in
 * r; the whole report is printed on a mismatch.
 */
static void
expect_rows(const struct report *r, const char *const *want)
{
	char check[8], addr[64], alg[16], st[16];
	int got, bad = 0;
	size_t i;

	for (i = 0; want[i] != NULL; i++) {
		assert_int_equal(sscanf(want[i], "%7s %63s %15s %15s", check,
		    addr, alg, st), 4);
		got = state_of(r, check, strcmp(addr, "-") == 0 ? "" : addr,
		    alg);
		if (got < 0 || strcmp(verdict_state_name(got), st) != 0) {
			print_error("%s: got %s\n", want[i], got < 0 ?
			    "missing" : verdict_state_name(got));
			bad = 1;
		}
	}
	if (bad) {
		report_print(r, stderr);
		fail_msg("verdicts differ");
	}
}

static const char *const all_published[] = {
	"rsa-chain.pem", "rsa-next.key", "ecdsa-chain.pem", "ecdsa-next.key",
	NULL
};

static void
test_healthy(void **state)
{
	static const char *const want[] = {
		"G1 127.0.0.1 rsa OK", "G2 127.0.0.1 rsa OK",
		"G3 127.0.0.1 rsa OK", "G5 127.0.0.1 rsa OK",
		"G1 127.0.0.1 ecdsa OK", "G2 127.0.0.1 ecdsa OK",
		"G3 127.0.0.1 ecdsa OK", "G5 127.0.0.1 ecdsa OK",
		"G4 - rsa OK", "G4 - ecdsa OK", NULL
	};
	struct server sv;
	struct report r;

	(void)state;
	server_start(&sv, "rsa-chain.pem", "rsa.key", 1);
	sweep(sv.port, "rsa-chain.pem", "rsa.key", all_published, &r);
	server_stop(&sv);
	expect_rows(&r, want);
	assert_int_equal(report_worst(&r), VERDICT_OK);
	report_clear(&r);
}

/* A new RSA chain on disk, the server not reloaded: G5 (and G4). */
static void
test_not_reloaded(void **state)
{
	static const char *const want[] = {
		"G5 127.0.0.1 rsa CRITICAL", "G3 127.0.0.1 rsa OK",
		"G4 - rsa CRITICAL",
		"G5 127.0.0.1 ecdsa OK", "G3 127.0.0.1 ecdsa OK",
		"G4 - ecdsa OK", NULL
	};
	struct server sv;
	struct report r;

	(void)state;
	server_start(&sv, "rsa-chain.pem", "rsa.key", 1);
	sweep(sv.port, "rsa-other-chain.pem", "rsa-other.key", all_published,
	    &r);
	server_stop(&sv);
	expect_rows(&r, want);
	assert_int_equal(report_worst(&r), VERDICT_CRITICAL);
	report_clear(&r);
}

/* Reloaded with a key that has no record: G3 (and G4), G5 OK. */
static void
test_unpublished(void **state)
{
	static const char *const want[] = {
		"G3 127.0.0.1 rsa CRITICAL", "G5 127.0.0.1 rsa OK",
		"G2 127.0.0.1 rsa OK", "G4 - rsa CRITICAL",
		"G3 127.0.0.1 ecdsa OK", "G4 - ecdsa OK", NULL
	};
	struct server sv;
	struct report r;

	(void)state;
	server_start(&sv, "rsa-other-chain.pem", "rsa-other.key", 1);
	sweep(sv.port, "rsa-other-chain.pem", "rsa-other.key", all_published,
	    &r);
	server_stop(&sv);
	expect_rows(&r, want);
	report_clear(&r);
}

/* The next key's record is missing: G4 WARNING, the rest OK. */
static void
test_next_unpublished(void **state)
{
	static const char *const published[] = {
		"rsa-chain.pem", "ecdsa-chain.pem", "ecdsa-next.key", NULL
	};
	static const char *const want[] = {
		"G4 - rsa WARNING", "G4 - ecdsa OK", "G3 127.0.0.1 rsa OK",
		"G5 127.0.0.1 rsa OK", NULL
	};
	struct server sv;
	struct report r;

	(void)state;
	server_start(&sv, "rsa-chain.pem", "rsa.key", 1);
	sweep(sv.port, "rsa-chain.pem", "rsa.key", published, &r);
	server_stop(&sv);
	expect_rows(&r, want);
	assert_int_equal(report_worst(&r), VERDICT_WARNING);
	report_clear(&r);
}

static void
test_no_starttls(void **state)
{
	static const char *const want[] = {
		"G1 127.0.0.1 rsa CRITICAL", "G1 127.0.0.1 ecdsa CRITICAL",
		"G2 127.0.0.1 rsa UNKNOWN", "G3 127.0.0.1 rsa UNKNOWN",
		"G5 127.0.0.1 rsa UNKNOWN", "G4 - rsa OK", NULL
	};
	struct server sv;
	struct report r;

	(void)state;
	server_start(&sv, "rsa-chain.pem", "rsa.key", 0);
	sweep(sv.port, "rsa-chain.pem", "rsa.key", all_published, &r);
	server_stop(&sv);
	expect_rows(&r, want);
	report_clear(&r);
}

/* Nobody listens: UNKNOWN ("could not look"), never CRITICAL. */
static void
test_unreachable(void **state)
{
	static const char *const want[] = {
		"G1 127.0.0.1 rsa UNKNOWN", "G2 127.0.0.1 rsa UNKNOWN",
		"G3 127.0.0.1 rsa UNKNOWN", "G5 127.0.0.1 rsa UNKNOWN",
		"G3 127.0.0.1 ecdsa UNKNOWN", "G4 - rsa OK", NULL
	};
	struct report r;
	size_t i;

	(void)state;
	sweep(closed_port(), "rsa-chain.pem", "rsa.key", all_published, &r);
	expect_rows(&r, want);
	for (i = 0; i < r.n; i++)
		assert_int_not_equal(r.items[i].state, VERDICT_CRITICAL);
	assert_int_equal(report_worst(&r), VERDICT_UNKNOWN);
	report_clear(&r);
}

static int
setup(void **state)
{
	(void)state;
	certdir = getenv("CERTDIR");
	top_srcdir = getenv("top_srcdir");
	if (certdir == NULL || top_srcdir == NULL) {
		fprintf(stderr, "test_checks: CERTDIR and top_srcdir must be "
		    "set (make check sets them)\n");
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy),
		cmocka_unit_test(test_not_reloaded),
		cmocka_unit_test(test_unpublished),
		cmocka_unit_test(test_next_unpublished),
		cmocka_unit_test(test_no_starttls),
		cmocka_unit_test(test_unreachable),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
