/*
 * tlsagen - TLSA records for the certificates and keys an MTA serves.
 *
 *	tlsagen [options] FILE...
 *	tlsagen -c CONF [options]
 *	tlsagen --check --zone ZONEFILE [-c CONF | FILE...]
 *	tlsagen --new-key rsa|ecdsa -o FILE [-H HOST...]
 *
 * This file holds the options, the modes and the exit statuses (0 done,
 * 1 check failed, 2 usage or input error); the policy is in lib/expect.c,
 * the rendering in output.c, the pre-deploy check in check.c. See
 * tlsagen(1).
 *
 * Every file is loaded once, whatever the number of hosts: later hosts
 * share the loaded certificates and keys by reference count. Pairing keys
 * with chains goes through a sorted digest table, so ten thousand chain
 * files cost ten thousand loads and no more.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "atomicfile.h"
#include "certkey.h"
#include "check.h"
#include "conf.h"
#include "errbuf.h"
#include "expect.h"
#include "keygen.h"
#include "log.h"
#include "output.h"
#include "tlsa.h"
#include "xalloc.h"

/* Stands in for the host when none is given (-f rdata, -f json). */

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
	int quiet;
	char **files;			/* positional arguments */
	size_t nfiles;
};

/* What a run builds: one expected set per host, and its input files. */
struct run {
	struct expect **expects;
	size_t nexpects;
	char **inputs;			/* for --depfile, borrowed */
	size_t ninputs;
	char *passphrase;		/* from --passphrase-file, or NULL */
	struct conf *conf;
};

enum {
	OPT_ROLLOVER = 256,
	OPT_ISSUER_DEPTH,
	OPT_NEXT,
	OPT_PASSPHRASE_FILE,
	OPT_DEPFILE,
	OPT_CHECK,
	OPT_ZONE,
	OPT_ORIGIN,
	OPT_NEW_KEY
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
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "version",		no_argument,		NULL, 'V' },
	{ "help",		no_argument,		NULL, 'h' },
	{ NULL,			0,			NULL, 0 }
};

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: tlsagen [options] FILE...            records for chain and key files\n"
"       tlsagen -c CONF [options]            records for the hosts of CONF\n"
"       tlsagen --check --zone ZONEFILE [-c CONF | FILE...]\n"
"       tlsagen --new-key rsa|ecdsa -o FILE [-H HOST...]\n"
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
"      --new-key ALG          make a next key (rsa or ecdsa); needs -o\n"
"  -q, --quiet                no warnings\n"
"  -V, --version; -h, --help\n"
"exit status: 0 done, 1 check failed, 2 usage or input error\n");
}

