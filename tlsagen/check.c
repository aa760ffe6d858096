/*
 * check - see check.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certkey.h"
#include "check.h"
#include "expect.h"
#include "match.h"
#include "output.h"
#include "tlsa.h"

/* The zone lines an item needs: its entries in e of the given roles. */
static void
check_publish(const struct expect *e, size_t cert, int chain,
    struct output *out)
{
	const struct expect_entry *ent;
	char *line;
	size_t i;

	for (i = 0; i < e->nentries; i++) {
		ent = &e->entries[i];
		if (ent->cert != cert)
			continue;
		if (chain ? ent->role == EXPECT_NEXT : ent->role != EXPECT_NEXT)
			continue;
		if ((line = tlsa_record_format(&ent->rec,
		    TLSA_FORM_ZONE)) == NULL)
			continue;
		output_printf(out, "%s\n", line);
		free(line);
	}
}

static void
check_line(const struct expect *e, size_t cert, const char *alg,
    const char *role, const char *file, int r,
    const struct match_result *res, struct output *out)
{
	const struct expect_cert *c = &e->certs[cert];

	if (r == 1) {
		output_printf(out, "ok      %s %s %s %s %s\n", e->host, c->name,
		    alg, role, file);
		return;
	}
	output_printf(out, "MISSING %s %s %s %s %s: %s; publish:\n", e->host,
	    c->name, alg, role, file,
	    res->reason[0] ? res->reason : "no matching record");
	check_publish(e, cert, strcmp(role, "next") != 0, out);
}

int
check_expect(const struct expect *e, const struct tlsa_set *zone,
    struct output *out, size_t *missing, struct errbuf *err)
{
	const struct expect_cert *c;
	struct match_result res;
	char alg[64];
	size_t i;
	int r;

	for (i = 0; i < e->ncerts; i++) {
		c = &e->certs[i];
		if (c->chain != NULL) {
			memset(&res, 0, sizeof(res));
			r = match_chain(zone, e->owner, e->host, c->chain->certs,
			    &res, err);
			if (r < 0)
				return -1;
			check_line(e, i, c->alg, "current", c->chain->path, r,
			    &res, out);
			if (r == 0)
				(*missing)++;
		}
		if (c->next != NULL) {
			memset(&res, 0, sizeof(res));
			r = match_key(zone, e->owner, c->next->pkey, &res, err);
			if (r < 0)
				return -1;
			if (certkey_alg_name(c->next->pkey, alg, sizeof(alg)) != 0)
				snprintf(alg, sizeof(alg), "%s", c->alg);
			check_line(e, i, alg, "next", c->next->path, r, &res,
			    out);
			if (r == 0)
				(*missing)++;
		}
	}
	return 0;
}
