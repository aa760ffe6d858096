/*
 * probe_conn - private to the probe: one connection's state, its step
 * deadlines, and SMTP/TLS I/O on the non-blocking socket under them.
 */
#ifndef DG_PROBE_CONN_H
#define DG_PROBE_CONN_H

#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>

#include "probe.h"
#include "smtp_reply.h"

/* Longest reply the parser can accept: it decides before this fills. */
#define PROBE_BUF_SIZE	(SMTP_REPLY_LINES_MAX * SMTP_REPLY_LINE_MAX)
/* Server text quoted in a detail. */
#define PROBE_QUOTE_MAX	120

struct probe_conn {
	const struct probe_params *params;
	struct probe_result *res;
	int fd;
	SSL *ssl;
	struct timespec deadline;
	char *buf;		/* received, not yet parsed */
	size_t len;
	int sane;		/* the SMTP dialogue is in step: QUIT makes sense */
};

/* Milliseconds from from to to. */
long probe_ms_between(const struct timespec *from, const struct timespec *to);

/* Enter step: it gets ms milliseconds from now. */
void probe_step_begin(struct probe_conn *c, enum probe_step step, int ms);

/* Set the result's status and one-line detail (first one set wins). */
void probe_set_status(struct probe_conn *c, enum probe_status status,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The reply's summary, cut for a detail line. */
void probe_quote_reply(char *dst, size_t len, const struct smtp_reply *reply);

/*
 * Why the TLS handshake failed, in one line: OpenSSL's reason (the last
 * queued error, usually the outermost) or the socket's errno. The queue
 * is always drained so nothing leaks into the next probe on this thread.
 */
void probe_ssl_reason(char *dst, size_t len, int sslerr, int saved_errno);

/*
 * Wait until fd is ready for events or the step's deadline passes.
 * Returns 1 ready, 0 timeout, -1 poll error (errno set).
 */
int probe_wait_fd(struct probe_conn *c, short events);

/* The status a socket errno means (refused, reset, ...). */
enum probe_status probe_errno_status(int e);

/*
 * Read one complete reply into reply. Returns 0, or -1 with the status
 * set (PROBE_TIMEOUT, PROBE_PROTOCOL for a bad reply or a closed
 * connection, PROBE_UNREACHABLE for a reset).
 */
int probe_conn_read_reply(struct probe_conn *c, struct smtp_reply *reply);

/*
 * Send cmd (without CRLF; NULL to only read) and read the reply.
 * 0 or -1 as probe_conn_read_reply.
 */
int probe_conn_command(struct probe_conn *c, const char *cmd,
    struct smtp_reply *reply);

#endif
