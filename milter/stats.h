/*
 * stats - what the milter callbacks saw, per listener; the one place the
 * callbacks and the guard thread share.
 *
 * The callbacks only call stats_session (a mutex-protected counter update
 * and, for a plaintext session, a bounded queue push): no I/O, no
 * blocking beyond a short critical section. The guard reads snapshots and
 * drains the plaintext queue (check G6).
 */
#ifndef DG_STATS_H
#define DG_STATS_H

#include <stddef.h>

#define STATS_ADDR_MAX	64	/* an IPv6 literal with room to spare */
#define STATS_NAME_MAX	32	/* a sendmail daemon name (Name=MTA-v6) */

enum stats_tls {
	STATS_TLS_1_0, STATS_TLS_1_1, STATS_TLS_1_2, STATS_TLS_1_3,
	STATS_TLS_OTHER, STATS_TLS_N
};

/* Counters of one listener (daemon address and port). */
struct stats_listener {
	char addr[STATS_ADDR_MAX];	/* normalised: "127.0.0.1", "::1" */
	unsigned port;
	unsigned long sessions;		/* sessions that reached MAIL FROM */
	unsigned long tls;		/* of which with TLS */
	unsigned long plaintext;	/* of which without */
	unsigned long versions[STATS_TLS_N];
	/*
	 * sendmail: sessions on a daemon whose {daemon_flags} carry S
	 * (DaemonPortOptions M=S: no STARTTLS for anyone on it), and the
	 * daemon's {daemon_name} as last seen ("" when the MTA sent none).
	 */
	unsigned long no_starttls;
	int no_starttls_latest;		/* 1: the latest session had S */
	char name[STATS_NAME_MAX];
};

/* A plaintext session, for the guard to re-probe as that client (G6). */
struct stats_plaintext {
	char listener[STATS_ADDR_MAX];
	unsigned port;
	char client[STATS_ADDR_MAX];	/* normalised client address */
};

/*
 * A milter connection began (xxfi_connect, the guard's own probes
 * included): proof that the MTA's milter setting reaches this socket.
 * An atomic increment; never blocks.
 */
void stats_connect(void);

/* How many milter connections began since the process started. */
unsigned long stats_connections(void);

/* Before the milter starts: the EHLO name the guard's probes use. */
void stats_init(const char *probe_helo);

/*
 * One session seen at MAIL FROM. Addresses as the MTA gives them
 * (Postfix "IPv6:::1" or "::1", sendmail "IPv6:0:0:0:0:0:0:0:1"; NULL if
 * unknown) are normalised here. tls_version is the {tls_version} macro
 * or NULL for plaintext. A session whose HELO name is the probes' is not
 * counted. Never blocks beyond a mutex.
 */
void stats_session(const char *daemon_addr, const char *daemon_port,
    const char *client_addr, const char *helo, const char *tls_version);

/*
 * One session as the macros described it; NULL for what the MTA did not
 * send. The first five are stats_session's; daemon_name and daemon_flags
 * are sendmail's {daemon_name} and {daemon_flags}.
 */
struct stats_session_info {
	const char *daemon_addr;
	const char *daemon_port;
	const char *client_addr;
	const char *helo;
	const char *tls_version;
	const char *daemon_name;
	const char *daemon_flags;
};

/*
 * stats_session with sendmail's daemon macros: a {daemon_flags} with the
 * S modifier counts the session in no_starttls too (see
 * stats_daemon_no_starttls). Never blocks beyond a mutex.
 */
void stats_count_session(const struct stats_session_info *si);

/* 1 when sendmail {daemon_flags} carry S (STARTTLS off), else 0. */
int stats_daemon_no_starttls(const char *daemon_flags);

/* Normalise an MTA address into buf (at least STATS_ADDR_MAX). 0 or -1. */
int stats_normalise_addr(const char *in, char *buf, size_t len);

/* A copy of every listener's counters; *out is malloc'd, count returned. */
size_t stats_snapshot(struct stats_listener **out);

/*
 * Take the oldest queued plaintext session (deduplicated by listener and
 * client; the queue is bounded and drops the newest when full). 1 when
 * one was taken, 0 when the queue is empty.
 */
int stats_take_plaintext(struct stats_plaintext *out);

/* Wait up to timeout_ms for a plaintext session to be queued. */
void stats_wait_plaintext(int timeout_ms);

#endif
