/*
 * guard - the background thread: when to sweep, the states of the checks
 * and their "since" times, logging of changes, G6 follow-ups, reports.
 * See guard.h for the contracts; checks.c evaluates a sweep, report.c
 * writes it.
 *
 * One thread does everything but the probes themselves (checks.c runs
 * those in a pool), so the states need no lock: the mutex only guards
 * what other threads hand in (a new configuration, stop). It wakes every
 * GUARD_TICK_MS to poll the watched files and the plaintext queue; that
 * bounds the latency of a file change or SIGUSR2 well under the 2 s the
 * design promises, without inotify's corner cases (files replaced by
 * rename, directories that do not exist yet).
 *
 * DNS answers (dnscache.h) are kept for their TTL. At a tick, when one has
 * expired, the guard looks the expired ones up again and sweeps at once if
 * an answer changed (records republished, a zone gone bogus); the sweep
 * itself then finds nothing due. So a TLSA change is seen within its TTL
 * plus a tick, not only at the next probe_interval, and a working zone is
 * not queried at every sweep.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/rand.h>

#include "checks.h"
#include "checks_g8.h"
#include "conf.h"
#include "dnscache.h"
#include "duration.h"
#include "errbuf.h"
#include "g6sendmail.h"
#include "guard.h"
#include "intake.h"
#include "log.h"
#include "report.h"
#include "stats.h"
#include "tlsa.h"
#include "xalloc.h"

#define GUARD_TICK_MS		500
/* A file change is acted on once the files are quiet for one tick, but
 * never later than this after the first change (a deploy may take a few
 * writes: chain, then key). */
#define GUARD_SETTLE_MS		1200
/* G6: one probe per listener and client per minute; at most this many
 * (listener, client) pairs remembered and re-probed at every sweep. */
#define GUARD_G6_INTERVAL	60
#define GUARD_G6_MAX		64
/* TLS-RPT spool: at most this many reports taken in between two looks at
 * the rest (plaintext, files, sweeps); after a store failure, the next
 * try this many ms later. */
#define GUARD_SPOOL_BATCH	200
#define GUARD_SPOOL_RETRY_MS	60000

/* What stat() says about a watched file; all zero when it is missing. */
struct watch {
	char *path;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	int exists;
};

struct g6_entry {
	struct checks_g6_target t;
	time_t last;		/* last probe, duration_clock() */
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t tid;
	int running;
	int stop;
	int go;			/* guard_release: privileges are dropped */
	struct conf *conf;		/* owned, used by the thread only */
	struct conf *pending;		/* owned, handed in by guard_reload */
	char helo[64];
	struct checks_keep *keep;
	struct dnscache *dns;		/* for guard.conf */
	struct report cur;		/* states after the last sweep */
	struct watch *watch;
	size_t nwatch;
	struct g6_entry g6[GUARD_G6_MAX];
	size_t ng6;
	char write_err[ERRBUF_SIZE];	/* last report_write error logged */
	unsigned reached;	/* sweeps whose probes reached the MTA (M1) */
	/* G8 and G9, the nameserver pass (checks_g8.h): between sweeps */
	struct report g8;		/* items of the last pass */
	struct report g8last;		/* their states, for logging changes:
					 * kept across a reload, read back
					 * after a crash */
	struct checks_served *served;	/* a sweep's chains, new since... */
	struct checks_served *g8served;	/* ...the chains the pass matches */
	struct checks_g8_memory *g8mem;	/* lag history */
	struct dns_ctx *g8ctx;		/* finds the zones and nameservers */
	char g8err[ERRBUF_SIZE];	/* why there is no g8ctx (logged once) */
	long long next_ns;		/* next pass due, now_ms() */
	int g8_wanted;			/* a pass at the next tick */
} guard = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
};

/* Set by the signal thread, taken by the guard thread: no lock needed. */
static atomic_int guard_sweep_wanted;

