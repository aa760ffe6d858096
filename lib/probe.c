/*
 * probe - see probe.h.
 *
 * One probe is one TCP connection driven step by step on a non-blocking
 * socket. Each step (connect, banner, EHLO, XCLIENT, the EHLO after it,
 * STARTTLS, the handshake, QUIT) gets its own deadline of
 * params->timeout_ms from when it starts, and every wait is a poll()
 * bounded by what is left of it; so a probe never takes much longer than
 * (number of steps) x timeout, whatever the server does.
 *
 * The handshake runs on the same socket (SSL_set_fd) with OpenSSL
 * verifying nothing: the chain is judged afterwards by match_chain,
 * against whichever record sets the caller holds. TLS 1.0 and 1.1 and
 * security level 0 are allowed so that an outdated server is reported
 * as such (PROBE_TLS_OLD) rather than as "no TLS". The algorithm is
 * forced per connection through the signature algorithms (TLS 1.3 and
 * 1.2) and the cipher suites (TLS 1.2 and older), then checked against
 * the leaf that was really served.
 *
 * Sockets get TCP_NODELAY: SMTP is a dialogue of small writes, and Nagle
 * plus delayed ACK would add ~40 ms per round trip (see LAB.md).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "certkey.h"
#include "probe.h"
#include "probe_conn.h"
#include "smtp_reply.h"
#include "xalloc.h"

/* QUIT is a courtesy: wait this long at most for its 221. */
#define PROBE_QUIT_MS	500

/* How each algorithm is forced. */
struct probe_force {
	const char *alg;
	const char *sigalgs;	/* TLS 1.2 and 1.3 signature algorithms */
	const char *ciphers;	/* TLS 1.2 and older cipher suites */
};

static const struct probe_force probe_forces[] = {
	{ "rsa",
	  "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512:"
	  "RSA+SHA256:RSA+SHA384:RSA+SHA512",
	  "aRSA:!eNULL:@SECLEVEL=0" },
	{ "ecdsa",
	  "ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512",
	  "aECDSA:!eNULL:@SECLEVEL=0" },
	/* EdDSA certificates go with the ECDSA suites in TLS 1.2 (RFC 8422). */
	{ "ed25519", "ed25519", "aECDSA:!eNULL:@SECLEVEL=0" },
	{ "ed448", "ed448", "aECDSA:!eNULL:@SECLEVEL=0" },
	/* Either: one handshake that fails proves neither is served. */
	{ "ed25519+ed448", "ed25519:ed448", "aECDSA:!eNULL:@SECLEVEL=0" },
};

/* Is family one of force's algorithms ("ed25519+ed448": either)? */
static int
force_accepts(const struct probe_force *force, const char *family)
{
	const char *a = force->alg;
	size_t n = strlen(family);

	for (;;) {
		if (strncmp(a, family, n) == 0 && (a[n] == '\0' || a[n] == '+'))
			return 1;
		if ((a = strchr(a, '+')) == NULL)
			return 0;
		a++;
	}
}


/* ------------------------------------------------------------ names */

const char *
probe_status_name(enum probe_status status)
{
	switch (status) {
	case PROBE_OK:			return "ok";
	case PROBE_UNREACHABLE:		return "unreachable";
	case PROBE_TIMEOUT:		return "timeout";
	case PROBE_PROTOCOL:		return "protocol";
	case PROBE_NO_STARTTLS:		return "no-starttls";
	case PROBE_STARTTLS_REFUSED:	return "starttls-refused";
	case PROBE_NO_XCLIENT:		return "no-xclient";
	case PROBE_TLS_FAILED:		return "tls-failed";
	case PROBE_TLS_OLD:		return "tls-old";
	}
	return "unknown";
}

const char *
probe_step_name(enum probe_step step)
{
	switch (step) {
	case PROBE_STEP_CONNECT:	return "connect";
	case PROBE_STEP_BANNER:		return "banner";
	case PROBE_STEP_EHLO:		return "ehlo";
	case PROBE_STEP_XCLIENT:	return "xclient";
	case PROBE_STEP_STARTTLS:	return "starttls";
	case PROBE_STEP_HANDSHAKE:	return "handshake";
	case PROBE_STEP_QUIT:		return "quit";
	case PROBE_STEP_DONE:		return "done";
	}
	return "unknown";
}

