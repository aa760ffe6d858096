/*
 * options - see options.h.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "duration.h"
#include "log.h"
#include "options.h"
#include "paths.h"
#include "xalloc.h"

enum {
	OPT_ROLLOVER = 256,
	OPT_ISSUER_DEPTH,
	OPT_NEXT,
	OPT_PASSPHRASE_FILE,
	OPT_DEPFILE,
	OPT_CHECK,
	OPT_ZONE,
	OPT_ORIGIN,
	OPT_NEW_KEY,
	OPT_DNS,
	OPT_MIN_AGE,
	OPT_STATE,
	OPT_RESOLVER_CONFIG,
	OPT_TIMEOUT,
	OPT_SYNC
};

static const struct option long_options[] = {
	{ "config",		required_argument,	NULL, 'c' },
	{ "host",		required_argument,	NULL, 'H' },
	{ "port",		required_argument,	NULL, 'p' },
	{ "ttl",		required_argument,	NULL, 't' },
	{ "record",		required_argument,	NULL, 'r' },
	{ "rollover",		required_argument,	NULL, OPT_ROLLOVER },
	{ "issuer-depth",	required_argument,	NULL, OPT_ISSUER_DEPTH },
	{ "next",		required_argument,	NULL, OPT_NEXT },
	{ "passphrase-file",	required_argument,	NULL, OPT_PASSPHRASE_FILE },
	{ "format",		required_argument,	NULL, 'f' },
	{ "output",		required_argument,	NULL, 'o' },
	{ "depfile",		required_argument,	NULL, OPT_DEPFILE },
	{ "check",		no_argument,		NULL, OPT_CHECK },
	{ "zone",		required_argument,	NULL, OPT_ZONE },
	{ "origin",		required_argument,	NULL, OPT_ORIGIN },
	{ "new-key",		required_argument,	NULL, OPT_NEW_KEY },
	{ "dns",		no_argument,		NULL, OPT_DNS },
	{ "min-age",		required_argument,	NULL, OPT_MIN_AGE },
	{ "state",		required_argument,	NULL, OPT_STATE },
	{ "resolver-config",	required_argument,	NULL, OPT_RESOLVER_CONFIG },
	{ "timeout",		required_argument,	NULL, OPT_TIMEOUT },
	{ "sync",		no_argument,		NULL, OPT_SYNC },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "version",		no_argument,		NULL, 'V' },
	{ "help",		no_argument,		NULL, 'h' },
	{ NULL,			0,			NULL, 0 }
};

void
usage(FILE *fp)
{
	fprintf(fp,
"usage: tlsagen [options] FILE...            records for chain and key files\n"
"       tlsagen -c CONF [options]            records for the hosts of CONF\n"
"       tlsagen --check --zone ZONEFILE [-c CONF | FILE...]\n"
"       tlsagen --check --dns [--min-age DURATION] [-c CONF | FILE...]\n"
"       tlsagen --new-key rsa|ecdsa -o FILE [-H HOST...]\n"
"       tlsagen --sync [-f nsupdate|json] [-c CONF | FILE...]\n"
"options:\n"
"  -c, --config FILE          hosts from a daneguard.conf\n"
"  -H, --host HOST            MX host name (repeatable); with -c: only these\n"
"  -p, --port PORT            default 25\n"
"  -t, --ttl TTL              default 3600\n"
"  -r, --record \"U S M\"       record type (repeatable), default \"3 1 1\"\n"
"      --rollover SCHEME      current+next (default) or current+issuer\n"
"      --issuer-depth N       CA for 2 x x records, default 1\n"
"      --next KEYFILE         next key (repeatable)\n"
"      --passphrase-file FILE for encrypted private keys\n"
"  -f, --format FORM          zone (default), generic, nsupdate, rdata, json\n"
"  -o, --output FILE          write FILE atomically, only when it changes\n"
"      --depfile FILE         write a make dependency line (needs -o)\n"
"      --check                with --zone: is everything on disk published?\n"
"      --zone FILE            zone file for --check\n"
"      --origin NAME          $ORIGIN for relative names in --zone\n"
"      --dns                  with --check: ask every nameserver of the zone\n"
"      --min-age DURATION     --dns: records count once that old (90, 15m,\n"
"                             2h, 1d); default 2 x TTL\n"
"      --state FILE           --dns: first-seen times, default\n"
"                             STATE_DIR/firstseen, without -c\n"
"                             " PATHS_STATE_DIR "/firstseen\n"
"      --resolver-config FILE --dns: unbound.conf-style resolver settings\n"
"      --timeout SECONDS      --dns: per query, default 5\n"
"      --new-key ALG          make a next key (rsa or ecdsa); needs -o\n"
"      --sync                 the records to add and to retire, as\n"
"                             nsupdate commands (default) or json\n"
"  -q, --quiet                no warnings\n"
"  -V, --version; -h, --help\n"
"exit status: 0 done, 1 check failed, 2 usage or input error\n");
}

void
add_string(char ***v, size_t *n, char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = s;
}

static int
parse_number(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Usages 0 and 1 are refused here too, so the message names the option. */
static int
parse_record(const char *arg, struct options *o)
{
	struct tlsa_type t;
	struct errbuf err;

	if (tlsa_type_parse(arg, &t, &err) < 0) {
		log_warnx("-r '%s': %s", arg, err.msg);
		return -1;
	}
	if (t.usage == TLSA_USAGE_PKIX_TA || t.usage == TLSA_USAGE_PKIX_EE) {
		log_warnx("-r '%s': usage %u (%s) is not for SMTP: RFC 7672 "
		    "section 3.1.3 says SMTP clients do not use PKIX usages, "
		    "as there is no CA list to check an MX host against; use "
		    "3 (DANE-EE) or 2 (DANE-TA)", arg, t.usage,
		    t.usage == TLSA_USAGE_PKIX_TA ? "PKIX-TA" : "PKIX-EE");
		return -1;
	}
	o->types = xreallocarray(o->types, o->ntypes + 1, sizeof(*o->types));
	o->types[o->ntypes++] = t;
	return 0;
}

