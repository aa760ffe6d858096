/*
 * conf_scan - private to conf.c and conf_scan.c: what the scan of a
 * configuration file finds, and the problems both passes report.
 */
#ifndef DG_CONF_SCAN_H
#define DG_CONF_SCAN_H

#include <stddef.h>

#include <confuse.h>

#include "conf.h"
#include "errbuf.h"

/* A section as conf_scan saw it. */
struct conf_sect {
	char *name;		/* "host", "cert", "dns", or an unknown word */
	char *title;		/* decoded title, or NULL */
	int line;		/* line of the section's name */
	int end;		/* line of its closing brace; 0 while open */
	long parent;		/* index into the table, -1 at top level */
};

/* An option assignment as conf_scan saw it. */
struct conf_set {
	char *name;
	long sect;		/* enclosing section, -1 at top level */
	int line;
};

struct conf_problem {
	int line;		/* 0: the problem has no line */
	size_t seq;		/* keeps problems on one line in order */
	char *text;
};

/* Everything one conf_load needs while libconfuse calls back. */
struct conf_load {
	const char *path;
	int included;		/* a file include() named: host sections only */
	int hosts_optional;	/* CONF_HOSTS_OPTIONAL */
	char **incl;		/* include() patterns of the main file */
	int *incl_line;
	size_t nincl;
	int nlines;
	struct conf_sect *sect;
	size_t nsect, asect;
	struct conf_set *set;
	size_t nset, aset;
	struct conf_problem *prob;
	size_t nprob, aprob;
};

/* Record a problem at line (0: none) of load's file. */
void conf_problem(struct conf_load *load, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Scan text (NUL-terminated, modified: comments are blanked so that
 * libconfuse counts lines right), filling load's section and option
 * tables and recording problems. Returns 0, or -1 when an unterminated
 * comment or string makes the text unfit for libconfuse.
 */
int conf_scan(struct conf_load *load, char *text);

/* Index of the scanned section name/title under parent, or -1. */
long conf_sect_find(const struct conf_load *load, long parent,
    const char *name, const char *title);

/*
 * "host \"mx1\": cert \"rsa\": " for libconfuse section cfg, "" at top
 * level; malloc'd.
 */
char *conf_context(const struct conf_load *load, cfg_t *cfg);

/*
 * conf_domain.c: copy the domain sections of cfg and the lines of its
 * domains_file into conf (problems go to load); check, once the included
 * files are merged, that their hosts name host sections (err gets one
 * line per problem; returns 0 or -1); free them.
 */
void conf_domains_copy(struct conf_load *load, cfg_t *cfg,
    struct conf *conf);
int conf_domains_check(const struct conf *conf, struct errbuf *err);
void conf_domains_free(struct conf *conf);

#endif
