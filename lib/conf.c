/*
 * conf - see conf.h.
 *
 * conf_load works in four steps:
 *
 *  1. The file is read whole, so an unreadable file is one clean line.
 *  2. conf_scan makes one pass with a small lexer that mirrors
 *     libconfuse's. It finds where each section starts (libconfuse
 *     forgets this, and "cert \"rsa\": chain is required" should point at
 *     the cert, not at its closing brace), duplicate titles (libconfuse
 *     silently lets the second host "x" replace the first), and sections
 *     left open at the end of the file (libconfuse accepts them). It also
 *     blanks every comment: libconfuse 3.3 counts one line too many at the
 *     end of each comment, which would shift every later line number.
 *  3. libconfuse parses the blanked text with the schema and callbacks
 *     of conf_schema.c. They record a problem and return 0, so one run
 *     reports every bad value; only syntax errors stop the parse.
 *  4. What libconfuse cannot check per value (a host without a cert, a
 *     cert without a chain, no host at all) is checked on the tree, and
 *     the tree is copied into a struct conf.
 *
 * Problems are collected with their line and sorted, so the caller gets
 * them in file order whichever step found them.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <confuse.h>

#include "conf.h"
#include "fileio.h"
#include "conf_scan.h"
#include "conf_schema.h"
#include "xalloc.h"

#define CONF_FILE_MAX		(1024 * 1024)

/* ------------------------------------------------------ tree -> struct */

int
conf_hostname_ok(const char *name)
{
	const char *p = name, *label;
	size_t len = strlen(name);

	if (len == 0 || len > 254 || (len == 254 && name[253] != '.'))
		return 0;
	while (*p != '\0') {
		label = p;
		while (isalnum((unsigned char)*p) || *p == '-')
			p++;
		if (p == label || p - label > 63 || *label == '-' ||
		    p[-1] == '-')
			return 0;
		if (*p == '\0')
			break;
		if (*p != '.')
			return 0;
		p++;			/* a trailing dot is fine */
	}
	return 1;
}

static char *
conf_strdup_opt(cfg_t *cfg, const char *name)
{
	const char *v = cfg_getstr(cfg, name);

	return v ? xstrdup(v) : NULL;
}

/* Checks on the whole tree, then the copy; problems go to load. */
static void
conf_copy_cert(struct conf_load *load, cfg_t *sec, const char *host,
    long hostidx, struct conf_cert *cert)
{
	long idx = conf_sect_find(load, hostidx, "cert", cfg_title(sec));
	int line = idx >= 0 ? load->sect[idx].line : 0;

	cert->name = xstrdup(cfg_title(sec));
	cert->chain = conf_strdup_opt(sec, "chain");
	cert->key = conf_strdup_opt(sec, "key");
	cert->next_key = conf_strdup_opt(sec, "next_key");
	cert->passphrase_file = conf_strdup_opt(sec, "passphrase_file");
	cert->nissuers = cfg_size(sec, "issuers");
	if (cert->nissuers > 0) {
		size_t i;

		cert->issuers = xcalloc(cert->nissuers,
		    sizeof(*cert->issuers));
		for (i = 0; i < cert->nissuers; i++) {
			cert->issuers[i] = xstrdup(cfg_getnstr(sec, "issuers",
			    i));
			if (cert->issuers[i][0] == '\0')
				conf_problem(load, line, "host \"%s\": cert "
				    "\"%s\": issuers: an empty file name",
				    host, cert->name);
		}
	}
	if (cert->chain == NULL)
		conf_problem(load, line, "host \"%s\": cert \"%s\": chain is "
		    "required (the chain file the MTA serves, leaf first)",
		    host, cert->name);
}