static void
guard_make_helo(char *buf, size_t len)
{
	unsigned char r[6];
	unsigned long long v = 0;
	size_t i;

	/* Unique per process: the milter must not count our own probes,
	 * and another daneguard on the same MTA must count ours. */
	if (RAND_bytes(r, sizeof(r)) != 1)
		for (i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)(time(NULL) >> (i * 3)) ^
			    (unsigned char)i;
	for (i = 0; i < sizeof(r); i++)
		v = v << 8 | r[i];
	snprintf(buf, len, "daneguard-probe-%012llx.invalid", v);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ files */

static void
watch_stat(struct watch *w)
{
	struct stat st;

	if (stat(w->path, &st) < 0) {
		w->exists = 0;
		w->dev = 0;
		w->ino = 0;
		w->size = 0;
		w->mtime.tv_sec = w->mtime.tv_nsec = 0;
		return;
	}
	w->exists = 1;
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	w->size = st.st_size;
	w->mtime = st.st_mtim;
}

static void
watch_add(const char *path)
{
	size_t i;

	if (path == NULL)
		return;
	for (i = 0; i < guard.nwatch; i++)
		if (strcmp(guard.watch[i].path, path) == 0)
			return;
	guard.watch = xreallocarray(guard.watch, guard.nwatch + 1,
	    sizeof(*guard.watch));
	memset(&guard.watch[guard.nwatch], 0, sizeof(*guard.watch));
	guard.watch[guard.nwatch].path = xstrdup(path);
	watch_stat(&guard.watch[guard.nwatch]);
	guard.nwatch++;
}

static void
watch_clear(void)
{
	size_t i;

	for (i = 0; i < guard.nwatch; i++)
		free(guard.watch[i].path);
	free(guard.watch);
	guard.watch = NULL;
	guard.nwatch = 0;
}

/* Every certificate, key, zone and access map file of the configuration. */
static void
watch_build(const struct conf *conf)
{
	size_t i, k;

	watch_clear();
	for (i = 0; i < conf->nhosts; i++)
		for (k = 0; k < conf->hosts[i].ncerts; k++) {
			watch_add(conf->hosts[i].certs[k].chain);
			watch_add(conf->hosts[i].certs[k].key);
			watch_add(conf->hosts[i].certs[k].next_key);
		}
	watch_add(conf->tlsa_file);
	watch_add(conf->sendmail_access);
}

/* 1 if any watched file changed since the last poll (and log which). */
static int
watch_poll(void)
{
	struct watch old;
	size_t i;
	int changed = 0;

	for (i = 0; i < guard.nwatch; i++) {
		struct watch *w = &guard.watch[i];

		old = *w;
		watch_stat(w);
		if (old.exists != w->exists || old.dev != w->dev ||
		    old.ino != w->ino || old.size != w->size ||
		    old.mtime.tv_sec != w->mtime.tv_sec ||
		    old.mtime.tv_nsec != w->mtime.tv_nsec) {
			log_info("file=%s event=%s", w->path,
			    w->exists ? "changed" : "missing");
			changed = 1;
		}
	}
	return changed;
}

/* ------------------------------------------------------------ states */

/* A reason for a log line: double quotes would end the field. */
static void
log_reason(const char *in, char *out, size_t len)
{
	size_t i;

	snprintf(out, len, "%s", in);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] == '"' || out[i] == '\n' || out[i] == '\r')
			out[i] = '\'';
}

static void
log_change(const struct report_item *it, const char *was)
{
	char reason[512], fields[512];
	int n;

	log_reason(it->reason, reason, sizeof(reason));
	n = snprintf(fields, sizeof(fields), "check=%s",
	    check_name(it->check));
	if (*it->host && n >= 0 && (size_t)n < sizeof(fields))
		n += snprintf(fields + n, sizeof(fields) - n, " host=%s",
		    it->host);
	if (*it->addr && n >= 0 && (size_t)n < sizeof(fields))
		n += snprintf(fields + n, sizeof(fields) - n, " addr=%s",
		    it->addr);
	if (*it->alg && n >= 0 && (size_t)n < sizeof(fields))
		n += snprintf(fields + n, sizeof(fields) - n, " alg=%s",
		    it->alg);
	if (*it->client && n >= 0 && (size_t)n < sizeof(fields))
		snprintf(fields + n, sizeof(fields) - n, " client=%s",
		    it->client);
	if (it->state == VERDICT_OK)
		log_info("%s state=OK was=%s reason=\"%s\"", fields, was,
		    reason);
	else
		log_warnx("%s state=%s was=%s reason=\"%s\"", fields,
		    verdict_state_name(it->state), was, reason);
}

