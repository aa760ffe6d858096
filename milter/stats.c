/*
 * stats - see stats.h.
 *
 * One mutex guards everything here: the listener table, the plaintext
 * queue and the probes' HELO name. The critical sections are a few
 * string compares and copies, so a milter worker never waits long.
 * A session whose listener the MTA did not name is counted under
 * addr "" and port 0, so the totals stay complete.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "stats.h"
#include "xalloc.h"

/* Enough for every listener a real MTA has; more is a broken MTA. */
#define STATS_LISTENERS_MAX	1024
/* Plaintext sessions waiting for the guard; more are dropped (newest). */
#define STATS_QUEUE_MAX		256
#define STATS_HELO_MAX		256

static pthread_once_t stats_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stats_queued;

static char stats_probe_helo[STATS_HELO_MAX];
static unsigned long stats_nconnects;	/* atomic, no lock */

static struct stats_listener *stats_listeners;
static size_t stats_nlisteners, stats_alisteners;

/* Ring buffer: stats_qhead is the oldest, stats_qlen entries follow. */
static struct stats_plaintext stats_queue[STATS_QUEUE_MAX];
static size_t stats_qhead, stats_qlen;

/* The condition variable waits on the monotonic clock: a clock step
 * must neither stretch nor cut the guard's wait. */
static void
stats_setup(void)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&stats_queued, &attr);
	pthread_condattr_destroy(&attr);
}

void
stats_connect(void)
{
	__atomic_add_fetch(&stats_nconnects, 1, __ATOMIC_RELAXED);
}

unsigned long
stats_connections(void)
{
	return __atomic_load_n(&stats_nconnects, __ATOMIC_RELAXED);
}

void
stats_init(const char *probe_helo)
{
	pthread_once(&stats_once, stats_setup);
	pthread_mutex_lock(&stats_lock);
	if (probe_helo == NULL)
		stats_probe_helo[0] = '\0';
	else
		snprintf(stats_probe_helo, sizeof(stats_probe_helo), "%s",
		    probe_helo);
	pthread_mutex_unlock(&stats_lock);
}

int
stats_normalise_addr(const char *in, char *buf, size_t len)
{
	char tmp[STATS_ADDR_MAX];
	const char *p = in;
	size_t n;
	struct in_addr a4;
	struct in6_addr a6;

	if (in == NULL || buf == NULL || len == 0)
		return -1;
	/* "[192.0.2.1]" and "[IPv6:2001:db8::1]" (sendmail's client_name) */
	n = strlen(p);
	if (n >= 2 && p[0] == '[' && p[n - 1] == ']') {
		p++;
		n -= 2;
	}
	/* Postfix {client_addr} "IPv6:::1", sendmail "IPv6:0:0:0:0:0:0:0:1" */
	if (n >= 5 && strncasecmp(p, "IPv6:", 5) == 0) {
		p += 5;
		n -= 5;
	}
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';

	if (inet_pton(AF_INET, tmp, &a4) == 1)
		return inet_ntop(AF_INET, &a4, buf, len) != NULL ? 0 : -1;
	if (inet_pton(AF_INET6, tmp, &a6) != 1)
		return -1;
	/* A v4-mapped listener or client is the IPv4 one it stands for. */
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
		return inet_ntop(AF_INET, &a4, buf, len) != NULL ? 0 : -1;
	}
	return inet_ntop(AF_INET6, &a6, buf, len) != NULL ? 0 : -1;
}

/* "25" -> 25; anything else (NULL, "", "x", "70000") -> 0, unknown. */
static unsigned
stats_parse_port(const char *s)
{
	unsigned long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > 65535)
		return 0;
	return (unsigned)v;
}

/* {tls_version} as OpenSSL's SSL_get_version() spells it (both MTAs). */
static enum stats_tls
stats_parse_tls(const char *v)
{
	if (strcmp(v, "TLSv1.3") == 0)
		return STATS_TLS_1_3;
	if (strcmp(v, "TLSv1.2") == 0)
		return STATS_TLS_1_2;
	if (strcmp(v, "TLSv1.1") == 0)
		return STATS_TLS_1_1;
	if (strcmp(v, "TLSv1") == 0 || strcmp(v, "TLSv1.0") == 0)
		return STATS_TLS_1_0;
	return STATS_TLS_OTHER;
}

/* Called with stats_lock held. NULL only when the table is full. */
static struct stats_listener *
stats_listener_get(const char *addr, unsigned port)
{
	struct stats_listener *l;
	size_t i;

	for (i = 0; i < stats_nlisteners; i++) {
		l = &stats_listeners[i];
		if (l->port == port && strcmp(l->addr, addr) == 0)
			return l;
	}
	if (stats_nlisteners == STATS_LISTENERS_MAX)
		return NULL;
	if (stats_nlisteners == stats_alisteners) {
		stats_alisteners = stats_alisteners ? 2 * stats_alisteners : 8;
		stats_listeners = xreallocarray(stats_listeners,
		    stats_alisteners, sizeof(*stats_listeners));
	}
	l = &stats_listeners[stats_nlisteners++];
	memset(l, 0, sizeof(*l));
	snprintf(l->addr, sizeof(l->addr), "%s", addr);
	l->port = port;
	return l;
}

