/*
 * conf_schema - the configuration's options as libconfuse's schema, and
 * the callbacks libconfuse runs on each value as it reads it (conf.c's
 * step 3): numbers, ranges, sockets, records, probes, include(). See
 * conf_schema.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <confuse.h>

#include "conf.h"
#include "conf_scan.h"
#include "conf_schema.h"
#include "expect.h"
#include "paths.h"
#include "xalloc.h"

#define CONF_DEFAULT_SOCKET	"unix:/run/daneguard/daneguard.sock"
#define CONF_DEFAULT_USER	"daneguard"
#define CONF_DEFAULT_STATE_DIR	PATHS_STATE_DIR

/* A parse callback stores this for a number it could not read. */
#define CONF_BAD_NUMBER		LONG_MIN

/*
 * libconfuse hands its callbacks no user pointer, so they find the
 * current load here. Its lexer is global state too, so conf_load is not
 * reentrant either way.
 */
static struct conf_load *conf_current;
/* ------------------------------------------------ libconfuse callbacks */

static void conf_report(cfg_t *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* A problem at cfg's current line, with the section path in front. */
static void
conf_report(cfg_t *cfg, const char *fmt, ...)
{
	struct conf_load *load = conf_current;
	char msg[512], *ctx;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctx = conf_context(load, cfg);
	conf_problem(load, cfg->line, "%s%s", ctx, msg);
	free(ctx);
}

/* libconfuse's own messages (syntax, unknown options) end up here. */
static void
conf_errfunc(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (conf_current == NULL)
		return;
	conf_report(cfg, "%s", msg);
}

/* Numbers are decimal: libconfuse's strtol(..., 0) reads 025 as 21. */
static int
conf_parse_number(cfg_t *cfg, cfg_opt_t *opt, const char *value,
    void *result)
{
	const char *p = value;
	char *end;
	long v;

	if (*p == '-' || *p == '+')
		p++;
	if (!isdigit((unsigned char)*p) || strspn(p, "0123456789") != strlen(p)) {
		conf_report(cfg, "%s \"%s\" is not a decimal number",
		    opt->name, value);
		*(long *)result = CONF_BAD_NUMBER;
		return 0;
	}
	errno = 0;
	v = strtol(value, &end, 10);
	if (errno == ERANGE) {
		conf_report(cfg, "%s %s is out of range", opt->name, value);
		v = CONF_BAD_NUMBER;
	}
	*(long *)result = v;
	return 0;
}

static const struct conf_range {
	const char *name;
	long min;
	long max;
	const char *unit;
} conf_ranges[] = {
	{ "port", 1, 65535, "" },
	{ "ttl", 0, 2147483647L, " seconds" },
	{ "issuer_depth", 1, 16, "" },
	{ "probe_interval", 10, 86400, " seconds" },
	{ "probe_timeout", 1, 300, " seconds" },
	{ "ns_interval", 0, 86400, " seconds; 0 turns G8 off" },
	{ "tlsrpt_days", 1, 366, " days" },
	{ "rrsig_warning", 3600, 366L * 86400, " seconds" },
	{ "rrsig_critical", 0, 366L * 86400, " seconds" },
};

static int
conf_check_range(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, 0);
	size_t i;

	if (v == CONF_BAD_NUMBER)
		return 0;		/* already reported */
	for (i = 0; i < sizeof(conf_ranges) / sizeof(conf_ranges[0]); i++) {
		const struct conf_range *r = &conf_ranges[i];

		if (strcmp(r->name, opt->name) != 0)
			continue;
		if (v < r->min || v > r->max)
			conf_report(cfg, "%s %ld is out of range (%ld-%ld%s)",
			    opt->name, v, r->min, r->max, r->unit);
	}
	return 0;
}

static int
conf_check_nonempty(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (v == NULL || *v == '\0')
		conf_report(cfg, "%s is empty; give a value or leave the "
		    "option out", opt->name);
	return 0;
}

static int
conf_check_rollover(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	enum conf_rollover r;

	if (conf_rollover_parse(v ? v : "", &r) < 0)
		conf_report(cfg, "rollover \"%s\" is not known; use "
		    "\"current+next\" or \"current+issuer\"", v ? v : "");
	return 0;
}

/* A port number, 1-65535, all digits. */
static int
conf_port_ok(const char *p, size_t len)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return 0;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)p[i]))
			return 0;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/*
 * The milter socket, as libmilter's smfi_setconn() takes it:
 * {unix|local}:/path, inet:PORT[@HOST], inet6:PORT[@HOST], or /path.
 */