/*
 * Carry "since" over from the previous states and log every change once.
 * A check seen for the first time is logged only when it is not OK (a
 * start logs the problems, not twenty OKs).
 */
static void
guard_merge(struct report *next, const struct report *prev)
{
	size_t i;
	long k;

	for (i = 0; i < next->n; i++) {
		struct report_item *it = &next->items[i];

		k = report_find(prev, it);
		if (k >= 0 && prev->items[k].state == it->state) {
			it->since = prev->items[k].since;
			continue;
		}
		if (k >= 0)
			log_change(it, verdict_state_name(prev->items[k].state));
		else if (it->state != VERDICT_OK)
			log_change(it, "none");
		else if (log_get_verbose())
			log_change(it, "none");
	}
}

static void
guard_write(void)
{
	struct errbuf err;

	if (report_write(&guard.cur, guard.conf->state_dir, &err) == 0) {
		guard.write_err[0] = '\0';
		return;
	}
	/* Once per distinct problem, not at every sweep. */
	if (strcmp(err.msg, guard.write_err) != 0) {
		log_warnx("cannot write the reports: %s", err.msg);
		snprintf(guard.write_err, sizeof(guard.write_err), "%s",
		    err.msg);
	}
}

/*
 * G6 without XCLIENT: the plaintext share per listener, as OK with the
 * figures. Not WARNING: many honest senders still send without TLS, so a
 * warning would be permanent on every Internet-facing MX and train
 * people to ignore the exit status; without impersonating the client
 * the guard cannot tell "did not ask" from "was refused". The counters
 * go to metrics.prom for alerting on a share that moves.
 */
static void
guard_g6_shares(struct report *r)
{
	const struct conf_host *h;
	char lst[STATS_ADDR_MAX + 16];
	size_t i;

	for (i = 0; i < r->nlisteners; i++) {
		const struct stats_listener *l = &r->listeners[i];

		h = checks_host_dns(guard.conf, guard.dns, l->addr, l->port);
		report_listener(l->addr, l->port, lst, sizeof(lst));
		report_add(r, CHECK_G6, h != NULL && h->name ? h->name : "",
		    lst, NULL, NULL, VERDICT_OK, "%lu of %lu sessions in "
		    "plaintext (%.1f%%) since start; without XCLIENT "
		    "(xclient = no) the guard cannot tell whether STARTTLS "
		    "was withheld", l->plaintext, l->sessions,
		    l->sessions ? 100.0 * (double)l->plaintext /
		    (double)l->sessions : 0.0);
	}
}

/*
 * M1: the MTA calls the milter. Every SMTP connection, the guard's own
 * probes included, makes the MTA open a milter session (xxfi_connect),
 * so once a sweep's probes have reached the MTA (a G1 OK) the milter
 * must have seen one; none is the MTA's milter setting pointing
 * elsewhere, which default_action=accept hides. Judged from the second
 * such sweep on (normally one probe_interval after start): by then the
 * first sweep's sessions have long reached us. A quiet server is no
 * false alarm: the probes are its sessions.
 */
static void
guard_milter_seen(struct report *r)
{
	unsigned long n = stats_connections();
	size_t i;

	if (n > 0) {
		report_add(r, CHECK_M1, NULL, NULL, NULL, NULL, VERDICT_OK,
		    "the MTA called the milter: %lu session(s) since start", n);
		return;
	}
	for (i = 0; i < r->n; i++)
		if (r->items[i].check == CHECK_G1 &&
		    r->items[i].state == VERDICT_OK)
			break;
	if (i == r->n)
		return;		/* the probes did not reach the MTA: G1 says why */
	if (++guard.reached < 2)
		return;
	report_add(r, CHECK_M1, NULL, NULL, NULL, NULL, VERDICT_WARNING,
	    "no milter session since start: is the MTA's milter setting "
	    "pointing here? (%u sweeps reached the MTA, which never "
	    "connected to the milter socket)", guard.reached);
}

