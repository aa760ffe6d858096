/*
 * probe_conn - see probe_conn.h: deadlines and I/O of one probe
 * connection. Every wait is a poll() bounded by what is left of the
 * current step's deadline.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "probe.h"
#include "probe_conn.h"
#include "smtp_reply.h"
#include "xalloc.h"

/* ------------------------------------------------------------ time */

long
probe_ms_between(const struct timespec *from, const struct timespec *to)
{
	return (long)(to->tv_sec - from->tv_sec) * 1000 +
	    (to->tv_nsec - from->tv_nsec) / 1000000;
}

void
probe_step_begin(struct probe_conn *c, enum probe_step step, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, &c->deadline);
	c->deadline.tv_sec += ms / 1000;
	c->deadline.tv_nsec += (long)(ms % 1000) * 1000000;
	if (c->deadline.tv_nsec >= 1000000000) {
		c->deadline.tv_sec++;
		c->deadline.tv_nsec -= 1000000000;
	}
	c->res->step = step;
}

/* Milliseconds left in this step (rounded up), 0 when it is over. */
static int
probe_ms_left(const struct probe_conn *c)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = probe_ms_between(&now, &c->deadline);
	if (ms <= 0 && (now.tv_sec < c->deadline.tv_sec ||
	    (now.tv_sec == c->deadline.tv_sec &&
	    now.tv_nsec < c->deadline.tv_nsec)))
		ms = 1;
	return ms < 0 ? 0 : (int)ms;
}

/* ------------------------------------------------------------ results */

void
probe_set_status(struct probe_conn *c, enum probe_status status,
    const char *fmt, ...)
{
	va_list ap;

	c->res->status = status;
	va_start(ap, fmt);
	vsnprintf(c->res->detail, sizeof(c->res->detail), fmt, ap);
	va_end(ap);
}

/* Step name for details: "EHLO", "STARTTLS", ... */
static const char *
probe_step_label(const struct probe_conn *c)
{
	switch (c->res->step) {
	case PROBE_STEP_CONNECT:	return "connect";
	case PROBE_STEP_BANNER:		return "banner";
	case PROBE_STEP_EHLO:		return "EHLO";
	case PROBE_STEP_XCLIENT:	return "XCLIENT";
	case PROBE_STEP_STARTTLS:	return "STARTTLS";
	case PROBE_STEP_HANDSHAKE:	return "TLS handshake";
	case PROBE_STEP_QUIT:		return "QUIT";
	case PROBE_STEP_DONE:		return "done";
	}
	return "?";
}

/* The reply's summary, cut for a detail line. */
void
probe_quote_reply(char *dst, size_t len, const struct smtp_reply *reply)
{
	char *s = smtp_reply_summary(reply);

	if (strlen(s) >= len && len > 4) {
		s[len - 4] = '\0';
		snprintf(dst, len, "%s...", s);
	} else
		snprintf(dst, len, "%s", s);
	free(s);
}

/*
 * Why the TLS handshake failed, in one line: OpenSSL's reason (the last
 * queued error, usually the outermost) or the socket's errno. The queue
 * is always drained so nothing leaks into the next probe on this thread.
 */
void
probe_ssl_reason(char *dst, size_t len, int sslerr, int saved_errno)
{
	unsigned long code, last = 0;
	const char *reason;

	while ((code = ERR_get_error()) != 0)
		last = code;
	if (last != 0 && (reason = ERR_reason_error_string(last)) != NULL)
		snprintf(dst, len, "%s", reason);
	else if (last != 0)
		snprintf(dst, len, "OpenSSL error %lx", last);
	else if (sslerr == SSL_ERROR_SYSCALL && saved_errno != 0)
		snprintf(dst, len, "%s", strerror(saved_errno));
	else if (sslerr == SSL_ERROR_SYSCALL || sslerr == SSL_ERROR_ZERO_RETURN)
		snprintf(dst, len, "connection closed by server");
	else
		snprintf(dst, len, "SSL error %d", sslerr);
}

/* ------------------------------------------------------------ I/O */

/*
 * Wait until fd is ready for events or the step's deadline passes.
 * Returns 1 ready, 0 timeout, -1 poll error (errno set).
 */
int
probe_wait_fd(struct probe_conn *c, short events)
{
	struct pollfd pfd;
	int left, n;

	for (;;) {
		if ((left = probe_ms_left(c)) == 0)
			return 0;
		pfd.fd = c->fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left);
		if (n > 0)
			return 1;
		if (n == 0)
			continue;	/* ms_left decides, not poll's rounding */
		if (errno != EINTR)
			return -1;
	}
}

enum probe_status
probe_errno_status(int e)
{
	switch (e) {
	case ECONNREFUSED:
	case ECONNRESET:
	case ECONNABORTED:
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
	case EHOSTDOWN:
	case EADDRNOTAVAIL:
	case EPIPE:
		return PROBE_UNREACHABLE;
	case ETIMEDOUT:
		return PROBE_TIMEOUT;
	default:
		return PROBE_PROTOCOL;
	}
}

static void
probe_timeout_status(struct probe_conn *c, const char *what)
{
	probe_set_status(c, PROBE_TIMEOUT, "%s: no %s within %d ms",
	    probe_step_label(c), what, c->params->timeout_ms);
}

