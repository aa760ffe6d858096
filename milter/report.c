/*
 * report - the guard's verdicts as status.json, metrics.prom and the
 * --check table. See report.h for the contracts.
 *
 * JSON and Prometheus text are built by hand: both formats are small and
 * fixed, and a library would be a dependency for two hundred lines.
 * Reasons may carry bytes a hostile SMTP server sent, so both writers
 * escape everything outside printable ASCII.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "atomicfile.h"
#include "errbuf.h"
#include "fileio.h"
#include "report.h"
#include "strbuf.h"
#include "xalloc.h"


void
report_clear(struct report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->items[i].host);
		free(r->items[i].addr);
		free(r->items[i].alg);
		free(r->items[i].client);
		free(r->items[i].reason);
	}
	free(r->items);
	free(r->listeners);
	memset(r, 0, sizeof(*r));
}

static struct report_item *
report_grow(struct report *r)
{
	if (r->n == r->alloc) {
		r->alloc = r->alloc ? r->alloc * 2 : 32;
		r->items = xreallocarray(r->items, r->alloc,
		    sizeof(*r->items));
	}
	memset(&r->items[r->n], 0, sizeof(r->items[r->n]));
	return &r->items[r->n++];
}

struct report_item *
report_add(struct report *r, enum check_id check, const char *host,
    const char *addr, const char *alg, const char *client,
    enum verdict_state state, const char *fmt, ...)
{
	struct report_item *it = report_grow(r);
	va_list ap;

	it->check = check;
	it->host = xstrdup(host != NULL ? host : "");
	it->addr = xstrdup(addr != NULL ? addr : "");
	it->alg = xstrdup(alg != NULL ? alg : "");
	it->client = xstrdup(client != NULL ? client : "");
	it->state = state;
	va_start(ap, fmt);
	if (vasprintf(&it->reason, fmt, ap) < 0) {
		fputs("out of memory\n", stderr);
		exit(2);
	}
	va_end(ap);
	it->since = r->when;
	return it;
}

void
report_add_item(struct report *r, const struct report_item *src)
{
	struct report_item *it = report_grow(r);

	it->check = src->check;
	it->host = xstrdup(src->host);
	it->addr = xstrdup(src->addr);
	it->alg = xstrdup(src->alg);
	it->client = xstrdup(src->client);
	it->state = src->state;
	it->reason = xstrdup(src->reason);
	it->since = src->since;
	it->counted = src->counted;
	it->count = src->count;
	it->dated = src->dated;
	it->served_days = src->served_days;
	it->disk_dated = src->disk_dated;
	it->disk_days = src->disk_days;
	it->sig_dated = src->sig_dated;
	it->sig_seconds = src->sig_seconds;
	it->ns_serialed = src->ns_serialed;
	it->ns_serial = src->ns_serial;
}

int
report_same_key(const struct report_item *a, const struct report_item *b)
{
	return a->check == b->check &&
	    strcmp(a->host, b->host) == 0 && strcmp(a->addr, b->addr) == 0 &&
	    strcmp(a->alg, b->alg) == 0 && strcmp(a->client, b->client) == 0;
}

long
report_find(const struct report *r, const struct report_item *item)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (report_same_key(&r->items[i], item))
			return (long)i;
	return -1;
}

enum verdict_state
report_worst(const struct report *r)
{
	enum verdict_state worst = VERDICT_OK;
	size_t i;

	if (r->n == 0)
		return VERDICT_UNKNOWN;
	for (i = 0; i < r->n; i++)
		if (verdict_state_rank(r->items[i].state) >
		    verdict_state_rank(worst))
			worst = r->items[i].state;
	return worst;
}

static const char *const report_tls_names[STATS_TLS_N] = {
	"TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3", "other"
};

/* ------------------------------------------------------------ JSON */

static void
iso_time(time_t t, char *out, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, len, "1970-01-01T00:00:00Z");
}