static void
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
static int
parse_options(int argc, char **argv, struct options *o)
{
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
			if (optarg[0] == '\0' || optarg[0] == '.' ||
			    strchr(optarg, ' ') != NULL) {
				log_warnx("-H '%s': not a host name", optarg);
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
	return 0;
}

/* The combinations of options that make no sense, each with its reason. */
static int
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
		if (o->zone == NULL) {
			log_warnx("--check needs --zone ZONEFILE: the zone "
			    "to check against");
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
static void
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

/*
 * Share loaded material between hosts: each expect owns its copies, and
 * a copy is a reference, not a reload.
 */
static struct certkey_chain *
chain_ref(const struct certkey_chain *c)
{
	struct certkey_chain *n = xcalloc(1, sizeof(*n));

	n->path = xstrdup(c->path);
	if ((n->certs = X509_chain_up_ref(c->certs)) == NULL) {
		log_warnx("out of memory");
		exit(EXIT_ERROR);
	}
	if (c->key != NULL && EVP_PKEY_up_ref(c->key))
		n->key = c->key;
	return n;
}

static struct certkey_key *
key_ref(const struct certkey_key *k)
{
	struct certkey_key *n;

	if (k == NULL)
		return NULL;
	n = xcalloc(1, sizeof(*n));
	n->path = xstrdup(k->path);
	EVP_PKEY_up_ref(k->pkey);
	n->pkey = k->pkey;
	n->is_private = k->is_private;
	return n;
}

/* Public-key digest, the pairing key of a leaf or a key file. */
struct digest {
	unsigned char md[32];
	size_t index;
	int ok;
};

static int
digest_cmp(const void *a, const void *b)
{
	const struct digest *x = a, *y = b;

	return memcmp(x->md, y->md, sizeof(x->md));
}

static const struct tlsa_type spki_sha256 = {
	TLSA_USAGE_DANE_EE, TLSA_SELECTOR_SPKI, TLSA_MATCH_SHA256
};

/* Take the digest out of a computed 3 1 1 record, and clear it. */
static int
digest_of(struct tlsa_record *rec, struct digest *d)
{
	d->ok = rec->len == sizeof(d->md);
	if (d->ok)
		memcpy(d->md, rec->data, sizeof(d->md));
	tlsa_record_clear(rec);
	return d->ok ? 0 : -1;
}

/* Loaded command-line material, before it is handed to the expects. */
struct material {
	struct certkey_chain **chains;
	struct certkey_key **keys;	/* per chain: its key file, or NULL */
	struct certkey_key **nexts;	/* per chain: its next key, or NULL */
	size_t nchains;
	struct certkey_key **lone;	/* next keys without a chain */
	size_t nlone;
	struct certkey_key **loose;	/* key files, until paired */
	size_t nloose;
};

static void
material_free(struct material *m)
{
	size_t i;

	for (i = 0; i < m->nchains; i++) {
		if (m->chains[i] != NULL)
			certkey_chain_free(m->chains[i]);
		if (m->keys[i] != NULL)
			certkey_key_free(m->keys[i]);
		if (m->nexts[i] != NULL)
			certkey_key_free(m->nexts[i]);
	}
	for (i = 0; i < m->nlone; i++)
		if (m->lone[i] != NULL)
			certkey_key_free(m->lone[i]);
	for (i = 0; i < m->nloose; i++)
		if (m->loose[i] != NULL)
			certkey_key_free(m->loose[i]);
	free(m->chains);
	free(m->keys);
	free(m->nexts);
	free(m->lone);
	free(m->loose);
	memset(m, 0, sizeof(*m));
}

/* "a.pem, b.pem and 3 more" for the no-match message. */
static char *
chain_names(const struct material *m)
{
	char *s, *t;
	size_t i, shown = m->nchains < 5 ? m->nchains : 4;

	if (m->nchains == 0)
		return xstrdup("no chain file was given");
	s = xasprintf("%s", m->chains[0]->path);
	for (i = 1; i < shown; i++) {
		t = xasprintf("%s, %s", s, m->chains[i]->path);
		free(s);
		s = t;
	}
	if (shown < m->nchains) {
		t = xasprintf("%s and %zu more", s, m->nchains - shown);
		free(s);
		s = t;
	}
	return s;
}

/*
 * Pair each key file with every chain whose leaf it is the key of. A
 * sorted digest table keeps this n log n; a key the table cannot place
 * is compared with every leaf before it is declared a mismatch.
 */
static int
pair_keys(struct material *m)
{
	struct digest *leaves, probe, *hit;
	struct tlsa_record rec;
	struct errbuf err;
	size_t i, k, j;
	int paired;
	char *names;

	if (m->nloose == 0)
		return 0;
	leaves = xreallocarray(NULL, m->nchains + 1, sizeof(*leaves));
	for (i = 0; i < m->nchains; i++) {
		memset(&rec, 0, sizeof(rec));
		leaves[i].index = i;
		if (tlsa_record_from_cert(&rec, spki_sha256,
		    certkey_chain_leaf(m->chains[i]), &err) < 0)
			tlsa_record_clear(&rec);
		if (digest_of(&rec, &leaves[i]) < 0)
			memset(leaves[i].md, 0, sizeof(leaves[i].md));
	}
	qsort(leaves, m->nchains, sizeof(*leaves), digest_cmp);

	for (k = 0; k < m->nloose; k++) {
		struct certkey_key *key = m->loose[k];

		paired = 0;
		memset(&rec, 0, sizeof(rec));
		if (tlsa_record_from_pubkey(&rec, spki_sha256, key->pkey,
		    &err) < 0)
			tlsa_record_clear(&rec);
		if (digest_of(&rec, &probe) == 0 &&
		    (hit = bsearch(&probe, leaves, m->nchains,
		    sizeof(*leaves), digest_cmp)) != NULL) {
			while (hit > leaves && digest_cmp(hit - 1, &probe) == 0)
				hit--;
			for (; hit < leaves + m->nchains &&
			    digest_cmp(hit, &probe) == 0; hit++) {
				j = hit->index;
				if (!certkey_key_matches_cert(key->pkey,
				    certkey_chain_leaf(m->chains[j])))
					continue;
				if (m->keys[j] == NULL)
					m->keys[j] = key_ref(key);
				paired = 1;
			}
		}
		for (j = 0; !paired && j < m->nchains; j++) {
			if (!certkey_key_matches_cert(key->pkey,
			    certkey_chain_leaf(m->chains[j])))
				continue;
			if (m->keys[j] == NULL)
				m->keys[j] = key_ref(key);
			paired = 1;
		}
		if (!paired) {
			names = chain_names(m);
			if (m->nchains == 1)
				log_warnx("%s does not match the certificate "
				    "in %s", key->path, names);
			else if (m->nchains == 0)
				log_warnx("%s: a key without its certificate: "
				    "%s (a next key goes with --next)",
				    key->path, names);
			else
				log_warnx("%s matches none of the "
				    "certificates in %s", key->path, names);
			free(names);
			free(leaves);
			return -1;
		}
	}
	free(leaves);
	return 0;
}

/* Same family as the leaf: the chain a next key will replace. */
static int
attach_next(struct material *m, struct certkey_key *next)
{
	const char *family, *leaf_family;
	size_t i;

	if ((family = certkey_alg_family(next->pkey)) != NULL) {
		for (i = 0; i < m->nchains; i++) {
			if (m->nexts[i] != NULL)
				continue;
			leaf_family = certkey_cert_alg_family(
			    certkey_chain_leaf(m->chains[i]));
			if (leaf_family != NULL &&
			    strcmp(family, leaf_family) == 0) {
				m->nexts[i] = next;
				return 0;
			}
		}
	}
	/* expect_compute reports an unsupported algorithm by file name. */
	m->lone = xreallocarray(m->lone, m->nlone + 1, sizeof(*m->lone));
	m->lone[m->nlone++] = next;
	return 0;
}

static int
load_files(const struct options *o, struct run *r, struct material *m)
{
	struct certkey_chain *chain;
	struct certkey_key *key;
	struct errbuf err;
	size_t i;

	for (i = 0; i < o->nfiles; i++) {
		chain = NULL;
		key = NULL;
		if (certkey_file_load(o->files[i], r->passphrase, &chain, &key,
		    &err) < 0) {
			log_warnx("%s", err.msg);
			return -1;
		}
		add_string(&r->inputs, &r->ninputs, o->files[i]);
		if (chain != NULL) {
			if ((m->nchains & (m->nchains - 1)) == 0) {
				size_t n = m->nchains ? m->nchains * 2 : 16;

				m->chains = xreallocarray(m->chains, n,
				    sizeof(*m->chains));
				m->keys = xreallocarray(m->keys, n,
				    sizeof(*m->keys));
				m->nexts = xreallocarray(m->nexts, n,
				    sizeof(*m->nexts));
			}
			m->chains[m->nchains] = chain;
			m->keys[m->nchains] = NULL;
			m->nexts[m->nchains++] = NULL;
		} else if (key != NULL) {
			m->loose = xreallocarray(m->loose, m->nloose + 1,
			    sizeof(*m->loose));
			m->loose[m->nloose++] = key;
		}
	}
	if (pair_keys(m) < 0)
		return -1;
	for (i = 0; i < o->nnext; i++) {
		if (certkey_key_load(o->next[i], r->passphrase, &key,
		    &err) < 0) {
			log_warnx("%s", err.msg);
			return -1;
		}
		add_string(&r->inputs, &r->ninputs, o->next[i]);
		attach_next(m, key);
	}
	return 0;
}

/* One expect per host (or one without a host) over the loaded files. */
static int
build_from_files(const struct options *o, struct run *r, time_t now)
{
	struct material m;
	struct conf_host h;
	struct expect *e;
	struct errbuf err;
	size_t i, k, nhosts;
	int last, ret = -1;

	memset(&m, 0, sizeof(m));
	if (load_files(o, r, &m) < 0)
		goto done;
	nhosts = o->nhosts > 0 ? o->nhosts : 1;
	r->expects = xcalloc(nhosts, sizeof(*r->expects));
	for (k = 0; k < nhosts; k++) {
		last = k == nhosts - 1;
		options_host(o, o->nhosts > 0 ? o->hosts[k] : NULL, &h);
		e = r->expects[r->nexpects++] = expect_new(&h);
		/* The last host takes the loaded material over. */
		for (i = 0; i < m.nchains; i++) {
			expect_add_cert(e, NULL,
			    last ? m.chains[i] : chain_ref(m.chains[i]),
			    last ? m.keys[i] : key_ref(m.keys[i]),
			    last ? m.nexts[i] : key_ref(m.nexts[i]));
			if (last)
				m.chains[i] = NULL, m.keys[i] = NULL,
				    m.nexts[i] = NULL;
		}
		for (i = 0; i < m.nlone; i++) {
			expect_add_cert(e, NULL, NULL, NULL,
			    last ? m.lone[i] : key_ref(m.lone[i]));
			if (last)
				m.lone[i] = NULL;
		}
		if (expect_compute(e, now, &err) < 0) {
			log_warnx("%s", err.msg);
			goto done;
		}
	}
	ret = 0;
done:
	material_free(&m);
	return ret;
}

static const struct conf_host *
conf_find_host(const struct conf *conf, const char *name)
{
	size_t i;

	for (i = 0; i < conf->nhosts; i++)
		if (tlsa_name_equal(conf->hosts[i].name, name))
			return &conf->hosts[i];
	return NULL;
}

static void
conf_inputs(struct run *r, const struct conf_host *h)
{
	size_t i;

	for (i = 0; i < h->ncerts; i++) {
		if (h->certs[i].chain != NULL)
			add_string(&r->inputs, &r->ninputs, h->certs[i].chain);
		if (h->certs[i].key != NULL)
			add_string(&r->inputs, &r->ninputs, h->certs[i].key);
		if (h->certs[i].next_key != NULL)
			add_string(&r->inputs, &r->ninputs,
			    h->certs[i].next_key);
		if (h->certs[i].passphrase_file != NULL)
			add_string(&r->inputs, &r->ninputs,
			    h->certs[i].passphrase_file);
	}
}

/* Report every line of a multi-line message (conf_load lists them all). */
static void
log_lines(const char *msg)
{
	const char *p = msg, *nl;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL) {
			log_warnx("%s", p);
			break;
		}
		if (nl > p)
			log_warnx("%.*s", (int)(nl - p), p);
		p = nl + 1;
	}
}

