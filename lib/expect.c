/*
 * expect - see expect.h.
 *
 * Policy lives here, arithmetic in tlsa.c: this file decides which
 * records a host needs and why some requests are refused or fragile;
 * tlsa_record_from_cert and tlsa_record_from_pubkey compute the data.
 *
 * A next key yields records whatever the rollover scheme: a key the
 * configuration names is meant to be used, and leaving it out silently
 * would break DANE at the renewal it was made for.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "dnshealth.h"
#include "expect.h"
#include "xalloc.h"

/*
 * Entries already emitted, keyed on rdata. Every entry of one expect has
 * the same owner, so owner+rdata equality is rdata equality. A hash set
 * keeps dedupe linear: tlsagen may be given ten thousand certificates.
 */
struct expect_seen {
	size_t *slot;		/* entry index + 1; 0 is empty */
	size_t size;		/* a power of two */
	size_t used;
};

/*
 * Room for element n of an array that holds n elements. struct expect
 * keeps no capacity, so capacities are implied: 8, then powers of two.
 * Growing by one each time would copy the whole array at every step.
 */
static void *
expect_grow(void *v, size_t n, size_t size)
{
	if (n == 0)
		return xreallocarray(v, 8, size);
	if (n >= 8 && (n & (n - 1)) == 0)
		return xreallocarray(v, n * 2, size);
	return v;
}

const char *
expect_role_name(enum expect_role role)
{
	switch (role) {
	case EXPECT_CURRENT:
		return "current";
	case EXPECT_ISSUER:
		return "issuer";
	case EXPECT_NEXT:
		return "next";
	}
	return "unknown";
}

struct expect *
expect_new(const struct conf_host *host)
{
	static const struct tlsa_type dflt = {
		TLSA_USAGE_DANE_EE, TLSA_SELECTOR_SPKI, TLSA_MATCH_SHA256
	};
	struct expect *e = xcalloc(1, sizeof(*e));

	/* No host (tlsagen -f rdata/json): records without an owner. */
	if (host->name != NULL) {
		e->host = tlsa_name_normalise(host->name);
		e->owner = tlsa_owner_name(host->name, host->port);
	}
	e->port = host->port;
	e->ttl = host->ttl;
	e->rollover = host->rollover;
	e->issuer_depth = host->issuer_depth;
	if (host->nrecords == 0) {
		e->types = xmalloc(sizeof(*e->types));
		e->types[0] = dflt;
		e->ntypes = 1;
	} else {
		e->types = xreallocarray(NULL, host->nrecords,
		    sizeof(*e->types));
		memcpy(e->types, host->records,
		    host->nrecords * sizeof(*e->types));
		e->ntypes = host->nrecords;
	}
	return e;
}

/*
 * Name a cert's algorithm into c->alg: the leaf's (read from the
 * certificate: its key is never decoded here), else the next key's.
 * Returns the family, or NULL with a description in c->alg ("none" for
 * neither a chain nor a next key).
 */
static const char *
expect_cert_alg(struct expect_cert *c)
{
	X509 *leaf;

	if (c->chain != NULL) {
		leaf = certkey_chain_leaf(c->chain);
		if (certkey_cert_alg_name(leaf, c->alg, sizeof(c->alg)) < 0)
			return NULL;
		return certkey_cert_alg_family(leaf);
	}
	if (c->next != NULL) {
		if (certkey_alg_name(c->next->pkey, c->alg,
		    sizeof(c->alg)) < 0)
			return NULL;
		return certkey_alg_family(c->next->pkey);
	}
	snprintf(c->alg, sizeof(c->alg), "none");
	return NULL;
}

static const char *
expect_cert_path(const struct expect_cert *c)
{
	if (c->chain != NULL)
		return c->chain->path;
	if (c->next != NULL)
		return c->next->path;
	return "(nothing)";
}

void
expect_add_cert(struct expect *e, const char *name,
    struct certkey_chain *chain, struct certkey_key *key,
    struct certkey_key *next)
{
	struct expect_cert *c;
	const char *family;

	e->certs = expect_grow(e->certs, e->ncerts, sizeof(*e->certs));
	c = &e->certs[e->ncerts++];
	memset(c, 0, sizeof(*c));
	c->chain = chain;
	c->key = key;
	c->next = next;

	/* On failure alg holds a description; expect_compute reports it. */
	family = expect_cert_alg(c);
	c->name = xstrdup(name != NULL ? name :
	    family != NULL ? family : c->alg);
}

void
expect_keys_clear(struct expect_keys *k)
{
	while (k->nissuers > 0)
		certkey_chain_free(k->issuers[--k->nissuers]);
	free(k->issuers);
	certkey_key_free(k->key);
	certkey_key_free(k->next);
	free(k->error);
	memset(k, 0, sizeof(*k));
}

/*
 * The cache: open addressing on (path, kind), a power of two slots. A
 * slot's identity is that of the file when it was read (stat before the
 * read: a file replaced in between is read again next time).
 */