static void
conf_copy_host(struct conf_load *load, cfg_t *sec, struct conf_host *host)
{
	long idx = conf_sect_find(load, -1, "host", cfg_title(sec));
	int line = idx >= 0 ? load->sect[idx].line : 0;
	struct errbuf err;
	const char *v;
	size_t i, n;

	host->name = xstrdup(cfg_title(sec));
	if (!conf_hostname_ok(host->name))
		conf_problem(load, line, "host \"%s\": not a host name "
		    "(letters, digits, hyphens, dots)", host->name);
	host->port = (unsigned)cfg_getint(sec, "port");
	host->ttl = cfg_getint(sec, "ttl");
	host->issuer_depth = (int)cfg_getint(sec, "issuer_depth");
	v = cfg_getstr(sec, "rollover");
	if (conf_rollover_parse(v ? v : "", &host->rollover) < 0)
		host->rollover = CONF_ROLLOVER_CURRENT_NEXT;	/* reported */

	n = cfg_size(sec, "records");
	if (n == 0)
		conf_problem(load, line, "host \"%s\": records is empty; "
		    "list at least one type, e.g. records = { \"3 1 1\" }",
		    host->name);
	host->records = xcalloc(n, sizeof(*host->records));
	for (i = 0; i < n; i++)
		if (tlsa_type_parse(cfg_getnstr(sec, "records", i),
		    &host->records[host->nrecords], &err) == 0)
			host->nrecords++;	/* a bad one is reported */

	n = cfg_size(sec, "probe");
	if (n > 0) {
		char why[256];

		host->probe = xcalloc(n, sizeof(*host->probe));
		host->probe_local = xcalloc(n, sizeof(*host->probe_local));
		for (i = 0; i < n; i++)
			if (conf_probe_split(cfg_getnstr(sec, "probe", i),
			    &host->probe[host->nprobe],
			    &host->probe_local[host->nprobe], why,
			    sizeof(why)) == 0)
				host->nprobe++;	/* a bad one is reported */
	}

	n = cfg_size(sec, "tlsrpt_domains");
	host->tlsrpt_domains = xcalloc(n ? n : 1,
	    sizeof(*host->tlsrpt_domains));
	for (i = 0; i < n; i++) {
		v = cfg_getnstr(sec, "tlsrpt_domains", i);
		if (!conf_hostname_ok(v) || strlen(v) > 240) {
			conf_problem(load, line, "host \"%s\": tlsrpt_domains: "
			    "\"%s\" is not a domain name (the mail domain "
			    "whose _smtp._tls TXT record to check, e.g. "
			    "\"example.com\")", host->name, v);
			continue;
		}
		host->tlsrpt_domains[host->ntlsrpt_domains++] = xstrdup(v);
	}

	n = cfg_size(sec, "cert");
	if (n == 0)
		conf_problem(load, line, "host \"%s\": no cert section; add "
		    "cert \"NAME\" { chain = \"/PATH\" } per algorithm",
		    host->name);
	host->certs = xcalloc(n, sizeof(*host->certs));
	for (i = 0; i < n; i++)
		conf_copy_cert(load, cfg_getnsec(sec, "cert", (unsigned)i),
		    host->name, idx, &host->certs[i]);
	host->ncerts = n;
}

static struct conf *
conf_copy(struct conf_load *load, cfg_t *cfg)
{
	struct conf *conf = xcalloc(1, sizeof(*conf));
	cfg_t *dns = cfg_getsec(cfg, "dns");
	size_t i, n;

	conf->path = xstrdup(load->path);
	conf->socket = conf_strdup_opt(cfg, "socket");
	conf->user = conf_strdup_opt(cfg, "user");
	conf->pidfile = conf_strdup_opt(cfg, "pidfile");
	conf->state_dir = conf_strdup_opt(cfg, "state_dir");
	conf->probe_interval = cfg_getint(cfg, "probe_interval");
	conf->probe_timeout = cfg_getint(cfg, "probe_timeout");
	conf->ns_interval = cfg_getint(cfg, "ns_interval");
	conf->xclient = cfg_getbool(cfg, "xclient") ? 1 : 0;
	conf->tlsrpt_days = cfg_getint(cfg, "tlsrpt_days");
	conf->tlsa_file = conf_strdup_opt(cfg, "tlsa_file");
	conf->sendmail_access = conf_strdup_opt(cfg, "sendmail_access");
	if (dns != NULL) {
		conf->dns.trust_anchor_file =
		    conf_strdup_opt(dns, "trust_anchor_file");
		conf->dns.resolver = conf_strdup_opt(dns, "resolver");
		conf->dns.resolver_config =
		    conf_strdup_opt(dns, "resolver_config");
		conf->dns.dnssec_health = cfg_getbool(dns, "dnssec_health");
		conf->dns.rrsig_warning = cfg_getint(dns, "rrsig_warning");
		conf->dns.rrsig_critical = cfg_getint(dns, "rrsig_critical");
	} else {
		conf->dns.trust_anchor_file = xstrdup(CONF_DEFAULT_ANCHOR);
		conf->dns.rrsig_warning = 259200;
		conf->dns.rrsig_critical = 86400;
	}

	for (i = 0; load->included && i < load->nset; i++)
		if (load->set[i].sect < 0)
			conf_problem(load, load->set[i].line, "%s: only host "
			    "sections belong in an included file; set it in "
			    "the main configuration file", load->set[i].name);
	n = cfg_size(cfg, "host");
	if (n == 0 && !load->included && load->nincl == 0 &&
	    !load->hosts_optional)
		conf_problem(load, load->nlines, "no host section; describe "
		    "each MX host this machine serves with host \"NAME\" "
		    "{ cert \"NAME\" { chain = \"/PATH\" } }");
	conf->hosts = xcalloc(n, sizeof(*conf->hosts));
	for (i = 0; i < n; i++)
		conf_copy_host(load, cfg_getnsec(cfg, "host", (unsigned)i),
		    &conf->hosts[i]);
	conf->nhosts = n;
	conf_domains_copy(load, cfg, conf);
	return conf;
}

