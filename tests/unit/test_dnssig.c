/*
 * test_dnssig - lib/dnssig.c: the RRSIG facts and records of a raw
 * answer (compressed names, serial times, hostile messages), key tags
 * and DS digests (the root zone's KSK-2017 and its published DS).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "dnssig.h"
#include "dnswire.h"

/* The root KSK-2017 (/usr/share/dns/root.key), key tag 20326. */
static const char root_key_b64[] =
    "AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRi"
    "xHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2"
    "n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sq"
    "qls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfd"
    "RUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=";
/* Its DS: 20326 8 2 E06D44B8... (/usr/share/dns/root.ds). */
static const unsigned char root_ds[] = {
	0x4f, 0x66, 8, 2,
	0xe0, 0x6d, 0x44, 0xb8, 0x0b, 0x8f, 0x1d, 0x39, 0xa9, 0x5c, 0x0b,
	0x0d, 0x7c, 0x65, 0xd0, 0x84, 0x58, 0xe8, 0x80, 0x40, 0x9b, 0xbc,
	0x68, 0x34, 0x57, 0x10, 0x42, 0x37, 0xc7, 0xf8, 0xec, 0x8d
};

static size_t
root_key(unsigned char *out)
{
	int n;
	size_t len = strlen(root_key_b64);

	out[0] = 1;	/* flags 257 */
	out[1] = 1;
	out[2] = 3;
	out[3] = 8;
	n = EVP_DecodeBlock(out + 4, (const unsigned char *)root_key_b64,
	    (int)len);
	assert_true(n > 0);
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	return 4 + (size_t)n - 1;
}

static void
test_keytag_ds(void **state)
{
	unsigned char key[600], ds[sizeof(root_ds)];
	size_t n = root_key(key);

	(void)state;

	assert_int_equal(dnssig_keytag(key, n), 20326);
	assert_int_equal(dnssig_ds_match(".", root_ds, sizeof(root_ds), key,
	    n), 1);
	/* The owner is part of the digest. */
	assert_int_equal(dnssig_ds_match("test.", root_ds, sizeof(root_ds),
	    key, n), 0);
	memcpy(ds, root_ds, sizeof(ds));
	ds[sizeof(ds) - 1] ^= 1;	/* another digest */
	assert_int_equal(dnssig_ds_match(".", ds, sizeof(ds), key, n), 0);
	memcpy(ds, root_ds, sizeof(ds));
	ds[1] ^= 1;			/* another key tag */
	assert_int_equal(dnssig_ds_match(".", ds, sizeof(ds), key, n), 0);
	memcpy(ds, root_ds, sizeof(ds));
	ds[3] = 3;			/* GOST: cannot tell */
	assert_int_equal(dnssig_ds_match(".", ds, sizeof(ds), key, n), -1);
	assert_int_equal(dnssig_ds_match(".", ds, 3, key, n), -1);
	assert_int_equal(dnssig_keytag(key, 3), 0);
}

/* Case of the owner does not matter: canonical form is lower case. */
static void
test_ds_owner_case(void **state)
{
	unsigned char key[] = { 1, 1, 3, 13, 0xaa, 0xbb, 0xcc, 0xdd };
	unsigned char wire[64 + sizeof(key)], ds[4 + 32];
	unsigned mdlen;

	(void)state;
	memcpy(wire, "\7example\4test", 14);
	memcpy(wire + 14, key, sizeof(key));
	assert_int_equal(EVP_Digest(wire, 14 + sizeof(key), ds + 4, &mdlen,
	    EVP_sha256(), NULL), 1);
	ds[0] = (unsigned char)(dnssig_keytag(key, sizeof(key)) >> 8);
	ds[1] = (unsigned char)dnssig_keytag(key, sizeof(key));
	ds[2] = 13;
	ds[3] = 2;
	assert_int_equal(dnssig_ds_match("Example.TEST.", ds, sizeof(ds), key,
	    sizeof(key)), 1);
	assert_int_equal(dnssig_ds_match("example.test", ds, sizeof(ds), key,
	    sizeof(key)), 1);
	assert_int_equal(dnssig_ds_match("example..test", ds, sizeof(ds), key,
	    sizeof(key)), -1);
}

static size_t
put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return 2;
}

static size_t
put32(unsigned char *p, unsigned long v)
{
	put16(p, (unsigned)(v >> 16));
	put16(p + 2, (unsigned)(v & 0xffff));
	return 4;
}

/*
 * A NOERROR answer to "example.test. SOA": the SOA (names compressed)
 * and its RRSIG (owner compressed, signer not), expiring at expiration.
 */
