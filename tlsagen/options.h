/*
 * options - tlsagen's command line: what it says, and whether it makes
 * sense. See tlsagen(1).
 */
#ifndef TLSAGEN_OPTIONS_H
#define TLSAGEN_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "conf.h"
#include "tlsa.h"

#define EXIT_CHECK_FAILED	1
#define EXIT_ERROR		2

struct options {
	const char *config;
	char **hosts;			/* -H, in order, duplicates dropped */
	size_t nhosts;
	unsigned port;
	int port_set;
	long ttl;
	int ttl_set;
	struct tlsa_type *types;	/* -r, in order */
	size_t ntypes;
	enum conf_rollover rollover;
	int rollover_set;
	int issuer_depth;
	int issuer_depth_set;
	char **next;			/* --next */
	size_t nnext;
	const char *passphrase_file;
	enum tlsa_form form;
	int form_set;
	const char *output;
	const char *depfile;
	int check;
	const char *zone;
	const char *origin;
	const char *new_key;
	int dns;			/* --check --dns: the pre-deploy gate */
	int sync;			/* --sync: publish and retire records */
	long min_age;			/* --min-age, seconds */
	int min_age_set;
	const char *state;		/* --state FILE */
	const char *resolver_config;	/* --resolver-config FILE */
	long timeout;			/* --timeout, seconds */
	int timeout_set;
	int quiet;
	char **files;			/* positional arguments */
	size_t nfiles;
};


/* Print the usage summary to fp. */
void usage(FILE *fp);

/* Append s (not copied) to the array *v of *n strings. */
void add_string(char ***v, size_t *n, char *s);

/*
 * Parse argv into o (defaults set first). Returns 0, 1 when -h or -V was
 * answered (exit 0), or -1 after an error message (exit 2).
 */
int parse_options(int argc, char **argv, struct options *o);

/* Options that do not go together, or are missing. 0, or -1 after a message. */
int check_options(const struct options *o);

/* The host description for command-line mode; name may be NULL. */
void options_host(const struct options *o, const char *name,
    struct conf_host *h);

#endif