void
probe_result_clear(struct probe_result *res)
{
	if (res == NULL)
		return;
	if (res->chain != NULL)
		sk_X509_pop_free(res->chain, X509_free);
	memset(res, 0, sizeof(*res));
}

/* ------------------------------------------------------------ steps */

static int
step_connect(struct probe_conn *c, const struct sockaddr *sa,
    socklen_t salen)
{
	socklen_t elen = sizeof(int);
	int one = 1, e = 0, r;

	probe_step_begin(c, PROBE_STEP_CONNECT, c->params->timeout_ms);
	c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (c->fd < 0) {
		e = errno;
		probe_set_status(c, PROBE_UNREACHABLE, "connect: socket: %s",
		    strerror(e));
		return -1;
	}
	/* Nagle plus delayed ACK would stall every small command. */
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, sa, salen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR) {
		e = errno;
		probe_set_status(c, probe_errno_status(e) == PROBE_PROTOCOL ?
		    PROBE_UNREACHABLE : probe_errno_status(e), "connect: %s",
		    strerror(e));
		return -1;
	}
	r = probe_wait_fd(c, POLLOUT);
	if (r == 0) {
		probe_set_status(c, PROBE_TIMEOUT, "connect: no answer within %d ms",
		    c->params->timeout_ms);
		return -1;
	}
	if (r < 0 || getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
		e = errno;
	if (e != 0) {
		probe_set_status(c, probe_errno_status(e) == PROBE_PROTOCOL ?
		    PROBE_UNREACHABLE : probe_errno_status(e), "connect: %s",
		    strerror(e));
		return -1;
	}
	return 0;
}

/* EHLO, and whether it advertised STARTTLS. 0, or -1 with status set. */
static int
step_ehlo(struct probe_conn *c, struct smtp_reply *ehlo, const char *after)
{
	char *cmd, quoted[PROBE_QUOTE_MAX];
	int r;

	probe_step_begin(c, PROBE_STEP_EHLO, c->params->timeout_ms);
	cmd = xasprintf("EHLO %s", c->params->helo);
	r = probe_conn_command(c, cmd, ehlo);
	free(cmd);
	if (r < 0)
		return -1;
	if (ehlo->code != 250) {
		probe_quote_reply(quoted, sizeof(quoted), ehlo);
		probe_set_status(c, PROBE_PROTOCOL, "EHLO%s answered %s", after,
		    quoted);
		return -1;
	}
	c->res->starttls = smtp_reply_has_keyword(ehlo, "STARTTLS");
	return 0;
}

static int
step_xclient(struct probe_conn *c, const struct smtp_reply *ehlo, int v6)
{
	struct smtp_reply reply = { 0 };
	char *cmd, quoted[PROBE_QUOTE_MAX];
	int r;

	probe_step_begin(c, PROBE_STEP_XCLIENT, c->params->timeout_ms);
	if (!smtp_reply_has_keyword(ehlo, "XCLIENT")) {
		probe_set_status(c, PROBE_NO_XCLIENT, "EHLO did not advertise "
		    "XCLIENT (smtpd_authorized_xclient_hosts must list the "
		    "probe's address)");
		return -1;
	}
	cmd = xasprintf("XCLIENT ADDR=%s%s", v6 ? "IPV6:" : "",
	    c->params->xclient);
	r = probe_conn_command(c, cmd, &reply);
	free(cmd);
	if (r < 0)
		return -1;
	if (reply.code != 220) {
		probe_quote_reply(quoted, sizeof(quoted), &reply);
		probe_set_status(c, PROBE_NO_XCLIENT, "XCLIENT ADDR=%s answered %s",
		    c->params->xclient, quoted);
		smtp_reply_clear(&reply);
		return -1;
	}
	smtp_reply_clear(&reply);
	return 0;
}