/* ------------------------------------------------------------ reporting */

static int
conf_problem_cmp(const void *a, const void *b)
{
	const struct conf_problem *pa = a, *pb = b;

	if (pa->line != pb->line)
		return pa->line < pb->line ? -1 : 1;
	return pa->seq < pb->seq ? -1 : pa->seq > pb->seq;
}

/*
 * Every problem on its own line, in file order. An errbuf holds 1 KiB;
 * when they do not all fit, the last line says how many were left out.
 */
static void
conf_report_all(struct conf_load *load, struct errbuf *err)
{
	char line[ERRBUF_SIZE], tail[80];
	size_t i, used = 0, len;

	if (err == NULL)
		return;
	qsort(load->prob, load->nprob, sizeof(*load->prob), conf_problem_cmp);
	err->msg[0] = '\0';
	for (i = 0; i < load->nprob; i++) {
		const struct conf_problem *p = &load->prob[i];

		if (p->line > 0)
			snprintf(line, sizeof(line), "%s:%d: %s", load->path,
			    p->line, p->text);
		else
			snprintf(line, sizeof(line), "%s: %s", load->path,
			    p->text);
		len = strlen(line) + (used ? 1 : 0);
		/* Keep room for the "more problems" line unless this is the last. */
		if (used + len + (i + 1 < load->nprob ? sizeof(tail) : 0) >=
		    sizeof(err->msg))
			break;
		snprintf(err->msg + used, sizeof(err->msg) - used, "%s%s",
		    used ? "\n" : "", line);
		used += len;
	}
	if (i < load->nprob) {
		snprintf(tail, sizeof(tail), "%zu more problem%s not shown",
		    load->nprob - i, load->nprob - i == 1 ? "" : "s");
		snprintf(err->msg + used, sizeof(err->msg) - used,
		    "%s%s: %s", used ? "\n" : "", load->path, tail);
	}
}

/* ------------------------------------------------------------- public */

/* The whole file, NUL-terminated; NULL with err set. */
static char *
conf_read(const char *path, size_t *lenp, struct errbuf *err)
{
	char *buf;

	if (fileio_read(path, CONF_FILE_MAX, 0, &buf, lenp, err) < 0)
		return NULL;
	return buf;
}

/*
 * Parse one file: the main one (included 0; its include() patterns go to
 * *incl, *incl_line, *nincl, owned by the caller) or one it includes.
 */
static int
conf_load_file(const char *path, int included, unsigned flags,
    struct conf **out, char ***incl, int **incl_line, size_t *nincl,
    struct errbuf *err)
{
	struct conf_load load;
	struct conf *conf = NULL;
	cfg_t *cfg;
	char *text, *nul;
	size_t len, i;
	int rc;

	*out = NULL;
	if ((text = conf_read(path, &len, err)) == NULL)
		return -1;
	memset(&load, 0, sizeof(load));
	load.path = path;
	load.included = included;
	load.hosts_optional = (flags & CONF_HOSTS_OPTIONAL) != 0;
	if ((nul = memchr(text, '\0', len)) != NULL) {
		int line = 1;
		char *p;

		for (p = text; p < nul; p++)
			line += *p == '\n';
		errbuf_set(err, "%s:%d: NUL byte; is this the configuration "
		    "file?", path, line);
		free(text);
		return -1;
	}