/*
 * Returns 0 to run, 1 when -h or -V has been answered, -1 on a usage
 * error (reported).
 */
int
parse_options(int argc, char **argv, struct options *o)
{
	struct errbuf err;
	long v;
	size_t i;
	int ch, dup;

	o->port = 25;
	o->ttl = 3600;
	o->rollover = CONF_ROLLOVER_CURRENT_NEXT;
	o->issuer_depth = 1;
	o->form = TLSA_FORM_ZONE;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:H:p:t:r:f:o:qVh",
	    long_options, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'H':
			/* the same rule as a host section of -c */
			if (!conf_hostname_ok(optarg)) {
				log_warnx("-H '%.80s%s': not a host name "
				    "(letters, digits, hyphens, dots; labels "
				    "of at most 63, 253 in all)", optarg,
				    strlen(optarg) > 80 ? "..." : "");
				return -1;
			}
			for (i = 0, dup = 0; i < o->nhosts; i++)
				dup |= tlsa_name_equal(o->hosts[i], optarg);
			if (!dup)
				add_string(&o->hosts, &o->nhosts, optarg);
			break;
		case 'p':
			if (parse_number(optarg, 1, 65535, &v) < 0) {
				log_warnx("-p '%s': not a port number "
				    "(1-65535)", optarg);
				return -1;
			}
			o->port = (unsigned)v;
			o->port_set = 1;
			break;
		case 't':
			if (parse_number(optarg, 0, INT32_MAX, &v) < 0) {
				log_warnx("-t '%s': not a TTL in seconds "
				    "(0-2147483647)", optarg);
				return -1;
			}
			o->ttl = v;
			o->ttl_set = 1;
			break;
		case 'r':
			if (parse_record(optarg, o) < 0)
				return -1;
			break;
		case OPT_ROLLOVER:
			if (conf_rollover_parse(optarg, &o->rollover) < 0) {
				log_warnx("--rollover '%s': unknown scheme; use "
				    "current+next or current+issuer", optarg);
				return -1;
			}
			o->rollover_set = 1;
			break;
		case OPT_ISSUER_DEPTH:
			if (parse_number(optarg, 1, 64, &v) < 0) {
				log_warnx("--issuer-depth '%s': not a depth "
				    "(1 is the immediate issuer)", optarg);
				return -1;
			}
			o->issuer_depth = (int)v;
			o->issuer_depth_set = 1;
			break;
		case OPT_NEXT:
			add_string(&o->next, &o->nnext, optarg);
			break;
		case OPT_PASSPHRASE_FILE:
			o->passphrase_file = optarg;
			break;
		case 'f':
			if (tlsa_form_parse(optarg, &o->form) < 0) {
				log_warnx("-f '%s': unknown form; use zone, "
				    "generic, nsupdate, rdata or json", optarg);
				return -1;
			}
			o->form_set = 1;
			break;
		case 'o':
			o->output = optarg;
			break;
		case OPT_DEPFILE:
			o->depfile = optarg;
			break;
		case OPT_CHECK:
			o->check = 1;
			break;
		case OPT_ZONE:
			o->zone = optarg;
			break;
		case OPT_ORIGIN:
			o->origin = optarg;
			break;
		case OPT_NEW_KEY:
			o->new_key = optarg;
			break;
		case OPT_DNS:
			o->dns = 1;
			break;
		case OPT_SYNC:
			o->sync = 1;
			break;
		case OPT_MIN_AGE:
			if (duration_parse(optarg, &o->min_age, &err) < 0) {
				log_warnx("--min-age %s", err.msg);
				return -1;
			}
			o->min_age_set = 1;
			break;
		case OPT_STATE:
			o->state = optarg;
			break;
		case OPT_RESOLVER_CONFIG:
			o->resolver_config = optarg;
			break;
		case OPT_TIMEOUT:
			if (parse_number(optarg, 1, 3600, &v) < 0) {
				log_warnx("--timeout '%s': not a number of "
				    "seconds (1-3600)", optarg);
				return -1;
			}
			o->timeout = v;
			o->timeout_set = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'V':
			printf("tlsagen (%s) %s\n", PACKAGE_NAME,
			    PACKAGE_VERSION);
			return 1;
		case 'h':
			usage(stdout);
			return 1;
		case ':':
			log_warnx("%s: needs an argument (tlsagen --help "
			    "lists the options)", argv[optind - 1]);
			return -1;
		default:
			if (optopt != 0 && optopt != '?')
				log_warnx("unknown option '-%c' (tlsagen --help "
				    "lists the options)", optopt);
			else
				log_warnx("unknown option '%s' (tlsagen --help "
				    "lists the options)", argv[optind - 1]);
			return -1;
		}
	}
	for (; optind < argc; optind++)
		add_string(&o->files, &o->nfiles, argv[optind]);
	if (o->sync && !o->form_set)
		o->form = TLSA_FORM_NSUPDATE;
	return 0;
}