static void
guard_run_g6(struct report *r, struct checks_g6_target *t, size_t n)
{
	checks_g6(guard.conf, guard.dns, guard.helo, t, n, r);
}

static void
guard_sweep(void)
{
	struct checks_g6_target t[GUARD_G6_MAX];
	struct checks_served *served = checks_served_new();
	struct report r;
	long long t0 = now_ms();
	size_t i;

	memset(&r, 0, sizeof(r));
	r.when = time(NULL);
	log_debug("sweep start");
	(void)intake_spool_tidy(guard.conf, r.when);
	checks_sweep_served(guard.conf, guard.helo, guard.keep, guard.dns,
	    served, &r);
	/* A chain not matched by the last G8 pass (renewed, reloaded):
	 * every nameserver is asked again. */
	if (checks_served_has_new(served, guard.g8served)) {
		checks_served_free(guard.served);
		guard.served = served;
		guard.g8_wanted = 1;
	} else
		checks_served_free(served);
	for (i = 0; i < guard.g8.n; i++)
		report_add_item(&r, &guard.g8.items[i]);
	r.nlisteners = stats_snapshot(&r.listeners);
	g6sendmail_add(guard.conf, &r);	/* sendmail: {daemon_flags}, access map */
	checks_g10(guard.conf, guard.dns, r.when, &r);
	if (guard.conf->xclient) {
		for (i = 0; i < guard.ng6; i++) {
			t[i] = guard.g6[i].t;
			guard.g6[i].last = duration_clock();
		}
		guard_run_g6(&r, t, guard.ng6);
	} else
		guard_g6_shares(&r);
	guard_milter_seen(&r);
	r.duration = (double)(now_ms() - t0) / 1000.0;
	guard_merge(&r, &guard.cur);
	report_clear(&guard.cur);
	guard.cur = r;
	log_debug("sweep done in %.3f s: %s", r.duration,
	    verdict_state_name(report_worst(&r)));
	guard_write();
}

/*
 * G8: every address of every nameserver of each host's zone, asked
 * directly (checks_g8.h). Its items replace the last pass's in the
 * current states and are carried into every sweep's report until the
 * next pass.
 */
static void
guard_g8_pass(void)
{
	struct dnsauth_settings s;
	struct report g8, next;
	struct errbuf err;
	struct conf *dconf;
	long long t0 = now_ms();
	size_t i;

	checks_g8_settings(guard.conf, &s);
	if (guard.g8ctx == NULL) {
		guard.g8ctx = dns_ctx_new(s.anchor, s.resolver, s.config, &err);
		if (guard.g8ctx == NULL && strcmp(err.msg, guard.g8err) != 0) {
			log_warnx("G8: %s", err.msg);
			snprintf(guard.g8err, sizeof(guard.g8err), "%s",
			    err.msg);
		}
	}
	if (guard.g8mem == NULL)
		guard.g8mem = checks_g8_memory_new();
	if (guard.served != NULL) {
		checks_served_free(guard.g8served);
		guard.g8served = guard.served;
		guard.served = NULL;
	}
	memset(&g8, 0, sizeof(g8));
	g8.when = time(NULL);
	/* With the domains' other MX hosts, as the sweep (and --check). */
	dconf = checks_domain_conf(guard.conf, guard.dns);
	checks_ns(dconf != NULL ? dconf : guard.conf, guard.dns, &s,
	    guard.g8ctx, guard.g8served, guard.g8mem, duration_clock(),
	    g8.when, &g8);
	checks_domain_conf_free(guard.conf, dconf);
	/* G9 included; bench/g8-bench.sh waits for this line. */
	log_debug("G8: pass done in %.3f s, %zu item(s)",
	    (double)(now_ms() - t0) / 1000.0, g8.n);

	/* Against the last pass's states, not the current ones: the first
	 * sweep after a restart or reload has no G8 items yet. */
	guard_merge(&g8, &guard.g8last);
	report_clear(&guard.g8last);
	for (i = 0; i < g8.n; i++)
		report_add_item(&guard.g8last, &g8.items[i]);
	memset(&next, 0, sizeof(next));
	next.when = guard.cur.when;
	next.duration = guard.cur.duration;
	for (i = 0; i < guard.cur.n; i++)
		if (guard.cur.items[i].check != CHECK_G8 &&
		    guard.cur.items[i].check != CHECK_G9)
			report_add_item(&next, &guard.cur.items[i]);
	for (i = 0; i < g8.n; i++)
		report_add_item(&next, &g8.items[i]);
	next.nlisteners = stats_snapshot(&next.listeners);
	report_clear(&guard.cur);
	guard.cur = next;
	report_clear(&guard.g8);
	guard.g8 = g8;
	guard_write();
}