static int
build_from_config(const struct options *o, struct run *r, time_t now)
{
	const struct conf_host *ch;
	struct conf_host h;
	struct errbuf err;
	size_t i, n;

	if (conf_load(o->config, &r->conf, &err) < 0) {
		log_lines(err.msg);
		return -1;
	}
	add_string(&r->inputs, &r->ninputs, (char *)o->config);
	if (r->conf->nhosts == 0) {
		log_warnx("%s: no host sections: nothing to generate",
		    o->config);
		return -1;
	}
	n = o->nhosts > 0 ? o->nhosts : r->conf->nhosts;
	r->expects = xcalloc(n, sizeof(*r->expects));
	for (i = 0; i < n; i++) {
		if (o->nhosts > 0) {
			if ((ch = conf_find_host(r->conf, o->hosts[i])) ==
			    NULL) {
				log_warnx("-H %s: no such host in %s",
				    o->hosts[i], o->config);
				return -1;
			}
		} else
			ch = &r->conf->hosts[i];
		/* Options given on the command line override the file. */
		h = *ch;
		if (o->port_set)
			h.port = o->port;
		if (o->ttl_set)
			h.ttl = o->ttl;
		if (o->rollover_set)
			h.rollover = o->rollover;
		if (o->issuer_depth_set)
			h.issuer_depth = o->issuer_depth;
		if (o->ntypes > 0) {
			h.records = o->types;
			h.nrecords = o->ntypes;
		}
		conf_inputs(r, ch);
		if (expect_load(&h, r->passphrase, now, &r->expects[i],
		    &err) < 0) {
			log_warnx("host %s: %s", ch->name, err.msg);
			return -1;
		}
		r->nexpects++;
	}
	return 0;
}