/*
 * After an SSL_read or SSL_write that returned n <= 0: wait for what
 * OpenSSL wants (1 ready, 0 timeout, -1 poll error, as probe_wait_fd),
 * or -2 with the status set when the TLS connection failed.
 */
static int
ssl_wait(struct probe_conn *c, int n, int saved_errno, const char *what)
{
	char why[128];
	int r = SSL_get_error(c->ssl, n);

	if (r == SSL_ERROR_WANT_READ)
		return probe_wait_fd(c, POLLIN);
	if (r == SSL_ERROR_WANT_WRITE)
		return probe_wait_fd(c, POLLOUT);
	probe_ssl_reason(why, sizeof(why), r, saved_errno);
	probe_set_status(c, PROBE_PROTOCOL, "%s: TLS %s: %s",
	    probe_step_label(c), what, why);
	return -2;
}

/* Send all of s, in plaintext or over TLS. 0, or -1 with the status set. */
static int
probe_conn_write(struct probe_conn *c, const char *s)
{
	size_t len = strlen(s), off = 0;
	ssize_t n;
	int r, e;

	while (off < len) {
		if (c->ssl == NULL) {
			n = send(c->fd, s + off, len - off, MSG_NOSIGNAL);
			if (n >= 0) {
				off += (size_t)n;
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				e = errno;
				probe_set_status(c, probe_errno_status(e), "%s: send: %s",
				    probe_step_label(c), strerror(e));
				return -1;
			}
			r = probe_wait_fd(c, POLLOUT);
		} else {
			ERR_clear_error();
			errno = 0;
			n = SSL_write(c->ssl, s + off, (int)(len - off));
			if (n > 0) {
				off += (size_t)n;
				continue;
			}
			if ((r = ssl_wait(c, (int)n, errno, "write")) == -2)
				return -1;
		}
		if (r == 0) {
			probe_timeout_status(c, "room to send");
			return -1;
		}
		if (r < 0) {
			e = errno;
			probe_set_status(c, PROBE_PROTOCOL, "%s: poll: %s",
			    probe_step_label(c), strerror(e));
			return -1;
		}
	}
	return 0;
}

/*
 * Read one complete reply into reply. Returns 0, or -1 with the status
 * set (PROBE_TIMEOUT, PROBE_PROTOCOL for a bad reply or a closed
 * connection, PROBE_UNREACHABLE for a reset).
 */
int
probe_conn_read_reply(struct probe_conn *c, struct smtp_reply *reply)
{
	struct errbuf err;
	size_t used;
	ssize_t n;
	int r, e;

	for (;;) {
		r = smtp_reply_parse(c->buf, c->len, &used, reply, &err);
		if (r == 1) {
			memmove(c->buf, c->buf + used, c->len - used);
			c->len -= used;
			return 0;
		}
		if (r < 0) {
			c->sane = 0;
			probe_set_status(c, PROBE_PROTOCOL, "%s: bad reply: %s",
			    probe_step_label(c), err.msg);
			return -1;
		}
		/* The parser decides before the buffer fills (smtp_reply.c). */
		if (c->len >= PROBE_BUF_SIZE) {
			c->sane = 0;
			probe_set_status(c, PROBE_PROTOCOL, "%s: reply too long",
			    probe_step_label(c));
			return -1;
		}
		if (c->ssl == NULL) {
			n = recv(c->fd, c->buf + c->len, PROBE_BUF_SIZE - c->len,
			    0);
			if (n > 0) {
				c->len += (size_t)n;
				continue;
			}
			if (n == 0) {
				c->sane = 0;
				probe_set_status(c, PROBE_PROTOCOL,
				    "%s: connection closed by server%s",
				    probe_step_label(c), c->len ? " in mid-reply" : "");
				return -1;
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				e = errno;
				c->sane = 0;
				probe_set_status(c, probe_errno_status(e), "%s: recv: %s",
				    probe_step_label(c), strerror(e));
				return -1;
			}
			r = probe_wait_fd(c, POLLIN);
		} else {
			ERR_clear_error();
			errno = 0;
			n = SSL_read(c->ssl, c->buf + c->len,
			    (int)(PROBE_BUF_SIZE - c->len));
			if (n > 0) {
				c->len += (size_t)n;
				continue;
			}
			if ((r = ssl_wait(c, (int)n, errno, "read")) == -2) {
				c->sane = 0;
				return -1;
			}
		}
		if (r == 0) {
			c->sane = 0;
			probe_timeout_status(c, c->len ? "complete reply" : "reply");
			return -1;
		}
		if (r < 0) {
			e = errno;
			c->sane = 0;
			probe_set_status(c, PROBE_PROTOCOL, "%s: poll: %s",
			    probe_step_label(c), strerror(e));
			return -1;
		}
	}
}

/*
 * Send cmd (without CRLF; NULL to only read) and read the reply.
 * 0 or -1 as conn_read_reply.
 */
int
probe_conn_command(struct probe_conn *c, const char *cmd,
    struct smtp_reply *reply)
{
	char *line;
	int r;

	if (cmd != NULL) {
		line = xasprintf("%s\r\n", cmd);
		r = probe_conn_write(c, line);
		free(line);
		if (r < 0) {
			c->sane = 0;
			return -1;
		}
	}
	return probe_conn_read_reply(c, reply);
}