/* Called with stats_lock held. */
static void
stats_queue_push(const char *listener, unsigned port, const char *client)
{
	struct stats_plaintext *q;
	size_t i;

	for (i = 0; i < stats_qlen; i++) {
		q = &stats_queue[(stats_qhead + i) % STATS_QUEUE_MAX];
		if (q->port == port && strcmp(q->listener, listener) == 0 &&
		    strcmp(q->client, client) == 0)
			return;		/* already waiting for the guard */
	}
	if (stats_qlen == STATS_QUEUE_MAX)
		return;
	q = &stats_queue[(stats_qhead + stats_qlen) % STATS_QUEUE_MAX];
	snprintf(q->listener, sizeof(q->listener), "%s", listener);
	q->port = port;
	snprintf(q->client, sizeof(q->client), "%s", client);
	stats_qlen++;
	pthread_cond_signal(&stats_queued);
}

/*
 * sendmail sets {daemon_flags} from the M= modifiers of DaemonPortOptions,
 * separated by blanks, upper-case letters doubled (op.me: M=Ea gives
 * "EE a"). S is "no STARTTLS"; lower-case s is SMTP over TLS (SMTPS),
 * which is not it.
 */
int
stats_daemon_no_starttls(const char *daemon_flags)
{
	return daemon_flags != NULL && strchr(daemon_flags, 'S') != NULL;
}

void
stats_session(const char *daemon_addr, const char *daemon_port,
    const char *client_addr, const char *helo, const char *tls_version)
{
	struct stats_session_info si;

	memset(&si, 0, sizeof(si));
	si.daemon_addr = daemon_addr;
	si.daemon_port = daemon_port;
	si.client_addr = client_addr;
	si.helo = helo;
	si.tls_version = tls_version;
	stats_count_session(&si);
}

void
stats_count_session(const struct stats_session_info *si)
{
	const char *daemon_addr = si->daemon_addr;
	const char *daemon_port = si->daemon_port;
	const char *client_addr = si->client_addr;
	const char *helo = si->helo;
	const char *tls_version = si->tls_version;
	char addr[STATS_ADDR_MAX], client[STATS_ADDR_MAX];
	struct stats_listener *l;
	unsigned port;
	int tls, no_starttls;

	pthread_once(&stats_once, stats_setup);
	if (daemon_addr == NULL ||
	    stats_normalise_addr(daemon_addr, addr, sizeof(addr)) < 0)
		addr[0] = '\0';
	if (client_addr == NULL ||
	    stats_normalise_addr(client_addr, client, sizeof(client)) < 0)
		client[0] = '\0';
	port = stats_parse_port(daemon_port);
	tls = tls_version != NULL && *tls_version != '\0';
	no_starttls = stats_daemon_no_starttls(si->daemon_flags);

	pthread_mutex_lock(&stats_lock);
	/* HELO names are case-insensitive (RFC 5321, 2.4). */
	if (helo != NULL && stats_probe_helo[0] != '\0' &&
	    strcasecmp(helo, stats_probe_helo) == 0) {
		pthread_mutex_unlock(&stats_lock);
		return;
	}
	if ((l = stats_listener_get(addr, port)) != NULL) {
		l->sessions++;
		if (tls) {
			l->tls++;
			l->versions[stats_parse_tls(tls_version)]++;
		} else
			l->plaintext++;
		if (no_starttls)
			l->no_starttls++;
		l->no_starttls_latest = no_starttls;
		if (si->daemon_name != NULL && *si->daemon_name != '\0')
			snprintf(l->name, sizeof(l->name), "%s",
			    si->daemon_name);
	}
	/* Without a client or a listener there is nobody to impersonate. */
	if (!tls && client[0] != '\0' && addr[0] != '\0' && port != 0)
		stats_queue_push(addr, port, client);
	pthread_mutex_unlock(&stats_lock);
}

size_t
stats_snapshot(struct stats_listener **out)
{
	size_t n;

	pthread_mutex_lock(&stats_lock);
	n = stats_nlisteners;
	*out = n ? xreallocarray(NULL, n, sizeof(**out)) : NULL;
	if (n)
		memcpy(*out, stats_listeners, n * sizeof(**out));
	pthread_mutex_unlock(&stats_lock);
	return n;
}

int
stats_take_plaintext(struct stats_plaintext *out)
{
	int taken = 0;

	pthread_mutex_lock(&stats_lock);
	if (stats_qlen > 0) {
		*out = stats_queue[stats_qhead];
		stats_qhead = (stats_qhead + 1) % STATS_QUEUE_MAX;
		stats_qlen--;
		taken = 1;
	}
	pthread_mutex_unlock(&stats_lock);
	return taken;
}

void
stats_wait_plaintext(int timeout_ms)
{
	struct timespec deadline;

	pthread_once(&stats_once, stats_setup);
	if (timeout_ms < 0)
		timeout_ms = 0;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&stats_lock);
	while (stats_qlen == 0) {
		if (pthread_cond_timedwait(&stats_queued, &stats_lock,
		    &deadline) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&stats_lock);
}