static int
step_starttls(struct probe_conn *c)
{
	struct smtp_reply reply = { 0 };
	char quoted[PROBE_QUOTE_MAX];
	int code;

	probe_step_begin(c, PROBE_STEP_STARTTLS, c->params->timeout_ms);
	if (probe_conn_command(c, "STARTTLS", &reply) < 0)
		return -1;
	probe_quote_reply(quoted, sizeof(quoted), &reply);
	code = reply.code;
	smtp_reply_clear(&reply);
	if (code >= 400) {
		probe_set_status(c, PROBE_STARTTLS_REFUSED, "STARTTLS answered %s",
		    quoted);
		return -1;
	}
	if (code != 220) {
		c->sane = 0;
		probe_set_status(c, PROBE_PROTOCOL, "STARTTLS answered %s", quoted);
		return -1;
	}
	/*
	 * Bytes after the 220 were sent before TLS and would be taken as
	 * TLS-protected (the STARTTLS command injection of CVE-2011-0411,
	 * seen from the client side).
	 */
	if (c->len > 0) {
		c->sane = 0;
		probe_set_status(c, PROBE_PROTOCOL, "STARTTLS: server sent %zu "
		    "bytes after its 220, before the TLS handshake", c->len);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ TLS */

static pthread_once_t probe_ctx_once = PTHREAD_ONCE_INIT;
static SSL_CTX *probe_ctx;

/*
 * One client context for every probe, created once: SSL_CTX_new costs a
 * few milliseconds in OpenSSL 3.0 and is thread-safe to share once set
 * up. Everything that differs between probes is set on the SSL.
 */
static void
probe_ctx_init(void)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_security_level(ctx, 0);
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, "ALL:!aNULL:!eNULL:@SECLEVEL=0")) {
		SSL_CTX_free(ctx);
		return;
	}
	/* Every probe is a full handshake: a resumed one shows no chain. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
	probe_ctx = ctx;
}

static const struct probe_force *
force_of(const char *alg)
{
	size_t i;

	for (i = 0; i < sizeof(probe_forces) / sizeof(probe_forces[0]); i++)
		if (strcmp(probe_forces[i].alg, alg) == 0)
			return &probe_forces[i];
	return NULL;
}

/*
 * A TLS object for the connection: the forced algorithm's signature
 * algorithms and ciphers (*force, NULL when none), SNI, the socket.
 * Returns 0, or -1 with the status set.
 */
static int
handshake_setup(struct probe_conn *c, const struct probe_force **force)
{
	const struct probe_params *p = c->params;
	char why[160];

	*force = NULL;
	ERR_clear_error();
	pthread_once(&probe_ctx_once, probe_ctx_init);
	if (probe_ctx == NULL || (c->ssl = SSL_new(probe_ctx)) == NULL) {
		probe_ssl_reason(why, sizeof(why), 0, 0);
		probe_set_status(c, PROBE_TLS_FAILED, "TLS handshake: cannot set up "
		    "OpenSSL: %s", why);
		return -1;
	}
	if (p->alg != NULL && (*force = force_of(p->alg)) != NULL &&
	    (!SSL_set1_sigalgs_list(c->ssl, (*force)->sigalgs) ||
	    !SSL_set_cipher_list(c->ssl, (*force)->ciphers))) {
		probe_ssl_reason(why, sizeof(why), 0, 0);
		probe_set_status(c, PROBE_TLS_FAILED, "TLS handshake: cannot force "
		    "%s: %s", p->alg, why);
		return -1;
	}
	if (p->sni != NULL && !SSL_set_tlsext_host_name(c->ssl, p->sni)) {
		probe_ssl_reason(why, sizeof(why), 0, 0);
		probe_set_status(c, PROBE_TLS_FAILED, "TLS handshake: cannot "
		    "send SNI %s: %s", p->sni, why);
		return -1;
	}
	if (!SSL_set_fd(c->ssl, c->fd)) {
		probe_ssl_reason(why, sizeof(why), 0, 0);
		probe_set_status(c, PROBE_TLS_FAILED, "TLS handshake: %s", why);
		return -1;
	}
	return 0;
}