static int
conf_socket_ok(const char *v)
{
	const char *port, *at;

	if (v[0] == '/')
		return 1;
	if (strncmp(v, "unix:", 5) == 0)
		return v[5] == '/';
	if (strncmp(v, "local:", 6) == 0)
		return v[6] == '/';
	if (strncmp(v, "inet:", 5) == 0)
		port = v + 5;
	else if (strncmp(v, "inet6:", 6) == 0)
		port = v + 6;
	else
		return 0;
	if ((at = strchr(port, '@')) == NULL)
		return conf_port_ok(port, strlen(port));
	return conf_port_ok(port, (size_t)(at - port)) && at[1] != '\0' &&
	    strpbrk(at + 1, " \t") == NULL;
}

static int
conf_check_socket(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (v == NULL || !conf_socket_ok(v))
		conf_report(cfg, "socket \"%s\" is not a milter socket "
		    "(unix:/PATH, inet:PORT@HOST or inet6:PORT@HOST)",
		    v ? v : "");
	return 0;
}

/* records = { "3 1 1", ... }: called for each element as it is read. */
static int
conf_parse_record(cfg_t *cfg, cfg_opt_t *opt, const char *value,
    void *result)
{
	struct tlsa_type type;
	struct errbuf err;

	(void)opt;
	err.msg[0] = '\0';
	if (tlsa_type_parse(value, &type, &err) < 0) {
		/* tlsa's message may quote the value already */
		if (err.msg[0] == '"' && strncmp(err.msg + 1, value,
		    strlen(value)) == 0)
			conf_report(cfg, "records %s", err.msg);
		else
			conf_report(cfg, "records \"%s\": %s", value,
			    err.msg[0] ? err.msg : "not a record type such "
			    "as \"3 1 1\"");
	} else if (expect_type_allowed(type, &err) < 0)
		conf_report(cfg, "records \"%s\": %s", value, err.msg);
	*(const char **)result = value;
	return 0;
}

/* One probe entry (conf_schema.h). */
int
conf_probe_split(const char *value, char **addr, char **local,
    char *why, size_t len)
{
	unsigned char a[sizeof(struct in6_addr)];
	const char *eq = strchr(value, '=');
	char *part[2] = { NULL, NULL };
	size_t i, n = eq != NULL ? 2 : 1;

	*addr = *local = NULL;
	part[0] = eq != NULL ? xstrndup(value, (size_t)(eq - value)) :
	    xstrdup(value);
	if (eq != NULL)
		part[1] = xstrdup(eq + 1);
	for (i = 0; i < n; i++) {
		char *s = part[i], *e;

		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strlen(s);
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		*e = '\0';
		memmove(part[i], s, strlen(s) + 1);
		if (inet_pton(AF_INET, part[i], a) != 1 &&
		    inet_pton(AF_INET6, part[i], a) != 1) {
			if (eq == NULL)
				snprintf(why, len, "probe \"%s\" is not an "
				    "IPv4 or IPv6 address", value);
			else
				snprintf(why, len, "probe \"%s\": \"%s\" is "
				    "not an IPv4 or IPv6 address (write "
				    "\"PUBLISHED = LOCAL\", e.g. \"192.0.2.10 "
				    "= 10.0.0.5\")", value, part[i]);
			free(part[0]);
			free(part[1]);
			return -1;
		}
	}
	*addr = part[0];
	*local = part[1];
	return 0;
}

/* probe = { "192.0.2.10", "2001:db8::10", "192.0.2.11 = 10.0.0.5" } */
static int
conf_parse_probe(cfg_t *cfg, cfg_opt_t *opt, const char *value,
    void *result)
{
	char why[256], *addr, *local;

	(void)opt;
	if (conf_probe_split(value, &addr, &local, why, sizeof(why)) < 0)
		conf_report(cfg, "%s", why);
	free(addr);
	free(local);
	*(const char **)result = value;
	return 0;
}

/*
 * include("PATTERN"): remembered here, read after the main file
 * (conf_load), so that every file is scanned and reported on its own.
 */
static int
conf_func_include(cfg_t *cfg, cfg_opt_t *opt, int argc, const char **argv)
{
	struct conf_load *load = conf_current;

	(void)opt;
	if (argc != 1 || argv[0] == NULL || argv[0][0] == '\0') {
		conf_report(cfg, "include takes one file name or pattern, e.g. "
		    "include(\"hosts.d/*.conf\")");
		return 0;
	}
	if (load->included) {
		conf_report(cfg, "include(\"%s\"): only the main "
		    "configuration file includes files", argv[0]);
		return 0;
	}
	load->incl = xreallocarray(load->incl, load->nincl + 1,
	    sizeof(*load->incl));
	load->incl_line = xreallocarray(load->incl_line, load->nincl + 1,
	    sizeof(*load->incl_line));
	load->incl[load->nincl] = xstrdup(argv[0]);
	load->incl_line[load->nincl++] = cfg->line;
	return 0;
}

/* ------------------------------------------------------------- schema */

