/*
 * delayproxy - a TCP relay that holds every chunk of data for a fixed
 * time in each direction: a network round-trip time on loopback, for
 * the sweep benchmark (this machine's kernel has no netem qdisc).
 *
 *	delayproxy ONE-WAY-MS [udp:]LISTEN-ADDR:PORT=TARGET-ADDR:PORT ...
 *
 * TCP: each chunk read from one side is written to the other ONE-WAY-MS
 * after it arrived, whatever else is in flight (a queue per direction, so
 * a second TLS record is not held twice as long as the first). An end of
 * stream is passed on (shutdown) after the same delay. The connect to
 * the target happens at once (the handshake's own RTT is not simulated:
 * SMTP's first round trip is the banner, which is delayed).
 * UDP (udp: prefix, for DNS): every datagram, either way, is sent on
 * ONE-WAY-MS after it arrived; each client address gets a socket of its
 * own towards the target, so replies find their way back.
 * IPv4 only.
 *
 * Benchmark tool, not part of daneguard: it exits on any setup error and
 * drops a connection on any I/O error.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct chunk {
	struct chunk *next;
	struct timespec due;
	size_t len;		/* 0: end of stream */
	char data[];
};

struct dir {
	int from, to;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct chunk *head, **tail;
	struct conn *conn;
};

struct conn {
	struct dir d[2];
	pthread_mutex_t lock;
	int refs;		/* threads still running: 4 */
};

static long delay_ms;

static void
die(const char *what)
{
	perror(what);
	exit(2);
}

static void
due_in(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_nsec += (delay_ms % 1000) * 1000000L;
	ts->tv_sec += delay_ms / 1000 + ts->tv_nsec / 1000000000L;
	ts->tv_nsec %= 1000000000L;
}

static void
conn_unref(struct conn *c)
{
	int last;

	pthread_mutex_lock(&c->lock);
	last = --c->refs == 0;
	pthread_mutex_unlock(&c->lock);
	if (last) {
		close(c->d[0].from);
		close(c->d[1].from);
		free(c);
	}
}

static void
push(struct dir *d, const char *buf, size_t len)
{
	struct chunk *ch;

	if ((ch = malloc(sizeof(*ch) + len)) == NULL)
		die("malloc");
	due_in(&ch->due);
	ch->len = len;
	ch->next = NULL;
	memcpy(ch->data, buf, len);
	pthread_mutex_lock(&d->lock);
	*d->tail = ch;
	d->tail = &ch->next;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* Reader: timestamps what arrives. */
static void *
reader(void *arg)
{
	struct dir *d = arg;
	char buf[65536];
	ssize_t n;

	for (;;) {
		n = read(d->from, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		push(d, buf, (size_t)n);
	}
	push(d, buf, 0);
	conn_unref(d->conn);
	return NULL;
}

/* Writer: passes each chunk on when it is due. */
static void *
writer(void *arg)
{
	struct dir *d = arg;
	struct chunk *ch;
	size_t off;
	ssize_t n;
	int broken = 0;

	for (;;) {
		pthread_mutex_lock(&d->lock);
		while (d->head == NULL)
			pthread_cond_wait(&d->cond, &d->lock);
		ch = d->head;
		d->head = ch->next;
		if (d->head == NULL)
			d->tail = &d->head;
		pthread_mutex_unlock(&d->lock);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ch->due,
		    NULL) == EINTR)
			;
		if (ch->len == 0) {
			free(ch);
			shutdown(d->to, SHUT_WR);
			break;
		}
		for (off = 0; !broken && off < ch->len; off += (size_t)n) {
			n = write(d->to, ch->data + off, ch->len - off);
			if (n < 0 && errno == EINTR)
				n = 0;
			else if (n < 0) {
				broken = 1;
				/* Make the other side's reader end too. */
				shutdown(d->from, SHUT_RD);
			}
		}
		free(ch);
	}
	conn_unref(d->conn);
	return NULL;
}

/* ---------------------------------------------------------------- UDP */

#define UDP_CLIENTS	256

struct dgram {
	struct dgram *next;
	struct timespec due;
	int fd;			/* send on this socket ... */
	struct sockaddr_in to;	/* ... to this address (port 0: connected) */
	size_t len;
	char data[];
};

struct udppair {
	int lfd;
	struct sockaddr_in target;
};

static long
ms_until(const struct timespec *ts)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (ts->tv_sec - now.tv_sec) * 1000 +
	    (ts->tv_nsec - now.tv_nsec) / 1000000L;
	return ms < 0 ? 0 : ms;
}

/* One thread per UDP pair; the delay is constant, so a FIFO is in due
 * order. */
