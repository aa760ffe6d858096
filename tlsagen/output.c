/*
 * output - see output.h.
 *
 * Zone and generic forms: one comment line per record set
 *	; mx1.example.test. rsa rsa-2048 current rsa-chain.pem
 * then its records. nsupdate: "update add" lines and one "send" per host,
 * because nsupdate sends one update to one zone and two MX hosts may sit in
 * different zones. rdata: bare "3 1 1 <hex>". json: one array of objects,
 * one object per line, so that line-oriented tools still work on it.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certkey.h"
#include "expect.h"
#include "output.h"
#include "tlsa.h"
#include "xalloc.h"

void
output_begin(struct output *out, enum tlsa_form form, int comments)
{
	out->form = form;
	out->comments = comments &&
	    (form == TLSA_FORM_ZONE || form == TLSA_FORM_GENERIC);
	out->nitems = 0;
	out->nexpect = 0;
	tlsa_set_init(&out->seen);
	if (form == TLSA_FORM_JSON)
		strbuf_add(&out->text, "[", 1);
}

/* Algorithm of an entry: a next key may differ from the leaf (rsa-4096). */
static const char *
entry_alg(const struct expect *e, const struct expect_entry *ent,
    char *buf, size_t len)
{
	const struct expect_cert *c = &e->certs[ent->cert];

	if (ent->role == EXPECT_NEXT && c->next != NULL &&
	    certkey_alg_name(c->next->pkey, buf, len) == 0)
		return buf;
	return c->alg;
}

static void
output_json_entry(struct output *out, const struct expect *e,
    const struct expect_entry *ent)
{
	const struct expect_cert *c = &e->certs[ent->cert];
	char alg[64];
	char *hex;

	hex = tlsa_hex(ent->rec.data, ent->rec.len);
	if (out->nitems++ > 0)
		strbuf_add(&out->text, ",", 1);
	strbuf_add(&out->text, "\n", 1);
	strbuf_add(&out->text, "{\"host\":", 8);
	strbuf_json(&out->text, e->host);
	strbuf_add(&out->text, ",\"owner\":", 9);
	strbuf_json(&out->text, ent->rec.owner);
	strbuf_printf(&out->text, ",\"ttl\":%ld,\"usage\":%u,\"selector\":%u,"
	    "\"mtype\":%u,\"data\":\"%s\",\"cert\":",
	    ent->rec.ttl >= 0 ? ent->rec.ttl : e->ttl,
	    ent->rec.type.usage, ent->rec.type.selector, ent->rec.type.mtype,
	    hex);
	strbuf_json(&out->text, c->name);
	strbuf_add(&out->text, ",\"alg\":", 7);
	strbuf_json(&out->text, entry_alg(e, ent, alg, sizeof(alg)));
	strbuf_add(&out->text, ",\"role\":", 8);
	strbuf_json(&out->text, expect_role_name(ent->role));
	strbuf_add(&out->text, ",\"source\":", 10);
	strbuf_json(&out->text, ent->source);
	strbuf_add(&out->text, "}", 1);
	free(hex);
}

/*
 * rdata form: later host sets repeat the first one's records; without an
 * owner on the line they would just be duplicates.
 */
static int
output_rdata_seen(const struct output *out, const struct tlsa_record *rec)
{
	struct tlsa_record probe;
	size_t lo = 0, hi = out->seen.n, mid;
	int c;

	probe = *rec;
	probe.owner = NULL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = tlsa_rdata_cmp(&out->seen.v[mid], &probe);
		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void
output_expect(struct output *out, const struct expect *e)
{
	const struct expect_entry *ent, *prev = NULL;
	const char *note = NULL;
	char alg[64];
	char *line;
	size_t i, printed = 0, seen_before = out->seen.n;

	for (i = 0; i < e->nentries; i++) {
		ent = &e->entries[i];
		if (out->form == TLSA_FORM_JSON) {
			output_json_entry(out, e, ent);
			continue;
		}
		if (out->form == TLSA_FORM_RDATA && out->nexpect > 0 &&
		    seen_before > 0 && output_rdata_seen(out, &ent->rec))
			continue;
		if (out->comments && (prev == NULL || prev->cert != ent->cert ||
		    prev->role != ent->role || prev->source != ent->source)) {
			strbuf_printf(&out->text, "; %s %s %s %s %s\n",
			    e->host ? e->host : "-", e->certs[ent->cert].name,
			    entry_alg(e, ent, alg, sizeof(alg)),
			    expect_role_name(ent->role),
			    ent->source ? ent->source : "-");
			note = NULL;
		}
		if (out->comments && ent->note != NULL &&
		    (note == NULL || strcmp(note, ent->note) != 0)) {
			strbuf_printf(&out->text, "; %s%s\n",
			    strncmp(ent->note, "note:", 5) == 0 ? "" : "note: ",
			    ent->note);
			note = ent->note;
		}
		prev = ent;
		line = tlsa_record_format(&ent->rec, out->form);
		if (line == NULL)	/* no owner: main() refuses this earlier */
			continue;
		if (out->form == TLSA_FORM_NSUPDATE &&
		    strncmp(line, "update ", 7) != 0)
			strbuf_printf(&out->text, "update add %s\n", line);
		else
			strbuf_printf(&out->text, "%s\n", line);
		free(line);
		printed++;
	}
	if (out->form == TLSA_FORM_NSUPDATE && printed > 0)
		strbuf_printf(&out->text, "send\n");
	if (out->form == TLSA_FORM_RDATA) {
		for (i = 0; i < e->nentries; i++) {
			struct tlsa_record copy;

			tlsa_record_copy(&copy, &e->entries[i].rec);
			tlsa_record_set_owner(&copy, NULL);
			tlsa_set_take(&out->seen, &copy);
		}
		tlsa_set_sort_unique(&out->seen);
	}
	out->nexpect++;
}

void
output_end(struct output *out)
{
	if (out->form == TLSA_FORM_JSON)
		strbuf_printf(&out->text, "%s]\n", out->nitems ? "\n" : "");
}

void
output_free(struct output *out)
{
	strbuf_free(&out->text);
	tlsa_set_free(&out->seen);
	memset(out, 0, sizeof(*out));
}
