/*
 * conf - the configuration file shared by tlsagen and daneguard.
 *
 * Parsed once with libconfuse, validated (errors carry file:line), then
 * copied into an immutable struct conf: callers treat every field as
 * read-only, and a reload builds a new struct conf and swaps pointers.
 * See daneguard.conf(5) for the options.
 */
#ifndef DG_CONF_H
#define DG_CONF_H

#include <stddef.h>

#include "errbuf.h"
#include "tlsa.h"

enum conf_rollover {
	CONF_ROLLOVER_CURRENT_NEXT,	/* "current+next" (default) */
	CONF_ROLLOVER_CURRENT_ISSUER	/* "current+issuer" */
};

/* cert "NAME" { chain = ... key = ... next_key = ... } */
struct conf_cert {
	char *name;		/* section title, e.g. "rsa" */
	char *chain;		/* chain file, leaf first (required) */
	char *key;		/* private key file, or NULL (checked against the leaf) */
	char *next_key;		/* next key (private or public), or NULL */
	char *passphrase_file;	/* for an encrypted key, or NULL */
	char **issuers;		/* current+issuer: every issuing CA to
				 * publish a 2 x x record for (a CA that
				 * issues from sibling intermediates) */
	size_t nissuers;
};

/* host "NAME" { ... } */
struct conf_host {
	char *name;		/* MX host name as given, e.g. "mx1.example.com" */
	unsigned port;		/* default 25 */
	long ttl;		/* default 3600 */
	enum conf_rollover rollover;
	int issuer_depth;	/* current+issuer: depth of the CA, default 1 */
	struct tlsa_type *records;	/* record types, default { 3 1 1 } */
	size_t nrecords;
	char **probe;		/* probe addresses; NULL/0: the host's A/AAAA */
	char **probe_local;	/* per entry "ADDR = LOCAL": LOCAL, else NULL */
	size_t nprobe;
	struct conf_cert *certs;
	size_t ncerts;
	char **tlsrpt_domains;	/* mail domains whose _smtp._tls to check */
	size_t ntlsrpt_domains;
	int keyless;		/* never from a file: another machine's MX
				 * host (a domain's, or --remote), checked
				 * without files (G1-G3, G7); no certs */
};

/* domain "NAME" { ... }, and each line of domains_file */
struct conf_domain {
	char *name;		/* mail domain as given (no final dot) */
	char **hosts;		/* host sections that must be MX targets;
				 * none listed: at least one must be */
	size_t nhosts;
	int remote;		/* check its other MX hosts without keys
				 * (default yes) */
	int line;		/* where it was described, for messages */
	char *file;		/* that file (the conf or domains_file) */
};

struct conf_dns {
	char *trust_anchor_file;	/* default /usr/share/dns/root.key */
	char *resolver;			/* or NULL */
	char *resolver_config;		/* or NULL */
	int dnssec_health;		/* G9 on; default 0 */
	long rrsig_warning;		/* G9 seconds, default 3 days */
	long rrsig_critical;		/* G9 seconds, default 1 day */
};

struct conf {
	char *path;			/* the file this came from */
	/* milter options */
	char *socket;			/* default unix:/run/daneguard/daneguard.sock */
	char *user;			/* default "daneguard" */
	char *pidfile;			/* or NULL */
	char *state_dir;		/* default /var/lib/daneguard */
	long probe_interval;		/* seconds, default 300 */
	long probe_timeout;		/* seconds, default 10 */
	long ns_interval;		/* G8 pass, seconds, default 900; 0 off */
	int xclient;			/* default 0 */
	long tlsrpt_days;		/* TLS-RPT store window, default 14 */
	char *tlsa_file;		/* or NULL */
	char *sendmail_access;		/* access map source text, or NULL */
	struct conf_dns dns;
	struct conf_host *hosts;
	size_t nhosts;
	char *domains_file;		/* or NULL */
	struct conf_domain *domains;	/* sections, then domains_file */
	size_t ndomains;
};

/*
 * Parse path. Returns 0 and a new struct conf in *out, or -1 with err
 * holding every problem found, one per line, each "path:LINE: problem"
 * (e.g. "daneguard.conf:12: host \"mx1\": cert \"rsa\": chain is required").
 * An unreadable file is one line naming it.
 */
int conf_load(const char *path, struct conf **out, struct errbuf *err);

/*
 * conf_load with flags. CONF_HOSTS_OPTIONAL: a file without any host
 * section is fine (daneguard --tlsrpt uses only the globals); whatever
 * host sections there are are still checked.
 */
#define CONF_HOSTS_OPTIONAL	0x1
int conf_load_flags(const char *path, unsigned flags, struct conf **out,
    struct errbuf *err);

void conf_free(struct conf *conf);

/* Rollover name <-> value. conf_rollover_parse returns 0 or -1. */
/*
 * 1 if name is an MX host name: dot-separated labels of letters, digits
 * and hyphens (not first or last), at most 63 bytes each and 253 in all
 * (a trailing dot allowed); 0 if not. host sections and tlsagen -H.
 */
int conf_hostname_ok(const char *name);

int conf_rollover_parse(const char *name, enum conf_rollover *out);
const char *conf_rollover_name(enum conf_rollover rollover);

#endif