enum expect_cached_kind { CACHED_KEY, CACHED_CHAIN };

struct expect_cached {
	char *path;			/* NULL: empty slot */
	enum expect_cached_kind kind;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	struct certkey_key *key;	/* CACHED_KEY: the public half */
	struct certkey_chain *chain;	/* CACHED_CHAIN */
};

struct expect_cache {
	struct expect_cached *slot;
	size_t size;			/* a power of two, or 0 */
	size_t used;
};

struct expect_cache *
expect_cache_new(void)
{
	return xcalloc(1, sizeof(struct expect_cache));
}

static void
expect_cached_clear(struct expect_cached *c)
{
	certkey_key_free(c->key);
	certkey_chain_free(c->chain);
	c->key = NULL;
	c->chain = NULL;
}

void
expect_cache_free(struct expect_cache *cache)
{
	size_t i;

	if (cache == NULL)
		return;
	for (i = 0; i < cache->size; i++) {
		expect_cached_clear(&cache->slot[i]);
		free(cache->slot[i].path);
	}
	free(cache->slot);
	free(cache);
}

/* FNV-1a over the path and the kind. */
static size_t
expect_cache_hash(const char *path, enum expect_cached_kind kind)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *path != '\0'; path++)
		h = (h ^ (unsigned char)*path) * 1099511628211ULL;
	h = (h ^ (unsigned)kind) * 1099511628211ULL;
	return (size_t)h;
}

/* The slot of (path, kind): its entry, or the empty slot to fill. */
static struct expect_cached *
expect_cache_slot(struct expect_cache *cache, const char *path,
    enum expect_cached_kind kind)
{
	struct expect_cached *c, *old;
	size_t i, n;

	if (2 * (cache->used + 1) > cache->size) {
		old = cache->slot;
		n = cache->size;
		cache->size = n ? 2 * n : 64;
		cache->slot = xcalloc(cache->size, sizeof(*cache->slot));
		for (i = 0; i < n; i++) {
			if (old[i].path == NULL)
				continue;
			c = expect_cache_slot(cache, old[i].path, old[i].kind);
			*c = old[i];
		}
		free(old);
	}
	i = expect_cache_hash(path, kind) & (cache->size - 1);
	for (;; i = (i + 1) & (cache->size - 1)) {
		c = &cache->slot[i];
		if (c->path == NULL || (c->kind == kind &&
		    strcmp(c->path, path) == 0))
			return c;
	}
}