struct indexed {
	const char *s;
	size_t i;
};

static int
indexed_cmp(const void *a, const void *b)
{
	const struct indexed *x = a, *y = b;
	int c = strcmp(x->s, y->s);

	/* Ties by position, so the first of equal strings is kept. */
	if (c == 0)
		c = (x->i > y->i) - (x->i < y->i);
	return c;
}

/*
 * Mark in dup[] every string equal to an earlier one, in n log n: the
 * same warning for ten thousand certificates is said once.
 */
static void
find_duplicates(char *const *v, size_t n, char *dup)
{
	struct indexed *t;
	size_t i;

	memset(dup, 0, n);
	if (n < 2)
		return;
	t = xreallocarray(NULL, n, sizeof(*t));
	for (i = 0; i < n; i++) {
		t[i].s = v[i];
		t[i].i = i;
	}
	qsort(t, n, sizeof(*t), indexed_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(t[i].s, t[i - 1].s) == 0)
			dup[t[i].i] = 1;
	free(t);
}

/* Warnings of every set, and the notes (expiry), each said once. */
static void
print_warnings(const struct options *o, const struct run *r)
{
	char **v = NULL, *dup;
	size_t n = 0, i, k;

	if (o->quiet)
		return;
	for (k = 0; k < r->nexpects; k++) {
		const struct expect *e = r->expects[k];

		for (i = 0; i < e->nwarnings; i++)
			add_string(&v, &n, xstrdup(e->warnings[i]));
		for (i = 0; i < e->nentries; i++)
			if (e->entries[i].note != NULL)
				add_string(&v, &n, xasprintf("%s: %s",
				    e->entries[i].source ? e->entries[i].source
				    : "-", e->entries[i].note));
	}
	dup = xmalloc(n + 1);
	find_duplicates(v, n, dup);
	for (i = 0; i < n; i++) {
		if (!dup[i])
			log_warnx("warning: %s", v[i]);
		free(v[i]);
	}
	free(dup);
	free(v);
}