	/* After an unclosed comment or string the rest is one token. */
	if (conf_scan(&load, text) < 0) {
		conf_report_all(&load, err);
		rc = -1;
		goto done;
	}
	if ((cfg = conf_schema_init(&load)) == NULL) {
		errbuf_set(err, "%s: cannot set up the parser: %s", path,
		    strerror(errno));
		rc = -1;
		goto done;
	}
	rc = cfg_parse_buf(cfg, text);
	if (rc == CFG_SUCCESS)
		conf = conf_copy(&load, cfg);
	else if (load.nprob == 0)
		conf_problem(&load, 0, "syntax error");	/* libconfuse was silent */
	conf_schema_free(cfg);

	if (load.nprob > 0) {
		conf_report_all(&load, err);
		conf_free(conf);
		rc = -1;
	} else {
		*out = conf;
		rc = 0;
	}
done:
	for (i = 0; i < load.nprob; i++)
		free(load.prob[i].text);
	free(load.prob);
	for (i = 0; i < load.nsect; i++) {
		free(load.sect[i].name);
		free(load.sect[i].title);
	}
	free(load.sect);
	for (i = 0; i < load.nset; i++)
		free(load.set[i].name);
	free(load.set);
	free(text);
	if (incl != NULL) {
		*incl = load.incl;
		*incl_line = load.incl_line;
		*nincl = load.nincl;
	} else {
		for (i = 0; i < load.nincl; i++)
			free(load.incl[i]);
		free(load.incl);
		free(load.incl_line);
	}
	return rc;
}

/* Add msg to err, one problem per line, as room allows. */
static void
conf_err_add(struct errbuf *err, const char *msg)
{
	size_t used = strlen(err->msg);

	if (used == 0)
		snprintf(err->msg, sizeof(err->msg), "%s", msg);
	else if (used + 1 < sizeof(err->msg))
		snprintf(err->msg + used, sizeof(err->msg) - used, "\n%s",
		    msg);
}

/* A directory that is missing matches nothing; one that cannot be read
 * is an error. */
static int
conf_glob_err(const char *epath, int eerrno)
{
	(void)epath;
	return eerrno != ENOENT && eerrno != ENOTDIR;
}

/* Move the hosts of sub (a file included by conf) into conf. */
static int
conf_merge(struct conf *conf, struct conf *sub, struct errbuf *err)
{
	char msg[600];
	size_t i, k;
	int bad = 0;

	for (i = 0; i < sub->nhosts; i++)
		for (k = 0; k < conf->nhosts; k++)
			if (strcasecmp(sub->hosts[i].name,
			    conf->hosts[k].name) == 0) {
				snprintf(msg, sizeof(msg), "%s: host \"%s\" is "
				    "described twice (again in another file "
				    "the configuration includes); keep one",
				    sub->path, sub->hosts[i].name);
				conf_err_add(err, msg);
				bad = 1;
			}
	if (bad)
		return -1;
	conf->hosts = xreallocarray(conf->hosts, conf->nhosts + sub->nhosts,
	    sizeof(*conf->hosts));
	memcpy(conf->hosts + conf->nhosts, sub->hosts,
	    sub->nhosts * sizeof(*sub->hosts));
	conf->nhosts += sub->nhosts;
	sub->nhosts = 0;
	return 0;
}

int
conf_load(const char *path, struct conf **out, struct errbuf *err)
{
	return conf_load_flags(path, 0, out, err);
}

int
conf_load_flags(const char *path, unsigned flags, struct conf **out,
    struct errbuf *err)
{
	struct conf *conf = NULL, *sub;
	struct errbuf suberr;
	char **incl = NULL, *pat, *slash, msg[600];
	int *incl_line = NULL, bad = 0, g;
	size_t nincl = 0, i, k;
	glob_t gl;

