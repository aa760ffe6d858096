/*
 * expect - a host description -> its expected TLSA set.
 *
 * This is the one function both programs use: tlsagen prints the set,
 * the guard checks the published records and the served chains against
 * it, so the two can never disagree. It applies the generation rules of
 * DESIGN.md:
 *  - usages 2 and 3 only; 0 and 1 are refused with the reason;
 *  - default 3 1 1; selector 0 and matching type 0 are allowed with a
 *    warning that says why they are fragile;
 *  - one record set per algorithm (per expect_cert), in the order the
 *    certs were added; within it current, issuer, next; types in the
 *    order given; a record already emitted for the same owner (a key
 *    shared by two chains) is not repeated;
 *  - current+next: 3 1 M for the next key for each matching type M of the
 *    usage-3 types asked for (3 1 1 if none);
 *  - current+issuer (or any 2 x x type asked for): 2 S M for the CA
 *    certificate at issuer_depth of the chain file; a chain that does not
 *    contain it (or where it is not a CA) is an error - the server must
 *    send the CA a 2 x x record names; and it must really issue the
 *    chain down to the leaf (names, key identifiers and signature
 *    verified), while any other certificate of the file that issues
 *    nothing below it is a warning naming it;
 *  - issuers = { FILE, ... } (current+issuer only): 2 S M records for
 *    the first certificate of each file, which must be a CA - the
 *    sibling intermediates a CA may issue the next renewal from; an
 *    expired one warns;
 *  - TTL outside 1800-3600 warns; an expired leaf is fine for 3 x x
 *    (RFC 7672 section 3.1) and is noted, not refused;
 *  - more than 12 records at the owner, or a TLSA answer estimated
 *    above 1232 bytes (the EDNS buffer size many resolvers use: a
 *    larger answer falls back to TCP, which some paths block) warn.
 */
#ifndef DG_EXPECT_H
#define DG_EXPECT_H

#include <stddef.h>
#include <time.h>

#include "certkey.h"
#include "conf.h"
#include "errbuf.h"
#include "tlsa.h"

enum expect_role {
	EXPECT_CURRENT,		/* the served leaf (3 x x) */
	EXPECT_ISSUER,		/* a CA in the served chain (2 x x) */
	EXPECT_NEXT		/* a pre-generated next key (3 1 x) */
};

/* One algorithm's material, loaded. */
struct expect_cert {
	char *name;			/* "rsa" (config section) or the family */
	char alg[32];			/* "rsa-2048", from the leaf (or next key) */
	struct certkey_chain *chain;	/* NULL for a next key on its own */
	struct certkey_key *key;	/* the leaf's private key, or NULL */
	struct certkey_key *next;	/* the next key, or NULL */
	struct certkey_chain **issuers;	/* issuers = { FILE, ... }: each
					 * file's first certificate is a CA
					 * to publish a 2 x x record for */
	size_t nissuers;
	char *problem;			/* expect_load_each: the key file does not
					 * match the leaf ("KEY does not match the
					 * certificate in CHAIN"), or NULL */
};

/* expect_load_each: a cert section that could not be used. */
struct expect_failed {
	char *name;			/* the section's name (or "") */
	char *chain;			/* its chain file, or NULL */
	char *error;			/* why, naming the file */
};

/* One expected record and where it came from. */
struct expect_entry {
	struct tlsa_record rec;		/* owner, ttl, type and data all set */
	size_t cert;			/* index into expect.certs */
	enum expect_role role;
	const char *source;		/* file the data came from (borrowed from certs) */
	char *note;			/* e.g. the expiry note, or NULL */
};

struct expect {
	char *host;			/* MX host name, normalised (trailing dot), or NULL */
	char *owner;			/* "_25._tcp.mx1.example.com.", or NULL */
	unsigned port;
	long ttl;
	enum conf_rollover rollover;
	int issuer_depth;
	struct tlsa_type *types;	/* record types asked for */
	size_t ntypes;
	struct expect_cert *certs;	/* owned */
	size_t ncerts;
	struct expect_entry *entries;	/* filled by expect_compute */
	size_t nentries;
	char **warnings;		/* one line each, e.g. the TTL warning */
	size_t nwarnings;
	int keep_mismatch;		/* expect_add_files: a key that does not
					 * match is c->problem, not an error */
	struct expect_failed *failed;	/* expect_load_each */
	size_t nfailed;
};

/*
 * New, empty expectation for host's name, port, ttl, rollover,
 * issuer_depth and record types (host->certs is not looked at).
 * host->name may be NULL: the records then have no owner (bare rdata)
 * and the DANE-TA name check is skipped.
 */
struct expect *expect_new(const struct conf_host *host);