/* A file name as a make word: blanks, '#' and '$' escaped. */
static void
depfile_word(struct output *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t' || *s == '#' || *s == '\\')
			output_printf(out, "\\%c", *s);
		else if (*s == '$')
			output_printf(out, "$$");
		else
			output_printf(out, "%c", *s);
	}
}

/* "OUTPUT: input1 input2 ...", every input once, in the order read. */
static void
depfile_render(const char *target, const struct run *r, struct output *out)
{
	char *dup;
	size_t i;

	dup = xmalloc(r->ninputs + 1);
	find_duplicates(r->inputs, r->ninputs, dup);
	depfile_word(out, target);
	output_printf(out, ":");
	for (i = 0; i < r->ninputs; i++) {
		if (dup[i])
			continue;
		output_printf(out, " ");
		depfile_word(out, r->inputs[i]);
	}
	output_printf(out, "\n");
	free(dup);
}

static int
write_stdout(const struct output *out)
{
	if (out->len > 0)
		fwrite(out->buf, 1, out->len, stdout);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_warn("standard output");
		return -1;
	}
	return 0;
}

static int
run_generate(const struct options *o, const struct run *r)
{
	struct output out, dep;
	struct errbuf err;
	size_t i;
	int ret = EXIT_ERROR;

	memset(&out, 0, sizeof(out));
	memset(&dep, 0, sizeof(dep));
	output_begin(&out, o->form, 1);
	for (i = 0; i < r->nexpects; i++)
		output_expect(&out, r->expects[i]);
	output_end(&out);

	if (o->output == NULL) {
		if (write_stdout(&out) == 0)
			ret = 0;
		goto done;
	}
	/* Both are rendered before either is written. */
	if (o->depfile != NULL)
		depfile_render(o->output, r, &dep);
	if (atomicfile_replace(o->output, out.buf ? out.buf : "", out.len,
	    0644, NULL, &err) < 0) {
		log_warnx("%s", err.msg);
		goto done;
	}
	if (o->depfile != NULL && atomicfile_replace(o->depfile, dep.buf,
	    dep.len, 0644, NULL, &err) < 0) {
		log_warnx("%s", err.msg);
		goto done;
	}
	ret = 0;
done:
	output_free(&out);
	output_free(&dep);
	return ret;
}

static int
run_check(const struct options *o, const struct run *r,
    const struct tlsa_set *zone)
{
	struct output out;
	struct errbuf err;
	size_t i, missing = 0;
	int ret = EXIT_ERROR;

	memset(&out, 0, sizeof(out));
	for (i = 0; i < r->nexpects; i++) {
		if (check_expect(r->expects[i], zone, &out, &missing,
		    &err) < 0) {
			log_warnx("%s", err.msg);
			goto done;
		}
	}
	if (write_stdout(&out) < 0)
		goto done;
	if (missing > 0) {
		log_warnx("%s does not publish what %zu item%s above need%s: "
		    "publish the records, wait 2 x TTL, check again, then "
		    "deploy", o->zone, missing, missing == 1 ? "" : "s",
		    missing == 1 ? "s" : "");
		ret = EXIT_CHECK_FAILED;
	} else
		ret = 0;
done:
	output_free(&out);
	return ret;
}