	*out = NULL;
	if (conf_load_file(path, 0, flags, &conf, &incl, &incl_line, &nincl,
	    err) < 0)
		goto done;
	err->msg[0] = '\0';
	for (i = 0; i < nincl; i++) {
		/* Relative to the directory of the main file. */
		slash = strrchr(path, '/');
		pat = incl[i][0] == '/' || slash == NULL ? xstrdup(incl[i]) :
		    xasprintf("%.*s/%s", (int)(slash - path), path, incl[i]);
		memset(&gl, 0, sizeof(gl));
		g = glob(pat, 0, conf_glob_err, &gl);
		if (g == GLOB_NOMATCH && strpbrk(incl[i], "*?[") == NULL) {
			snprintf(msg, sizeof(msg), "%s:%d: include(\"%s\"): "
			    "%s: no such file", path, incl_line[i], incl[i],
			    pat);
			conf_err_add(err, msg);
			bad = 1;
		} else if (g != 0 && g != GLOB_NOMATCH) {
			snprintf(msg, sizeof(msg), "%s:%d: include(\"%s\"): "
			    "cannot read %s: %s", path, incl_line[i], incl[i],
			    pat, strerror(errno));
			conf_err_add(err, msg);
			bad = 1;
		}
		for (k = 0; g == 0 && k < gl.gl_pathc; k++) {
			if (conf_load_file(gl.gl_pathv[k], 1, flags, &sub, NULL,
			    NULL, NULL, &suberr) < 0) {
				conf_err_add(err, suberr.msg);
				bad = 1;
				continue;
			}
			if (conf_merge(conf, sub, err) < 0)
				bad = 1;
			conf_free(sub);
		}
		globfree(&gl);
		free(pat);
	}
	if (!bad && conf->nhosts == 0 && !(flags & CONF_HOSTS_OPTIONAL)) {
		snprintf(msg, sizeof(msg), "%s: no host section in it or in the "
		    "files it includes; describe each MX host this machine "
		    "serves with host \"NAME\" { cert \"NAME\" { chain = "
		    "\"/PATH\" } }", path);
		conf_err_add(err, msg);
		bad = 1;
	}
	if (!bad && conf_domains_check(conf, err) < 0)
		bad = 1;
	if (bad) {
		conf_free(conf);
		conf = NULL;
	}
done:
	for (i = 0; i < nincl; i++)
		free(incl[i]);
	free(incl);
	free(incl_line);
	if (conf == NULL)
		return -1;
	*out = conf;
	return 0;
}

void
conf_free(struct conf *conf)
{
	size_t i, j, k;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->nhosts; i++) {
		struct conf_host *h = &conf->hosts[i];

		for (j = 0; j < h->ncerts; j++) {
			free(h->certs[j].name);
			free(h->certs[j].chain);
			free(h->certs[j].key);
			free(h->certs[j].next_key);
			free(h->certs[j].passphrase_file);
			for (k = 0; k < h->certs[j].nissuers; k++)
				free(h->certs[j].issuers[k]);
			free(h->certs[j].issuers);
		}
		free(h->certs);
		for (j = 0; j < h->nprobe; j++) {
			free(h->probe[j]);
			free(h->probe_local[j]);
		}
		free(h->probe);
		free(h->probe_local);
		for (j = 0; j < h->ntlsrpt_domains; j++)
			free(h->tlsrpt_domains[j]);
		free(h->tlsrpt_domains);
		free(h->records);
		free(h->name);
	}
	free(conf->hosts);
	free(conf->dns.trust_anchor_file);
	free(conf->dns.resolver);
	free(conf->dns.resolver_config);
	free(conf->path);
	free(conf->socket);
	free(conf->user);
	free(conf->pidfile);
	free(conf->state_dir);
	free(conf->tlsa_file);
	free(conf->sendmail_access);
	conf_domains_free(conf);
	free(conf);
}

int
conf_rollover_parse(const char *name, enum conf_rollover *out)
{
	if (strcmp(name, "current+next") == 0)
		*out = CONF_ROLLOVER_CURRENT_NEXT;
	else if (strcmp(name, "current+issuer") == 0)
		*out = CONF_ROLLOVER_CURRENT_ISSUER;
	else
		return -1;
	return 0;
}

const char *
conf_rollover_name(enum conf_rollover rollover)
{
	switch (rollover) {
	case CONF_ROLLOVER_CURRENT_NEXT:
		return "current+next";
	case CONF_ROLLOVER_CURRENT_ISSUER:
		return "current+issuer";
	}
	return "unknown";
}