char *
report_json(const struct report *r)
{
	struct strbuf b = { NULL, 0, 0 };
	char iso[32];
	size_t i, v;

	iso_time(r->when, iso, sizeof(iso));
	strbuf_printf(&b, "{\n  \"sweep\": {\"time\": %lld, \"time_utc\": \"%s\", "
	    "\"duration_seconds\": %.3f},\n", (long long)r->when, iso,
	    r->duration);
	strbuf_printf(&b, "  \"state\": \"%s\",\n",
	    verdict_state_name(report_worst(r)));
	strbuf_puts(&b, "  \"checks\": [");
	for (i = 0; i < r->n; i++) {
		const struct report_item *it = &r->items[i];

		iso_time(it->since, iso, sizeof(iso));
		strbuf_puts(&b, i ? ",\n    {" : "\n    {");
		strbuf_puts(&b, "\"check\": ");
		strbuf_json(&b, check_name(it->check));
		strbuf_puts(&b, ", \"host\": ");
		strbuf_json(&b, it->host);
		strbuf_puts(&b, ", \"addr\": ");
		strbuf_json(&b, it->addr);
		strbuf_puts(&b, ", \"alg\": ");
		strbuf_json(&b, it->alg);
		if (*it->client != '\0') {
			strbuf_puts(&b, ", \"client\": ");
			strbuf_json(&b, it->client);
		}
		strbuf_printf(&b, ", \"state\": \"%s\", \"reason\": ",
		    verdict_state_name(it->state));
		strbuf_json(&b, it->reason);
		if (it->counted)
			strbuf_printf(&b, ", \"count\": %lld", it->count);
		if (it->dated)
			strbuf_printf(&b, ", \"served_expiry_days\": %ld",
			    it->served_days);
		if (it->disk_dated)
			strbuf_printf(&b, ", \"disk_expiry_days\": %ld",
			    it->disk_days);
		if (it->sig_dated)
			strbuf_printf(&b, ", \"rrsig_expiry_seconds\": %lld",
			    it->sig_seconds);
		if (it->ns_serialed)
			strbuf_printf(&b, ", \"soa_serial\": %ld",
			    it->ns_serial);
		strbuf_printf(&b, ", \"since\": %lld, \"since_utc\": \"%s\"}",
		    (long long)it->since, iso);
	}
	strbuf_puts(&b, r->n ? "\n  ],\n" : "],\n");
	strbuf_puts(&b, "  \"listeners\": [");
	for (i = 0; i < r->nlisteners; i++) {
		const struct stats_listener *l = &r->listeners[i];

		strbuf_puts(&b, i ? ",\n    {" : "\n    {");
		strbuf_puts(&b, "\"addr\": ");
		strbuf_json(&b, l->addr);
		strbuf_printf(&b, ", \"port\": %u, \"sessions\": %lu, "
		    "\"tls\": %lu, \"plaintext\": %lu, \"versions\": {",
		    l->port, l->sessions, l->tls, l->plaintext);
		for (v = 0; v < STATS_TLS_N; v++)
			strbuf_printf(&b, "%s\"%s\": %lu", v ? ", " : "",
			    report_tls_names[v], l->versions[v]);
		strbuf_puts(&b, "}, \"daemon\": ");
		strbuf_json(&b, l->name);
		strbuf_printf(&b, ", \"no_starttls\": %lu}", l->no_starttls);
	}
	strbuf_puts(&b, r->nlisteners ? "\n  ]\n}\n" : "]\n}\n");
	return strbuf_take(&b);
}

/* ------------------------------------------------------------ Prometheus */

/* Label value escaping of the text exposition format: \\ \" \n. */
static void
prom_label(struct strbuf *b, const char *name, const char *value, int first)
{
	const unsigned char *p;
	char esc[8];

	strbuf_printf(b, "%s%s=\"", first ? "" : ",", name);
	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			strbuf_add(b, esc, 2);
		} else if (*p == '\n')
			strbuf_puts(b, "\\n");
		else if (*p < 0x20 || *p >= 0x7f)
			strbuf_puts(b, "?");
		else
			strbuf_add(b, (const char *)p, 1);
	}
	strbuf_puts(b, "\"");
}