/*
 * --new-key: write the key (never over an existing file), then print its
 * records, built like any next key's so -p, -t and -r apply.
 */
static int
run_new_key(const struct options *o, struct run *r, time_t now)
{
	struct certkey_key *key;
	struct conf_host h;
	struct output out;
	struct expect *e;
	struct errbuf err;
	EVP_PKEY *pkey;
	enum tlsa_form form;
	size_t k, nhosts;
	int ret = EXIT_ERROR;

	form = o->form_set ? o->form :
	    o->nhosts > 0 ? TLSA_FORM_ZONE : TLSA_FORM_RDATA;
	if (o->nhosts == 0 && form != TLSA_FORM_RDATA &&
	    form != TLSA_FORM_JSON) {
		log_warnx("no host: give -H HOST (the MX host name) for the "
		    "owner name, or use -f rdata or -f json");
		return EXIT_ERROR;
	}
	if (keygen_new(o->new_key, o->output, &pkey, &err) < 0) {
		log_warnx("%s", err.msg);
		return EXIT_ERROR;
	}
	key = xcalloc(1, sizeof(*key));
	key->path = xstrdup(o->output);
	key->pkey = pkey;
	key->is_private = 1;

	nhosts = o->nhosts > 0 ? o->nhosts : 1;
	r->expects = xcalloc(nhosts, sizeof(*r->expects));
	for (k = 0; k < nhosts; k++) {
		options_host(o, o->nhosts > 0 ? o->hosts[k] : NULL, &h);
		h.rollover = CONF_ROLLOVER_CURRENT_NEXT;
		e = r->expects[r->nexpects++] = expect_new(&h);
		expect_add_cert(e, NULL, NULL, NULL,
		    k == nhosts - 1 ? key : key_ref(key));
		if (expect_compute(e, now, &err) < 0) {
			log_warnx("%s", err.msg);
			if (k < nhosts - 1)
				certkey_key_free(key);
			return EXIT_ERROR;
		}
	}
	print_warnings(o, r);

	memset(&out, 0, sizeof(out));
	output_begin(&out, form, 0);
	for (k = 0; k < r->nexpects; k++)
		output_expect(&out, r->expects[k]);
	output_end(&out);
	if (write_stdout(&out) == 0)
		ret = 0;
	output_free(&out);
	return ret;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct run r;
	struct tlsa_set zone;
	struct errbuf err;
	time_t now = time(NULL);
	size_t i;
	int status = EXIT_ERROR, rc;

	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	tlsa_set_init(&zone);
	log_init("tlsagen", 1, 0);

	if ((rc = parse_options(argc, argv, &o)) != 0) {
		status = rc > 0 ? 0 : EXIT_ERROR;
		goto out;
	}
	if (check_options(&o) < 0)
		goto out;
	if (o.new_key != NULL) {
		status = run_new_key(&o, &r, now);
		goto out;
	}
	if (o.passphrase_file != NULL && certkey_passphrase_read(
	    o.passphrase_file, &r.passphrase, &err) < 0) {
		log_warnx("%s", err.msg);
		goto out;
	}
	/* A bad zone is an error before any certificate is looked at. */
	if (o.check && tlsa_zone_load(o.zone, o.origin, -1, &zone,
	    &err) < 0) {
		log_warnx("%s", err.msg);
		goto out;
	}
	if (o.config != NULL) {
		if (build_from_config(&o, &r, now) < 0)
			goto out;
	} else if (build_from_files(&o, &r, now) < 0)
		goto out;
	if (o.passphrase_file != NULL)
		add_string(&r.inputs, &r.ninputs, (char *)o.passphrase_file);
	print_warnings(&o, &r);
	if (o.check)
		status = run_check(&o, &r, &zone);
	else
		status = run_generate(&o, &r);
out:
	for (i = 0; i < r.nexpects; i++)
		expect_free(r.expects[i]);
	free(r.expects);
	free(r.inputs);
	if (r.passphrase != NULL) {
		OPENSSL_cleanse(r.passphrase, strlen(r.passphrase));
		free(r.passphrase);
	}
	if (r.conf != NULL)
		conf_free(r.conf);
	tlsa_set_free(&zone);
	free(o.hosts);
	free(o.types);
	free(o.next);
	free(o.files);
	return status;
}