static size_t
answer(unsigned char *m, unsigned long expiration, unsigned long inception)
{
	size_t n = 0, rdl;

	n += put16(m + n, 0x1234);
	n += put16(m + n, 0x8400);	/* QR AA, rcode 0 */
	n += put16(m + n, 1);
	n += put16(m + n, 2);
	n += put16(m + n, 0);
	n += put16(m + n, 0);
	memcpy(m + n, "\7example\4test", 14);	/* at offset 12 */
	n += 14;
	n += put16(m + n, 6);
	n += put16(m + n, 1);
	/* SOA: owner a pointer to 12, MNAME "ns1" + pointer, RNAME ptr */
	n += put16(m + n, 0xc000 | 12);
	n += put16(m + n, 6);
	n += put16(m + n, 1);
	n += put32(m + n, 3600);
	rdl = n;
	n += 2;
	memcpy(m + n, "\3ns1", 4);
	n += 4;
	n += put16(m + n, 0xc000 | 12);
	n += put16(m + n, 0xc000 | 12);
	n += put32(m + n, 2026120701);	/* serial */
	n += put32(m + n, 1800);	/* refresh */
	n += put32(m + n, 900);
	n += put32(m + n, 1209600);	/* expire */
	n += put32(m + n, 300);
	put16(m + rdl, (unsigned)(n - rdl - 2));
	/* RRSIG SOA */
	n += put16(m + n, 0xc000 | 12);
	n += put16(m + n, 46);
	n += put16(m + n, 1);
	n += put32(m + n, 3600);
	rdl = n;
	n += 2;
	n += put16(m + n, 6);		/* covers SOA */
	m[n++] = 13;			/* algorithm */
	m[n++] = 2;			/* labels */
	n += put32(m + n, 3600);	/* original TTL */
	n += put32(m + n, expiration);
	n += put32(m + n, inception);
	n += put16(m + n, 4711);	/* key tag */
	memcpy(m + n, "\7EXAMPLE\4test", 14);
	n += 14;
	memcpy(m + n, "sig", 3);
	n += 3;
	put16(m + rdl, (unsigned)(n - rdl - 2));
	return n;
}

static void
test_parse(void **state)
{
	unsigned char m[512];
	struct dnssig_msg msg;
	unsigned long serial;
	time_t now = 1796601600;	/* 2026-12-07 */
	size_t n = answer(m, (unsigned long)now + 6 * 3600,
	    (unsigned long)now - 3600);

	(void)state;
	assert_int_equal(dnssig_parse(m, n, now, &msg), 0);
	assert_int_equal(msg.rcode, 0);
	assert_int_equal(msg.nsigs, 1);
	assert_int_equal(msg.nrrs, 1);
	assert_string_equal(msg.sigs[0].owner, "example.test.");
	assert_int_equal(msg.sigs[0].covered, 6);
	assert_int_equal(msg.sigs[0].algorithm, 13);
	assert_int_equal(msg.sigs[0].keytag, 4711);
	assert_int_equal(msg.sigs[0].orig_ttl, 3600);
	assert_true(msg.sigs[0].expiration == now + 6 * 3600);
	assert_true(msg.sigs[0].inception == now - 3600);
	assert_string_equal(msg.sigs[0].signer, "example.test.");
	assert_string_equal(msg.rrs[0].owner, "example.test.");
	assert_int_equal(msg.rrs[0].type, 6);
	assert_int_equal(msg.rrs[0].ttl, 3600);
	/* The SOA rdata comes out uncompressed. */
	assert_int_equal(dnswire_soa_serial(msg.rrs[0].rdata, msg.rrs[0].len,
	    &serial), 0);
	assert_int_equal(serial, 2026120701);
	dnssig_msg_free(&msg);
}

/* RFC 4034 3.1.5: serial arithmetic, the time nearest to now. */
static void
test_serial_time(void **state)
{
	unsigned char m[512];
	struct dnssig_msg msg;
	time_t now = (time_t)0xfffffff0LL;	/* 2106, just before wrap */
	size_t n = answer(m, 0x20, 0xffffff00UL);

	(void)state;
	assert_int_equal(dnssig_parse(m, n, now, &msg), 0);
	assert_true(msg.sigs[0].expiration == (time_t)0x100000020LL);
	assert_true(msg.sigs[0].inception == (time_t)0xffffff00LL);
	dnssig_msg_free(&msg);
	/* Expired an hour ago: negative time left, not 136 years. */
	now = 1796601600;
	n = answer(m, (unsigned long)now - 3600, (unsigned long)now - 86400);
	assert_int_equal(dnssig_parse(m, n, now, &msg), 0);
	assert_true(msg.sigs[0].expiration == now - 3600);
	dnssig_msg_free(&msg);
}

static void
test_hostile(void **state)
{
	unsigned char m[512], bad[512];
	struct dnssig_msg msg;
	size_t n = answer(m, 100, 50), i;

	(void)state;
	/* Every truncation is refused, none crashes. */
	for (i = 0; i < n; i++) {
		memcpy(bad, m, i);
		assert_int_equal(dnssig_parse(bad, i, 0, &msg), -1);
		assert_int_equal(msg.nsigs + msg.nrrs, 0);
	}
	/* A pointer to itself, and one forwards. */
	memcpy(bad, m, n);
	put16(bad + 12 + 14 + 4, 0xc000 | (12 + 14 + 4));
	assert_int_equal(dnssig_parse(bad, n, 0, &msg), -1);
	put16(bad + 12 + 14 + 4, 0xc000 | 200);
	assert_int_equal(dnssig_parse(bad, n, 0, &msg), -1);
	/* More answers announced than there are. */
	memcpy(bad, m, n);
	put16(bad + 6, 3);
	assert_int_equal(dnssig_parse(bad, n, 0, &msg), -1);
}

static void
test_type_name(void **state)
{
	char buf[16];

	(void)state;
	assert_string_equal(dnssig_type_name(52, buf, sizeof(buf)), "TLSA");
	assert_string_equal(dnssig_type_name(48, buf, sizeof(buf)), "DNSKEY");
	assert_string_equal(dnssig_type_name(65000, buf, sizeof(buf)),
	    "TYPE65000");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keytag_ds),
		cmocka_unit_test(test_ds_owner_case),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_serial_time),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_type_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
