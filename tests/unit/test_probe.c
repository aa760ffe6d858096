/*
 * test_probe - lib/probe.c against fake SMTP servers in this process.
 *
 * Each case starts a server thread on 127.0.0.1 (an ephemeral port) that
 * plays one script: hostile (overlong line, no CRLF, 5xx/4xx banner,
 * EHLO 502, no STARTTLS, 454 to STARTTLS, garbage instead of a
 * handshake, silence, an immediate close, bytes smuggled after the 220)
 * or good (STARTTLS and a real OpenSSL server holding the RSA and the
 * ECDSA chain of CERTDIR at once). Every case checks the status and the
 * step the probe ended in: a probe that ignored its deadline would meet
 * the fake server's own limit (SERVER_WAIT_MS) and end with another
 * status. No assertion is timed (speed belongs in bench/): the only
 * bounds on wall time are a generous one that catches a hang, and a
 * lower one (a timeout ended no earlier than its deadline). The step
 * timeout is short (300 ms) only to keep the test quick.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "probe.h"
#include "xalloc.h"

#define TIMEOUT_MS	300
/* The server side never waits longer than this for the probe. */
#define SERVER_WAIT_MS	5000
/* A probe still running after this long hangs (not a speed limit). */
#define HANG_MS		60000

enum script {
	S_OVERLONG,		/* a 3000-byte banner line */
	S_NO_CRLF,		/* "220 ready" and then nothing */
	S_BANNER_554,
	S_BANNER_421,
	S_EHLO_502,
	S_NO_STARTTLS,
	S_STARTTLS_454,
	S_GARBAGE,		/* 220 to STARTTLS, then not TLS */
	S_SILENT,		/* accepts, never writes */
	S_CLOSE,		/* accepts and closes */
	S_INJECT,		/* bytes after the 220 to STARTTLS */
	S_TLS_STALL,		/* 220 to STARTTLS, then no ServerHello */
	S_XCLIENT,		/* XCLIENT, then EHLO without STARTTLS */
	S_NO_XCLIENT_KW,	/* EHLO without XCLIENT */
	S_TLS			/* the real thing */
};

struct fake {
	enum script script;
	int lfd;
	unsigned port;
	pthread_t tid;
	SSL_CTX *sctx;		/* S_TLS */
	char seen[4096];	/* lines the probe sent, in plaintext or TLS */
	size_t nseen;
};

static const char *certdir;

/* ------------------------------------------------------------ server */

static void
seen_add(struct fake *f, const char *line)
{
	size_t n = strlen(line);

	if (f->nseen + n + 2 < sizeof(f->seen)) {
		memcpy(f->seen + f->nseen, line, n);
		f->nseen += n;
		f->seen[f->nseen++] = '\n';
		f->seen[f->nseen] = '\0';
	}
}

static void
srv_send(int fd, const char *s)
{
	(void)!send(fd, s, strlen(s), MSG_NOSIGNAL);
}

static int
srv_wait(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, SERVER_WAIT_MS) == 1 ? 0 : -1;
}

/* Read one line (without CRLF) into the record. -1 on EOF or timeout. */
static int
srv_line(struct fake *f, int fd)
{
	char line[1024], c;
	size_t n = 0;

	for (;;) {
		if (srv_wait(fd) < 0 || recv(fd, &c, 1, 0) != 1)
			return -1;
		if (c == '\n')
			break;
		if (c != '\r' && n < sizeof(line) - 1)
			line[n++] = c;
	}
	line[n] = '\0';
	seen_add(f, line);
	return 0;
}

/* Read and drop everything until the probe closes. */
static void
srv_drain(int fd)
{
	char buf[512];

	while (srv_wait(fd) == 0 && recv(fd, buf, sizeof(buf), 0) > 0)
		;
}

static void
srv_quit(struct fake *f, int fd)
{
	if (srv_line(f, fd) == 0)
		srv_send(fd, "221 2.0.0 Bye\r\n");
	srv_drain(fd);
}

