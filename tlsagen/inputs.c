/*
 * inputs - see inputs.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certkey.h"
#include "conf.h"
#include "errbuf.h"
#include "expect.h"
#include "inputs.h"
#include "log.h"
#include "tlsa.h"
#include "xalloc.h"

/*
 * Share loaded material between hosts: each expect owns its copies, and
 * a copy is a reference, not a reload.
 */
static struct certkey_chain *
chain_ref(const struct certkey_chain *c)
{
	struct certkey_chain *n = certkey_chain_ref(c);

	if (n == NULL) {
		log_warnx("out of memory");
		exit(EXIT_ERROR);
	}
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

/* Give chain j the key if it is the key of its leaf; 1 if it is. */
static int
pair_with(struct material *m, size_t j, const struct certkey_key *key)
{
	if (!certkey_key_matches_cert(key->pkey,
	    certkey_chain_leaf(m->chains[j])))
		return 0;
	if (m->keys[j] == NULL)
		m->keys[j] = certkey_key_ref(key);
	return 1;
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
			    digest_cmp(hit, &probe) == 0; hit++)
				paired |= pair_with(m, hit->index, key);
		}
		for (j = 0; !paired && j < m->nchains; j++)
			paired = pair_with(m, j, key);
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

/*
 * Does the run only print records? Then chain certificates may be light
 * (certkey.h): ten thousand files load in a fraction of the time. What
 * checks a chain (--check, the gate, --sync, 2 x x records) verifies
 * signatures, and needs them complete.
 */
static int
records_only(const struct options *o)
{
	size_t i;

	if (o->check || o->dns || o->sync ||
	    o->rollover == CONF_ROLLOVER_CURRENT_ISSUER)
		return 0;
	for (i = 0; i < o->ntypes; i++)
		if (o->types[i].usage == TLSA_USAGE_DANE_TA)
			return 0;
	return 1;
}

static int
load_files(const struct options *o, struct run *r, struct material *m)
{
	struct certkey_chain *chain;
	struct certkey_key *key;
	struct errbuf err;
	unsigned flags = records_only(o) ? CERTKEY_LIGHT : 0;
	size_t i;

	for (i = 0; i < o->nfiles; i++) {
		chain = NULL;
		key = NULL;
		if (certkey_file_load(o->files[i], r->passphrase, flags,
		    &chain, &key, &err) < 0) {
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
int
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
			    last ? m.keys[i] : certkey_key_ref(m.keys[i]),
			    last ? m.nexts[i] : certkey_key_ref(m.nexts[i]));
			if (last)
				m.chains[i] = NULL, m.keys[i] = NULL,
				    m.nexts[i] = NULL;
		}
		for (i = 0; i < m.nlone; i++) {
			expect_add_cert(e, NULL, NULL, NULL,
			    last ? m.lone[i] : certkey_key_ref(m.lone[i]));
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

/*
 * A chain in certbot's live/NAME/ whose renewal/NAME.conf does not reuse
 * the key: certbot makes a new key at the next renewal, which no record
 * announces, and the MTA breaks DANE once reloaded. Read from certbot's
 * own file, so nothing needs configuring; appended to e's warnings.
 */
static void
certbot_reuse_warning(struct expect *e, const char *chain)
{
	const char *live = NULL, *p, *end;
	char *renewal, line[512];
	FILE *fp;
	int reuse = 0;

	for (p = chain; (p = strstr(p, "/live/")) != NULL; p++)
		live = p;
	if (live == NULL || (end = strchr(live + 6, '/')) == NULL ||
	    end == live + 6)
		return;
	renewal = xasprintf("%.*s/renewal/%.*s.conf", (int)(live - chain),
	    chain, (int)(end - live - 6), live + 6);
	if ((fp = fopen(renewal, "r")) == NULL) {
		free(renewal);
		return;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		p = line + strspn(line, " \t");
		if (strncmp(p, "reuse_key", 9) != 0)
			continue;
		p += 9 + strspn(p + 9, " \t");
		if (*p == '=' && strncasecmp(p + 1 + strspn(p + 1, " \t"),
		    "true", 4) == 0)
			reuse = 1;
	}
	fclose(fp);
	if (!reuse)
		add_string(&e->warnings, &e->nwarnings, xasprintf("%s: %s has "
		    "no reuse_key = True: certbot makes a new key at the next "
		    "renewal, announced by no record, and the reload after it "
		    "breaks DANE; renew with --reuse-key and give certbot the "
		    "next key (tlsagen(1), ACME CLIENTS)", chain, renewal));
	free(renewal);
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

int
build_from_config(const struct options *o, struct run *r, time_t now)
{
	const struct conf_host *ch;
	struct conf_host h;
	struct errbuf err;
	size_t i, k, n;

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
		for (k = 0; k < ch->ncerts; k++)
			if (ch->certs[k].chain != NULL)
				certbot_reuse_warning(r->expects[i],
				    ch->certs[k].chain);
		r->nexpects++;
	}
	return 0;
}
