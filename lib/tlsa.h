/*
 * tlsa - the TLSA record model (RFC 6698, RFC 7671, RFC 7672).
 *
 * A record is owner, TTL, the three numbers (usage, selector, matching
 * type) and the association data in binary. Records are always compared on
 * binary data, never on their text, so "AB CD" from dig and "abcd" from
 * ldns are the same record.
 *
 * This module computes association data from certificates and public
 * keys, parses records (bare rdata, RFC 3597 generic form, zone-file
 * lines) and formats them in every output form tlsagen offers. Policy
 * (which usages SMTP allows, warnings) lives in expect.c, not here.
 */
#ifndef DG_TLSA_H
#define DG_TLSA_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "errbuf.h"

enum {
	TLSA_USAGE_PKIX_TA = 0,
	TLSA_USAGE_PKIX_EE = 1,
	TLSA_USAGE_DANE_TA = 2,
	TLSA_USAGE_DANE_EE = 3
};
enum { TLSA_SELECTOR_CERT = 0, TLSA_SELECTOR_SPKI = 1 };
enum { TLSA_MATCH_FULL = 0, TLSA_MATCH_SHA256 = 1, TLSA_MATCH_SHA512 = 2 };

/* Largest association data we accept (a full certificate, 3 0 0). */
#define TLSA_DATA_MAX 65535

/* The three numbers in front of the data, e.g. 3 1 1. */
struct tlsa_type {
	uint8_t usage;
	uint8_t selector;
	uint8_t mtype;
};

struct tlsa_record {
	char *owner;		/* absolute, lower case, trailing dot; NULL if unknown */
	long ttl;		/* seconds; -1 if unknown */
	struct tlsa_type type;
	size_t len;		/* length of data */
	unsigned char *data;	/* association data, owned by the record */
};

/* A growable array of records. Zero-initialised is a valid empty set. */
struct tlsa_set {
	struct tlsa_record *v;
	size_t n;
	size_t alloc;
};

enum tlsa_form {
	TLSA_FORM_ZONE,		/* _25._tcp.mx1.example.com. 3600 IN TLSA 3 1 1 <hex> */
	TLSA_FORM_GENERIC,	/* _25._tcp.mx1.example.com. 3600 IN TYPE52 \# 35 030101<hex> */
	TLSA_FORM_NSUPDATE,	/* update add _25._tcp.mx1.example.com. 3600 IN TLSA 3 1 1 <hex> */
	TLSA_FORM_RDATA,	/* 3 1 1 <hex> */
	TLSA_FORM_JSON		/* {"owner":...,"ttl":3600,"usage":3,"selector":1,"mtype":1,"data":"<hex>"} */
};

/*
 * Parse "U S M" (e.g. "3 1 1"; also "3,1,1") strictly: usage 0-3,
 * selector 0-1, matching type 0-2. Returns 0, or -1 with err set.
 */
int tlsa_type_parse(const char *text, struct tlsa_type *out, struct errbuf *err);

/* "3 1 1" into buf (at least 12 bytes). Returns buf. */
char *tlsa_type_str(struct tlsa_type type, char *buf, size_t len);

/*
 * Compute association data of cert for type.selector and type.mtype into
 * out (owner NULL, ttl -1). Returns 0, or -1 with err set.
 * The caller clears out with tlsa_record_clear.
 */
int tlsa_record_from_cert(struct tlsa_record *out, struct tlsa_type type,
    X509 *cert, struct errbuf *err);

/*
 * Same from DER bytes already at hand: the whole certificate for
 * selector 0, its SubjectPublicKeyInfo for selector 1 (type.selector only
 * says which the caller passes). This is the fast path for certificates
 * that were never decoded into an X509 (see certkey.h).
 */
int tlsa_record_from_data(struct tlsa_record *out, struct tlsa_type type,
    const unsigned char *der, size_t len, struct errbuf *err);

/*
 * Same for a public (or private) key; type.selector must be 1. The key is
 * encoded as a certificate carries it: DER SubjectPublicKeyInfo, EC points
 * uncompressed, curves named - so a key file hashes to the same data as
 * the certificate made from it.
 */
int tlsa_record_from_pubkey(struct tlsa_record *out, struct tlsa_type type,
    EVP_PKEY *key, struct errbuf *err);

/* Free what the record owns and reset it (owner NULL, ttl -1, no data). */
void tlsa_record_clear(struct tlsa_record *rec);