static int
expect_cached_same(const struct expect_cached *c, const struct stat *st)
{
	return c->dev == st->st_dev && c->ino == st->st_ino &&
	    c->size == st->st_size &&
	    c->mtime.tv_sec == st->st_mtim.tv_sec &&
	    c->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	    c->ctime.tv_sec == st->st_ctim.tv_sec &&
	    c->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/*
 * What cache holds for path as the file is now (stat'ed into *st; a new
 * reference), or NULL: then *slot is where to store what is read, or
 * NULL when the file cannot be stat'ed (the read then says why).
 */
static struct expect_cached *
expect_cache_get(struct expect_cache *cache, const char *path,
    enum expect_cached_kind kind, struct stat *st)
{
	struct expect_cached *c;

	if (cache == NULL || stat(path, st) < 0)
		return NULL;
	c = expect_cache_slot(cache, path, kind);
	if (c->path == NULL) {
		c->path = xstrdup(path);
		c->kind = kind;
		cache->used++;
	}
	return c;
}

static void
expect_cache_put(struct expect_cached *c, const struct stat *st,
    struct certkey_key *key, struct certkey_chain *chain)
{
	expect_cached_clear(c);
	c->dev = st->st_dev;
	c->ino = st->st_ino;
	c->size = st->st_size;
	c->mtime = st->st_mtim;
	c->ctime = st->st_ctim;
	c->key = certkey_key_ref(key);
	c->chain = certkey_chain_ref(chain);
}

/* Read a key file, keeping its public half; from cache (may be NULL)
 * when the file is unchanged. */
static int
expect_key_load(const char *path, const char *passphrase,
    struct expect_cache *cache, struct certkey_key **out, struct errbuf *err)
{
	struct expect_cached *c;
	struct stat st;

	/* A passphrase is not remembered: such a key is decoded each time. */
	c = passphrase == NULL ? expect_cache_get(cache, path, CACHED_KEY,
	    &st) : NULL;
	if (c != NULL && c->key != NULL && expect_cached_same(c, &st) &&
	    (*out = certkey_key_ref(c->key)) != NULL)
		return 0;
	if (certkey_key_load(path, passphrase, out, err) < 0)
		return -1;
	if (certkey_key_public(*out, err) < 0) {
		certkey_key_free(*out);
		*out = NULL;
		return -1;
	}
	if (c != NULL)
		expect_cache_put(c, &st, *out, NULL);
	return 0;
}

/* Read an issuer file; from cache (may be NULL) when unchanged. */
static int
expect_issuer_load(const char *path, struct expect_cache *cache,
    struct certkey_chain **out, struct errbuf *err)
{
	struct expect_cached *c;
	struct stat st;

	c = expect_cache_get(cache, path, CACHED_CHAIN, &st);
	if (c != NULL && c->chain != NULL && expect_cached_same(c, &st) &&
	    (*out = certkey_chain_ref(c->chain)) != NULL)
		return 0;
	if (certkey_chain_load(path, out, err) < 0)
		return -1;
	if (c != NULL)
		expect_cache_put(c, &st, NULL, *out);
	return 0;
}

int
expect_keys_load(const struct conf_cert *cc, const char *passphrase,
    struct expect_keys *out, struct errbuf *err)
{
	return expect_keys_load_cached(cc, passphrase, NULL, out, err);
}

int
expect_keys_load_cached(const struct conf_cert *cc, const char *passphrase,
    struct expect_cache *cache, struct expect_keys *out, struct errbuf *err)
{
	char *pass = NULL;
	size_t i;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (cc->passphrase_file != NULL) {
		if (certkey_passphrase_read(cc->passphrase_file, &pass,
		    err) < 0)
			return -1;
		passphrase = pass;
	}
	if (cc->key != NULL && expect_key_load(cc->key, passphrase, cache,
	    &out->key, err) < 0)
		goto done;
	if (cc->next_key != NULL && expect_key_load(cc->next_key, passphrase,
	    cache, &out->next, err) < 0)
		goto done;
	if (cc->nissuers > 0)
		out->issuers = xcalloc(cc->nissuers, sizeof(*out->issuers));
	for (i = 0; i < cc->nissuers; i++, out->nissuers++)
		if (expect_issuer_load(cc->issuers[i], cache,
		    &out->issuers[i], err) < 0)
			goto done;
	ret = 0;

done:
	if (pass != NULL) {
		OPENSSL_cleanse(pass, strlen(pass));
		free(pass);
	}
	if (ret < 0)
		expect_keys_clear(out);
	return ret;
}

int
expect_add_loaded(struct expect *e, const struct conf_cert *cc,
    const struct expect_keys *keys, struct errbuf *err)
{
	struct certkey_chain *chain = NULL;
	struct expect_cert *c;
	char *problem = NULL;
	size_t i;

	if (cc->chain == NULL) {
		errbuf_set(err, "cert \"%s\": no chain file given",
		    cc->name != NULL ? cc->name : "");
		return -1;
	}
	/* A key inside the chain file has been checked by certkey. */
	if (certkey_chain_load(cc->chain, &chain, err) < 0)
		return -1;
	if (keys->key != NULL && !certkey_key_matches_cert(keys->key->pkey,
	    certkey_chain_leaf(chain))) {
		errbuf_set(err, "%s does not match the certificate in %s",
		    cc->key, cc->chain);
		if (!e->keep_mismatch) {
			certkey_chain_free(chain);
			return -1;
		}
		problem = xstrdup(err->msg);
	}
	expect_add_cert(e, cc->name, chain, certkey_key_ref(keys->key),
	    certkey_key_ref(keys->next));
	c = &e->certs[e->ncerts - 1];
	if (keys->nissuers > 0)
		c->issuers = xcalloc(keys->nissuers, sizeof(*c->issuers));
	for (i = 0; i < keys->nissuers; i++)
		c->issuers[i] = certkey_chain_ref(keys->issuers[i]);
	c->nissuers = keys->nissuers;
	c->problem = problem;
	return 0;
}

static void
expect_warn(struct expect *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
expect_warn(struct expect *e, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	e->warnings = expect_grow(e->warnings, e->nwarnings,
	    sizeof(*e->warnings));
	e->warnings[e->nwarnings++] = xstrdup(buf);
}

/* FNV-1a over the rdata. */
static size_t
expect_hash(const struct tlsa_record *rec)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	h = (h ^ rec->type.usage) * 1099511628211ULL;
	h = (h ^ rec->type.selector) * 1099511628211ULL;
	h = (h ^ rec->type.mtype) * 1099511628211ULL;
	for (i = 0; i < rec->len; i++)
		h = (h ^ rec->data[i]) * 1099511628211ULL;
	return (size_t)h;
}

static void
expect_seen_grow(struct expect_seen *seen, const struct expect *e)
{
	size_t *old = seen->slot, oldsize = seen->size, i, j;

	seen->size = oldsize == 0 ? 64 : oldsize * 2;
	seen->slot = xcalloc(seen->size, sizeof(*seen->slot));
	for (i = 0; i < oldsize; i++) {
		if (old[i] == 0)
			continue;
		j = expect_hash(&e->entries[old[i] - 1].rec) &
		    (seen->size - 1);
		while (seen->slot[j] != 0)
			j = (j + 1) & (seen->size - 1);
		seen->slot[j] = old[i];
	}
	free(old);
}

/*
 * Is rec already an entry? If not, remember that entry index idx (which
 * the caller is about to fill with rec) holds it. Returns 1 if seen.
 * Only entries below idx are looked at, so idx need not exist yet.
 */
static int
expect_seen_add(struct expect_seen *seen, const struct expect *e,
    const struct tlsa_record *rec, size_t idx)
{
	size_t j;

	if ((seen->used + 1) * 2 > seen->size)
		expect_seen_grow(seen, e);
	j = expect_hash(rec) & (seen->size - 1);
	for (; seen->slot[j] != 0; j = (j + 1) & (seen->size - 1))
		if (tlsa_rdata_cmp(&e->entries[seen->slot[j] - 1].rec,
		    rec) == 0)
			return 1;
	seen->slot[j] = idx + 1;
	seen->used++;
	return 0;
}

/* Warn when the leaf does not carry the MX host name (DANE-TA checks it). */
static void
expect_check_name(struct expect *e, X509 *leaf, const char *path)
{
	char *hostname = xstrdup(e->host);
	size_t len = strlen(hostname);

	if (len > 1 && hostname[len - 1] == '.')
		hostname[len - 1] = '\0';
	if (X509_check_host(leaf, hostname, 0, 0, NULL) != 1)
		expect_warn(e, "%s: the certificate does not carry "
		    "the MX host name %s, and senders check it for "
		    "2 x x (DANE-TA) records; add it to the "
		    "subjectAltName or use 3 1 1", path, hostname);
	free(hostname);
}

/*
 * Append rec (taken over) as an entry unless an equal one exists, in
 * which case rec and note are freed.
 */
static void
expect_emit(struct expect *e, struct expect_seen *seen,
    struct tlsa_record *rec, size_t cert, enum expect_role role,
    const char *source, char *note)
{
	struct expect_entry *ent;

	tlsa_record_set_owner(rec, e->owner);
	rec->ttl = e->ttl;
	if (expect_seen_add(seen, e, rec, e->nentries)) {
		tlsa_record_clear(rec);
		free(note);
		return;
	}
	e->entries = expect_grow(e->entries, e->nentries,
	    sizeof(*e->entries));
	ent = &e->entries[e->nentries++];
	ent->rec = *rec;
	memset(rec, 0, sizeof(*rec));
	ent->cert = cert;
	ent->role = role;
	ent->source = source;
	ent->note = note;
}

int
expect_type_allowed(struct tlsa_type t, struct errbuf *err)
{
	char buf[16];

	tlsa_type_str(t, buf, sizeof(buf));
	switch (t.usage) {
	case TLSA_USAGE_PKIX_TA:
		errbuf_set(err, "usage 0 (PKIX-TA) is not for SMTP: "
		    "RFC 7672 section 3.1.3 says SMTP clients do not "
		    "use PKIX usages; use 3 (DANE-EE) or 2 (DANE-TA)");
		return -1;
	case TLSA_USAGE_PKIX_EE:
		errbuf_set(err, "usage 1 (PKIX-EE) is not for SMTP: "
		    "RFC 7672 section 3.1.3 says SMTP clients do not "
		    "use PKIX usages; use 3 (DANE-EE) or 2 (DANE-TA)");
		return -1;
	case TLSA_USAGE_DANE_TA:
	case TLSA_USAGE_DANE_EE:
		break;
	default:
		errbuf_set(err, "record type %s: unknown usage %u; "
		    "use 3 (DANE-EE) or 2 (DANE-TA)", buf, t.usage);
		return -1;
	}
	if (t.selector > TLSA_SELECTOR_SPKI) {
		errbuf_set(err, "record type %s: unknown selector %u; "
		    "use 1 (public key) or 0 (whole certificate)",
		    buf, t.selector);
		return -1;
	}
	if (t.mtype > TLSA_MATCH_SHA512) {
		errbuf_set(err, "record type %s: unknown matching "
		    "type %u; use 1 (SHA-256) or 2 (SHA-512)",
		    buf, t.mtype);
		return -1;
	}
	return 0;
}

/* Refuse what SMTP cannot use, warn about what is fragile. */
static int
expect_check_types(struct expect *e, struct errbuf *err)
{
	char advice[512];
	size_t i;
	int sel0 = 0, mtype0 = 0;

	for (i = 0; i < e->ntypes; i++) {
		struct tlsa_type t = e->types[i];

		if (expect_type_allowed(t, err) < 0)
			return -1;
		if (t.selector == TLSA_SELECTOR_CERT && !sel0++)
			expect_warn(e, "selector 0 (whole certificate) "
			    "changes with every renewal, even with the same "
			    "key; prefer 3 1 1");
		if (t.mtype == TLSA_MATCH_FULL && !mtype0++)
			expect_warn(e, "matching type 0 (full data) makes "
			    "large records that break in some DNS setups; "
			    "prefer SHA-256 (1)");
	}
	/* The same rule as the guard's G9 note (dnshealth.h). */
	if (dnshealth_ttl_advice(e->ttl, -1, advice, sizeof(advice)))
		expect_warn(e, "%s", advice);
	return 0;
}

/*
 * Under 2 x x records, the chain file must be a chain: each certificate
 * above the leaf must issue the one below it (names and key identifiers,
 * and the signature verified), or senders never build a chain through
 * it. The CA at depth must issue the chain down to the leaf (an error: a
 * 2 x x record for it would match nothing); any other certificate that
 * issues nothing below it is a warning naming it. Returns 0, or -1 with
 * err set.
 */
static int
expect_check_issuers(struct expect *e, const struct expect_cert *c, int depth,
    struct errbuf *err)
{
	STACK_OF(X509) *full = c->chain->certs;
	X509 *sub, *iss;
	EVP_PKEY *pk;
	char name[256], subname[256];
	int i, n, below = 0, ret = 0;

	n = sk_X509_num(full);
	for (i = 1; i < n; i++) {
		sub = sk_X509_value(full, below);
		iss = sk_X509_value(full, i);
		pk = X509_get0_pubkey(iss);
		if (X509_check_issued(iss, sub) == X509_V_OK && pk != NULL &&
		    X509_verify(sub, pk) == 1) {
			below = i;
			continue;
		}
		X509_NAME_oneline(X509_get_subject_name(iss), name,
		    sizeof(name));
		X509_NAME_oneline(X509_get_subject_name(sub), subname,
		    sizeof(subname));
		if (i == depth) {
			errbuf_set(err, "%s: the certificate at depth %d (%s) "
			    "did not issue the certificate at depth %d (%s): "
			    "a 2 x x record for it matches no chain senders "
			    "build; fix the chain file or the issuer depth",
			    c->chain->path, i, name, below, subname);
			ret = -1;
			break;
		}
		expect_warn(e, "%s: the certificate at depth %d (%s) did not "
		    "issue the certificate at depth %d (%s): senders ignore "
		    "it; remove it from the chain file", c->chain->path, i,
		    name, below, subname);
	}
	ERR_clear_error();
	return ret;
}

/*
 * The RRset's size as senders fetch it: more than 12 records, or a DNS
 * answer above 1232 bytes (RFC 9715's EDNS buffer size: a larger one
 * needs TCP, which some paths block), warns. The answer is estimated:
 * header, question, each record with a compressed owner, one RRSIG of an
 * RSA-2048 key (the largest common one), the OPT record.
 */
static void
expect_check_size(struct expect *e)
{
	size_t i, n = 0, qname, size;

	if (e->owner == NULL)
		return;
	qname = strlen(e->owner) + 1;		/* wire form, root label */
	size = 12 + qname + 4 + 11;
	for (i = 0; i < e->nentries; i++) {
		n++;
		size += 2 + 10 + 3 + e->entries[i].rec.len;
	}
	size += 2 + 10 + 18 + qname + 256;	/* RRSIG, signer <= owner */
	if (n > 12)
		expect_warn(e, "%s carries %zu TLSA records: more than 12 make "
		    "a large answer and a slow match for every sender; fewer "
		    "record types, or fewer issuers", e->owner, n);
	if (size > 1232)
		expect_warn(e, "the TLSA answer for %s would be about %zu "
		    "bytes, above 1232 (the EDNS buffer size many resolvers "
		    "use): senders then need TCP to fetch it; publish fewer "
		    "or shorter records (3 1 1, 2 1 1)", e->owner, size);
}

/* 0 when cert section ci has something to publish of an algorithm we
 * support, else -1 with err set. */
static int
expect_cert_usable(struct expect_cert *c, struct errbuf *err)
{
	if (c->chain == NULL && c->next == NULL) {
		errbuf_set(err, "cert \"%s\": neither a chain nor a next key",
		    c->name);
		return -1;
	}
	if (expect_cert_alg(c) == NULL) {
		errbuf_set(err, "%s: unsupported key algorithm %s",
		    expect_cert_path(c), c->alg);
		return -1;
	}
	if (c->next != NULL && certkey_alg_family(c->next->pkey) == NULL) {
		char desc[32];

		certkey_alg_name(c->next->pkey, desc, sizeof(desc));
		errbuf_set(err, "%s: unsupported key algorithm %s",
		    c->next->path, desc);
		return -1;
	}
	return 0;
}

/*
 * The 3 x x records of the leaf of cert section ci's chain. Whether the
 * leaf has expired into *expired, its notAfter date into date. Returns 0,
 * or -1 with err set.
 */
static int
expect_cert_current(struct expect *e, struct expect_seen *seen, size_t ci,
    time_t now, int *expired, char *date, size_t datelen,
    struct errbuf *err)
{
	struct expect_cert *c = &e->certs[ci];
	struct tlsa_record rec = { NULL, -1, { 0, 0, 0 }, 0, NULL };
	X509 *leaf = certkey_chain_leaf(c->chain);
	char *note;
	size_t i;

	*expired = certkey_is_expired(leaf, now, date, datelen);
	for (i = 0; i < e->ntypes; i++) {
		if (e->types[i].usage != TLSA_USAGE_DANE_EE)
			continue;
		if (tlsa_record_from_cert(&rec, e->types[i], leaf, err) < 0) {
			errbuf_prefix(err, "%s", c->chain->path);
			return -1;
		}
		note = *expired ? xasprintf("certificate expired %s: fine for "
		    "3 x x (RFC 7672 section 3.1), but renew it", date) :
		    NULL;
		expect_emit(e, seen, &rec, ci, EXPECT_CURRENT, c->chain->path,
		    note);
	}
	return 0;
}

/*
 * The 2 x x records (types issuer[0..nissuer)) of the CA at the issuer
 * depth of cert section ci's chain, after the checks senders' chain
 * building makes necessary; leaf_expired and leaf_date as
 * expect_cert_current found them. Returns 0, or -1 with err set.
 */
static int
expect_cert_issuer(struct expect *e, struct expect_seen *seen, size_t ci,
    time_t now, const struct tlsa_type *issuer, size_t nissuer,
    int leaf_expired, const char *leaf_date, struct errbuf *err)
{
	struct expect_cert *c = &e->certs[ci];
	struct tlsa_record rec = { NULL, -1, { 0, 0, 0 }, 0, NULL };
	int depth = e->issuer_depth;
	char date[32];
	X509 *ca;
	size_t i, k;

	if (depth < 1 || depth >= sk_X509_num(c->chain->certs)) {
		errbuf_set(err, "%s has no certificate at depth %d: a "
		    "2 x x record needs the issuing CA in the chain "
		    "the server sends", c->chain->path, depth);
		return -1;
	}
	ca = sk_X509_value(c->chain->certs, depth);
	if (!certkey_is_ca(ca)) {
		errbuf_set(err, "%s: the certificate at depth %d is "
		    "not a CA (no basicConstraints CA:TRUE): a 2 x x "
		    "record must name the issuing CA; fix the chain "
		    "file or use 3 1 1", c->chain->path, depth);
		return -1;
	}
	if (expect_check_issuers(e, c, depth, err) < 0)
		return -1;
	/* DANE-TA is name-checked (RFC 7672 section 3.2.2). */
	if (e->host != NULL)
		expect_check_name(e, certkey_chain_leaf(c->chain),
		    c->chain->path);
	/* Senders verify the chain's validity for DANE-TA. */
	if (leaf_expired)
		expect_warn(e, "%s: certificate expired %s: senders "
		    "check the chain's validity for 2 x x (DANE-TA) "
		    "records, so these fail; renew it",
		    c->chain->path, leaf_date);
	/* Below the trust anchor senders check the dates; the
	 * trust anchor's own, OpenSSL does not (s_client
	 * -dane_tlsa_rrdata verifies with it expired). */
	for (k = 1; k < (size_t)depth; k++)
		if (certkey_is_expired(sk_X509_value(c->chain->certs,
		    (int)k), now, date, sizeof(date)))
			expect_warn(e, "%s: the CA at depth %zu expired "
			    "%s: below the CA of the 2 x x records, "
			    "senders check its dates, so these fail; "
			    "renew the chain", c->chain->path, k, date);
	if (certkey_is_expired(ca, now, date, sizeof(date)))
		expect_warn(e, "%s: the CA at depth %d expired %s: as "
		    "the trust anchor of the 2 x x records, OpenSSL "
		    "senders (Postfix) do not check its dates and "
		    "still verify, but other DANE senders may not, "
		    "and the CA issues nothing more from it; renew "
		    "the chain from a current CA", c->chain->path,
		    depth, date);
	for (i = 0; i < nissuer; i++) {
		if (tlsa_record_from_cert(&rec, issuer[i], ca, err) < 0) {
			errbuf_prefix(err, "%s", c->chain->path);
			return -1;
		}
		expect_emit(e, seen, &rec, ci, EXPECT_ISSUER,
		    c->chain->path, NULL);
	}
	return 0;
}

/*
 * The 2 x x records of the sibling CAs (issuers) of cert section ci, the
 * CAs the next renewal may come from. Returns 0, or -1 with err set.
 */
static int
expect_cert_siblings(struct expect *e, struct expect_seen *seen, size_t ci,
    time_t now, const struct tlsa_type *issuer, size_t nissuer,
    struct errbuf *err)
{
	struct expect_cert *c = &e->certs[ci];
	struct tlsa_record rec = { NULL, -1, { 0, 0, 0 }, 0, NULL };
	char date[32];
	X509 *ca;
	size_t i, k;

	if (c->nissuers > 0 && e->rollover != CONF_ROLLOVER_CURRENT_ISSUER) {
		errbuf_set(err, "cert \"%s\": issuers is for rollover = "
		    "current+issuer (2 x x records); with current+next the "
		    "next key covers the renewal", c->name);
		return -1;
	}
	for (k = 0; k < c->nissuers; k++) {
		const char *path = c->issuers[k]->path;

		ca = certkey_chain_leaf(c->issuers[k]);
		if (!certkey_is_ca(ca)) {
			errbuf_set(err, "%s: not a CA (no basicConstraints "
			    "CA:TRUE): issuers names the CA certificates a "
			    "2 x x record is published for", path);
			return -1;
		}
		if (certkey_is_expired(ca, now, date, sizeof(date)))
			expect_warn(e, "%s: the issuer expired %s: the CA "
			    "issues nothing more from it; drop it from "
			    "issuers", path, date);
		for (i = 0; i < nissuer; i++) {
			if (tlsa_record_from_cert(&rec, issuer[i], ca,
			    err) < 0) {
				errbuf_prefix(err, "%s", path);
				return -1;
			}
			expect_emit(e, seen, &rec, ci, EXPECT_ISSUER, path,
			    NULL);
		}
	}
	return 0;
}

/* The 3 1 x records (matching types nextm) of cert section ci's next key.
 * Returns 0, or -1 with err set. */
static int
expect_cert_next(struct expect *e, struct expect_seen *seen, size_t ci,
    const uint8_t *nextm, size_t nnext, struct errbuf *err)
{
	struct expect_cert *c = &e->certs[ci];
	struct tlsa_record rec = { NULL, -1, { 0, 0, 0 }, 0, NULL };
	size_t i;

	for (i = 0; i < nnext; i++) {
		struct tlsa_type t = { TLSA_USAGE_DANE_EE,
		    TLSA_SELECTOR_SPKI, nextm[i] };

		if (tlsa_record_from_pubkey(&rec, t, c->next->pkey,
		    err) < 0) {
			errbuf_prefix(err, "%s", c->next->path);
			return -1;
		}
		expect_emit(e, seen, &rec, ci, EXPECT_NEXT, c->next->path,
		    NULL);
	}
	return 0;
}

/* Records for one cert section, in the order current, issuer, next. */
static int
expect_compute_cert(struct expect *e, struct expect_seen *seen, size_t ci,
    time_t now, const struct tlsa_type *issuer, size_t nissuer,
    const uint8_t *nextm, size_t nnext, struct errbuf *err)
{
	struct expect_cert *c = &e->certs[ci];
	char date[32];
	int leaf_expired = 0;

	if (expect_cert_usable(c, err) < 0)
		return -1;
	if (c->chain != NULL && expect_cert_current(e, seen, ci, now,
	    &leaf_expired, date, sizeof(date), err) < 0)
		return -1;
	if (c->chain != NULL && nissuer > 0 && expect_cert_issuer(e, seen,
	    ci, now, issuer, nissuer, leaf_expired, date, err) < 0)
		return -1;
	if (expect_cert_siblings(e, seen, ci, now, issuer, nissuer, err) < 0)
		return -1;
	if (c->next != NULL &&
	    expect_cert_next(e, seen, ci, nextm, nnext, err) < 0)
		return -1;
	return 0;
}

int
expect_compute(struct expect *e, time_t now, struct errbuf *err)
{
	static const struct tlsa_type ta211 = {
		TLSA_USAGE_DANE_TA, TLSA_SELECTOR_SPKI, TLSA_MATCH_SHA256
	};
	struct expect_seen seen = { NULL, 0, 0 };
	struct tlsa_type *issuer;
	uint8_t nextm[TLSA_MATCH_SHA512 + 1];
	size_t i, j, nissuer = 0, nnext = 0;
	int ret = 0;

	if (expect_check_types(e, err) < 0)
		return -1;

	/* 2 x x types as asked; current+issuer alone means 2 1 1. */
	issuer = xreallocarray(NULL, e->ntypes + 1, sizeof(*issuer));
	for (i = 0; i < e->ntypes; i++)
		if (e->types[i].usage == TLSA_USAGE_DANE_TA)
			issuer[nissuer++] = e->types[i];
	if (nissuer == 0 && e->rollover == CONF_ROLLOVER_CURRENT_ISSUER)
		issuer[nissuer++] = ta211;
	if (nissuer == 0 && e->issuer_depth != 1)
		expect_warn(e, "issuer depth %d has no effect: no 2 x x "
		    "records are asked for (rollover current+issuer or a "
		    "2 x x record type)", e->issuer_depth);

	/* A next key has no certificate yet: 3 1 M, M as asked for 3 x x. */
	for (i = 0; i < e->ntypes; i++) {
		if (e->types[i].usage != TLSA_USAGE_DANE_EE)
			continue;
		for (j = 0; j < nnext && nextm[j] != e->types[i].mtype; j++)
			continue;
		if (j == nnext)
			nextm[nnext++] = e->types[i].mtype;
	}
	if (nnext == 0)
		nextm[nnext++] = TLSA_MATCH_SHA256;

	for (i = 0; i < e->ncerts; i++) {
		if (expect_compute_cert(e, &seen, i, now, issuer, nissuer,
		    nextm, nnext, err) < 0) {
			ret = -1;
			break;
		}
	}
	if (ret == 0)
		expect_check_size(e);
	free(seen.slot);
	free(issuer);
	return ret;
}

int
expect_load(const struct conf_host *host, const char *passphrase,
    time_t now, struct expect **out, struct errbuf *err)
{
	struct expect *e;
	size_t i;

	*out = NULL;
	e = expect_new(host);
	for (i = 0; i < host->ncerts; i++) {
		if (expect_add_files(e, &host->certs[i], passphrase,
		    err) < 0) {
			expect_free(e);
			return -1;
		}
	}
	if (expect_compute(e, now, err) < 0) {
		expect_free(e);
		return -1;
	}
	*out = e;
	return 0;
}

void
expect_add_failed(struct expect *e, const struct conf_cert *cc,
    const char *error)
{
	struct expect_failed *f;

	e->failed = xreallocarray(e->failed, e->nfailed + 1,
	    sizeof(*e->failed));
	f = &e->failed[e->nfailed++];
	f->name = xstrdup(cc->name != NULL ? cc->name : "");
	f->chain = cc->chain != NULL ? xstrdup(cc->chain) : NULL;
	f->error = xstrdup(error);
}

/* A section's files read now, through cache (may be NULL). */
static int
expect_add_cached(struct expect *e, const struct conf_cert *cc,
    const char *passphrase, struct expect_cache *cache, struct errbuf *err)
{
	struct expect_keys keys;
	int rc;

	if (cc->chain == NULL)
		return expect_add_loaded(e, cc, &(struct expect_keys){ 0 },
		    err);
	if (expect_keys_load_cached(cc, passphrase, cache, &keys, err) < 0)
		return -1;
	rc = expect_add_loaded(e, cc, &keys, err);
	expect_keys_clear(&keys);
	return rc;
}

int
expect_add_files(struct expect *e, const struct conf_cert *cc,
    const char *passphrase, struct errbuf *err)
{
	return expect_add_cached(e, cc, passphrase, NULL, err);
}

/* expect_load_each with keys (NULL: read each section's files). */
static int
expect_load_sections(const struct conf_host *host, const char *passphrase,
    struct expect_cache *cache, const struct expect_keys *keys, time_t now,
    struct expect **out, struct errbuf *err)
{
	struct expect *e, *one;
	struct expect_cert *c;
	size_t i;
	int rc;

	e = expect_new(host);
	for (i = 0; i < host->ncerts; i++) {
		if (keys != NULL && keys[i].error != NULL) {
			expect_add_failed(e, &host->certs[i], keys[i].error);
			continue;
		}
		/* Each section on its own first: its own failure only. */
		one = expect_new(host);
		one->keep_mismatch = 1;
		rc = keys != NULL ? expect_add_loaded(one, &host->certs[i],
		    &keys[i], err) : expect_add_cached(one, &host->certs[i],
		    passphrase, cache, err);
		if (rc < 0 || expect_compute(one, now, err) < 0) {
			expect_add_failed(e, &host->certs[i], err->msg);
			expect_free(one);
			continue;
		}
		c = &one->certs[0];
		expect_add_cert(e, c->name, c->chain, c->key, c->next);
		e->certs[e->ncerts - 1].problem = c->problem;
		e->certs[e->ncerts - 1].issuers = c->issuers;
		e->certs[e->ncerts - 1].nissuers = c->nissuers;
		c->chain = NULL;
		c->key = c->next = NULL;
		c->problem = NULL;
		c->issuers = NULL;
		c->nissuers = 0;
		expect_free(one);
	}
	if (expect_compute(e, now, err) < 0) {
		expect_free(e);
		*out = NULL;
		return -1;
	}
	*out = e;
	return 0;
}

int
expect_load_each(const struct conf_host *host, const char *passphrase,
    struct expect_cache *cache, time_t now, struct expect **out,
    struct errbuf *err)
{
	return expect_load_sections(host, passphrase, cache, NULL, now, out,
	    err);
}

int
expect_load_each_loaded(const struct conf_host *host,
    const struct expect_keys *keys, time_t now, struct expect **out,
    struct errbuf *err)
{
	return expect_load_sections(host, NULL, NULL, keys, now, out, err);
}

void
expect_free(struct expect *e)
{
	struct expect_cert *c;
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nentries; i++) {
		tlsa_record_clear(&e->entries[i].rec);
		free(e->entries[i].note);
	}
	free(e->entries);
	for (c = e->certs; c < e->certs + e->ncerts; c++) {
		expect_keys_clear(&(struct expect_keys){ c->key, c->next,
		    c->issuers, c->nissuers, c->problem });
		free(c->name);
		certkey_chain_free(c->chain);
	}
	free(e->certs);
	for (i = 0; i < e->nfailed; i++) {
		free(e->failed[i].name);
		free(e->failed[i].chain);
		free(e->failed[i].error);
	}
	free(e->failed);
	for (i = 0; i < e->nwarnings; i++)
		free(e->warnings[i]);
	free(e->warnings);
	free(e->types);
	free(e->owner);
	free(e->host);
	free(e);
}