static void
srv_ehlo(struct fake *f, int fd, const char *reply)
{
	if (srv_line(f, fd) == 0)
		srv_send(fd, reply);
}

static void
srv_tls(struct fake *f, int fd)
{
	struct timeval tv = { SERVER_WAIT_MS / 1000, 0 };
	char buf[256];
	SSL *ssl;
	int n;

	/* The accepted socket is blocking; bound every read and write. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ssl = SSL_new(f->sctx);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) == 1) {
		n = SSL_read(ssl, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			buf[strcspn(buf, "\r\n")] = '\0';
			seen_add(f, buf);
			SSL_write(ssl, "221 2.0.0 Bye\r\n", 15);
		}
		SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	ERR_clear_error();
}

static const char ehlo_tls[] =
    "250-fake.example.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n"
    "250 8BITMIME\r\n";

static void *
fake_main(void *arg)
{
	struct fake *f = arg;
	char *big;
	int fd;

	if (srv_wait(f->lfd) < 0 || (fd = accept(f->lfd, NULL, NULL)) < 0)
		return NULL;
	switch (f->script) {
	case S_OVERLONG:
		big = xmalloc(3001);
		memset(big, 'a', 3000);
		memcpy(big, "220-", 4);
		big[3000] = '\0';
		srv_send(fd, big);
		srv_send(fd, "\r\n220 ok\r\n");
		free(big);
		srv_drain(fd);
		break;
	case S_NO_CRLF:
		srv_send(fd, "220 ready");
		srv_drain(fd);
		break;
	case S_BANNER_554:
		srv_send(fd, "554 5.7.1 go away\r\n");
		srv_quit(f, fd);
		break;
	case S_BANNER_421:
		srv_send(fd, "421-4.3.2 busy\r\n421 4.3.2 try later\r\n");
		srv_quit(f, fd);
		break;
	case S_EHLO_502:
		srv_send(fd, "220 fake ESMTP\r\n");
		srv_ehlo(f, fd, "502 5.5.2 Error: command not recognized\r\n");
		srv_quit(f, fd);
		break;
	case S_NO_STARTTLS:
		srv_send(fd, "220 fake ESMTP\r\n");
		srv_ehlo(f, fd, "250-fake.example.test\r\n250 PIPELINING\r\n");
		srv_quit(f, fd);
		break;
	case S_STARTTLS_454:
		srv_send(fd, "220 fake ESMTP\r\n");
		srv_ehlo(f, fd, ehlo_tls);
		if (srv_line(f, fd) == 0)
			srv_send(fd, "454 4.7.0 TLS not available due to "
			    "local problem\r\n");
		srv_quit(f, fd);
		break;
	case S_GARBAGE:
		srv_send(fd, "220 fake ESMTP\r\n");
		srv_ehlo(f, fd, ehlo_tls);
		if (srv_line(f, fd) == 0)
			srv_send(fd, "220 2.0.0 Ready to start TLS\r\n");
		if (srv_wait(fd) == 0)
			srv_send(fd, "HTTP/1.1 400 Bad Request\r\n\r\n"
			    "this is not TLS at all\r\n");
		srv_drain(fd);
		break;
	case S_SILENT:
		srv_drain(fd);
		break;
	case S_CLOSE:
		break;
	case S_INJECT:
		srv_send(fd, "220 fake ESMTP\r\n");
		srv_ehlo(f, fd, ehlo_tls);
		if (srv_line(f, fd) == 0)
			srv_send(fd, "220 2.0.0 Ready to start TLS\r\n"
			    "250 injected before TLS\r\n");
		srv_drain(fd);
		break;
	case S_TLS_STALL:
		srv_send(fd, "220 fake ESMTP\r\n");
		srv_ehlo(f, fd, ehlo_tls);
		if (srv_line(f, fd) == 0)
			srv_send(fd, "220 2.0.0 Ready to start TLS\r\n");
		srv_drain(fd);
		break;
	case S_XCLIENT:
		srv_send(fd, "220 fake ESMTP\r\n");
		srv_ehlo(f, fd, "250-fake.example.test\r\n250-STARTTLS\r\n"
		    "250 XCLIENT NAME ADDR PROTO HELO\r\n");
		if (srv_line(f, fd) == 0)
			srv_send(fd, "220 fake ESMTP\r\n");
		srv_ehlo(f, fd, "250-fake.example.test\r\n250 PIPELINING\r\n");
		srv_quit(f, fd);
		break;
	case S_NO_XCLIENT_KW:
		srv_send(fd, "220 fake ESMTP\r\n");
		srv_ehlo(f, fd, ehlo_tls);
		srv_quit(f, fd);
		break;
	case S_TLS:
		/* A multi-line banner, as some MTAs send. */
		srv_send(fd, "220-fake.example.test ESMTP\r\n"
		    "220 no UCE\r\n");
		srv_ehlo(f, fd, ehlo_tls);
		if (srv_line(f, fd) == 0) {
			srv_send(fd, "220 2.0.0 Ready to start TLS\r\n");
			srv_tls(f, fd);
		}
		break;
	}
	close(fd);
	return NULL;
}