/* Forget what G8 knew of the former configuration. */
static void
guard_g8_reset(void)
{
	report_clear(&guard.g8);
	checks_served_free(guard.served);
	guard.served = NULL;
	checks_served_free(guard.g8served);
	guard.g8served = NULL;
	checks_g8_memory_free(guard.g8mem);
	guard.g8mem = NULL;
	dns_ctx_free(guard.g8ctx);
	guard.g8ctx = NULL;
	guard.g8err[0] = '\0';
	guard.next_ns = 0;
	guard.g8_wanted = 1;
}

/* Remember (listener, client); 1 if it is due for a probe now. */
static int
guard_g6_due(const struct stats_plaintext *p, time_t now)
{
	size_t i, oldest = 0;
	struct g6_entry *e;

	for (i = 0; i < guard.ng6; i++) {
		e = &guard.g6[i];
		if (e->t.port == p->port &&
		    strcmp(e->t.listener, p->listener) == 0 &&
		    strcmp(e->t.client, p->client) == 0) {
			if (now - e->last < GUARD_G6_INTERVAL)
				return 0;
			e->last = now;
			return 1;
		}
		if (e->last < guard.g6[oldest].last)
			oldest = i;
	}
	if (guard.ng6 < GUARD_G6_MAX)
		e = &guard.g6[guard.ng6++];
	else
		e = &guard.g6[oldest];	/* bounded: the longest quiet goes */
	memset(e, 0, sizeof(*e));
	snprintf(e->t.listener, sizeof(e->t.listener), "%s", p->listener);
	snprintf(e->t.client, sizeof(e->t.client), "%s", p->client);
	e->t.port = p->port;
	e->last = now;
	return 1;
}

/* Plaintext sessions the milter queued: G6 follow-up probes. */
static void
guard_plaintext(void)
{
	struct checks_g6_target due[GUARD_G6_MAX];
	struct stats_plaintext p;
	struct report g6, next;
	size_t n = 0, i;
	time_t now = duration_clock();
	long k;

	while (stats_take_plaintext(&p) == 1) {
		if (!guard.conf->xclient || p.client[0] == '\0' ||
		    p.listener[0] == '\0')
			continue;	/* drained all the same: the queue is bounded */
		if (!guard_g6_due(&p, now) || n == GUARD_G6_MAX)
			continue;
		memset(&due[n], 0, sizeof(due[n]));
		snprintf(due[n].listener, sizeof(due[n].listener), "%s",
		    p.listener);
		snprintf(due[n].client, sizeof(due[n].client), "%s",
		    p.client);
		due[n].port = p.port;
		log_debug("G6: follow-up probe of %s port %u as client %s",
		    p.listener, p.port, p.client);
		n++;
	}
	if (n == 0)
		return;
	memset(&g6, 0, sizeof(g6));
	g6.when = time(NULL);
	guard_run_g6(&g6, due, n);

	/* The states of the last sweep with these G6 items put in. */
	memset(&next, 0, sizeof(next));
	next.when = guard.cur.when;
	next.duration = guard.cur.duration;
	for (i = 0; i < guard.cur.n; i++)
		report_add_item(&next, &guard.cur.items[i]);
	guard_merge(&g6, &guard.cur);
	for (i = 0; i < g6.n; i++) {
		k = report_find(&next, &g6.items[i]);
		if (k < 0) {
			report_add_item(&next, &g6.items[i]);
			continue;
		}
		free(next.items[k].reason);
		next.items[k].reason = xstrdup(g6.items[i].reason);
		next.items[k].state = g6.items[i].state;
		next.items[k].since = g6.items[i].since;
	}
	next.nlisteners = stats_snapshot(&next.listeners);
	report_clear(&g6);
	report_clear(&guard.cur);
	guard.cur = next;
	guard_write();
}