static void
prom_head(struct strbuf *b, const char *name, const char *type,
    const char *help)
{
	strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
prom_item_labels(struct strbuf *b, const struct report_item *it)
{
	strbuf_puts(b, "{");
	prom_label(b, "check", check_name(it->check), 1);
	prom_label(b, "host", it->host, 0);
	prom_label(b, "addr", it->addr, 0);
	prom_label(b, "alg", it->alg, 0);
	prom_label(b, "client", it->client, 0);
	strbuf_puts(b, "}");
}

void
report_listener(const char *addr, unsigned port, char *buf, size_t len)
{
	if (addr[0] == '\0')
		snprintf(buf, len, "*:%u", port);
	else if (strchr(addr, ':') != NULL)
		snprintf(buf, len, "[%s]:%u", addr, port);
	else
		snprintf(buf, len, "%s:%u", addr, port);
}

static void
prom_listener(struct strbuf *b, const struct stats_listener *l)
{
	char lst[STATS_ADDR_MAX + 16];

	report_listener(l->addr, l->port, lst, sizeof(lst));
	prom_label(b, "listener", lst, 1);
}

/* The per-check series: which value, when an item has one. */
enum prom_value { PV_STATE, PV_SINCE, PV_COUNT, PV_SERVED_DAYS, PV_DISK_DAYS,
	PV_SIG_SECONDS, PV_NS_SERIAL };

static const struct {
	const char *name;
	enum prom_value value;
	const char *help;
} prom_item_series[] = {
	{ "daneguard_check_state", PV_STATE,
	  "State of one check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN." },
	{ "daneguard_check_since_timestamp_seconds", PV_SINCE,
	  "Unix time a check entered its current state." },
	{ "daneguard_check_count", PV_COUNT,
	  "The count behind a check: G10, the sessions that senders' TLS "
	  "reports of the last 24 h show failing." },
	{ "daneguard_served_leaf_expiry_days", PV_SERVED_DAYS,
	  "G11: days until the served leaf certificate expires (negative "
	  "once expired)." },
	{ "daneguard_disk_leaf_expiry_days", PV_DISK_DAYS,
	  "G11: days until the leaf certificate of the chain file expires "
	  "(negative once expired)." },
	{ "daneguard_rrsig_expiry_seconds", PV_SIG_SECONDS,
	  "G9: seconds until the earliest RRSIG that senders need expires, "
	  "as one nameserver address serves it (negative once expired)." },
	{ "daneguard_ns_soa_serial", PV_NS_SERIAL,
	  "G8: the SOA serial that one address of an authoritative "
	  "nameserver of the host's zone serves (addr NSNAME/ADDRESS)." },
};

/* Item it's value for series pv in *out; 0 if it has none. */
static int
prom_item_value(const struct report_item *it, enum prom_value pv,
    long long *out)
{
	switch (pv) {
	case PV_STATE:		*out = (int)it->state; return 1;
	case PV_SINCE:		*out = (long long)it->since; return 1;
	case PV_COUNT:		*out = it->count; return it->counted;
	case PV_SERVED_DAYS:	*out = it->served_days; return it->dated;
	case PV_DISK_DAYS:	*out = it->disk_days; return it->disk_dated;
	case PV_SIG_SECONDS:	*out = it->sig_seconds; return it->sig_dated;
	case PV_NS_SERIAL:	*out = it->ns_serial; return it->ns_serialed;
	}
	return 0;
}

/* The sweep's own series and the count of checks in each state. */
static void
prom_sweep(struct strbuf *b, const struct report *r)
{
	static const enum verdict_state states[] = {
		VERDICT_OK, VERDICT_WARNING, VERDICT_CRITICAL, VERDICT_UNKNOWN
	};
	size_t i, s, count;

	prom_head(b, "daneguard_state", "gauge",
	    "Worst state of the last sweep: 0 OK, 1 WARNING, 2 CRITICAL, "
	    "3 UNKNOWN.");
	strbuf_printf(b, "daneguard_state %d\n", (int)report_worst(r));
	prom_head(b, "daneguard_sweep_timestamp_seconds", "gauge",
	    "Unix time the last sweep started.");
	strbuf_printf(b, "daneguard_sweep_timestamp_seconds %lld\n",
	    (long long)r->when);
	prom_head(b, "daneguard_sweep_duration_seconds", "gauge",
	    "Seconds the last sweep took.");
	strbuf_printf(b, "daneguard_sweep_duration_seconds %.3f\n",
	    r->duration);
	prom_head(b, "daneguard_checks", "gauge",
	    "Number of checks in each state.");
	for (s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
		for (count = 0, i = 0; i < r->n; i++)
			if (r->items[i].state == states[s])
				count++;
		strbuf_puts(b, "daneguard_checks{");
		prom_label(b, "state", verdict_state_name(states[s]), 1);
		strbuf_printf(b, "} %zu\n", count);
	}
}

/* Each per-check series that some item has a value for. */
static void
prom_items(struct strbuf *b, const struct report *r)
{
	size_t k, i, n;
	long long v;

	for (k = 0; k < sizeof(prom_item_series) /
	    sizeof(prom_item_series[0]); k++) {
		for (n = 0, i = 0; i < r->n; i++)
			n += prom_item_value(&r->items[i],
			    prom_item_series[k].value, &v);
		if (n == 0 && prom_item_series[k].value != PV_STATE &&
		    prom_item_series[k].value != PV_SINCE)
			continue;
		prom_head(b, prom_item_series[k].name, "gauge",
		    prom_item_series[k].help);
		for (i = 0; i < r->n; i++) {
			if (!prom_item_value(&r->items[i],
			    prom_item_series[k].value, &v))
				continue;
			strbuf_puts(b, prom_item_series[k].name);
			prom_item_labels(b, &r->items[i]);
			strbuf_printf(b, " %lld\n", v);
		}
	}
}

/* The milter's session counters, per listener. */
static void
prom_listeners(struct strbuf *b, const struct report *r)
{
	size_t i, v;

	if (r->nlisteners == 0)
		return;
	prom_head(b, "daneguard_sessions_total", "counter",
	    "Sessions that reached MAIL FROM, per listener, with and "
	    "without TLS (the guard's own probes not counted).");
	for (i = 0; i < r->nlisteners; i++) {
		const struct stats_listener *l = &r->listeners[i];

		strbuf_puts(b, "daneguard_sessions_total{");
		prom_listener(b, l);
		strbuf_printf(b, ",tls=\"yes\"} %lu\n", l->tls);
		strbuf_puts(b, "daneguard_sessions_total{");
		prom_listener(b, l);
		strbuf_printf(b, ",tls=\"no\"} %lu\n", l->plaintext);
	}
	prom_head(b, "daneguard_tls_sessions_total", "counter",
	    "TLS sessions per listener and protocol version.");
	for (i = 0; i < r->nlisteners; i++)
		for (v = 0; v < STATS_TLS_N; v++) {
			strbuf_puts(b, "daneguard_tls_sessions_total{");
			prom_listener(b, &r->listeners[i]);
			prom_label(b, "version", report_tls_names[v], 0);
			strbuf_printf(b, "} %lu\n",
			    r->listeners[i].versions[v]);
		}
	prom_head(b, "daneguard_no_starttls_sessions_total", "counter",
	    "Sessions through a sendmail daemon with STARTTLS switched off "
	    "({daemon_flags} S, M=S), per listener.");
	for (i = 0; i < r->nlisteners; i++) {
		strbuf_puts(b, "daneguard_no_starttls_sessions_total{");
		prom_listener(b, &r->listeners[i]);
		strbuf_printf(b, "} %lu\n", r->listeners[i].no_starttls);
	}
}

char *
report_prom(const struct report *r)
{
	struct strbuf b = { NULL, 0, 0 };

	prom_sweep(&b, r);
	prom_items(&b, r);
	prom_listeners(&b, r);
	return strbuf_take(&b);
}

/* ------------------------------------------------------------ --check */

static const char *
dash(const char *s)
{
	return *s != '\0' ? s : "-";
}

void
report_print(const struct report *r, FILE *out)
{
	static const char *const head[5] = {
		"CHECK", "HOST", "ADDR", "ALG", "STATE"
	};
	size_t w[5], i, k, counts[4] = { 0, 0, 0, 0 }, shown = 0;
	enum verdict_state worst = report_worst(r);
	const char *col[5], *p;

	for (i = 0; i < r->n; i++)
		counts[r->items[i].state]++;
	fprintf(out, "DANEGUARD %s - %zu checks: %zu critical, %zu warning, "
	    "%zu unknown, %zu ok", verdict_state_name(worst), r->n,
	    counts[VERDICT_CRITICAL], counts[VERDICT_WARNING],
	    counts[VERDICT_UNKNOWN], counts[VERDICT_OK]);
	/* Name the first few of the worst kind, so the line alone helps. */
	for (i = 0; i < r->n && worst != VERDICT_OK; i++) {
		const struct report_item *it = &r->items[i];

		if (it->state != worst)
			continue;
		if (shown == 3) {
			fputs(", ...", out);
			break;
		}
		fprintf(out, "%s%s %s%s%s%s%s%s%s", shown ? ", " : " (",
		    check_name(it->check), dash(it->host),
		    *it->addr ? " " : "", it->addr,
		    *it->alg ? " " : "", it->alg,
		    *it->client ? " client " : "", it->client);
		shown++;
	}
	if (shown)
		fputc(')', out);
	/*
	 * Performance data after "|", as the monitoring-plugins guidelines
	 * write it ('label'=value[UOM];warn;crit;min;max): the checks per
	 * state and the sweep's duration, for graphs.
	 */
	fprintf(out, " | critical=%zu;;;0 warning=%zu;;;0 unknown=%zu;;;0 "
	    "ok=%zu;;;0 sweep_duration=%.3fs;;;0\n", counts[VERDICT_CRITICAL],
	    counts[VERDICT_WARNING], counts[VERDICT_UNKNOWN], counts[VERDICT_OK],
	    r->duration);

	for (k = 0; k < 5; k++)
		w[k] = strlen(head[k]);
	for (i = 0; i < r->n; i++) {
		const struct report_item *it = &r->items[i];

		col[0] = check_name(it->check);
		col[1] = dash(it->host);
		col[2] = dash(it->addr);
		col[3] = dash(it->alg);
		col[4] = verdict_state_name(it->state);
		for (k = 0; k < 5; k++)
			if (strlen(col[k]) > w[k])
				w[k] = strlen(col[k]);
	}
	fprintf(out, "%-*s  %-*s  %-*s  %-*s  %-*s  REASON\n",
	    (int)w[0], head[0], (int)w[1], head[1], (int)w[2], head[2],
	    (int)w[3], head[3], (int)w[4], head[4]);
	for (i = 0; i < r->n; i++) {
		const struct report_item *it = &r->items[i];

		fprintf(out, "%-*s  %-*s  %-*s  %-*s  %-*s  ",
		    (int)w[0], check_name(it->check), (int)w[1], dash(it->host),
		    (int)w[2], dash(it->addr), (int)w[3], dash(it->alg),
		    (int)w[4], verdict_state_name(it->state));
		if (*it->client != '\0')
			fprintf(out, "client %s: ", it->client);
		/* A "|" would start performance data on this line. */
		for (p = it->reason; *p != '\0'; p++)
			fputc(*p == '|' ? '/' : *p, out);
		fputc('\n', out);
	}
}

/* ------------------------------------------------------------ state */

#define REPORT_STATE_HEADER \
	"# daneguard: the guard's states, read back after a restart " \
	"(daneguard(8))\n" \
	"# check host addr alg client state since, tab-separated\n"
/* Far more than any configuration makes: a larger file is not ours. */
#define REPORT_STATE_MAX	((size_t)16 * 1024 * 1024)

static int
state_field_ok(const char *s)
{
	return strpbrk(s, "\t\n\r") == NULL;
}

char *
report_state(const struct report *r)
{
	struct strbuf b = { NULL, 0, 0 };
	const struct report_item *it;
	size_t i;

	strbuf_puts(&b, REPORT_STATE_HEADER);
	for (i = 0; i < r->n; i++) {
		it = &r->items[i];
		/* A client name comes from the MTA's macros: skip one that
		 * would break the format rather than escape it. */
		if (!state_field_ok(it->host) || !state_field_ok(it->addr) ||
		    !state_field_ok(it->alg) || !state_field_ok(it->client))
			continue;
		strbuf_printf(&b, "%s\t%s\t%s\t%s\t%s\t%s\t%lld\n",
		    check_name(it->check),
		    it->host, it->addr, it->alg, it->client,
		    verdict_state_name(it->state), (long long)it->since);
	}
	return strbuf_take(&b);
}

/* One line of the state file into r; 0 if it does not parse. */
static int
state_line(char *line, struct report *r)
{
	char *f[7], *end;
	struct report_item *it;
	enum check_id check;
	enum verdict_state st;
	long long since;
	size_t n = 0;

	f[n++] = line;
	while (n < 7 && (line = strchr(line, '\t')) != NULL) {
		*line++ = '\0';
		f[n++] = line;
	}
	/* G1 to G9 only, as when ids were two-character strings: G10, G11
	 * and M1 start again as new after a restart. */
	if (n != 7 || strchr(f[6], '\t') != NULL ||
	    check_parse(f[0], &check) < 0 || check > CHECK_G9)
		return 0;
	if (strcmp(f[5], "OK") == 0)
		st = VERDICT_OK;
	else if (strcmp(f[5], "WARNING") == 0)
		st = VERDICT_WARNING;
	else if (strcmp(f[5], "CRITICAL") == 0)
		st = VERDICT_CRITICAL;
	else if (strcmp(f[5], "UNKNOWN") == 0)
		st = VERDICT_UNKNOWN;
	else
		return 0;
	errno = 0;
	since = strtoll(f[6], &end, 10);
	if (errno != 0 || end == f[6] || *end != '\0' || since < 0)
		return 0;
	it = report_add(r, check, f[1], f[2], f[3], f[4], st, "%s",
	    "(state before the restart)");
	it->since = (time_t)since;
	return 1;
}

int
report_state_load(const char *dir, struct report *r, struct errbuf *err)
{
	char *path = xasprintf("%s/%s", dir, REPORT_STATE_FILE), *buf, *line,
	    *nl;
	size_t len;
	int rc;

	rc = fileio_read(path, REPORT_STATE_MAX, 0, &buf, &len, err);
	free(path);
	if (rc < 0)
		return -1;
	for (line = buf; line < buf + len; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(buf + len - line))) ==
		    NULL)
			nl = buf + len;
		*nl = '\0';
		if (*line != '#' && strlen(line) == (size_t)(nl - line))
			(void)state_line(line, r);
	}
	free(buf);
	return 0;
}

/* ------------------------------------------------------------ files */

static int
report_file(const char *dir, const char *name, char *text,
    struct errbuf *err)
{
	char *path = xasprintf("%s/%s", dir, name);
	int ret;

	ret = atomicfile_replace(path, text, strlen(text), 0644, NULL, err);
	free(path);
	free(text);
	return ret;
}

int
report_write(const struct report *r, const char *dir, struct errbuf *err)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		if (errno != ENOENT || mkdir(dir, 0755) < 0) {
			errbuf_set(err, "state_dir %s: %s", dir,
			    strerror(errno));
			return -1;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		errbuf_set(err, "state_dir %s: not a directory", dir);
		return -1;
	}
	if (report_file(dir, "status.json", report_json(r), err) < 0 ||
	    report_file(dir, "metrics.prom", report_prom(r), err) < 0 ||
	    report_file(dir, REPORT_STATE_FILE, report_state(r), err) < 0)
		return -1;
	return 0;
}