/* SSL_connect until done, waiting on the socket within the step's
 * deadline. Returns 0, or -1 with the status set. */
static int
handshake_run(struct probe_conn *c)
{
	const struct probe_params *p = c->params;
	int r, sslerr, e;
	char why[160];

	SSL_set_connect_state(c->ssl);
	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_connect(c->ssl)) == 1)
			return 0;
		e = errno;
		sslerr = SSL_get_error(c->ssl, r);
		if (sslerr == SSL_ERROR_WANT_READ)
			r = probe_wait_fd(c, POLLIN);
		else if (sslerr == SSL_ERROR_WANT_WRITE)
			r = probe_wait_fd(c, POLLOUT);
		else {
			probe_ssl_reason(why, sizeof(why), sslerr, e);
			probe_set_status(c, sslerr == SSL_ERROR_SYSCALL &&
			    probe_errno_status(e) == PROBE_UNREACHABLE ?
			    PROBE_UNREACHABLE : PROBE_TLS_FAILED,
			    "TLS handshake%s%s failed: %s",
			    p->alg ? " forcing " : "", p->alg ? p->alg : "",
			    why);
			return -1;
		}
		if (r == 0) {
			probe_set_status(c, PROBE_TIMEOUT, "TLS handshake: not "
			    "complete within %d ms", p->timeout_ms);
			return -1;
		}
		if (r < 0) {
			e = errno;
			probe_set_status(c, PROBE_TLS_FAILED, "TLS handshake: poll: %s",
			    strerror(e));
			return -1;
		}
	}
}

/*
 * After the handshake: what was negotiated and served into c->res (the
 * chain kept), checked against force and the TLS 1.2 floor. Returns 0
 * (PROBE_OK), or -1 with the status set.
 */
static int
handshake_served(struct probe_conn *c, const struct probe_force *force)
{
	struct probe_result *res = c->res;
	STACK_OF(X509) *chain;
	const char *family;
	X509 *leaf;
	char why[160];

	res->tls_version = SSL_version(c->ssl);
	snprintf(res->version, sizeof(res->version), "%s",
	    SSL_get_version(c->ssl));
	snprintf(res->cipher, sizeof(res->cipher), "%s",
	    SSL_get_cipher_name(c->ssl));

	/* On the client side the peer chain includes the leaf. */
	chain = SSL_get_peer_cert_chain(c->ssl);
	if (chain == NULL || sk_X509_num(chain) == 0) {
		probe_set_status(c, PROBE_TLS_FAILED, "TLS handshake: %s, but the "
		    "server sent no certificate", res->version);
		return -1;
	}
	if ((res->chain = X509_chain_up_ref(chain)) == NULL) {
		probe_ssl_reason(why, sizeof(why), 0, 0);
		probe_set_status(c, PROBE_TLS_FAILED, "TLS handshake: cannot keep "
		    "the chain: %s", why);
		return -1;
	}
	leaf = sk_X509_value(res->chain, 0);
	/* On failure res->alg describes the key; the family is NULL then. */
	(void)certkey_cert_alg_name(leaf, res->alg, sizeof(res->alg));
	family = certkey_cert_alg_family(leaf);
	if (force != NULL && (family == NULL ||
	    !force_accepts(force, family))) {
		probe_set_status(c, PROBE_TLS_FAILED, "TLS handshake forcing %s: "
		    "server served a %s certificate (%s, %s)", force->alg,
		    res->alg[0] ? res->alg : "unknown", res->version,
		    res->cipher);
		return -1;
	}
	if (res->tls_version < TLS1_2_VERSION) {
		probe_set_status(c, PROBE_TLS_OLD, "TLS handshake only at %s (%s, "
		    "%s certificate); TLS 1.2 or newer required",
		    res->version, res->cipher, res->alg);
		return -1;
	}
	probe_set_status(c, PROBE_OK, "%s %s %s certificate, chain of %d",
	    res->version, res->cipher, res->alg, sk_X509_num(res->chain));
	return 0;
}