/* A DNS cache for conf; a resolver problem is logged, and G7 says it. */
static struct dnscache *
guard_dns_new(const struct conf *conf)
{
	struct dnscache *dns;
	struct errbuf err;

	if (checks_dns_new(conf, &dns, &err) < 0)
		log_warnx("%s", err.msg);
	return dns;
}

/*
 * Between sweeps: look up the DNS answers that expired; 1 when one of
 * them changed (then the caller sweeps).
 */
static int
guard_dns_tick(void)
{
	time_t next = dnscache_next_expiry(guard.dns), now = duration_clock();
	size_t n;

	if (next == (time_t)-1 || now < next)
		return 0;
	if ((n = checks_dns_refresh(guard.conf, guard.dns, now)) == 0)
		return 0;
	log_info("dns: %zu answer(s) changed; sweeping", n);
	guard.g8_wanted = 1;	/* and asking every nameserver */
	return 1;
}

/*
 * The wall clock stepped (NTP, date -s, a VM resumed) when its distance
 * to the monotonic clock changed by more than this. Both run at the same
 * rate otherwise (NTP slews by at most 500 ppm: 0.25 ms per tick).
 */
#define GUARD_JUMP_MS		10000

/*
 * Intervals run on the monotonic clock and do not notice a step; what
 * does is libunbound, whose cache and list of unresponsive servers are
 * timed on the wall clock: set back, it would serve answers hours past
 * their TTL. So a step is logged once and the resolver started afresh.
 */
static void
guard_clock_check(void)
{
	static long long offset;
	static int have;
	struct timespec wall, mono;
	struct errbuf err;
	long long o, d;
	char span[32];

	clock_gettime(CLOCK_REALTIME, &wall);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	o = ((long long)wall.tv_sec - mono.tv_sec) * 1000 +
	    (wall.tv_nsec - mono.tv_nsec) / 1000000;
	d = o - offset;
	if (have && (d > GUARD_JUMP_MS || d < -GUARD_JUMP_MS)) {
		duration_format((long)(((d < 0 ? -d : d) + 500) / 1000),
		    span, sizeof(span));
		if (guard.dns != NULL && dnscache_restart(guard.dns, &err) < 0)
			log_warnx("clock: the wall clock was set %s by %s; "
			    "intervals are unaffected; the resolver keeps its "
			    "cache: %s", d < 0 ? "back" : "forward", span,
			    err.msg);
		else
			log_warnx("clock: the wall clock was set %s by %s; "
			    "intervals are unaffected; the resolver's cache "
			    "is dropped", d < 0 ? "back" : "forward", span);
	}
	offset = o;
	have = 1;
}

/*
 * The TLS-RPT reports that the MTA's pipe spooled (daneguard-tlsrpt-spool)
 * into the store, a batch at a time; G10 reads them at the next sweep.
 * Returns 1 when more wait.
 */
static int
guard_tlsrpt(void)
{
	static long long retry_at;
	long long t = now_ms();
	int more;

	if (t < retry_at)
		return 0;
	if (intake_spool(guard.conf, GUARD_SPOOL_BATCH, time(NULL),
	    &more) < 0) {
		retry_at = t + GUARD_SPOOL_RETRY_MS;
		return 0;
	}
	return more;
}

/* ------------------------------------------------------------ thread */

