/*
 * cover - see cover.h.
 *
 * Every record is matched on its own as well as the set as a whole: the
 * gate needs the records that cover an item (their first-seen times),
 * and a record that covers an item on its own is what a sender can rely
 * on. The whole set is only matched for the reason when nothing covers
 * an item, so that the reason is OpenSSL's, as a sender's would be.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cover.h"
#include "match.h"
#include "xalloc.h"

static int
cover_wanted(const struct expect *e, const struct tlsa_record *rec)
{
	return e->owner == NULL ||
	    (rec->owner != NULL && tlsa_name_equal(rec->owner, e->owner));
}

/* Does e emit a record of this role for cert ci? */
static int
cover_has_role(const struct expect *e, size_t ci, enum expect_role role)
{
	size_t i;

	for (i = 0; i < e->nentries; i++)
		if (e->entries[i].cert == ci && e->entries[i].role == role)
			return 1;
	return 0;
}

/*
 * Does rec on its own cover the item (chain or key)? 1, 0, or -1 with
 * err set. A record senders ignore covers nothing.
 */
static int
cover_one(const struct expect *e, const struct tlsa_set *set,
    const struct tlsa_record *rec, const struct expect_cert *c,
    enum expect_role role, struct errbuf *err)
{
	struct match_result res;
	struct tlsa_set one;
	char why[128];
	int m;

	if (role == EXPECT_ISSUER && rec->type.usage != TLSA_USAGE_DANE_TA)
		return 0;
	if (match_usable(rec, why, sizeof(why)) != 1 ||
	    match_stronger(set, e->owner, rec) >= 0)
		return 0;
	tlsa_set_init(&one);
	tlsa_set_add(&one, rec);
	if (role == EXPECT_NEXT)
		m = match_key(&one, NULL, c->next->pkey, &res, err);
	else
		m = match_chain(&one, NULL, e->host, c->chain->certs, &res,
		    err);
	tlsa_set_free(&one);
	return m;
}

/* The reason nothing covers item, from the set as a whole. */
static int
cover_why(const struct expect *e, const struct tlsa_set *set,
    const struct expect_cert *c, struct cover_item *item, struct errbuf *err)
{
	struct match_result res;
	struct tlsa_set ta;
	size_t i;
	int m;

	if (item->role == EXPECT_NEXT)
		m = match_key(set, e->owner, c->next->pkey, &res, err);
	else if (item->role == EXPECT_CURRENT)
		m = match_chain(set, e->owner, e->host, c->chain->certs, &res,
		    err);
	else {
		tlsa_set_init(&ta);
		for (i = 0; i < set->n; i++)
			if (cover_wanted(e, &set->v[i]) &&
			    set->v[i].type.usage == TLSA_USAGE_DANE_TA)
				tlsa_set_add(&ta, &set->v[i]);
		if (ta.n == 0) {
			snprintf(item->reason, sizeof(item->reason), "no 2 x x "
			    "record at %s for the issuing CA",
			    e->owner != NULL ? e->owner : "any owner");
			item->state = COVER_MISSING;
			tlsa_set_free(&ta);
			return 0;
		}
		m = match_chain(&ta, NULL, e->host, c->chain->certs, &res,
		    err);
		tlsa_set_free(&ta);
	}
	if (m < 0)
		return -1;
	if (m == 1) {
		/* Only as a whole (not expected): count it as covered. */
		item->state = COVER_OK;
		item->record = res.record;
		return 0;
	}
	item->state = res.published > 0 && res.usable == 0 &&
	    item->role == EXPECT_CURRENT ? COVER_UNUSABLE : COVER_MISSING;
	snprintf(item->reason, sizeof(item->reason), "%s", res.reason);
	return 0;
}

static int cover_data_is_cert(const struct tlsa_record *, X509 *);

/*
 * A sibling CA of issuers = { ... }: covered by each usable 2 x x record
 * with its data (no chain to verify: the renewal it may issue does not
 * exist yet).
 */
static void
cover_sibling(const struct expect *e, const struct tlsa_set *set,
    struct cover_item *item)
{
	const struct tlsa_record *rec;
	char why[128];
	size_t k;