/* The combinations of options that make no sense, each with its reason. */
int
check_options(const struct options *o)
{
	if (o->depfile != NULL && o->output == NULL) {
		log_warnx("--depfile needs -o FILE: the dependency line "
		    "names the output file");
		return -1;
	}
	if (o->zone != NULL && !o->check) {
		log_warnx("--zone is only used with --check");
		return -1;
	}
	if (o->dns && !o->check) {
		log_warnx("--dns is only used with --check");
		return -1;
	}
	if (o->sync) {
		if (o->check || o->new_key != NULL || o->output != NULL) {
			log_warnx("--sync prints the changes on standard "
			    "output: it is not used with --check, --new-key "
			    "or -o");
			return -1;
		}
		if (o->form != TLSA_FORM_NSUPDATE &&
		    o->form != TLSA_FORM_JSON) {
			log_warnx("--sync prints nsupdate commands or json: "
			    "use -f nsupdate or -f json");
			return -1;
		}
		if (o->config == NULL && o->nhosts == 0) {
			log_warnx("no host: --sync needs -H HOST (the MX "
			    "host name) or -c CONF");
			return -1;
		}
	}
	if (!o->dns && !o->sync && (o->min_age_set || o->state != NULL ||
	    o->resolver_config != NULL || o->timeout_set)) {
		log_warnx("%s is only used with --check --dns or --sync",
		    o->min_age_set ? "--min-age" : o->state != NULL ?
		    "--state" : o->resolver_config != NULL ?
		    "--resolver-config" : "--timeout");
		return -1;
	}
	if (o->new_key != NULL) {
		if (strcmp(o->new_key, "rsa") != 0 &&
		    strcmp(o->new_key, "ecdsa") != 0) {
			log_warnx("--new-key '%s': unknown algorithm; use rsa "
			    "(RSA-2048) or ecdsa (P-256)", o->new_key);
			return -1;
		}
		if (o->output == NULL) {
			log_warnx("--new-key needs -o FILE: where to write "
			    "the new private key");
			return -1;
		}
		if (o->check || o->config != NULL || o->nfiles > 0 ||
		    o->nnext > 0 || o->depfile != NULL) {
			log_warnx("--new-key takes only -o, -H, -p, -t, -r "
			    "and -f");
			return -1;
		}
		return 0;
	}
	if (o->check) {
		if (o->zone == NULL && !o->dns) {
			log_warnx("--check needs --zone ZONEFILE (a zone "
			    "file) or --dns (the zone's nameservers)");
			return -1;
		}
		if (o->zone != NULL && o->dns) {
			log_warnx("--check takes --zone or --dns, not both");
			return -1;
		}
		if (o->output != NULL) {
			log_warnx("--check writes no file: -o is not used "
			    "with it");
			return -1;
		}
		if (o->config == NULL && o->nhosts == 0) {
			log_warnx("no host: --check needs -H HOST (the MX "
			    "host name) or -c CONF");
			return -1;
		}
	}
	if (o->config != NULL && (o->nfiles > 0 || o->nnext > 0)) {
		log_warnx("-c %s: chain, key and next key files come from "
		    "the configuration; FILE arguments and --next are not "
		    "used with -c", o->config);
		return -1;
	}
	if (o->config == NULL && o->nfiles == 0 && o->nnext == 0) {
		log_warnx("no input: give chain and key files, or -c CONF "
		    "(tlsagen --help lists the options)");
		return -1;
	}
	if (!o->check && o->config == NULL && o->nhosts == 0 &&
	    o->form != TLSA_FORM_RDATA && o->form != TLSA_FORM_JSON) {
		log_warnx("no host: give -H HOST (the MX host name) or -c "
		    "CONF for the owner name, or use -f rdata or -f json");
		return -1;
	}
	return 0;
}

/* The host description for command-line mode. */
void
options_host(const struct options *o, const char *name,
    struct conf_host *h)
{
	memset(h, 0, sizeof(*h));
	h->name = (char *)name;
	h->port = o->port;
	h->ttl = o->ttl;
	h->rollover = o->rollover;
	h->issuer_depth = o->issuer_depth;
	h->records = o->types;
	h->nrecords = o->ntypes;
}
