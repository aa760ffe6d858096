/*
 * fuzz_tlsrpt - libFuzzer target for lib/tlsrpt.c and tlsrpt_mime.c.
 *
 * The input is what daneguard --tlsrpt reads: a mail, bare JSON or gzip.
 * Invariants that abort: failure without a one-line message or with a
 * report left behind; success with a report that breaks the contract
 * (no policy, empty or upper-case names, end not after start, negative
 * counts, a NULL string).
 *
 * The same input, cut at newlines into TXT records, goes to
 * tlsrpt_txt_check (the _smtp._tls record): success with no usable rua,
 * or failure without a one-line printable message or with a rua left
 * behind, aborts.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "tlsrpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1796472000	/* 2026-12-05T12:00:00Z */

static void
lower(const char *s, int may_be_empty)
{
	if (s == NULL || (!may_be_empty && *s == '\0'))
		abort();
	for (; *s != '\0'; s++)
		if (isupper((unsigned char)*s))
			abort();
}

static void
txt_records(const uint8_t *data, size_t size)
{
	char *txt[4], *copy, *p, *nl, rua[256];
	struct errbuf err;
	size_t n = 0, i;
	int none = -1, rc;

	if ((copy = malloc(size + 1)) == NULL)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (p = copy; n < 4 && p != NULL; p = nl) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		txt[n++] = p;
	}
	err.msg[0] = '\0';
	rc = tlsrpt_txt_check(txt, n, rua, sizeof(rua), &none, &err);
	if (rc == 0 && (rua[0] == '\0' || none != 0))
		abort();
	if (rc < 0) {
		if (rua[0] != '\0' || err.msg[0] == '\0')
			abort();
		for (i = 0; err.msg[i] != '\0'; i++)
			if ((unsigned char)err.msg[i] < 0x20)
				abort();
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsrpt_report *r = (void *)1;
	struct errbuf err;
	size_t i, j;

	txt_records(data, size);
	err.msg[0] = '\0';
	if (tlsrpt_read(data, size, NOW, &r, NULL, &err) < 0) {
		if (r != NULL || err.msg[0] == '\0' ||
		    strchr(err.msg, '\n') != NULL)
			abort();
		return 0;
	}
	if (r == NULL || r->organization == NULL || r->contact == NULL ||
	    r->report_id == NULL || r->report_id[0] == '\0' ||
	    r->npolicies == 0 || r->end <= r->start ||
	    r->end > NOW + TLSRPT_MAX_SKEW)
		abort();
	for (i = 0; i < r->npolicies; i++) {
		const struct tlsrpt_policy *p = &r->policies[i];

		lower(p->domain, 0);
		if (p->success < 0 || p->failure < 0)
			abort();
		for (j = 0; j < p->nmx_hosts; j++)
			lower(p->mx_hosts[j], 0);
		for (j = 0; j < p->nfailures; j++) {
			const struct tlsrpt_failure *f = &p->failures[j];

			lower(f->result_type, 0);
			lower(f->receiving_mx, 1);
			lower(f->receiving_ip, 1);
			if (f->sending_ip == NULL || f->count < 0)
				abort();
			(void)tlsrpt_result_is_dane(f->result_type);
		}
	}
	tlsrpt_free(r);
	return 0;
}
