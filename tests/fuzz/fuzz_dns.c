/*
 * fuzz_dns - libFuzzer target for what our code makes of DNS-derived
 * bytes: raw TLSA rdata from an answer (lib/dns.c dns_tlsa_from_rdata),
 * and the NS names and SOA rdata the pre-deploy gate reads
 * (lib/dnswire.c).
 *
 * The input is split into rdata blobs by a one-byte length prefix each,
 * as an answer carries several records. Invariants that abort: a record
 * built from rdata whose numbers or data differ from the rdata; a record
 * that does not survive formatting as a zone line and parsing it back
 * (what tlsagen --check and the guard's tlsa_file reading would see); a
 * decoded name that is not one dot-terminated string within the buffer,
 * that claims more bytes than it was given, or that a smaller buffer
 * decodes differently instead of refusing.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dnswire.h"
#include "errbuf.h"
#include "tlsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_one(const uint8_t *rdata, size_t len)
{
	struct tlsa_record rec;
	struct tlsa_set back;
	struct errbuf err;
	char *line;

	memset(&rec, 0, sizeof(rec));
	if (dns_tlsa_from_rdata(rdata, len, "_25._tcp.mx1.example.test.", 3600,
	    &rec, &err) < 0)
		return;
	if (len < 4 || rec.type.usage != rdata[0] ||
	    rec.type.selector != rdata[1] || rec.type.mtype != rdata[2] ||
	    rec.len != len - 3 || memcmp(rec.data, rdata + 3, rec.len) != 0)
		abort();
	if ((line = tlsa_record_format(&rec, TLSA_FORM_ZONE)) == NULL)
		abort();
	memset(&back, 0, sizeof(back));
	if (tlsa_zone_parse(line, strlen(line), "fuzz", NULL, -1, &back,
	    &err) < 0 || back.n != 1 || tlsa_record_cmp(&back.v[0], &rec) != 0)
		abort();
	tlsa_set_free(&back);
	free(line);
	tlsa_record_clear(&rec);
}

static void
check_wire(const uint8_t *p, size_t len)
{
	char big[1025], small[24];
	size_t used = 0, used2 = 0, n;
	unsigned long serial;

	if (dnswire_name(p, len, &used, big, sizeof(big)) == 0) {
		n = strnlen(big, sizeof(big));
		if (used == 0 || used > len || n == 0 || n >= sizeof(big) ||
		    big[n - 1] != '.')
			abort();
		if (dnswire_name(p, len, &used2, small, sizeof(small)) == 0 &&
		    (used2 != used || strcmp(small, big) != 0))
			abort();
	} else if (dnswire_name(p, len, &used2, small, sizeof(small)) == 0)
		abort();
	if (dnswire_soa_serial(p, len, &serial) == 0 &&
	    (len < 22 || serial > 0xffffffffUL))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, n;

	check_one(data, size);
	check_wire(data, size);
	while (off < size) {
		n = data[off++];
		if (n > size - off)
			n = size - off;
		check_one(data + off, n);
		check_wire(data + off, n);
		off += n;
	}
	return 0;
}
