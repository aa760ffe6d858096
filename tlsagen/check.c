/*
 * check - see check.h. The coverage rule is lib/cover's; this file only
 * renders its items and the records to publish.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certkey.h"
#include "check.h"
#include "cover.h"
#include "expect.h"
#include "match.h"
#include "output.h"
#include "tlsa.h"

/*
 * Print rec unless the zone has it. When the zone has a stronger digest
 * for rec's usage and selector, senders would ignore rec: it is proposed
 * with that digest instead, computed from cert (or from the key when
 * cert is NULL), so that the name never carries mixed matching types.
 * Returns 1 if printed.
 */
static int
check_propose(const struct expect *e, const struct tlsa_set *zone,
    const struct tlsa_record *rec, X509 *cert, EVP_PKEY *key,
    struct output *out)
{
	struct tlsa_record strong;
	struct tlsa_type t;
	struct errbuf err;
	char *line;
	int s, ret = 0;

	if ((s = match_stronger(zone, e->owner, rec)) < 0) {
		if (tlsa_set_find(zone, e->owner, rec) >= 0 ||
		    (line = tlsa_record_format(rec, TLSA_FORM_ZONE)) == NULL)
			return 0;
		strbuf_printf(&out->text, "%s\n", line);
		free(line);
		return 1;
	}
	t = rec->type;
	t.mtype = (uint8_t)s;
	if (cert == NULL ? tlsa_record_from_pubkey(&strong, t, key,
	    &err) < 0 : tlsa_record_from_cert(&strong, t, cert, &err) < 0)
		return 0;
	tlsa_record_set_owner(&strong, e->owner);
	strong.ttl = rec->ttl;
	if (tlsa_set_find(zone, e->owner, &strong) < 0 &&
	    (line = tlsa_record_format(&strong, TLSA_FORM_ZONE)) != NULL) {
		strbuf_printf(&out->text, "%s\n", line);
		free(line);
		ret = 1;
	}
	tlsa_record_clear(&strong);
	return ret;
}

/* The zone lines an item needs that the zone does not have yet. */
static void
check_publish(const struct expect *e, const struct tlsa_set *zone,
    const struct cover_item *it, struct output *out)
{
	const struct expect_cert *c = &e->certs[it->cert];
	enum expect_role want = it->role;
	size_t i, n = 0;
	int any = 0;

	/* Only 2 x x types asked: the issuer records cover the chain. */
	if (want == EXPECT_CURRENT) {
		for (i = 0; i < e->nentries; i++)
			if (e->entries[i].cert == it->cert &&
			    e->entries[i].role == EXPECT_CURRENT)
				any = 1;
		if (!any)
			want = EXPECT_ISSUER;
	}
	for (i = 0; i < e->nentries; i++) {
		const struct expect_entry *ent = &e->entries[i];

		if (ent->cert != it->cert || ent->role != want)
			continue;
		/* A sibling CA's records, or the chain's CA's alone. */
		if (want == EXPECT_ISSUER && (it->ca != NULL ?
		    strcmp(ent->source, it->file) != 0 :
		    ent->source != c->chain->path))
			continue;
		n += check_propose(e, zone, &ent->rec, want == EXPECT_NEXT ?
		    NULL : it->ca != NULL ? it->ca :
		    sk_X509_value(c->chain->certs, want == EXPECT_ISSUER ?
		    e->issuer_depth : 0), c->next != NULL ? c->next->pkey :
		    NULL, out);
	}
	if (n == 0)
		strbuf_printf(&out->text, "; nothing to add: the records it needs are "
		    "published, see the reason\n");
}

int
check_expect(const struct expect *e, const struct tlsa_set *zone,
    struct output *out, size_t *missing, struct errbuf *err)
{
	const struct expect_cert *c;
	struct cover cov;
	char alg[64];
	size_t i;

	if (cover_check(e, zone, &cov, err) < 0) {
		cover_free(&cov);
		return -1;
	}
	for (i = 0; i < cov.n; i++) {
		const struct cover_item *it = &cov.items[i];

		c = &e->certs[it->cert];
		if (it->role != EXPECT_NEXT || certkey_alg_name(c->next->pkey,
		    alg, sizeof(alg)) != 0)
			snprintf(alg, sizeof(alg), "%s", c->alg);
		if (it->state == COVER_OK) {
			strbuf_printf(&out->text, "ok      %s %s %s %s %s\n", e->host,
			    c->name, alg, expect_role_name(it->role),
			    it->file);
			continue;
		}
		strbuf_printf(&out->text, "MISSING %s %s %s %s %s: %s%s; publish:\n",
		    e->host, c->name, alg, expect_role_name(it->role), it->file,
		    it->reason, it->state == COVER_UNUSABLE ? " (senders "
		    "deliver without authentication)" : "");
		check_publish(e, zone, it, out);
		(*missing)++;
	}
	cover_free(&cov);
	return 0;
}