static void *
guard_main(void *arg)
{
	struct timespec ts;
	long long next_sweep = 0, first_change = 0, t;
	int sweep = 1, changed, more = 0;

	(void)arg;
	pthread_mutex_lock(&guard.mu);
	/* Nothing is written before the privilege drop: a file made as
	 * root whose mode is set after setuid fails (EPERM), and state_dir
	 * would fill with files the daemon cannot replace. */
	while (!guard.go && !guard.stop)
		pthread_cond_wait(&guard.cv, &guard.mu);
	for (;;) {
		if (guard.stop)
			break;
		if (guard.pending != NULL) {
			conf_free(guard.conf);
			guard.conf = guard.pending;
			guard.pending = NULL;
			/* The dns section or the hosts may have changed. */
			dnscache_free(guard.dns);
			guard.dns = guard_dns_new(guard.conf);
			watch_build(guard.conf);
			if (!guard.conf->xclient)
				guard.ng6 = 0;
			guard_g8_reset();
			sweep = 1;
		}
		pthread_mutex_unlock(&guard.mu);

		guard_clock_check();
		t = now_ms();
		changed = watch_poll();
		if (changed && first_change == 0)
			first_change = t;
		/* Settled (quiet for a tick) or waited long enough. */
		if (first_change != 0 && (!changed ||
		    t - first_change >= GUARD_SETTLE_MS)) {
			first_change = 0;
			sweep = 1;
		}
		if (atomic_exchange(&guard_sweep_wanted, 0))
			sweep = guard.g8_wanted = 1;
		if (sweep || t >= next_sweep) {
			sweep = 0;
			guard_sweep();
			next_sweep = now_ms() +
			    (long long)guard.conf->probe_interval * 1000;
		} else {
			guard_plaintext();
			if (guard_dns_tick())
				sweep = 1;
		}
		/* After the sweep it may have asked for (its chains). */
		if (!sweep && checks_ns_enabled(guard.conf) &&
		    (guard.g8_wanted || now_ms() >= guard.next_ns)) {
			guard.g8_wanted = 0;
			guard_g8_pass();
			guard.next_ns = now_ms() +
			    (long long)guard.conf->ns_interval * 1000;
		}
		more = guard_tlsrpt();

		pthread_mutex_lock(&guard.mu);
		if (guard.stop || guard.pending != NULL || more)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += GUARD_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&guard.cv, &guard.mu, &ts);
	}
	pthread_mutex_unlock(&guard.mu);
	return NULL;
}

void
guard_release(void)
{
	pthread_mutex_lock(&guard.mu);
	guard.go = 1;
	pthread_cond_signal(&guard.cv);
	pthread_mutex_unlock(&guard.mu);
}

int
guard_start(struct conf *conf, int resume)
{
	pthread_condattr_t ca;
	struct tlsa_set zone;
	struct errbuf err;
	size_t i;
	int e;

	if (guard.running) {
		log_warnx("guard: already running");
		return -1;
	}
	guard.keep = checks_keep_new();
	/* Now, before privileges are dropped: this reads the key files. */
	if (checks_preload(conf, guard.keep, &err) < 0) {
		log_warnx("%s", err.msg);
		goto fail;
	}
	if (conf->tlsa_file != NULL) {
		tlsa_set_init(&zone);
		e = tlsa_zone_load(conf->tlsa_file, NULL, -1, &zone, &err);
		tlsa_set_free(&zone);
		if (e < 0) {
			log_warnx("tlsa_file: %s", err.msg);
			goto fail;
		}
	}
	/* Now: a resolver_config or trust anchor the daemon cannot use is a
	 * configuration error, like a bad tlsa_file. */
	if (checks_dns_new(conf, &guard.dns, &err) < 0) {
		log_warnx("%s", err.msg);
		goto fail;
	}
	guard_make_helo(guard.helo, sizeof(guard.helo));
	stats_init(guard.helo);

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&guard.cv, &ca);
	pthread_condattr_destroy(&ca);
	guard.conf = conf;
	guard.pending = NULL;
	guard.stop = 0;
	guard.go = 0;
	guard.ng6 = 0;
	guard.write_err[0] = '\0';
	guard.reached = 0;
	memset(&guard.cur, 0, sizeof(guard.cur));
	memset(&guard.g8, 0, sizeof(guard.g8));
	memset(&guard.g8last, 0, sizeof(guard.g8last));
	guard.served = guard.g8served = NULL;
	guard.g8mem = NULL;
	guard.g8ctx = NULL;
	guard.g8err[0] = '\0';
	guard.next_ns = 0;
	guard.g8_wanted = 0;
	/* The states before a crash: the first sweep then logs only what
	 * changed, and keeps "since". */
	if (resume && report_state_load(conf->state_dir, &guard.cur,
	    &err) < 0 && errno != ENOENT)
		log_warnx("%s; every state is logged again", err.msg);
	else if (resume)
		log_info("guard: %zu state(s) read back from %s/%s",
		    guard.cur.n, conf->state_dir, REPORT_STATE_FILE);
	for (i = 0; i < guard.cur.n; i++)
		if (guard.cur.items[i].check == CHECK_G8 ||
		    guard.cur.items[i].check == CHECK_G9)
			report_add_item(&guard.g8last, &guard.cur.items[i]);
	watch_build(conf);
	if ((e = pthread_create(&guard.tid, NULL, guard_main, NULL)) != 0) {
		errno = e;
		log_warn("guard: cannot start the thread");
		watch_clear();
		pthread_cond_destroy(&guard.cv);
		guard.conf = NULL;
		goto fail;
	}
	guard.running = 1;
	log_info("guard started: %zu host(s), probe_interval=%lds "
	    "probe_timeout=%lds helo=%s", conf->nhosts, conf->probe_interval,
	    conf->probe_timeout, guard.helo);
	return 0;

