/*
 * conf_domain - the domain sections of the configuration and the lines
 * of its domains_file (a hoster's many mail domains, one a line): see
 * conf_scan.h for the calls, daneguard.conf(5) for the meaning.
 *
 * Decisions:
 *  - A domains_file line is a domain section with the defaults (no
 *    hosts list, remote = yes); a domain both in a section and in the
 *    file, or twice in the file, is a problem naming both places (which
 *    settings would win is not obvious).
 *  - Problems in domains_file name the file and its line after the
 *    configuration's own file:line of the option.
 *  - hosts must name host sections; that is checked after the included
 *    files are merged (a host may be described in one of them).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_scan.h"
#include "fileio.h"
#include "tlsa.h"
#include "xalloc.h"

#define CONF_DOMAINS_FILE_MAX	(16 * 1024 * 1024)

/* The name without its final dot, malloc'd. */
static char *
domain_name(const char *v)
{
	size_t n = strlen(v);

	return xasprintf("%.*s", (int)(n > 0 && v[n - 1] == '.' ? n - 1 : n),
	    v);
}

static struct conf_domain *
domain_find(struct conf *conf, const char *name)
{
	size_t i;

	for (i = 0; i < conf->ndomains; i++)
		if (tlsa_name_equal(conf->domains[i].name, name))
			return &conf->domains[i];
	return NULL;
}

static struct conf_domain *
domain_add(struct conf *conf, const char *name, const char *file, int line)
{
	struct conf_domain *d;

	conf->domains = xreallocarray(conf->domains, conf->ndomains + 1,
	    sizeof(*conf->domains));
	d = &conf->domains[conf->ndomains++];
	memset(d, 0, sizeof(*d));
	d->name = domain_name(name);
	d->remote = 1;
	d->line = line;
	d->file = xstrdup(file);
	return d;
}

/* The lines of domains_file (the option is at optline of load's file). */
static void
domains_file_read(struct conf_load *load, struct conf *conf, int optline)
{
	const char *path = conf->domains_file;
	struct conf_domain *d;
	struct errbuf err;
	char *buf, *p, *eol, *w, *end;
	size_t len;
	int line = 0;

	if (fileio_read(path, CONF_DOMAINS_FILE_MAX, 0, &buf, &len,
	    &err) < 0) {
		conf_problem(load, optline, "domains_file: %s", err.msg);
		return;
	}
	if (memchr(buf, '\0', len) != NULL) {
		conf_problem(load, optline, "domains_file %s: NUL byte; it "
		    "should hold one mail domain a line", path);
		fileio_free(buf, len, 0);
		return;
	}
	for (p = buf; *p != '\0'; p = eol) {
		line++;
		eol = p + strcspn(p, "\n");
		if (*eol == '\n')
			*eol++ = '\0';
		if ((w = strchr(p, '#')) != NULL)
			*w = '\0';
		w = p + strspn(p, " \t\r");
		end = w + strcspn(w, " \t\r");
		if (*w == '\0')
			continue;
		if (end[strspn(end, " \t\r")] != '\0') {
			conf_problem(load, optline, "domains_file %s:%d: more "
			    "than one word; write one mail domain a line",
			    path, line);
			continue;
		}
		*end = '\0';
		if (!conf_hostname_ok(w) || strlen(w) > 240) {
			conf_problem(load, optline, "domains_file %s:%d: \"%s\" "
			    "is not a domain name (letters, digits, hyphens, "
			    "dots)", path, line, w);
			continue;
		}
		if ((d = domain_find(conf, w)) != NULL) {
			conf_problem(load, optline, "domains_file %s:%d: "
			    "domain \"%s\" is also at %s:%d; keep one", path,
			    line, w, d->file, d->line);
			continue;
		}
		domain_add(conf, w, path, line);
	}
	fileio_free(buf, len, 0);
}

void
conf_domains_copy(struct conf_load *load, cfg_t *cfg, struct conf *conf)
{
	struct conf_domain *d;
	cfg_t *sec;
	size_t i, k, n = cfg_size(cfg, "domain");
	long idx;
	int line;
	const char *v;

	for (i = 0; i < n; i++) {
		sec = cfg_getnsec(cfg, "domain", (unsigned)i);
		idx = conf_sect_find(load, -1, "domain", cfg_title(sec));
		line = idx >= 0 ? load->sect[idx].line : 0;
		v = cfg_title(sec);
		if (load->included) {
			conf_problem(load, line, "domain \"%s\": domain "
			    "sections belong in the main configuration "
			    "file", v);
			continue;
		}
		if (!conf_hostname_ok(v) || strlen(v) > 240) {
			conf_problem(load, line, "domain \"%s\": not a domain "
			    "name (letters, digits, hyphens, dots)", v);
			continue;
		}
		if (domain_find(conf, v) != NULL)
			continue;	/* conf_scan reported it */
		d = domain_add(conf, v, load->path, line);
		d->remote = cfg_getbool(sec, "remote") ? 1 : 0;
		d->nhosts = cfg_size(sec, "hosts");
		d->hosts = xcalloc(d->nhosts ? d->nhosts : 1,
		    sizeof(*d->hosts));
		for (k = 0; k < d->nhosts; k++)
			d->hosts[k] = domain_name(cfg_getnstr(sec, "hosts",
			    (unsigned)k));
	}
	if ((v = cfg_getstr(cfg, "domains_file")) != NULL && v[0] != '\0') {
		line = 0;
		for (i = 0; i < load->nset; i++)
			if (load->set[i].sect < 0 &&
			    strcmp(load->set[i].name, "domains_file") == 0)
				line = load->set[i].line;
		conf->domains_file = xstrdup(v);
		if (!load->included)
			domains_file_read(load, conf, line);
	}
}

int
conf_domains_check(const struct conf *conf, struct errbuf *err)
{
	const struct conf_domain *d;
	size_t i, k, h, used;
	int bad = 0;

	for (i = 0; i < conf->ndomains; i++) {
		d = &conf->domains[i];
		for (k = 0; k < d->nhosts; k++) {
			for (h = 0; h < conf->nhosts; h++)
				if (tlsa_name_equal(conf->hosts[h].name,
				    d->hosts[k]))
					break;
			if (h < conf->nhosts)
				continue;
			used = strlen(err->msg);
			snprintf(err->msg + used, sizeof(err->msg) - used,
			    "%s%s:%d: domain \"%s\": hosts: \"%s\" is not a "
			    "host section of the configuration; list the "
			    "hosts this machine serves for the domain",
			    used ? "\n" : "", d->file, d->line, d->name,
			    d->hosts[k]);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

void
conf_domains_free(struct conf *conf)
{
	size_t i, k;

	for (i = 0; i < conf->ndomains; i++) {
		for (k = 0; k < conf->domains[i].nhosts; k++)
			free(conf->domains[i].hosts[k]);
		free(conf->domains[i].hosts);
		free(conf->domains[i].name);
		free(conf->domains[i].file);
	}
	free(conf->domains);
	free(conf->domains_file);
}