static cfg_opt_t conf_cert_opts[] = {
	CFG_STR("chain", NULL, CFGF_NODEFAULT),
	CFG_STR("key", NULL, CFGF_NODEFAULT),
	CFG_STR("next_key", NULL, CFGF_NODEFAULT),
	CFG_STR("passphrase_file", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("issuers", NULL, CFGF_NODEFAULT),
	CFG_END()
};

static cfg_opt_t conf_host_opts[] = {
	CFG_INT_CB("port", 25, CFGF_NONE, conf_parse_number),
	CFG_INT_CB("ttl", 3600, CFGF_NONE, conf_parse_number),
	CFG_STR("rollover", "current+next", CFGF_NONE),
	CFG_INT_CB("issuer_depth", 1, CFGF_NONE, conf_parse_number),
	CFG_STR_LIST_CB("records", "{\"3 1 1\"}", CFGF_NONE, conf_parse_record),
	CFG_STR_LIST_CB("probe", NULL, CFGF_NODEFAULT, conf_parse_probe),
	CFG_STR_LIST("tlsrpt_domains", NULL, CFGF_NODEFAULT),
	CFG_SEC("cert", conf_cert_opts, CFGF_MULTI | CFGF_TITLE),
	CFG_END()
};

static cfg_opt_t conf_dns_opts[] = {
	CFG_STR("trust_anchor_file", CONF_DEFAULT_ANCHOR, CFGF_NONE),
	CFG_STR("resolver", NULL, CFGF_NODEFAULT),
	CFG_STR("resolver_config", NULL, CFGF_NODEFAULT),
	CFG_BOOL("dnssec_health", cfg_true, CFGF_NONE),
	CFG_INT_CB("rrsig_warning", 259200, CFGF_NONE, conf_parse_number),
	CFG_INT_CB("rrsig_critical", 86400, CFGF_NONE, conf_parse_number),
	CFG_END()
};

static cfg_opt_t conf_domain_opts[] = {
	CFG_STR_LIST("hosts", NULL, CFGF_NODEFAULT),
	CFG_BOOL("remote", cfg_true, CFGF_NONE),
	CFG_END()
};

static cfg_opt_t conf_opts[] = {
	CFG_STR("socket", CONF_DEFAULT_SOCKET, CFGF_NONE),
	CFG_STR("user", CONF_DEFAULT_USER, CFGF_NONE),
	CFG_STR("pidfile", NULL, CFGF_NODEFAULT),
	CFG_STR("state_dir", CONF_DEFAULT_STATE_DIR, CFGF_NONE),
	CFG_INT_CB("probe_interval", 300, CFGF_NONE, conf_parse_number),
	CFG_INT_CB("probe_timeout", 10, CFGF_NONE, conf_parse_number),
	CFG_INT_CB("ns_interval", 900, CFGF_NONE, conf_parse_number),
	CFG_BOOL("xclient", cfg_false, CFGF_NONE),
	CFG_INT_CB("tlsrpt_days", 14, CFGF_NONE, conf_parse_number),
	CFG_STR("tlsa_file", NULL, CFGF_NODEFAULT),
	CFG_STR("sendmail_access", NULL, CFGF_NODEFAULT),
	CFG_SEC("dns", conf_dns_opts, CFGF_NONE),
	CFG_SEC("host", conf_host_opts, CFGF_MULTI | CFGF_TITLE),
	CFG_SEC("domain", conf_domain_opts, CFGF_MULTI | CFGF_TITLE),
	CFG_STR("domains_file", NULL, CFGF_NODEFAULT),
	CFG_FUNC("include", conf_func_include),
	CFG_END()
};

static void
conf_set_validators(cfg_t *cfg)
{
	static const char *const ranges[] = {
		"probe_interval", "probe_timeout", "ns_interval",
		"tlsrpt_days", "host|port", "host|ttl", "host|issuer_depth",
		"dns|rrsig_warning", "dns|rrsig_critical"
	};
	static const char *const paths[] = {
		"user", "pidfile", "state_dir", "tlsa_file",
		"sendmail_access", "domains_file",
		"dns|trust_anchor_file", "dns|resolver", "dns|resolver_config",
		"host|cert|chain", "host|cert|key", "host|cert|next_key",
		"host|cert|passphrase_file"
	};
	size_t i;

	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		cfg_set_validate_func(cfg, ranges[i], conf_check_range);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		cfg_set_validate_func(cfg, paths[i], conf_check_nonempty);
	cfg_set_validate_func(cfg, "socket", conf_check_socket);
	cfg_set_validate_func(cfg, "host|rollover", conf_check_rollover);
}

cfg_t *
conf_schema_init(struct conf_load *load)
{
	cfg_t *cfg;

	conf_current = load;
	if ((cfg = cfg_init(conf_opts, CFGF_NONE)) == NULL) {
		conf_current = NULL;
		return NULL;
	}
	cfg_set_error_function(cfg, conf_errfunc);
	conf_set_validators(cfg);
	return cfg;
}

void
conf_schema_free(cfg_t *cfg)
{
	cfg_free(cfg);
	conf_current = NULL;
}