static void *
udp_relay(void *arg)
{
	struct udppair *u = arg;
	struct pollfd pfd[UDP_CLIENTS + 1];
	struct sockaddr_in client[UDP_CLIENTS], from;
	struct dgram *head = NULL, **tail = &head, *dg;
	char buf[65536];
	socklen_t fl;
	ssize_t n;
	int nc = 0, reuse = 0, i, timeout;

	pfd[0].fd = u->lfd;
	pfd[0].events = POLLIN;
	for (;;) {
		timeout = head == NULL ? -1 : (int)ms_until(&head->due);
		if (poll(pfd, (nfds_t)nc + 1, timeout) < 0 && errno != EINTR)
			die("poll");
		for (i = 0; i <= nc; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			fl = sizeof(from);
			n = recvfrom(pfd[i].fd, buf, sizeof(buf), 0,
			    (struct sockaddr *)&from, &fl);
			if (n < 0)
				continue;
			if ((dg = malloc(sizeof(*dg) + (size_t)n)) == NULL)
				die("malloc");
			due_in(&dg->due);
			dg->len = (size_t)n;
			memcpy(dg->data, buf, (size_t)n);
			dg->next = NULL;
			if (i > 0) {
				/* A reply: back to that client. */
				dg->fd = u->lfd;
				dg->to = client[i - 1];
			} else {
				int c;

				for (c = 0; c < nc; c++)
					if (client[c].sin_port == from.sin_port &&
					    client[c].sin_addr.s_addr ==
					    from.sin_addr.s_addr)
						break;
				if (c == nc) {
					/* A new client (resolvers use a new
					 * port per query): a socket of its
					 * own; when all are taken, the oldest
					 * one's goes. */
					if (nc < UDP_CLIENTS)
						nc++;
					else {
						c = reuse;
						reuse = (reuse + 1) % UDP_CLIENTS;
						close(pfd[c + 1].fd);
					}
					if ((pfd[c + 1].fd = socket(AF_INET,
					    SOCK_DGRAM, 0)) < 0 ||
					    connect(pfd[c + 1].fd,
					    (struct sockaddr *)&u->target,
					    sizeof(u->target)) < 0)
						die("udp socket");
					pfd[c + 1].events = POLLIN;
					client[c] = from;
				}
				dg->fd = pfd[c + 1].fd;
				memset(&dg->to, 0, sizeof(dg->to));
			}
			*tail = dg;
			tail = &dg->next;
		}
		while (head != NULL && ms_until(&head->due) == 0) {
			dg = head;
			if ((head = dg->next) == NULL)
				tail = &head;
			if (dg->to.sin_port == 0)
				(void)send(dg->fd, dg->data, dg->len, 0);
			else
				(void)sendto(dg->fd, dg->data, dg->len, 0,
				    (struct sockaddr *)&dg->to,
				    sizeof(dg->to));
			free(dg);
		}
	}
	return NULL;
}

static int
parse_addr(const char *s, struct sockaddr_in *sin)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((unsigned short)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

static void
spawn(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	pthread_attr_t a;

	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 * 1024);
	if (pthread_create(&t, &a, fn, arg) != 0)
		die("pthread_create");
	pthread_attr_destroy(&a);
}

static void
relay(int client, const struct sockaddr_in *target)
{
	struct conn *c;
	int server, one = 1, i;

	if ((server = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die("socket");
	if (connect(server, (const struct sockaddr *)target,
	    sizeof(*target)) < 0) {
		close(server);
		close(client);
		return;
	}
	setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((c = calloc(1, sizeof(*c))) == NULL)
		die("calloc");
	pthread_mutex_init(&c->lock, NULL);
	c->refs = 4;
	c->d[0].from = client;
	c->d[0].to = server;
	c->d[1].from = server;
	c->d[1].to = client;
	for (i = 0; i < 2; i++) {
		pthread_mutex_init(&c->d[i].lock, NULL);
		pthread_cond_init(&c->d[i].cond, NULL);
		c->d[i].tail = &c->d[i].head;
		c->d[i].conn = c;
	}
	for (i = 0; i < 2; i++) {
		spawn(writer, &c->d[i]);
		spawn(reader, &c->d[i]);
	}
}

int
main(int argc, char **argv)
{
	struct pollfd *pfd;
	struct sockaddr_in *target, la;
	int i, n, one = 1;
	char *eq;

	if (argc < 3) {
		fprintf(stderr, "usage: delayproxy ONE-WAY-MS "
		    "[udp:]LISTEN-ADDR:PORT=TARGET-ADDR:PORT ...\n");
		return 2;
	}
	delay_ms = atol(argv[1]);
	n = argc - 2;
	signal(SIGPIPE, SIG_IGN);
	if ((pfd = calloc((size_t)n, sizeof(*pfd))) == NULL ||
	    (target = calloc((size_t)n, sizeof(*target))) == NULL)
		die("calloc");
	for (i = 0; i < n; i++) {
		if ((eq = strchr(argv[i + 2], '=')) == NULL)
			goto usage;
		*eq = '\0';
		if (strncmp(argv[i + 2], "udp:", 4) == 0) {
			struct udppair *u;

			if ((u = calloc(1, sizeof(*u))) == NULL)
				die("calloc");
			if (parse_addr(argv[i + 2] + 4, &la) < 0 ||
			    parse_addr(eq + 1, &u->target) < 0)
				goto usage;
			if ((u->lfd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
				die("socket");
			if (bind(u->lfd, (struct sockaddr *)&la,
			    sizeof(la)) < 0)
				die(argv[i + 2]);
			spawn(udp_relay, u);
			pfd[i].fd = -1;	/* poll ignores it */
			continue;
		}
		if (parse_addr(argv[i + 2], &la) < 0 ||
		    parse_addr(eq + 1, &target[i]) < 0)
			goto usage;
		if ((pfd[i].fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
			die("socket");
		setsockopt(pfd[i].fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		if (bind(pfd[i].fd, (struct sockaddr *)&la, sizeof(la)) < 0)
			die(argv[i + 2]);
		if (listen(pfd[i].fd, 128) < 0)
			die("listen");
		pfd[i].events = POLLIN;
	}
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		for (i = 0; i < n; i++) {
			int fd;

			if (!(pfd[i].revents & POLLIN))
				continue;
			if ((fd = accept(pfd[i].fd, NULL, NULL)) >= 0)
				relay(fd, &target[i]);
		}
	}
usage:
	fprintf(stderr, "delayproxy: bad address pair '%s'\n", argv[i + 2]);
	return 2;
}