static int
step_handshake(struct probe_conn *c)
{
	const struct probe_force *force;

	probe_step_begin(c, PROBE_STEP_HANDSHAKE, c->params->timeout_ms);
	c->sane = 0;		/* until the handshake is done */
	if (handshake_setup(c, &force) < 0 || handshake_run(c) < 0)
		return -1;
	c->sane = 1;
	return handshake_served(c, force);
}

/*
 * A courtesy: QUIT and a short wait for the 221, so the server logs a
 * clean end. The result does not change whatever happens.
 */
static void
step_quit(struct probe_conn *c)
{
	struct probe_result saved = *c->res;
	struct smtp_reply reply = { 0 };
	int ms = c->params->timeout_ms < PROBE_QUIT_MS ?
	    c->params->timeout_ms : PROBE_QUIT_MS;

	probe_step_begin(c, PROBE_STEP_QUIT, ms);
	c->len = 0;
	if (probe_conn_command(c, "QUIT", &reply) == 0)
		smtp_reply_clear(&reply);
	if (c->ssl != NULL && SSL_is_init_finished(c->ssl))
		(void)SSL_shutdown(c->ssl);	/* close_notify, no wait */
	ERR_clear_error();
	*c->res = saved;
}

/* ------------------------------------------------------------ run */

static int
parse_addr(const char *addr, unsigned port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

/* Parameters are checked before anything goes on the wire. */
static int
params_check(const struct probe_params *p, struct probe_result *res)
{
	struct in6_addr a6;
	const char *s;

	if (p->addr == NULL) {
		snprintf(res->detail, sizeof(res->detail), "no address");
		return -1;
	}
	if (p->port == 0 || p->port > 65535) {
		snprintf(res->detail, sizeof(res->detail),
		    "port %u is not between 1 and 65535", p->port);
		return -1;
	}
	if (p->timeout_ms <= 0) {
		snprintf(res->detail, sizeof(res->detail),
		    "timeout %d ms is not positive", p->timeout_ms);
		return -1;
	}
	/* The EHLO name goes on the wire: no spaces or line breaks. */
	if (p->helo == NULL || *p->helo == '\0' || strlen(p->helo) > 255) {
		snprintf(res->detail, sizeof(res->detail),
		    "EHLO name missing or longer than 255 bytes");
		return -1;
	}
	for (s = p->helo; *s; s++) {
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) {
			snprintf(res->detail, sizeof(res->detail),
			    "EHLO name has a space or control character");
			return -1;
		}
	}
	if (p->alg != NULL && force_of(p->alg) == NULL) {
		snprintf(res->detail, sizeof(res->detail), "unknown algorithm "
		    "\"%.32s\" (rsa, ecdsa, ed25519, ed448)", p->alg);
		return -1;
	}
	/* SNI is a host name (RFC 6066: no literal, no final dot). */
	if (p->sni != NULL && (*p->sni == '\0' || strlen(p->sni) > 253 ||
	    p->sni[strlen(p->sni) - 1] == '.' ||
	    strspn(p->sni, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-._") != strlen(p->sni))) {
		snprintf(res->detail, sizeof(res->detail), "SNI name \"%.64s\" "
		    "is not a host name", p->sni);
		return -1;
	}
	/* Only a literal can go into XCLIENT: no command injection. */
	if (p->xclient != NULL && inet_pton(AF_INET, p->xclient, &a6) != 1 &&
	    inet_pton(AF_INET6, p->xclient, &a6) != 1) {
		snprintf(res->detail, sizeof(res->detail), "XCLIENT address "
		    "\"%.64s\" is not an IPv4 or IPv6 literal", p->xclient);
		return -1;
	}
	return 0;
}

/*
 * SIGPIPE: plaintext sends use MSG_NOSIGNAL, but OpenSSL writes with
 * write(2). The signal is blocked in this thread while the probe runs
 * and a SIGPIPE it raised is taken back before the mask is restored (the
 * way libpq does it), so a server that closes early cannot kill the
 * caller, and the process's signal dispositions are left alone.
 */
struct sigpipe_state {
	sigset_t oldmask;
	int was_pending;
	int blocked;
};

static void
sigpipe_block(struct sigpipe_state *st)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	st->blocked = pthread_sigmask(SIG_BLOCK, &set, &st->oldmask) == 0;
	st->was_pending = 0;
	if (st->blocked && sigpending(&pending) == 0)
		st->was_pending = sigismember(&pending, SIGPIPE) == 1;
}

static void
sigpipe_restore(struct sigpipe_state *st)
{
	sigset_t set, pending;
	struct timespec zero = { 0, 0 };

	if (!st->blocked)
		return;
	if (!st->was_pending && sigpending(&pending) == 0 &&
	    sigismember(&pending, SIGPIPE) == 1) {
		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &st->oldmask, NULL);
}

static void
probe_dialogue(struct probe_conn *c, const struct sockaddr *sa,
    socklen_t salen)
{
	const struct probe_params *p = c->params;
	struct smtp_reply reply = { 0 };
	struct in6_addr a6;
	char quoted[PROBE_QUOTE_MAX];

	if (step_connect(c, sa, salen) < 0)
		return;

	probe_step_begin(c, PROBE_STEP_BANNER, p->timeout_ms);
	if (probe_conn_read_reply(c, &reply) < 0)
		return;
	c->sane = 1;
	if (reply.code != 220) {
		probe_quote_reply(quoted, sizeof(quoted), &reply);
		probe_set_status(c, PROBE_PROTOCOL, "banner: %s", quoted);
		goto quit;
	}
	smtp_reply_clear(&reply);

	if (step_ehlo(c, &reply, "") < 0)
		goto quit;
	if (p->xclient != NULL) {
		if (step_xclient(c, &reply, inet_pton(AF_INET6, p->xclient,
		    &a6) == 1) < 0)
			goto quit;
		smtp_reply_clear(&reply);
		if (step_ehlo(c, &reply, " after XCLIENT") < 0)
			goto quit;
	}
	if (!c->res->starttls) {
		/* Found in the EHLO reply; the step stays there. */
		probe_set_status(c, PROBE_NO_STARTTLS, "EHLO%s did not advertise "
		    "STARTTLS", p->xclient ? " after XCLIENT" : "");
		goto quit;
	}
	smtp_reply_clear(&reply);
	if (step_starttls(c) < 0)
		goto quit;
	if (step_handshake(c) == 0)
		c->res->step = PROBE_STEP_DONE;

quit:
	smtp_reply_clear(&reply);
	if (c->sane)
		step_quit(c);
}

int
probe_run(const struct probe_params *params, struct probe_result *res)
{
	struct probe_conn conn;
	struct sockaddr_storage ss;
	struct sigpipe_state sp;
	struct timespec start, end;
	socklen_t salen;

	memset(res, 0, sizeof(*res));
	res->status = PROBE_PROTOCOL;
	res->step = PROBE_STEP_CONNECT;
	if (params_check(params, res) < 0)
		return -1;
	if (parse_addr(params->addr, params->port, &ss, &salen) < 0) {
		snprintf(res->detail, sizeof(res->detail), "address \"%.64s\" "
		    "is not an IPv4 or IPv6 literal", params->addr);
		return -1;
	}

	clock_gettime(CLOCK_MONOTONIC, &start);
	memset(&conn, 0, sizeof(conn));
	conn.params = params;
	conn.res = res;
	conn.fd = -1;
	conn.buf = xmalloc(PROBE_BUF_SIZE);
	sigpipe_block(&sp);

	probe_dialogue(&conn, (struct sockaddr *)&ss, salen);

	SSL_free(conn.ssl);
	if (conn.fd >= 0)
		close(conn.fd);
	ERR_clear_error();
	sigpipe_restore(&sp);
	free(conn.buf);
	clock_gettime(CLOCK_MONOTONIC, &end);
	res->elapsed_ms = probe_ms_between(&start, &end);
	return 0;
}
