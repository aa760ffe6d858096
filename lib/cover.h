/*
 * cover - does a published TLSA set cover what the files on disk need?
 *
 * The one coverage rule of tlsagen --check, the pre-deploy gate
 * (tlsagen --check --dns) and the guard's G4. The callers only render
 * the items. The items of an expected set e (lib/expect), per cert, in
 * this order:
 *  - current: the chain on disk. Covered when a record at e->owner that
 *    senders use (usable, not ignored for a stronger digest) matches it
 *    on its own (OpenSSL's DANE verification, match_chain).
 *  - issuer: when e asks for 2 x x records (current+issuer, or a 2 x x
 *    record type): the chain again, covered only by a 2 x x record, so
 *    that the renewal the issuer record is for does not break DANE.
 *  - issuer, once per CA of issuers = { FILE, ... } (item.ca set): the
 *    sibling CA the next renewal may come from, covered by a usable 2 x x
 *    record at e->owner (not ignored for a stronger digest) whose data
 *    is that CA's: a CA without one breaks DANE at that renewal.
 *  - next: the next key, whatever the rollover scheme (expect emits its
 *    records whatever the scheme): covered by a 3 1 x record.
 * Not covered, the reason says why as a sender sees it: no record, none
 * usable by DANE SMTP senders, a matching record ignored because of
 * digest agility, or OpenSSL's verification error (expired CA, name).
 *
 * cover_records classifies the published records the other way round:
 * used by some item, matching a file but failing (with the reason), or
 * matching nothing on disk (a candidate to retire).
 */
#ifndef DG_COVER_H
#define DG_COVER_H

#include <stddef.h>

#include "errbuf.h"
#include "expect.h"
#include "tlsa.h"

enum cover_state {
	COVER_OK,		/* a record senders use covers it */
	COVER_MISSING,		/* none does (reason says why) */
	COVER_UNUSABLE		/* the set has records, none usable for SMTP */
};

struct cover_item {
	size_t cert;			/* index in e->certs */
	enum expect_role role;		/* current, issuer or next */
	const char *file;		/* chain, issuer or next key path (borrowed) */
	X509 *ca;			/* issuers = { ... }: that file's CA
					 * (borrowed), else NULL */
	enum cover_state state;
	long record;			/* a covering record (index in set), or -1 */
	long *records;			/* every covering record, on its own */
	size_t nrecords;
	char reason[512];		/* when not OK */
};

struct cover {
	struct cover_item *items;
	size_t n;
};

/*
 * The items of e against set (records at e->owner only; all records
 * when e has no owner) into out. Returns 0, or -1 with err set on an
 * internal error. cover_free releases out either way.
 */
int cover_check(const struct expect *e, const struct tlsa_set *set,
    struct cover *out, struct errbuf *err);

void cover_free(struct cover *c);

enum cover_use {
	COVER_USED,		/* covers an item of e */
	COVER_FAILS,		/* its data is a file's, but senders reject it */
	COVER_UNUSED		/* matches no chain, CA or key on disk */
};

struct cover_record {
	enum cover_use use;
	char reason[512];	/* COVER_FAILS: why senders reject it */
};

/*
 * Classify each record of set at e->owner into out[i] (out has set->n
 * entries; records at other owners are COVER_USED, i.e. not judged).
 * Returns 0, or -1 with err set.
 */
int cover_records(const struct expect *e, const struct tlsa_set *set,
    struct cover_record *out, struct errbuf *err);

#endif
