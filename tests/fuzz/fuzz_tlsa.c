/*
 * fuzz_tlsa - libFuzzer target for lib/tlsa_parse.c.
 *
 * Feeds the input to tlsa_zone_parse (with an origin, so relative names
 * are exercised) and, NUL-terminated, to tlsa_rdata_parse. Every record
 * that parses is formatted in zone and generic form and parsed again;
 * a record that does not come back equal is a bug, so it aborts.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "tlsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
round_trip(const struct tlsa_record *rec)
{
	static const enum tlsa_form forms[] = {
		TLSA_FORM_ZONE, TLSA_FORM_GENERIC
	};
	struct tlsa_set back = { 0 };
	struct errbuf err;
	size_t f;
	char *s;

	for (f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		if ((s = tlsa_record_format(rec, forms[f])) == NULL)
			abort();
		if (tlsa_zone_parse(s, strlen(s), "round-trip", NULL, -1,
		    &back, &err) != 0 || back.n != 1 ||
		    tlsa_record_cmp(rec, &back.v[0]) != 0 ||
		    rec->ttl != back.v[0].ttl)
			abort();
		tlsa_set_free(&back);
		free(s);
	}
	/* The other forms must at least be produced. */
	free(tlsa_record_format(rec, TLSA_FORM_NSUPDATE));
	free(tlsa_record_format(rec, TLSA_FORM_JSON));
	if ((s = tlsa_record_format(rec, TLSA_FORM_RDATA)) == NULL)
		abort();
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsa_set set = { 0 };
	struct tlsa_record rec;
	struct errbuf err;
	size_t i;
	char *text;

	(void)tlsa_zone_parse((const char *)data, size, "fuzz",
	    "example.test.", 3600, &set, &err);
	for (i = 0; i < set.n; i++)
		round_trip(&set.v[i]);
	tlsa_set_sort_unique(&set);
	for (i = 1; i < set.n; i++)
		if (tlsa_record_cmp(&set.v[i - 1], &set.v[i]) >= 0)
			abort();
	tlsa_set_free(&set);

	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (tlsa_rdata_parse(text, &rec, &err) == 0) {
		tlsa_record_set_owner(&rec, "_25._tcp.mx1.example.test");
		rec.ttl = 60;
		round_trip(&rec);
		tlsa_record_clear(&rec);
	}
	free(text);
	return 0;
}
