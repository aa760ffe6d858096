/*
 * probe - one SMTP STARTTLS probe of one listener with one algorithm.
 *
 * connect, banner, EHLO, optionally XCLIENT (impersonate a client, then
 * EHLO again), STARTTLS, a complete TLS handshake with the server's
 * certificate algorithm forced (TLS 1.3 signature algorithms and TLS 1.2
 * cipher suites), the served chain captured, QUIT. Every step runs under
 * the timeout on a non-blocking socket, so a dead, slow or hostile server
 * ends in a clear status, never a hang. TLS versions below 1.2 are
 * allowed in the handshake so that they can be reported (check G2), not
 * mistaken for "no TLS". The ClientHello carries SNI when the caller
 * names the TLSA base domain (RFC 7672 section 8.1: DANE senders send it,
 * and a server may choose its chain by it). Matching the chain against TLSA records is not
 * done here but by match_chain (lib/match.h), so one probe can be held
 * against several record sets (configuration, zone file, DNS).
 * Thread-safe: the guard runs probes in parallel.
 */
#ifndef DG_PROBE_H
#define DG_PROBE_H

#include <openssl/x509.h>

enum probe_step {
	PROBE_STEP_CONNECT,
	PROBE_STEP_BANNER,
	PROBE_STEP_EHLO,
	PROBE_STEP_XCLIENT,
	PROBE_STEP_STARTTLS,
	PROBE_STEP_HANDSHAKE,
	PROBE_STEP_QUIT,
	PROBE_STEP_DONE
};

enum probe_status {
	PROBE_OK,		/* handshake at TLS >= 1.2, chain captured */
	PROBE_UNREACHABLE,	/* connection refused, no route, reset */
	PROBE_TIMEOUT,		/* a step took longer than the timeout */
	PROBE_PROTOCOL,		/* bad reply, 4xx/5xx banner or EHLO, closed */
	PROBE_NO_STARTTLS,	/* EHLO did not advertise STARTTLS (G1) */
	PROBE_STARTTLS_REFUSED,	/* STARTTLS answered 4xx/5xx (G1) */
	PROBE_NO_XCLIENT,	/* XCLIENT not offered or refused */
	PROBE_TLS_FAILED,	/* no handshake, e.g. the algorithm is not served (G2) */
	PROBE_TLS_OLD		/* handshake only at TLS 1.0/1.1 (G2) */
};

struct probe_params {
	const char *addr;	/* IPv4 or IPv6 literal */
	unsigned port;
	const char *helo;	/* our EHLO name; the milter recognises probes by it */
	const char *alg;	/* "rsa", "ecdsa", "ed25519", "ed448", or
				 * "ed25519+ed448" (either: res->alg says
				 * which); NULL: no forcing */
	const char *xclient;	/* client address to impersonate, or NULL */
	const char *sni;	/* TLS SNI: the TLSA base domain, or NULL: none */
	int timeout_ms;		/* per step */
};

struct probe_result {
	enum probe_status status;
	enum probe_step step;		/* the step it ended in */
	char detail[256];		/* e.g. "STARTTLS answered 454 4.7.0 TLS not available" */
	int starttls;			/* STARTTLS was advertised */
	int tls_version;		/* e.g. TLS1_3_VERSION; 0 without handshake */
	char version[16];		/* "TLSv1.3" or "" */
	char cipher[64];		/* negotiated cipher or "" */
	char alg[32];			/* algorithm of the served leaf ("rsa-2048"), or "" */
	STACK_OF(X509) *chain;		/* served chain, leaf first, owned; NULL without handshake */
	long elapsed_ms;
};

/*
 * Run one probe. Always fills res (status and detail say what happened)
 * and returns 0; -1 only for bad parameters (res->detail says which).
 * The caller clears res with probe_result_clear.
 * res->step is where it ended: PROBE_STEP_DONE on success; a missing
 * STARTTLS is found at PROBE_STEP_EHLO; PROBE_TLS_OLD and a wrong
 * algorithm end at PROBE_STEP_HANDSHAKE with the chain captured. Each
 * step has its own timeout_ms deadline (QUIT at most 500 ms), so a probe
 * takes at most about 7 x timeout_ms. SIGPIPE is blocked in the calling
 * thread while it runs (and one it raised is discarded).
 */
int probe_run(const struct probe_params *params, struct probe_result *res);

void probe_result_clear(struct probe_result *res);

/* "ok", "unreachable", "timeout", ... */
const char *probe_status_name(enum probe_status status);
/* "connect", "banner", "ehlo", ... */
const char *probe_step_name(enum probe_step step);

#endif
