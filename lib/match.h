/*
 * match - do published records match a chain or a key?
 *
 * Chains are matched with OpenSSL's own DANE verification (the way
 * test/danetest.c drives it, without a connection): RFC 7672 rules,
 * DANE-EE (3 x x) without name or expiry checks
 * (DANE_FLAG_NO_DANE_EE_NAMECHECKS), DANE-TA (2 x x) with the chain
 * verified up to the matched CA and the leaf name checked against the MX
 * host name. A bare key (a next key has no certificate yet) can only be
 * matched by 3 1 x records, compared on the SubjectPublicKeyInfo digest.
 *
 * Both apply what senders do with records they cannot use:
 *  - usages 0 and 1 (PKIX) are unusable for SMTP (RFC 7672 section 3.1.3),
 *    as is any record OpenSSL's SSL_dane_tlsa_add refuses (unknown
 *    selector or matching type, data of the wrong length or that does not
 *    decode); an RRset with no usable record makes senders fall back to
 *    unauthenticated TLS (RFC 7672 section 2.2);
 *  - digest agility (RFC 7671 section 9, as OpenSSL and so Postfix apply
 *    it): for one usage and selector, a SHA-256 (x x 1) record is ignored
 *    when the RRset also has a usable SHA-512 (x x 2) one; full data
 *    (x x 0) is never ignored.
 */
#ifndef DG_MATCH_H
#define DG_MATCH_H

#include <openssl/x509.h>

#include "errbuf.h"
#include "tlsa.h"

struct match_result {
	int depth;		/* depth in the chain of the matched certificate, or -1 */
	long record;		/* index in the set of the record that matched, or -1 */
	long ignored;		/* not matched: a record that would match but that
				 * senders ignore (digest agility), or -1 */
	size_t published;	/* records at the owner */
	size_t usable;		/* of them, records DANE SMTP senders can use */
	char reason[512];	/* why not, when it did not match */
};

/*
 * Verify chain (leaf first, as served) against the records of set whose
 * owner is owner (all records when owner is NULL). host is the MX host
 * name for the DANE-TA name check. The certificates must be complete
 * (certkey.h), not light: their signatures are verified. Returns 1
 * matched, 0 not matched
 * (res->reason says why), -1 on an internal error (err set).
 */
int match_chain(const struct tlsa_set *set, const char *owner,
    const char *host, STACK_OF(X509) *chain, struct match_result *res,
    struct errbuf *err);

/*
 * Is key covered by a 3 1 x record of set at owner (NULL: any owner)?
 * Returns 1 yes, 0 no, -1 on error (err set).
 */
int match_key(const struct tlsa_set *set, const char *owner, EVP_PKEY *key,
    struct match_result *res, struct errbuf *err);

/*
 * Can a DANE SMTP sender use rec? Returns 1 yes, 0 no (why says why, e.g.
 * "usage 1 (PKIX-EE)" or "3 1 1 (bad digest length)"), -1 on an internal
 * error (why says so).
 */
int match_usable(const struct tlsa_record *rec, char *why, size_t len);

/*
 * Digest agility: the matching type of a usable record at owner (NULL:
 * any) with the same usage and selector as rec and a stronger digest, so
 * that senders ignore rec; -1 when there is none (rec is used).
 */
int match_stronger(const struct tlsa_set *set, const char *owner,
    const struct tlsa_record *rec);

#endif