fail:
	checks_keep_free(guard.keep);
	guard.keep = NULL;
	dnscache_free(guard.dns);
	guard.dns = NULL;
	return -1;
}

void
guard_reload(struct conf *conf)
{
	if (!guard.running) {
		conf_free(conf);
		return;
	}
	pthread_mutex_lock(&guard.mu);
	/* Two reloads before the thread looked: the newer one wins. */
	conf_free(guard.pending);
	guard.pending = conf;
	pthread_cond_signal(&guard.cv);
	pthread_mutex_unlock(&guard.mu);
}

void
guard_sweep_now(void)
{
	atomic_store(&guard_sweep_wanted, 1);
}

void
guard_stop(void)
{
	if (!guard.running)
		return;
	pthread_mutex_lock(&guard.mu);
	guard.stop = 1;
	pthread_cond_signal(&guard.cv);
	pthread_mutex_unlock(&guard.mu);
	pthread_join(guard.tid, NULL);
	guard.running = 0;
	conf_free(guard.pending);
	guard.pending = NULL;
	conf_free(guard.conf);
	guard.conf = NULL;
	checks_keep_free(guard.keep);
	guard.keep = NULL;
	dnscache_free(guard.dns);
	guard.dns = NULL;
	report_clear(&guard.cur);
	guard_g8_reset();
	report_clear(&guard.g8last);
	watch_clear();
	pthread_cond_destroy(&guard.cv);
}

enum verdict_state
guard_check_once(const struct conf *conf, int json, FILE *out)
{
	struct conf *dconf;
	char *text;
	struct checks_served *served = checks_served_new();
	struct dnsauth_settings s;
	struct dns_ctx *ctx = NULL;
	struct dnscache *dns;
	struct report r;
	struct errbuf err;
	char helo[64];
	long long t0 = now_ms();
	enum verdict_state worst;

	memset(&r, 0, sizeof(r));
	r.when = time(NULL);
	guard_make_helo(helo, sizeof(helo));
	/* A resolver problem shows as G7 UNKNOWN, with the reason. */
	(void)checks_dns_new(conf, &dns, &err);
	checks_sweep_served(conf, helo, NULL, dns, served, &r);
	/* G8 and G9 with the domains' other MX hosts (checks_domain_conf). */
	dconf = checks_domain_conf(conf, dns);
	if (checks_ns_enabled(dconf != NULL ? dconf : conf)) {
		checks_g8_settings(conf, &s);
		ctx = dns_ctx_new(s.anchor, s.resolver, s.config, &err);
		checks_ns(dconf != NULL ? dconf : conf, dns, &s, ctx, served,
		    NULL, duration_clock(), time(NULL), &r);
		dns_ctx_free(ctx);
	}
	checks_served_free(served);
	g6sendmail_add(conf, &r);	/* the access map; no listeners here */
	checks_g10(conf, dns, r.when, &r);
	checks_domain_conf_free(conf, dconf);
	dnscache_free(dns);
	r.duration = (double)(now_ms() - t0) / 1000.0;
	if (json) {
		text = report_json(&r);
		fputs(text, out);
		free(text);
	} else
		report_print(&r, out);
	fflush(out);
	worst = report_worst(&r);
	report_clear(&r);
	return worst;
}