	for (k = 0; k < set->n; k++) {
		rec = &set->v[k];
		if (!cover_wanted(e, rec) ||
		    rec->type.usage != TLSA_USAGE_DANE_TA ||
		    !cover_data_is_cert(rec, item->ca) ||
		    match_usable(rec, why, sizeof(why)) != 1 ||
		    match_stronger(set, e->owner, rec) >= 0)
			continue;
		item->records = xreallocarray(item->records,
		    item->nrecords + 1, sizeof(*item->records));
		item->records[item->nrecords++] = (long)k;
	}
	if (item->nrecords > 0) {
		item->state = COVER_OK;
		item->record = item->records[0];
		return;
	}
	item->state = COVER_MISSING;
	snprintf(item->reason, sizeof(item->reason), "no usable 2 x x record "
	    "at %s has this CA's data", e->owner != NULL ? e->owner :
	    "any owner");
}

static struct cover_item *
cover_add(struct cover *out, size_t ci, enum expect_role role,
    const char *file)
{
	struct cover_item *item;

	out->items = xreallocarray(out->items, out->n + 1,
	    sizeof(*out->items));
	item = &out->items[out->n++];
	memset(item, 0, sizeof(*item));
	item->cert = ci;
	item->role = role;
	item->file = file;
	item->record = -1;
	return item;
}

int
cover_check(const struct expect *e, const struct tlsa_set *set,
    struct cover *out, struct errbuf *err)
{
	static const enum expect_role roles[] = {
		EXPECT_CURRENT, EXPECT_ISSUER, EXPECT_NEXT
	};
	struct cover_item *item;
	size_t ci, r, k;
	int m;

	memset(out, 0, sizeof(*out));
	for (ci = 0; ci < e->ncerts; ci++) {
		const struct expect_cert *c = &e->certs[ci];

		for (r = 0; r < 3; r++) {
			if (roles[r] == EXPECT_NEXT ? c->next == NULL :
			    c->chain == NULL)
				continue;
			if (roles[r] == EXPECT_ISSUER &&
			    !cover_has_role(e, ci, EXPECT_ISSUER))
				continue;
			item = cover_add(out, ci, roles[r], roles[r] ==
			    EXPECT_NEXT ? c->next->path : c->chain->path);
			for (k = 0; k < set->n; k++) {
				if (!cover_wanted(e, &set->v[k]))
					continue;
				if ((m = cover_one(e, set, &set->v[k], c,
				    roles[r], err)) < 0)
					return -1;
				if (m == 0)
					continue;
				item->records = xreallocarray(item->records,
				    item->nrecords + 1,
				    sizeof(*item->records));
				item->records[item->nrecords++] = (long)k;
			}
			if (item->nrecords > 0) {
				item->state = COVER_OK;
				item->record = item->records[0];
			} else if (cover_why(e, set, c, item, err) < 0)
				return -1;
			/* After the chain's CA, its siblings (expect_compute
			 * refuses issuers but under current+issuer). */
			for (k = 0; roles[r] == EXPECT_ISSUER &&
			    k < c->nissuers; k++) {
				item = cover_add(out, ci, EXPECT_ISSUER,
				    c->issuers[k]->path);
				item->ca = certkey_chain_leaf(c->issuers[k]);
				cover_sibling(e, set, item);
			}
		}
	}
	return 0;
}

void
cover_free(struct cover *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->items[i].records);
	free(c->items);
	c->items = NULL;
	c->n = 0;
}

/* Is rec's data that of cert (any usage)? */
static int
cover_data_is_cert(const struct tlsa_record *rec, X509 *cert)
{
	struct tlsa_record mine;
	struct tlsa_type t = rec->type;
	struct errbuf err;
	int eq;

	if (t.selector > TLSA_SELECTOR_SPKI || t.mtype > TLSA_MATCH_SHA512)
		return 0;
	if (tlsa_record_from_cert(&mine, t, cert, &err) < 0)
		return 0;
	eq = tlsa_rdata_cmp(&mine, rec) == 0;
	tlsa_record_clear(&mine);
	return eq;
}

static int
cover_data_is_key(const struct tlsa_record *rec, EVP_PKEY *key)
{
	struct tlsa_record mine;
	struct tlsa_type t = rec->type;
	struct errbuf err;
	int eq;

	if (t.selector != TLSA_SELECTOR_SPKI || t.mtype > TLSA_MATCH_SHA512)
		return 0;
	if (tlsa_record_from_pubkey(&mine, t, key, &err) < 0)
		return 0;
	eq = tlsa_rdata_cmp(&mine, rec) == 0;
	tlsa_record_clear(&mine);
	return eq;
}