/* Listen on addr ("127.0.0.1" or "::1"); 0, or -1 if it cannot. */
static int
fake_start(struct fake *f, enum script script, const char *addr)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int one = 1;

	f->script = script;
	f->nseen = 0;
	f->seen[0] = '\0';
	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':') != NULL) {
		sin6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		len = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &sin->sin_addr);
		len = sizeof(*sin);
	}
	if ((f->lfd = socket(ss.ss_family, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(f->lfd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(f->lfd, 4) < 0 ||
	    getsockname(f->lfd, (struct sockaddr *)&ss, &len) < 0) {
		close(f->lfd);
		return -1;
	}
	f->port = ntohs(ss.ss_family == AF_INET6 ? sin6->sin6_port :
	    sin->sin_port);
	assert_int_equal(pthread_create(&f->tid, NULL, fake_main, f), 0);
	return 0;
}

static void
fake_stop(struct fake *f)
{
	pthread_join(f->tid, NULL);
	close(f->lfd);
}

/* ------------------------------------------------------------ probing */

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Probe the fake server and check status and step; the probe must end
 * (HANG_MS) and report at most the time it really took.
 */
static void
probe_fake(struct fake *f, const char *addr, const char *alg,
    const char *xclient, enum probe_status status, enum probe_step step,
    struct probe_result *res)
{
	struct probe_params p = { 0 };
	long t0, wall;

	p.addr = addr;
	p.port = f->port;
	p.helo = "probe.daneguard.test";
	p.alg = alg;
	p.xclient = xclient;
	p.timeout_ms = TIMEOUT_MS;
	t0 = now_ms();
	assert_int_equal(probe_run(&p, res), 0);
	wall = now_ms() - t0;
	fake_stop(f);
	print_message("  %-16s %-11s %-9s %4ld ms  %s\n",
	    probe_status_name(res->status), probe_step_name(res->step),
	    alg ? alg : "-", wall, res->detail);
	if (res->status != status || res->step != step)
		fail_msg("expected %s at %s, got %s at %s: %s",
		    probe_status_name(status), probe_step_name(step),
		    probe_status_name(res->status), probe_step_name(res->step),
		    res->detail);
	assert_true(wall < HANG_MS);
	assert_true(res->elapsed_ms <= wall + 1);
	assert_true(res->detail[0] != '\0');
}

static void
hostile(enum script script, enum probe_status status, enum probe_step step,
    const char *detail_has)
{
	struct probe_result res;
	struct fake f;

	assert_int_equal(fake_start(&f, script, "127.0.0.1"), 0);
	probe_fake(&f, "127.0.0.1", "rsa", NULL, status, step, &res);
	if (detail_has != NULL && strstr(res.detail, detail_has) == NULL)
		fail_msg("detail \"%s\" lacks \"%s\"", res.detail, detail_has);
	assert_null(res.chain);
	if (status == PROBE_TIMEOUT)
		assert_true(res.elapsed_ms >= TIMEOUT_MS - 10);
	probe_result_clear(&res);
}

static void
test_overlong(void **state)
{
	(void)state;
	hostile(S_OVERLONG, PROBE_PROTOCOL, PROBE_STEP_BANNER,
	    "reply line longer than 2048 bytes");
}

static void
test_no_crlf(void **state)
{
	(void)state;
	hostile(S_NO_CRLF, PROBE_TIMEOUT, PROBE_STEP_BANNER,
	    "no complete reply within 300 ms");
}

static void
test_banner_5xx(void **state)
{
	(void)state;
	hostile(S_BANNER_554, PROBE_PROTOCOL, PROBE_STEP_BANNER,
	    "banner: 554 5.7.1 go away");
}

static void
test_banner_4xx(void **state)
{
	(void)state;
	hostile(S_BANNER_421, PROBE_PROTOCOL, PROBE_STEP_BANNER,
	    "banner: 421 4.3.2 busy");
}

static void
test_ehlo_502(void **state)
{
	(void)state;
	hostile(S_EHLO_502, PROBE_PROTOCOL, PROBE_STEP_EHLO,
	    "EHLO answered 502 5.5.2");
}

static void
test_no_starttls(void **state)
{
	(void)state;
	hostile(S_NO_STARTTLS, PROBE_NO_STARTTLS, PROBE_STEP_EHLO,
	    "did not advertise STARTTLS");
}

static void
test_starttls_454(void **state)
{
	(void)state;
	hostile(S_STARTTLS_454, PROBE_STARTTLS_REFUSED, PROBE_STEP_STARTTLS,
	    "STARTTLS answered 454 4.7.0 TLS not available");
}

static void
test_garbage(void **state)
{
	(void)state;
	hostile(S_GARBAGE, PROBE_TLS_FAILED, PROBE_STEP_HANDSHAKE,
	    "TLS handshake forcing rsa failed: ");
}

static void
test_silent(void **state)
{
	(void)state;
	hostile(S_SILENT, PROBE_TIMEOUT, PROBE_STEP_BANNER,
	    "banner: no reply within 300 ms");
}

static void
test_close(void **state)
{
	(void)state;
	hostile(S_CLOSE, PROBE_PROTOCOL, PROBE_STEP_BANNER,
	    "connection closed by server");
}

static void
test_inject(void **state)
{
	(void)state;
	hostile(S_INJECT, PROBE_PROTOCOL, PROBE_STEP_STARTTLS,
	    "bytes after its 220");
}

static void
test_tls_stall(void **state)
{
	(void)state;
	hostile(S_TLS_STALL, PROBE_TIMEOUT, PROBE_STEP_HANDSHAKE,
	    "not complete within 300 ms");
}

static void
test_refused(void **state)
{
	struct probe_params p = { 0 };
	struct probe_result res;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	(void)state;
	/* A port that was just free and is closed again. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	p.addr = "127.0.0.1";
	p.port = ntohs(sin.sin_port);
	p.helo = "probe.daneguard.test";
	p.timeout_ms = TIMEOUT_MS;
	assert_int_equal(probe_run(&p, &res), 0);
	print_message("  %-16s %-11s %4ld ms  %s\n",
	    probe_status_name(res.status), probe_step_name(res.step),
	    res.elapsed_ms, res.detail);
	assert_int_equal(res.status, PROBE_UNREACHABLE);
	assert_int_equal(res.step, PROBE_STEP_CONNECT);
	/* refused, not timed out: the status and detail say so */
	assert_non_null(strstr(res.detail, "Connection refused"));
	probe_result_clear(&res);
}

static void
test_xclient(void **state)
{
	struct probe_result res;
	struct fake f;

	(void)state;
	assert_int_equal(fake_start(&f, S_XCLIENT, "127.0.0.1"), 0);
	probe_fake(&f, "127.0.0.1", "ecdsa", "2001:db8::66", PROBE_NO_STARTTLS,
	    PROBE_STEP_EHLO, &res);
	assert_non_null(strstr(f.seen, "\nXCLIENT ADDR=IPV6:2001:db8::66\n"));
	assert_non_null(strstr(f.seen,
	    "XCLIENT ADDR=IPV6:2001:db8::66\nEHLO probe.daneguard.test\n"
	    "QUIT\n"));
	assert_non_null(strstr(res.detail, "after XCLIENT"));
	probe_result_clear(&res);

	assert_int_equal(fake_start(&f, S_NO_XCLIENT_KW, "127.0.0.1"), 0);
	probe_fake(&f, "127.0.0.1", "ecdsa", "192.0.2.66", PROBE_NO_XCLIENT,
	    PROBE_STEP_XCLIENT, &res);
	/* Nothing was sent but EHLO and the closing QUIT. */
	assert_string_equal(f.seen, "EHLO probe.daneguard.test\nQUIT\n");
	probe_result_clear(&res);
}

/* The polite end: a 5xx banner still gets its QUIT. */
static void
test_quit_after_5xx(void **state)
{
	struct probe_result res;
	struct fake f;

	(void)state;
	assert_int_equal(fake_start(&f, S_BANNER_554, "127.0.0.1"), 0);
	probe_fake(&f, "127.0.0.1", NULL, NULL, PROBE_PROTOCOL,
	    PROBE_STEP_BANNER, &res);
	assert_string_equal(f.seen, "QUIT\n");
	probe_result_clear(&res);
}

static void
test_bad_params(void **state)
{
	struct probe_params p = { 0 };
	struct probe_result res;

	(void)state;
	p.addr = "mx1.example.test";
	p.port = 25;
	p.helo = "probe.daneguard.test";
	p.timeout_ms = TIMEOUT_MS;
	assert_int_equal(probe_run(&p, &res), -1);
	assert_non_null(strstr(res.detail, "not an IPv4 or IPv6 literal"));
	p.addr = "127.0.0.1";
	p.alg = "dsa";
	assert_int_equal(probe_run(&p, &res), -1);
	assert_non_null(strstr(res.detail, "unknown algorithm"));
	p.alg = NULL;
	p.xclient = "192.0.2.1\r\nRCPT TO:<x>";
	assert_int_equal(probe_run(&p, &res), -1);
	assert_non_null(strstr(res.detail, "XCLIENT address"));
	p.xclient = NULL;
	/* SNI goes into the ClientHello: a host name, nothing else. */
	p.sni = "mx1.example.test\r\nQUIT";
	assert_int_equal(probe_run(&p, &res), -1);
	assert_non_null(strstr(res.detail, "SNI name"));
	p.sni = "mx1.example.test.";
	assert_int_equal(probe_run(&p, &res), -1);
	p.sni = "";
	assert_int_equal(probe_run(&p, &res), -1);
	p.sni = NULL;
	p.helo = "a b";
	assert_int_equal(probe_run(&p, &res), -1);
	p.helo = "probe.daneguard.test";
	p.port = 0;
	assert_int_equal(probe_run(&p, &res), -1);
	p.port = 25;
	p.timeout_ms = 0;
	assert_int_equal(probe_run(&p, &res), -1);
	assert_null(res.chain);
	probe_result_clear(&res);
	assert_string_equal(probe_status_name(PROBE_TLS_OLD), "tls-old");
	assert_string_equal(probe_status_name(PROBE_NO_STARTTLS), "no-starttls");
	assert_string_equal(probe_step_name(PROBE_STEP_HANDSHAKE), "handshake");
}

/* ------------------------------------------------------------ TLS */

static char *
cert_path(const char *name)
{
	return xasprintf("%s/%s", certdir, name);
}

/* A server context holding both chains, TLS versions min..max. */
static SSL_CTX *
server_ctx(int min, int max)
{
	static const char *files[][2] = {
		{ "rsa-chain.pem", "rsa.key" },
		{ "ecdsa-chain.pem", "ecdsa.key" },
	};
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	size_t i;
	char *c, *k;

	assert_non_null(ctx);
	SSL_CTX_set_security_level(ctx, 0);
	assert_true(SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0"));
	assert_true(SSL_CTX_set_min_proto_version(ctx, min));
	assert_true(SSL_CTX_set_max_proto_version(ctx, max));
	for (i = 0; i < 2; i++) {
		c = cert_path(files[i][0]);
		k = cert_path(files[i][1]);
		if (SSL_CTX_use_certificate_chain_file(ctx, c) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, k, SSL_FILETYPE_PEM) != 1)
			fail_msg("cannot load %s and %s", c, k);
		free(c);
		free(k);
	}
	return ctx;
}

/* The served chain must be exactly the chain file: leaf, then int. */
static void
assert_chain(STACK_OF(X509) *chain, const char *file)
{
	char *path = cert_path(file);
	FILE *fp = fopen(path, "r");
	X509 *x;
	int i;

	assert_non_null(fp);
	assert_non_null(chain);
	for (i = 0; (x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL; i++) {
		assert_true(i < sk_X509_num(chain));
		if (X509_cmp(sk_X509_value(chain, i), x) != 0)
			fail_msg("certificate %d of the served chain is not "
			    "certificate %d of %s", i, i, path);
		X509_free(x);
	}
	ERR_clear_error();
	assert_int_equal(i, sk_X509_num(chain));
	assert_int_equal(i, 2);
	fclose(fp);
	free(path);
}

static void
tls_case(const char *addr, int min, int max, const char *alg,
    enum probe_status status, const char *file, const char *alg_prefix,
    const char *version)
{
	struct probe_result res;
	struct fake f;

	f.sctx = server_ctx(min, max);
	if (fake_start(&f, S_TLS, addr) < 0) {
		SSL_CTX_free(f.sctx);
		print_message("  SKIP no %s here\n", addr);
		return;
	}
	probe_fake(&f, addr, alg, NULL, status,
	    status == PROBE_OK ? PROBE_STEP_DONE : PROBE_STEP_HANDSHAKE, &res);
	if (file != NULL) {
		assert_chain(res.chain, file);
		assert_int_equal(strncmp(res.alg, alg_prefix,
		    strlen(alg_prefix)), 0);
		assert_string_equal(res.version, version);
		assert_int_equal(res.starttls, 1);
		assert_true(res.cipher[0] != '\0');
		/* The session ended with QUIT inside TLS. */
		assert_non_null(strstr(f.seen, "STARTTLS\nQUIT\n"));
	} else
		assert_null(res.chain);
	probe_result_clear(&res);
	SSL_CTX_free(f.sctx);
}

static void
test_tls13_forced(void **state)
{
	(void)state;
	if (certdir == NULL)
		skip();
	tls_case("127.0.0.1", TLS1_VERSION, TLS1_3_VERSION, "rsa", PROBE_OK,
	    "rsa-chain.pem", "rsa-", "TLSv1.3");
	tls_case("127.0.0.1", TLS1_VERSION, TLS1_3_VERSION, "ecdsa", PROBE_OK,
	    "ecdsa-chain.pem", "ecdsa-p256", "TLSv1.3");
	/* Unforced, OpenSSL picks ECDSA: why the guard must force. */
	tls_case("127.0.0.1", TLS1_VERSION, TLS1_3_VERSION, NULL, PROBE_OK,
	    "ecdsa-chain.pem", "ecdsa-p256", "TLSv1.3");
	tls_case("::1", TLS1_VERSION, TLS1_3_VERSION, "rsa", PROBE_OK,
	    "rsa-chain.pem", "rsa-", "TLSv1.3");
	/* Not served: no shared signature algorithm, no handshake. */
	tls_case("127.0.0.1", TLS1_VERSION, TLS1_3_VERSION, "ed25519",
	    PROBE_TLS_FAILED, NULL, NULL, NULL);
}

static void
test_tls12_forced(void **state)
{
	(void)state;
	if (certdir == NULL)
		skip();
	tls_case("127.0.0.1", TLS1_VERSION, TLS1_2_VERSION, "rsa", PROBE_OK,
	    "rsa-chain.pem", "rsa-", "TLSv1.2");
	tls_case("127.0.0.1", TLS1_VERSION, TLS1_2_VERSION, "ecdsa", PROBE_OK,
	    "ecdsa-chain.pem", "ecdsa-p256", "TLSv1.2");
}

static void
test_tls_old(void **state)
{
	(void)state;
	if (certdir == NULL)
		skip();
	tls_case("127.0.0.1", TLS1_VERSION, TLS1_1_VERSION, "rsa",
	    PROBE_TLS_OLD, "rsa-chain.pem", "rsa-", "TLSv1.1");
	tls_case("127.0.0.1", TLS1_VERSION, TLS1_VERSION, "ecdsa",
	    PROBE_TLS_OLD, "ecdsa-chain.pem", "ecdsa-p256", "TLSv1");
}

/*
 * The guard probes in parallel: 8 probes at once, each against its own
 * server, share probe.c's one client context.
 */
#define NPARALLEL 8

struct parallel {
	struct fake f;
	struct probe_result res;
	const char *alg;
};

static void *
parallel_probe(void *arg)
{
	struct parallel *pl = arg;
	struct probe_params p = { 0 };

	p.addr = "127.0.0.1";
	p.port = pl->f.port;
	p.helo = "probe.daneguard.test";
	p.alg = pl->alg;
	p.timeout_ms = 2000;	/* 16 handshakes on 2 cores under ASan */
	(void)probe_run(&p, &pl->res);
	return NULL;
}

static void
test_parallel(void **state)
{
	struct parallel pl[NPARALLEL];
	pthread_t tid[NPARALLEL];
	SSL_CTX *sctx;
	int i;

	(void)state;
	if (certdir == NULL)
		skip();
	sctx = server_ctx(TLS1_VERSION, TLS1_3_VERSION);
	for (i = 0; i < NPARALLEL; i++) {
		pl[i].alg = i % 2 ? "ecdsa" : "rsa";
		pl[i].f.sctx = sctx;
		assert_int_equal(fake_start(&pl[i].f, S_TLS, "127.0.0.1"), 0);
	}
	for (i = 0; i < NPARALLEL; i++)
		assert_int_equal(pthread_create(&tid[i], NULL, parallel_probe,
		    &pl[i]), 0);
	for (i = 0; i < NPARALLEL; i++) {
		pthread_join(tid[i], NULL);
		fake_stop(&pl[i].f);
		if (pl[i].res.status != PROBE_OK)
			fail_msg("probe %d (%s): %s at %s: %s", i, pl[i].alg,
			    probe_status_name(pl[i].res.status),
			    probe_step_name(pl[i].res.step), pl[i].res.detail);
		assert_chain(pl[i].res.chain, i % 2 ? "ecdsa-chain.pem" :
		    "rsa-chain.pem");
		probe_result_clear(&pl[i].res);
	}
	SSL_CTX_free(sctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overlong),
		cmocka_unit_test(test_no_crlf),
		cmocka_unit_test(test_banner_5xx),
		cmocka_unit_test(test_banner_4xx),
		cmocka_unit_test(test_ehlo_502),
		cmocka_unit_test(test_no_starttls),
		cmocka_unit_test(test_starttls_454),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_silent),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_inject),
		cmocka_unit_test(test_tls_stall),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_xclient),
		cmocka_unit_test(test_quit_after_5xx),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_tls13_forced),
		cmocka_unit_test(test_tls12_forced),
		cmocka_unit_test(test_tls_old),
		cmocka_unit_test(test_parallel),
	};

	certdir = getenv("CERTDIR");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