/*
 * What of a cert section is read from files the MTA protects: its keys,
 * of which only the public halves are kept (a set needs no more), and its
 * issuer certificates. The guard reads them as root, before it drops its
 * privileges, and makes sets from them and the chain file (read afresh
 * each time: what a renewal changes) later.
 */
struct expect_keys {
	struct certkey_key *key;	/* key =, or NULL */
	struct certkey_key *next;	/* next_key =, or NULL */
	struct certkey_chain **issuers;	/* issuers = { ... } */
	size_t nissuers;
	char *error;			/* why they could not be read (the
					 * section then fails with it), or
					 * NULL */
};

/*
 * Read cc's key, next_key (passphrase from cc->passphrase_file or else
 * passphrase, which may be NULL) and issuer files into *out. Returns 0,
 * or -1 with err set (*out then empty).
 */
int expect_keys_load(const struct conf_cert *cc, const char *passphrase,
    struct expect_keys *out, struct errbuf *err);

/*
 * Decoded key and issuer files, for one run over many sections (a
 * hoster's thousand names sharing two key files): each file is decoded
 * once while its identity (path, device, inode, size, mtime, ctime) stays
 * the same, and again when it changes. Keys read with a passphrase are
 * not kept. Not for use by two threads at once.
 */
struct expect_cache;

struct expect_cache *expect_cache_new(void);
void expect_cache_free(struct expect_cache *cache);

/* expect_keys_load through cache (NULL: read every file). */
int expect_keys_load_cached(const struct conf_cert *cc,
    const char *passphrase, struct expect_cache *cache,
    struct expect_keys *out, struct errbuf *err);

/* Free what *k holds and empty it. */
void expect_keys_clear(struct expect_keys *k);

/*
 * Load cc's chain file and append it with keys (loaded by
 * expect_keys_load; e takes references, keys stays the caller's). A key
 * that does not match the leaf is an error naming both files. Returns 0,
 * or -1 with err set.
 */
int expect_add_loaded(struct expect *e, const struct conf_cert *cc,
    const struct expect_keys *keys, struct errbuf *err);

/* expect_keys_load and expect_add_loaded. */
int expect_add_files(struct expect *e, const struct conf_cert *cc,
    const char *passphrase, struct errbuf *err);

/* List cc in e->failed with error (naming the file), as expect_load_each
 * does for a section whose files cannot be used. */
void expect_add_failed(struct expect *e, const struct conf_cert *cc,
    const char *error);

/*
 * Append already loaded material; e takes ownership of chain, key and
 * next (any may be NULL, but not both chain and next). name may be NULL
 * (the algorithm family is used). The caller has checked key vs leaf.
 */
void expect_add_cert(struct expect *e, const char *name,
    struct certkey_chain *chain, struct certkey_key *key,
    struct certkey_key *next);

/*
 * Compute e->entries and e->warnings by the rules above, as of now (for
 * the expiry note). Refused types and missing issuers are errors.
 * Returns 0, or -1 with err set. May be called once.
 */
int expect_compute(struct expect *e, time_t now, struct errbuf *err);

/* expect_new + expect_add_files for every cert + expect_compute. */
int expect_load(const struct conf_host *host, const char *passphrase,
    time_t now, struct expect **out, struct errbuf *err);

/*
 * For the guard, which must report a broken file rather than stop: like
 * expect_load, but a cert section whose files do not load or whose
 * records cannot be computed is left out of e->certs and listed in
 * e->failed, so that the other sections are still checked; and a key
 * that does not match its certificate is the cert's problem, its chain
 * still checked. Key and issuer files are read through cache (may be
 * NULL). Returns 0 (*out set, maybe without certs), or -1 with err set
 * when the whole set cannot be computed.
 */
int expect_load_each(const struct conf_host *host, const char *passphrase,
    struct expect_cache *cache, time_t now, struct expect **out,
    struct errbuf *err);

/*
 * The same with every section's keys loaded already: keys[i] for
 * host->certs[i] (a section whose keys[i].error is set fails with it).
 */
int expect_load_each_loaded(const struct conf_host *host,
    const struct expect_keys *keys, time_t now, struct expect **out,
    struct errbuf *err);

void expect_free(struct expect *e);

/*
 * The record-type rule alone, for the configuration checker: 0 for a
 * type SMTP may publish (usage 2 or 3, selector 0/1, matching type 0-2),
 * or -1 with err saying why not (usages 0 and 1 with the RFC's reason).
 */
int expect_type_allowed(struct tlsa_type type, struct errbuf *err);

/* "current", "issuer", "next". */
const char *expect_role_name(enum expect_role role);

#endif