/*
 * The file and depth whose data rec carries: 1 with *file and *depth
 * set (depth -1 for a next key), or 0.
 */
static int
cover_data_source(const struct expect *e, const struct tlsa_record *rec,
    const struct expect_cert **cert, int *depth)
{
	size_t ci;
	int d;

	for (ci = 0; ci < e->ncerts; ci++) {
		const struct expect_cert *c = &e->certs[ci];

		*cert = c;
		if (c->chain != NULL)
			for (d = 0; d < sk_X509_num(c->chain->certs); d++)
				if (cover_data_is_cert(rec,
				    sk_X509_value(c->chain->certs, d))) {
					*depth = d;
					return 1;
				}
		if (c->next != NULL && cover_data_is_key(rec, c->next->pkey)) {
			*depth = -1;
			return 1;
		}
	}
	return 0;
}

/*
 * A record expected for a CA of issuers = { ... }: it covers no file the
 * server sends now, but the renewal that CA may issue; it is expected,
 * not a candidate to retire.
 */
static int
cover_sibling_issuer(const struct expect *e, const struct tlsa_record *rec)
{
	const struct expect_entry *en;
	size_t i;

	for (i = 0; i < e->nentries; i++) {
		en = &e->entries[i];
		if (en->role == EXPECT_ISSUER && e->certs[en->cert].chain != NULL &&
		    en->source != e->certs[en->cert].chain->path &&
		    tlsa_rdata_cmp(&en->rec, rec) == 0)
			return 1;
	}
	return 0;
}

int
cover_records(const struct expect *e, const struct tlsa_set *set,
    struct cover_record *out, struct errbuf *err)
{
	const struct expect_cert *c;
	struct match_result res;
	struct tlsa_set one;
	struct cover cov;
	char why[256];
	size_t i, k, n;
	int depth, stronger, m;

	if (cover_check(e, set, &cov, err) < 0) {
		cover_free(&cov);
		return -1;
	}
	for (i = 0; i < set->n; i++) {
		const struct tlsa_record *rec = &set->v[i];

		memset(&out[i], 0, sizeof(out[i]));
		out[i].use = COVER_USED;
		if (!cover_wanted(e, rec))
			continue;
		if (cover_sibling_issuer(e, rec))
			continue;
		for (k = 0, n = 0; k < cov.n && n == 0; k++)
			for (m = 0; (size_t)m < cov.items[k].nrecords; m++)
				if (cov.items[k].records[m] == (long)i)
					n = 1;
		if (n)
			continue;
		if (!cover_data_source(e, rec, &c, &depth)) {
			out[i].use = COVER_UNUSED;
			continue;
		}
		out[i].use = COVER_FAILS;
		if (match_usable(rec, why, sizeof(why)) != 1)
			snprintf(out[i].reason, sizeof(out[i].reason),
			    "not usable by DANE SMTP senders: %s", why);
		else if ((stronger = match_stronger(set, e->owner, rec)) >= 0)
			snprintf(out[i].reason, sizeof(out[i].reason),
			    "ignored by senders: the RRset also has %u %u %d "
			    "records, and senders use only the strongest "
			    "digest (RFC 7671 section 9)", rec->type.usage,
			    rec->type.selector, stronger);
		else if (depth < 0 || c->chain == NULL)
			snprintf(out[i].reason, sizeof(out[i].reason),
			    "the next key %s has no certificate yet: only "
			    "3 1 x records can name it", c->next->path);
		else {
			tlsa_set_init(&one);
			tlsa_set_add(&one, rec);
			m = match_chain(&one, NULL, e->host, c->chain->certs,
			    &res, err);
			tlsa_set_free(&one);
			if (m < 0) {
				cover_free(&cov);
				return -1;
			}
			snprintf(out[i].reason, sizeof(out[i].reason),
			    m == 1 ? "matches %s at depth %d, but no item "
			    "needs it" : "matches %s at depth %d, but senders "
			    "reject the chain with it: %s", c->chain->path,
			    depth, res.reason);
		}
	}
	cover_free(&cov);
	return 0;
}