/* Deep copy src into dst (dst is overwritten, not cleared first). */
void tlsa_record_copy(struct tlsa_record *dst, const struct tlsa_record *src);

/* Replace rec's owner with a normalised copy of owner (NULL allowed). */
void tlsa_record_set_owner(struct tlsa_record *rec, const char *owner);

/* Order on rdata only: usage, selector, mtype, then data (length first). */
int tlsa_rdata_cmp(const struct tlsa_record *a, const struct tlsa_record *b);

/* Total order: owner (NULL first, case-insensitive), then rdata. TTL ignored. */
int tlsa_record_cmp(const struct tlsa_record *a, const struct tlsa_record *b);

/*
 * "_PORT._tcp.HOST." lower case, trailing dot, for HOST with or without
 * its trailing dot. Returns a malloc'd string.
 */
char *tlsa_owner_name(const char *host, unsigned port);

/*
 * Normalise a domain name: lower case, trailing dot. Returns a malloc'd
 * string. Does not validate.
 */
char *tlsa_name_normalise(const char *name);

/* 1 if two domain names are equal, ignoring case and a trailing dot. */
int tlsa_name_equal(const char *a, const char *b);

/* Lower-case hex of data, malloc'd. */
char *tlsa_hex(const unsigned char *data, size_t len);

/*
 * Parse record data in text: "U S M HEX" where HEX may be any case and
 * split in chunks by white space (also inside "( )"), or the RFC 3597
 * generic form "\# LEN HEX". Any numbers 0-255 are accepted for U S M (a
 * zone may hold types we do not use); data must be 1..TLSA_DATA_MAX bytes
 * and, for matching types 1 and 2, exactly 32 or 64 bytes.
 * out gets owner NULL and ttl -1. Returns 0, or -1 with err set.
 */
int tlsa_rdata_parse(const char *text, struct tlsa_record *out,
    struct errbuf *err);

/*
 * Parse zone-file text and add every TLSA record (type TLSA or TYPE52,
 * presentation or generic rdata) to out; other record types are skipped.
 * Understands $ORIGIN and $TTL, '@', relative owners (completed with the
 * current origin), a blank owner (the previous owner), optional TTL (with
 * units such as 1h30m) and class (IN or CLASS1) in either order, comments,
 * quoted strings and parentheses spanning lines. $INCLUDE is refused.
 * origin may be NULL (relative names are then an error); default_ttl is
 * used when neither the line nor $TTL gives one (-1: leave unknown).
 * name is used in messages: "name:LINE: problem". Returns 0, or -1 with
 * err set (records added before the error stay in out).
 */
int tlsa_zone_parse(const char *text, size_t len, const char *name,
    const char *origin, long default_ttl, struct tlsa_set *out,
    struct errbuf *err);

/* Read path and tlsa_zone_parse it. File errors name the path. */
int tlsa_zone_load(const char *path, const char *origin, long default_ttl,
    struct tlsa_set *out, struct errbuf *err);

/* Name to form ("zone", "generic", "nsupdate", "rdata", "json"). 0 or -1. */
int tlsa_form_parse(const char *name, enum tlsa_form *out);

/*
 * Format rec on one line without newline, malloc'd. Forms other than
 * rdata need rec->owner and a ttl >= 0; without them this returns NULL.
 * The nsupdate form is only the "update add" line; the caller writes the
 * "send".
 */
char *tlsa_record_format(const struct tlsa_record *rec, enum tlsa_form form);

/* Sets. */
void tlsa_set_init(struct tlsa_set *set);
/* Add a deep copy of rec. */
void tlsa_set_add(struct tlsa_set *set, const struct tlsa_record *rec);
/* Move rec into the set; rec is left cleared. */
void tlsa_set_take(struct tlsa_set *set, struct tlsa_record *rec);
/* Sort by tlsa_record_cmp and drop duplicates (first TTL kept). */
void tlsa_set_sort_unique(struct tlsa_set *set);
/*
 * Index of the first record equal to rec on rdata and, when owner is not
 * NULL, whose owner equals owner (case-insensitive, trailing dot
 * optional). -1 if none.
 */
long tlsa_set_find(const struct tlsa_set *set, const char *owner,
    const struct tlsa_record *rec);
void tlsa_set_free(struct tlsa_set *set);

#endif
