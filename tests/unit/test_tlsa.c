/*
 * test_tlsa - lib/tlsa.c and lib/tlsa_parse.c.
 *
 * Known answers come from outside this code: the key and certificate
 * below are fixed PEM literals, and their digests were computed with the
 * openssl command line:
 *   openssl pkey -pubout -outform DER | openssl dgst -sha256   (3 1 1)
 *   openssl x509 -outform DER | openssl dgst -sha256           (3 0 1)
 * so a fault in how we encode or hash shows up here, not only in a
 * comparison of the code with itself.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "errbuf.h"
#include "tlsa.h"

/* An ECDSA P-256 test key, never used anywhere else. */
static const char ec_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/DBwL8oJaXeH47yY\n"
    "MPjir47ErJhQJ4+3W0Atd094cBuhRANCAASqD3XYU6aCxZBfpJipFeEMiTKkH+xF\n"
    "RXR5IB9ks3adc38Yadj/mHT0XMlTSr2pK5XhYZji4C3STul+ouDYcjSt\n"
    "-----END PRIVATE KEY-----\n";

/* Its public key with a compressed point (openssl ec -conv_form compressed). */
static const char ec_pub_compressed_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgADqg912FOmgsWQX6SYqRXhDIkypB/s\n"
    "RUV0eSAfZLN2nXM=\n"
    "-----END PUBLIC KEY-----\n";

/* Self-signed for mx1.example.test over that key; only hashed, never verified. */
static const char ec_cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBjTCCATOgAwIBAgIUTld3iL+BUocR9fPZnUWr53H6L1AwCgYIKoZIzj0EAwIw\n"
    "GzEZMBcGA1UEAwwQbXgxLmV4YW1wbGUudGVzdDAgFw0yNjExMjgxNzQ1NDhaGA8y\n"
    "MTI2MTEwNDE3NDU0OFowGzEZMBcGA1UEAwwQbXgxLmV4YW1wbGUudGVzdDBZMBMG\n"
    "ByqGSM49AgEGCCqGSM49AwEHA0IABKoPddhTpoLFkF+kmKkV4QyJMqQf7EVFdHkg\n"
    "H2Szdp1zfxhp2P+YdPRcyVNKvakrleFhmOLgLdJO6X6i4NhyNK2jUzBRMB0GA1Ud\n"
    "DgQWBBQLrzTHrtS1zZK+lhDdcXbh7U/MBjAfBgNVHSMEGDAWgBQLrzTHrtS1zZK+\n"
    "lhDdcXbh7U/MBjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIHPu\n"
    "blnluAtouMtE30Z28B6QY35KDgnZU3E+P8PXrcKKAiEAzWapd9V8xwY5aIk145bF\n"
    "Cg1HWvGPRU2Ny8hG1wLXCuI=\n"
    "-----END CERTIFICATE-----\n";

#define SPKI_SHA256 \
    "ed2193be93c478bb7c2b5859b0aa21048a04d4db2bd273e73bb53e8b14e4096f"
#define SPKI_SHA512 \
    "b1403c2202b6398ffbb2b71f4a5abe21d77420d93769bf8991951cf311a6d1ee" \
    "4be992435667f853af2f9804efab9bb63986dca9589d5db16221372fc84098ee"
#define SPKI_DER \
    "3059301306072a8648ce3d020106082a8648ce3d03010703420004aa0f75d853" \
    "a682c5905fa498a915e10c8932a41fec45457479201f64b3769d737f1869d8ff" \
    "9874f45cc9534abda92b95e16198e2e02dd24ee97ea2e0d87234ad"
/* What a careless encoder would produce: the compressed SPKI's digest. */
#define SPKI_COMPRESSED_SHA256 \
    "bb72c5b2e84e5b597b35b22606e4bfc9c29694d94f0ab0b4f7e4ed76ad6c97fd"
#define CERT_SHA256 \
    "b52465b239835aa08ec2ed978cad26c65ba162581155c22a90df82ac609b55fc"
#define CERT_SHA512 \
    "1e5f4229bacd2f2475eecb27b80f8fa7da8eaff8e78dbe0ebb2e893c0996361c" \
    "8d9b63f70b986a3c8caf3ad197fd997ddbaad6562dfc3ff71ebad68d28b68149"
#define CERT_DER_LEN 401

static const struct tlsa_type t311 = { 3, 1, 1 };

static EVP_PKEY *
pem_key(const char *pem, int private)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *key;

	assert_non_null(bio);
	key = private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) :
	    PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	assert_non_null(key);
	return key;
}

static X509 *
pem_cert(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *cert;

	assert_non_null(bio);
	cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	assert_non_null(cert);
	return cert;
}

/* Assert that rec's data, as lower-case hex, is want. */
static void
assert_data_hex(const struct tlsa_record *rec, const char *want)
{
	char *hex = tlsa_hex(rec->data, rec->len);

	assert_int_equal(rec->len, strlen(want) / 2);
	assert_string_equal(hex, want);
	free(hex);
}

/* Assert that err's message contains want. */
static void
assert_err_has(const struct errbuf *err, const char *want)
{
	if (strstr(err->msg, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err->msg, want);
}

static void
test_hex(void **state)
{
	static const unsigned char data[] = { 0x00, 0x0f, 0xab, 0xff, 0x5a };
	char *s;

	(void)state;
	s = tlsa_hex(data, sizeof(data));
	assert_string_equal(s, "000fabff5a");
	free(s);
	s = tlsa_hex(data, 0);
	assert_string_equal(s, "");
	free(s);
}

static void
test_type_parse(void **state)
{
	static const char *bad[] = {
		"4 1 1", "3 2 1", "3 1 3", "256 1 1", "3 1", "3 1 1 1", "a b c",
		"", "3 1 1x", "311", "3,,1,1", "-3 1 1", "3 1 99999999999999999999",
	};
	struct tlsa_type t;
	struct errbuf err;
	char buf[16];
	size_t i;

	(void)state;
	assert_int_equal(tlsa_type_parse("3 1 1", &t, &err), 0);
	assert_int_equal(t.usage, 3);
	assert_int_equal(t.selector, 1);
	assert_int_equal(t.mtype, 1);
	assert_int_equal(tlsa_type_parse("2,0,2", &t, &err), 0);
	assert_string_equal(tlsa_type_str(t, buf, sizeof(buf)), "2 0 2");
	assert_int_equal(tlsa_type_parse(" 0, 1 ,0 ", &t, &err), 0);
	assert_string_equal(tlsa_type_str(t, buf, sizeof(buf)), "0 1 0");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		if (tlsa_type_parse(bad[i], &t, &err) != -1)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_true(err.msg[0] != '\0');
	}
	assert_int_equal(tlsa_type_parse("3 1 5", &t, &err), -1);
	assert_err_has(&err, "matching type 5");
}

static void
test_from_pubkey(void **state)
{
	struct tlsa_type t;
	struct tlsa_record rec;
	struct errbuf err;
	EVP_PKEY *priv, *pub;

	(void)state;
	priv = pem_key(ec_key_pem, 1);
	pub = pem_key(ec_pub_compressed_pem, 0);

	assert_int_equal(tlsa_record_from_pubkey(&rec, t311, priv, &err), 0);
	assert_null(rec.owner);
	assert_int_equal(rec.ttl, -1);
	assert_int_equal(rec.type.usage, 3);
	assert_data_hex(&rec, SPKI_SHA256);
	tlsa_record_clear(&rec);

	t = (struct tlsa_type){ 3, 1, 2 };
	assert_int_equal(tlsa_record_from_pubkey(&rec, t, priv, &err), 0);
	assert_data_hex(&rec, SPKI_SHA512);
	tlsa_record_clear(&rec);

	t = (struct tlsa_type){ 2, 1, 0 };
	assert_int_equal(tlsa_record_from_pubkey(&rec, t, priv, &err), 0);
	assert_data_hex(&rec, SPKI_DER);
	tlsa_record_clear(&rec);

	/* A compressed point in the key file hashes like the certificate. */
	assert_int_equal(tlsa_record_from_pubkey(&rec, t311, pub, &err), 0);
	assert_data_hex(&rec, SPKI_SHA256);
	tlsa_record_clear(&rec);
	t = (struct tlsa_type){ 3, 1, 0 };
	assert_int_equal(tlsa_record_from_pubkey(&rec, t, pub, &err), 0);
	assert_data_hex(&rec, SPKI_DER);
	tlsa_record_clear(&rec);

	/* ... and the caller's key is left as it was. */
	{
		unsigned char *der = NULL;
		int n = i2d_PUBKEY(pub, &der);

		assert_int_equal(n, 59);
		OPENSSL_free(der);
	}

	t = (struct tlsa_type){ 3, 0, 1 };
	assert_int_equal(tlsa_record_from_pubkey(&rec, t, pub, &err), -1);
	assert_err_has(&err, "selector");
	t = (struct tlsa_type){ 3, 1, 3 };
	assert_int_equal(tlsa_record_from_pubkey(&rec, t, pub, &err), -1);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
}

static void
test_from_cert(void **state)
{
	struct tlsa_type t;
	struct tlsa_record rec;
	struct errbuf err;
	X509 *cert;

	(void)state;
	cert = pem_cert(ec_cert_pem);
	t = (struct tlsa_type){ 3, 0, 1 };
	assert_int_equal(tlsa_record_from_cert(&rec, t, cert, &err), 0);
	assert_data_hex(&rec, CERT_SHA256);
	tlsa_record_clear(&rec);

	t = (struct tlsa_type){ 3, 0, 2 };
	assert_int_equal(tlsa_record_from_cert(&rec, t, cert, &err), 0);
	assert_data_hex(&rec, CERT_SHA512);
	tlsa_record_clear(&rec);

	t = (struct tlsa_type){ 3, 0, 0 };
	assert_int_equal(tlsa_record_from_cert(&rec, t, cert, &err), 0);
	assert_int_equal(rec.len, CERT_DER_LEN);
	/* SEQUENCE of 397 bytes: 30 82 01 8d */
	assert_int_equal(rec.data[0], 0x30);
	assert_int_equal(rec.data[1], 0x82);
	assert_int_equal(rec.data[2], 0x01);
	assert_int_equal(rec.data[3], 0x8d);
	tlsa_record_clear(&rec);

	assert_int_equal(tlsa_record_from_cert(&rec, t311, cert, &err), 0);
	assert_data_hex(&rec, SPKI_SHA256);
	tlsa_record_clear(&rec);

	t = (struct tlsa_type){ 2, 1, 0 };
	assert_int_equal(tlsa_record_from_cert(&rec, t, cert, &err), 0);
	assert_data_hex(&rec, SPKI_DER);
	tlsa_record_clear(&rec);

	t = (struct tlsa_type){ 3, 2, 1 };
	assert_int_equal(tlsa_record_from_cert(&rec, t, cert, &err), -1);
	X509_free(cert);
}

static EVP_PKEY *
file_key(const char *dir, const char *name, int private)
{
	char path[4096];
	EVP_PKEY *key;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "r")) == NULL)
		fail_msg("%s: cannot open", path);
	key = private ? PEM_read_PrivateKey(fp, NULL, NULL, NULL) :
	    PEM_read_PUBKEY(fp, NULL, NULL, NULL);
	fclose(fp);
	if (key == NULL)
		fail_msg("%s: not a PEM key", path);
	return key;
}

/* The CERTDIR files: a next key in three shapes, and a leaf with its key. */
static void
test_certdir(void **state)
{
	static const char *pubs[] = { "ecdsa-next.pub", "ecdsa-next-compressed.pub" };
	struct tlsa_record want, got;
	struct errbuf err;
	const char *dir = getenv("CERTDIR");
	char path[4096];
	EVP_PKEY *key;
	X509 *cert;
	FILE *fp;
	size_t i;

	(void)state;
	if (dir == NULL)
		skip();
	key = file_key(dir, "ecdsa-next.key", 1);
	assert_int_equal(tlsa_record_from_pubkey(&want, t311, key, &err), 0);
	EVP_PKEY_free(key);
	for (i = 0; i < sizeof(pubs) / sizeof(pubs[0]); i++) {
		key = file_key(dir, pubs[i], 0);
		assert_int_equal(tlsa_record_from_pubkey(&got, t311, key, &err), 0);
		if (tlsa_rdata_cmp(&want, &got) != 0)
			fail_msg("%s hashes differently from ecdsa-next.key", pubs[i]);
		tlsa_record_clear(&got);
		EVP_PKEY_free(key);
	}
	tlsa_record_clear(&want);

	for (i = 0; i < 2; i++) {
		const char *alg = i == 0 ? "ecdsa" : "rsa";
		char name[32];

		snprintf(name, sizeof(name), "%s.key", alg);
		key = file_key(dir, name, 1);
		snprintf(path, sizeof(path), "%s/%s.pem", dir, alg);
		assert_non_null(fp = fopen(path, "r"));
		assert_non_null(cert = PEM_read_X509(fp, NULL, NULL, NULL));
		fclose(fp);
		assert_int_equal(tlsa_record_from_pubkey(&want, t311, key, &err), 0);
		assert_int_equal(tlsa_record_from_cert(&got, t311, cert, &err), 0);
		assert_int_equal(tlsa_rdata_cmp(&want, &got), 0);
		tlsa_record_clear(&want);
		tlsa_record_clear(&got);
		EVP_PKEY_free(key);
		X509_free(cert);
	}
}

static void
test_names(void **state)
{
	char *s;

	(void)state;
	s = tlsa_owner_name("MX1.Example.COM", 25);
	assert_string_equal(s, "_25._tcp.mx1.example.com.");
	free(s);
	s = tlsa_owner_name("mx1.example.com.", 465);
	assert_string_equal(s, "_465._tcp.mx1.example.com.");
	free(s);
	s = tlsa_name_normalise("Example.");
	assert_string_equal(s, "example.");
	free(s);
	s = tlsa_name_normalise("");
	assert_string_equal(s, ".");
	free(s);
	s = tlsa_name_normalise(".");
	assert_string_equal(s, ".");
	free(s);
	/* An escaped dot is part of the label, not the root. */
	s = tlsa_name_normalise("A\\.");
	assert_string_equal(s, "a\\..");
	free(s);
	s = tlsa_name_normalise("a\\\\.");
	assert_string_equal(s, "a\\\\.");
	free(s);
}

static void
test_rdata_parse(void **state)
{
	struct tlsa_record rec;
	struct errbuf err;

	(void)state;
	assert_int_equal(tlsa_rdata_parse("3 1 1 " SPKI_SHA256, &rec, &err), 0);
	assert_null(rec.owner);
	assert_int_equal(rec.ttl, -1);
	assert_int_equal(rec.type.usage, 3);
	assert_int_equal(rec.type.selector, 1);
	assert_int_equal(rec.type.mtype, 1);
	assert_data_hex(&rec, SPKI_SHA256);
	tlsa_record_clear(&rec);

	/* dig splits in upper-case chunks; chunks may be odd-sized. */
	assert_int_equal(tlsa_rdata_parse("3 1 1 ED2193BE93C478BB7C2B5859B0AA2104"
	    "8A04D4DB2BD273E73BB53E8B1 4E4096F", &rec, &err), 0);
	assert_data_hex(&rec, SPKI_SHA256);
	tlsa_record_clear(&rec);

	assert_int_equal(tlsa_rdata_parse("  3 1 1 (\n\tED2193BE93C478BB7C2B5859"
	    "B0AA2104\n\t8a04d4db2bd273e73bb53e8b14e4096f )\n", &rec, &err), 0);
	assert_data_hex(&rec, SPKI_SHA256);
	tlsa_record_clear(&rec);

	assert_int_equal(tlsa_rdata_parse("\\# 35 030101" SPKI_SHA256, &rec,
	    &err), 0);
	assert_int_equal(rec.type.usage, 3);
	assert_int_equal(rec.type.mtype, 1);
	assert_data_hex(&rec, SPKI_SHA256);
	tlsa_record_clear(&rec);

	assert_int_equal(tlsa_rdata_parse("\\# 5 ( FF00 09 aB bc )", &rec,
	    &err), 0);
	assert_int_equal(rec.type.usage, 255);
	assert_int_equal(rec.type.selector, 0);
	assert_int_equal(rec.type.mtype, 9);
	assert_data_hex(&rec, "abbc");
	tlsa_record_clear(&rec);

	/* Numbers a zone may hold that we do not use: any length of data. */
	assert_int_equal(tlsa_rdata_parse("255 7 3 01", &rec, &err), 0);
	assert_int_equal(rec.type.usage, 255);
	assert_data_hex(&rec, "01");
	tlsa_record_clear(&rec);
}

static void
test_rdata_parse_errors(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
		{ "3 1 1 zz2193be93c478bb7c2b5859b0aa21048a04d4db2bd273e73bb53e8b14e4096f",
		    "not hex" },
		{ "3 1 1 ed2193be93c478bb7c2b5859b0aa21048a04d4db2bd273e73bb53e8b14e4096",
		    "odd number of hex digits (63)" },
		{ "3 1 1 2193be93c478bb7c2b5859b0aa21048a04d4db2bd273e73bb53e8b14e4096f",
		    "needs 32 bytes of data, not 31" },
		{ "3 1 2 " SPKI_SHA256, "needs 64 bytes of data, not 32" },
		{ "3 0 0 ", "no association data" },
		{ "3 1", "ends before the matching type" },
		{ "", "ends before the usage" },
		{ "256 1 1 " SPKI_SHA256, "usage \"256\" is not a number 0-255" },
		{ "3 x 1 " SPKI_SHA256, "selector \"x\"" },
		{ "3 1 1 \"" SPKI_SHA256 "\"", "not hex" },
		{ "\\# 36 030101" SPKI_SHA256, "says 36 bytes but has 70 hex digits" },
		{ "\\# 34 030101" SPKI_SHA256, "says 34 bytes" },
		{ "\\# 3 030101", "too short" },
		{ "\\# 0", "too short" },
		{ "\\# 35 030101" SPKI_SHA256 "0", "(odd)" },
		{ "\\#", "needs a length" },
		{ "\\# x 00", "needs a length" },
		{ "\\# 4 03010100", "needs 32 bytes" },
		{ "3 1 1 ( " SPKI_SHA256, "not closed" },
		{ "3 1 1 " SPKI_SHA256 " )", "')' without '('" },
		{ "3 1 1 ab\\", "backslash" },
	};
	struct tlsa_record rec;
	struct errbuf err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		if (tlsa_rdata_parse(bad[i].text, &rec, &err) != -1)
			fail_msg("\"%s\" was accepted", bad[i].text);
		assert_null(rec.data);
		assert_err_has(&err, bad[i].msg);
	}
}

/* An excerpt of what ldns-signzone -b wrote for the zone in test_zone_parse. */
static const char signed_zone[] =
    ";; Zone: example.test.\n"
    ";\n"
    "example.test.\t3600\tIN\tSOA\tns1.example.test. hostmaster.example.test. "
    "2024010101 3600 900 604800 300\n"
    "example.test.\t3600\tIN\tRRSIG\tSOA 13 2 3600 21000101000000 "
    "20240101000000 45437 example.test. GfZgziJ2Bn3UkW8aEFC9jyO7AyybCxhFSp03"
    "sPLybKAnb64T2iMUOxGCGjIOcDoPEq4fEn7Iq4uY87bhW+orEQ==\n"
    "example.test.\t3600\tIN\tDNSKEY\t256 3 13 U8voUSce6urJIToBzBPz+f+JVlUO9fZ"
    "GUzwVp6rkyqvAdzfTGmwkdJJfOkQttuX/ZHHoSCfTZJzz4JgjSBOdww== ;{id = 45437 "
    "(zsk), size = 256b}\n"
    "example.test.\t3600\tIN\tNSEC3PARAM\t1 0 1 - \n"
    "example.test.\t300\tIN\tNSEC\t_25._tcp.mx1.example.test. NS SOA RRSIG "
    "NSEC DNSKEY\n"
    "o09614ibh1cq1rcc86289olr22ea0fso.example.test.\t300\tIN\tNSEC3\t1 0 1 -  "
    "68e64ap006mndr1eqatkuf28iuu5ns77 NS SOA RRSIG DNSKEY NSEC3PARAM  ;{ flags:"
    " -, from: example.test. to: _tcp.mx1.example.test.}\n"
    ";\n"
    "mx1.example.test.\t3600\tIN\tA\t192.0.2.10\n"
    ";\n"
    ";; Empty nonterminal: _tcp.mx1.example.test.\n"
    "_25._tcp.mx1.example.test.\t1800\tIN\tTLSA\t2 1 1 "
    "b52465b239835aa08ec2ed978cad26c65ba162581155c22a90df82ac609b55fc\n"
    "_25._tcp.mx1.example.test.\t1800\tIN\tTLSA\t3 1 1 "
    "ed2193be93c478bb7c2b5859b0aa21048a04d4db2bd273e73bb53e8b14e4096f\n"
    "_25._tcp.mx1.example.test.\t1800\tIN\tRRSIG\tTLSA 13 5 1800 "
    "21000101000000 20240101000000 45437 example.test. 0QejmUoR51mWD6mz4OWEt"
    "Wb8s9rY6mPdFlT3IWR9cPUCGGIxsfgrYeSZcuh6ej04Mg3XBl5rCuKgdWSjJeIBzg==\n"
    "emlu5jr6fk7ikn0p2ag4o2l6dmiu6k1u.example.test.\t300\tIN\tNSEC3\t1 0 1 -  "
    "kfivd6lqg6mcl34clfoftts6u6g30lk3 RRSIG TLSA  ;{ flags: -, from: "
    "_25._tcp.mx1.example.test. to: txt.example.test.}\n"
    "txt.example.test.\t3600\tIN\tTXT\t\"v=spf1 mx -all\"\n";

static void
test_zone_signed(void **state)
{
	struct tlsa_set set = { 0 };
	struct errbuf err;

	(void)state;
	if (tlsa_zone_parse(signed_zone, strlen(signed_zone), "signed.zone",
	    NULL, -1, &set, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(set.n, 2);
	assert_string_equal(set.v[0].owner, "_25._tcp.mx1.example.test.");
	assert_int_equal(set.v[0].ttl, 1800);
	assert_int_equal(set.v[0].type.usage, 2);
	assert_data_hex(&set.v[0], CERT_SHA256);
	assert_string_equal(set.v[1].owner, "_25._tcp.mx1.example.test.");
	assert_int_equal(set.v[1].type.usage, 3);
	assert_data_hex(&set.v[1], SPKI_SHA256);
	tlsa_set_free(&set);
}

static void
test_zone_parse(void **state)
{
	static const char zone[] =
	    "$ORIGIN Example.TEST.\n"
	    "$TTL 1h30m\n"
	    "@\tIN SOA ns1 hostmaster (\n"
	    "\t\t2024010101 ; serial ( not a paren\n"
	    "\t\t3600 900 604800 300 )\n"
	    "\tIN NS ns1\n"
	    "txt IN TXT \"a ; b ( c \\\" d\" ; comment\n"
	    "_25._tcp.MX1 1800 IN TLSA 3 1 1 ( ED2193BE93C478BB7C2B5859B0AA2104\n"
	    "   8A04D4DB2BD273E73BB53E8B14E4096F )\n"
	    "\tIN 1d TLSA 2 1 1 " CERT_SHA256 "\n"
	    "\tCLASS1 tlsa 3 1 2 " SPKI_SHA512 "\n"
	    "_25._tcp.mx2.example.test. 2w TYPE52 \\# 35 030101" SPKI_SHA256 "\n"
	    "$ORIGIN sub\n"
	    "_465._tcp.mx IN type52 3 0 1 " CERT_SHA256 "\r\n"
	    "mx IN A 192.0.2.1\n"
	    "\tIN TLSA 3 1 1 " SPKI_SHA256 "\n"
	    "@ 60s TLSA 3 1 1 " SPKI_SHA256 "\n";
	struct tlsa_set set = { 0 };
	struct errbuf err;
	const char *text;

	(void)state;
	if (tlsa_zone_parse(zone, strlen(zone), "example.zone", NULL, 7,
	    &set, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(set.n, 7);
	assert_string_equal(set.v[0].owner, "_25._tcp.mx1.example.test.");
	assert_int_equal(set.v[0].ttl, 1800);
	assert_data_hex(&set.v[0], SPKI_SHA256);
	assert_string_equal(set.v[1].owner, "_25._tcp.mx1.example.test.");
	assert_int_equal(set.v[1].ttl, 86400);
	assert_int_equal(set.v[1].type.usage, 2);
	assert_string_equal(set.v[2].owner, "_25._tcp.mx1.example.test.");
	assert_int_equal(set.v[2].ttl, 5400);
	assert_data_hex(&set.v[2], SPKI_SHA512);
	assert_string_equal(set.v[3].owner, "_25._tcp.mx2.example.test.");
	assert_int_equal(set.v[3].ttl, 14 * 86400);
	assert_data_hex(&set.v[3], SPKI_SHA256);
	assert_string_equal(set.v[4].owner, "_465._tcp.mx.sub.example.test.");
	assert_int_equal(set.v[4].type.selector, 0);
	assert_string_equal(set.v[5].owner, "mx.sub.example.test.");
	assert_string_equal(set.v[6].owner, "sub.example.test.");
	assert_int_equal(set.v[6].ttl, 60);
	tlsa_set_free(&set);

	/* Without $TTL the default applies; origin given by the caller. */
	text = "_25._tcp.mx1 IN TLSA 3 1 1 " SPKI_SHA256 "\n"
	    "_25._tcp.mx2 TLSA 3 1 1 " SPKI_SHA256;
	if (tlsa_zone_parse(text, strlen(text), "x", "Example.Test", 3600,
	    &set, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(set.n, 2);
	assert_int_equal(set.v[0].ttl, 3600);
	assert_string_equal(set.v[0].owner, "_25._tcp.mx1.example.test.");
	assert_int_equal(set.v[1].ttl, 3600);
	assert_string_equal(set.v[1].owner, "_25._tcp.mx2.example.test.");
	tlsa_set_free(&set);
	/* Only as much text as len says: the second record is not seen. */
	if (tlsa_zone_parse(text, strchr(text, '\n') - text, "x", "test",
	    -1, &set, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.v[0].owner, "_25._tcp.mx1.test.");
	tlsa_set_free(&set);
	text = "_25._tcp.mx1.example.test. TLSA 3 1 1 " SPKI_SHA256;
	if (tlsa_zone_parse(text, strlen(text), "x", NULL, -1, &set,
	    &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(set.n, 1);
	assert_int_equal(set.v[0].ttl, -1);
	tlsa_set_free(&set);

	/* Nothing but comments and blank lines. */
	text = "; x\n\n  \n";
	assert_int_equal(tlsa_zone_parse(text, strlen(text), "x", NULL, -1,
	    &set, &err), 0);
	assert_int_equal(set.n, 0);
	assert_int_equal(tlsa_zone_parse("", 0, "x", NULL, -1, &set, &err), 0);
	assert_int_equal(set.n, 0);
}

static void
test_zone_errors(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
		{ "; one\n_25._tcp.mx1 IN TLSA 3 1 1 " SPKI_SHA256 "\n",
		    "z:2: relative name \"_25._tcp.mx1\" with no origin" },
		{ "@ IN TLSA 3 1 1 " SPKI_SHA256, "z:1: '@' used with no origin" },
		{ "$ORIGIN example.\n$INCLUDE other.zone\n",
		    "z:2: $INCLUDE is not supported" },
		{ "$ORIGIN example.\n\nx IN TLSA 3 1 1 (\n" SPKI_SHA256 "\n",
		    "z:3: '(' not closed" },
		{ "x. 1x IN A 192.0.2.1\n", "z:1: bad TTL \"1x\"" },
		{ "x. 99999999999 IN A 192.0.2.1\n", "z:1: bad TTL" },
		{ "$TTL 1q\n", "z:1: $TTL needs one TTL" },
		{ "$ORIGIN\n", "z:1: $ORIGIN needs exactly one name" },
		{ "$GENERATE 1-2 x A 1.2.3.4\n", "z:1: unknown directive" },
		{ "\tIN TLSA 3 1 1 " SPKI_SHA256, "z:1: record with a blank owner" },
		{ "x. IN\n", "z:1: record without a type" },
		{ "x. CH TLSA 3 1 1 " SPKI_SHA256, "class other than IN" },
		{ "x. IN TXT \"open\n", "z:1: quoted string not closed" },
		{ "x. IN A 1 )\n", "z:1: ')' without '('" },
		{ "x. IN TLSA 3 1 1 00\0 00", "z:1: NUL byte" },
		{ "\"x.\" IN TLSA 3 1 1 " SPKI_SHA256, "quoted" },
		/* Would come out as "$x. ..." and be read back as a directive. */
		{ "$ORIGIN $x.\n@ IN TLSA 3 1 1 " SPKI_SHA256, "z:1: name \"$x.\" "
		    "starts with '$'" },
	};
	static const char good_then_bad[] =
	    "a. IN TLSA 3 1 1 " SPKI_SHA256 "\n"
	    "b. IN TXT \"x\"\n"
	    "\n"
	    "c. IN TLSA 3 1 1 (\n"
	    "  " SPKI_SHA256 "ab )\n";
	struct tlsa_set set = { 0 };
	struct errbuf err;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = strlen(bad[i].text);
		if (strstr(bad[i].msg, "NUL") != NULL)
			len += 4;
		err.msg[0] = '\0';
		if (tlsa_zone_parse(bad[i].text, len, "z", NULL, -1, &set,
		    &err) != -1)
			fail_msg("\"%s\" was accepted", bad[i].text);
		assert_err_has(&err, bad[i].msg);
		tlsa_set_free(&set);
	}
	/* The error names the line where the record starts; a stays. */
	assert_int_equal(tlsa_zone_parse(good_then_bad, strlen(good_then_bad),
	    "z", NULL, -1, &set, &err), -1);
	assert_err_has(&err, "z:4: matching type 1 (SHA-256) needs 32 bytes");
	assert_int_equal(set.n, 1);
	assert_string_equal(set.v[0].owner, "a.");
	tlsa_set_free(&set);
}

static void
test_zone_load(void **state)
{
	char path[] = "/tmp/test_tlsa.XXXXXX";
	struct tlsa_set set = { 0 };
	struct errbuf err;
	FILE *fp;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(fp = fdopen(fd, "w"));
	fprintf(fp, "$TTL 3600\n_25._tcp.mx1 IN TLSA 3 1 1 %s\n", SPKI_SHA256);
	fclose(fp);
	if (tlsa_zone_load(path, "example.test.", -1, &set, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(set.n, 1);
	assert_int_equal(set.v[0].ttl, 3600);
	assert_string_equal(set.v[0].owner, "_25._tcp.mx1.example.test.");
	tlsa_set_free(&set);
	/* Errors carry the path and line. */
	assert_int_equal(tlsa_zone_load(path, NULL, -1, &set, &err), -1);
	assert_true(strncmp(err.msg, path, strlen(path)) == 0);
	assert_err_has(&err, ":2: relative name");
	unlink(path);

	assert_int_equal(tlsa_zone_load(path, NULL, -1, &set, &err), -1);
	assert_err_has(&err, path);
	assert_err_has(&err, "No such file");
	assert_int_equal(tlsa_zone_load("/tmp", NULL, -1, &set, &err), -1);
	assert_err_has(&err, "/tmp: is a directory");
}

static void
test_format(void **state)
{
	static const unsigned char data[] = { 0xab, 0xcd, 0x01 };
	struct tlsa_record rec = { 0 };
	enum tlsa_form form;
	char *s;

	(void)state;
	rec.owner = "_25._tcp.mx1.example.com.";
	rec.ttl = 3600;
	rec.type = (struct tlsa_type){ 3, 1, 0 };
	rec.data = (unsigned char *)data;
	rec.len = sizeof(data);

	s = tlsa_record_format(&rec, TLSA_FORM_ZONE);
	assert_string_equal(s, "_25._tcp.mx1.example.com. 3600 IN TLSA 3 1 0 abcd01");
	free(s);
	s = tlsa_record_format(&rec, TLSA_FORM_GENERIC);
	assert_string_equal(s,
	    "_25._tcp.mx1.example.com. 3600 IN TYPE52 \\# 6 030100abcd01");
	free(s);
	s = tlsa_record_format(&rec, TLSA_FORM_NSUPDATE);
	assert_string_equal(s,
	    "update add _25._tcp.mx1.example.com. 3600 IN TLSA 3 1 0 abcd01");
	free(s);
	s = tlsa_record_format(&rec, TLSA_FORM_RDATA);
	assert_string_equal(s, "3 1 0 abcd01");
	free(s);
	s = tlsa_record_format(&rec, TLSA_FORM_JSON);
	assert_string_equal(s, "{\"owner\":\"_25._tcp.mx1.example.com.\","
	    "\"ttl\":3600,\"usage\":3,\"selector\":1,\"mtype\":0,"
	    "\"data\":\"abcd01\"}");
	free(s);

	/* JSON stays valid whatever the owner holds. */
	rec.owner = "a\"b\\c\001\303.";
	s = tlsa_record_format(&rec, TLSA_FORM_JSON);
	assert_string_equal(s, "{\"owner\":\"a\\\"b\\\\c\\\\001\\\\195.\","
	    "\"ttl\":3600,\"usage\":3,\"selector\":1,\"mtype\":0,"
	    "\"data\":\"abcd01\"}");
	free(s);

	/* 255 in the type octets, generic form. */
	rec.owner = "x.";
	rec.ttl = 0;
	rec.type = (struct tlsa_type){ 255, 16, 2 };
	s = tlsa_record_format(&rec, TLSA_FORM_GENERIC);
	assert_string_equal(s, "x. 0 IN TYPE52 \\# 6 ff1002abcd01");
	free(s);

	rec.ttl = -1;
	assert_null(tlsa_record_format(&rec, TLSA_FORM_ZONE));
	assert_null(tlsa_record_format(&rec, TLSA_FORM_JSON));
	assert_non_null(s = tlsa_record_format(&rec, TLSA_FORM_RDATA));
	free(s);
	rec.ttl = 60;
	rec.owner = NULL;
	assert_null(tlsa_record_format(&rec, TLSA_FORM_GENERIC));
	assert_null(tlsa_record_format(&rec, TLSA_FORM_NSUPDATE));

	assert_int_equal(tlsa_form_parse("zone", &form), 0);
	assert_int_equal(form, TLSA_FORM_ZONE);
	assert_int_equal(tlsa_form_parse("generic", &form), 0);
	assert_int_equal(form, TLSA_FORM_GENERIC);
	assert_int_equal(tlsa_form_parse("nsupdate", &form), 0);
	assert_int_equal(form, TLSA_FORM_NSUPDATE);
	assert_int_equal(tlsa_form_parse("rdata", &form), 0);
	assert_int_equal(form, TLSA_FORM_RDATA);
	assert_int_equal(tlsa_form_parse("json", &form), 0);
	assert_int_equal(form, TLSA_FORM_JSON);
	assert_int_equal(tlsa_form_parse("bind", &form), -1);
}

/* Every record formatted in zone and generic form parses back equal. */
static void
test_round_trip(void **state)
{
	static const enum tlsa_form forms[] = { TLSA_FORM_ZONE, TLSA_FORM_GENERIC };
	static const char odd_owner[] = "a\\ b\\;c\\(. 0 IN TLSA 0 0 0 00";
	struct tlsa_set set = { 0 }, back = { 0 };
	struct errbuf err;
	size_t i, f;
	char *s;

	(void)state;
	assert_int_equal(tlsa_zone_parse(signed_zone, strlen(signed_zone), "z",
	    NULL, -1, &set, &err), 0);
	assert_int_equal(tlsa_zone_parse(odd_owner, strlen(odd_owner), "z",
	    NULL, -1, &set, &err), 0);
	assert_int_equal(set.n, 3);
	assert_string_equal(set.v[2].owner, "a\\ b\\;c\\(.");
	for (i = 0; i < set.n; i++)
		for (f = 0; f < 2; f++) {
			assert_non_null(s = tlsa_record_format(&set.v[i], forms[f]));
			if (tlsa_zone_parse(s, strlen(s), "back", NULL, -1, &back,
			    &err) != 0)
				fail_msg("%s: %s", s, err.msg);
			assert_int_equal(back.n, 1);
			assert_int_equal(tlsa_record_cmp(&set.v[i], &back.v[0]), 0);
			assert_int_equal(set.v[i].ttl, back.v[0].ttl);
			tlsa_set_free(&back);
			free(s);
		}
	tlsa_set_free(&set);
}

static void
make_rec(struct tlsa_record *rec, const char *owner, long ttl, uint8_t usage,
    unsigned char byte, size_t len)
{
	memset(rec, 0, sizeof(*rec));
	rec->ttl = ttl;
	tlsa_record_set_owner(rec, owner);
	rec->type = (struct tlsa_type){ usage, 1, 0 };
	rec->len = len;
	rec->data = malloc(len);
	memset(rec->data, byte, len);
}

static void
test_set(void **state)
{
	struct tlsa_set set;
	struct tlsa_record rec, copy;
	char *s;
	size_t i;

	(void)state;
	tlsa_set_init(&set);
	assert_int_equal(set.n, 0);
	/* Added in a scrambled order, with duplicates that differ in TTL and case. */
	make_rec(&rec, "b.example", 10, 3, 0x11, 2);
	tlsa_set_add(&set, &rec);		/* kept: first of its kind */
	tlsa_record_clear(&rec);
	make_rec(&rec, "A.example.", 20, 3, 0x22, 2);
	tlsa_set_take(&set, &rec);
	assert_null(rec.owner);
	assert_null(rec.data);
	assert_int_equal(rec.ttl, -1);
	make_rec(&rec, NULL, 30, 3, 0x11, 2);
	tlsa_set_take(&set, &rec);
	make_rec(&rec, "B.EXAMPLE.", 40, 3, 0x11, 2);	/* duplicate of the first */
	tlsa_set_take(&set, &rec);
	make_rec(&rec, "b.example.", 50, 2, 0x11, 2);
	tlsa_set_take(&set, &rec);
	make_rec(&rec, "b.example.", 60, 3, 0x11, 1);	/* shorter data first */
	tlsa_set_take(&set, &rec);
	make_rec(&rec, "b.example.", 70, 3, 0x10, 2);
	tlsa_set_take(&set, &rec);
	make_rec(&rec, "a.example.", 80, 3, 0x22, 2);	/* duplicate */
	tlsa_set_take(&set, &rec);
	assert_int_equal(set.n, 8);

	tlsa_set_sort_unique(&set);
	assert_int_equal(set.n, 6);
	assert_null(set.v[0].owner);
	assert_string_equal(set.v[1].owner, "a.example.");
	assert_int_equal(set.v[1].ttl, 20);
	assert_string_equal(set.v[2].owner, "b.example.");
	assert_int_equal(set.v[2].type.usage, 2);
	assert_int_equal(set.v[3].len, 1);
	assert_int_equal(set.v[4].data[0], 0x10);
	assert_int_equal(set.v[5].data[0], 0x11);
	assert_int_equal(set.v[5].ttl, 10);
	for (i = 1; i < set.n; i++)
		assert_true(tlsa_record_cmp(&set.v[i - 1], &set.v[i]) < 0);

	/* Sorting again changes nothing. */
	tlsa_set_sort_unique(&set);
	assert_int_equal(set.n, 6);
	assert_int_equal(set.v[5].ttl, 10);

	make_rec(&rec, NULL, -1, 3, 0x11, 2);
	assert_int_equal(tlsa_set_find(&set, NULL, &rec), 0);
	assert_int_equal(tlsa_set_find(&set, "B.Example", &rec), 5);
	assert_int_equal(tlsa_set_find(&set, "b.example.", &rec), 5);
	assert_int_equal(tlsa_set_find(&set, "c.example.", &rec), -1);
	assert_int_equal(tlsa_set_find(&set, "b.exampl", &rec), -1);
	rec.type.usage = 1;
	assert_int_equal(tlsa_set_find(&set, NULL, &rec), -1);
	tlsa_record_clear(&rec);

	tlsa_record_copy(&copy, &set.v[1]);
	assert_int_equal(tlsa_record_cmp(&copy, &set.v[1]), 0);
	assert_ptr_not_equal(copy.data, set.v[1].data);
	assert_ptr_not_equal(copy.owner, set.v[1].owner);
	tlsa_record_set_owner(&copy, "New.Example");
	assert_string_equal(copy.owner, "new.example.");
	assert_true(tlsa_record_cmp(&set.v[1], &copy) < 0);
	assert_int_equal(tlsa_rdata_cmp(&set.v[1], &copy), 0);
	s = tlsa_record_format(&copy, TLSA_FORM_ZONE);
	assert_string_equal(s, "new.example. 20 IN TLSA 3 1 0 2222");
	free(s);
	tlsa_record_clear(&copy);
	assert_null(copy.owner);
	assert_int_equal(copy.len, 0);

	tlsa_set_free(&set);
	assert_int_equal(set.n, 0);
	assert_null(set.v);
	tlsa_set_sort_unique(&set);
}

/* Many records: sort_unique must stay n log n and keep the first TTLs. */
static void
test_set_large(void **state)
{
	struct tlsa_set set = { 0 };
	struct tlsa_record rec;
	size_t i, n = 20000;

	(void)state;
	for (i = 0; i < n; i++) {
		make_rec(&rec, "x.", (long)i, 3, (unsigned char)(i * 7919 % 251),
		    1);
		tlsa_set_take(&set, &rec);
	}
	tlsa_set_sort_unique(&set);
	assert_int_equal(set.n, 251);
	for (i = 0; i < set.n; i++) {
		assert_int_equal(set.v[i].data[0], i);
		/* The first index with that byte: i * 7919 % 251 == byte. */
		assert_true(set.v[i].ttl < 251);
	}
	tlsa_set_free(&set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_type_parse),
		cmocka_unit_test(test_from_pubkey),
		cmocka_unit_test(test_from_cert),
		cmocka_unit_test(test_certdir),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_rdata_parse),
		cmocka_unit_test(test_rdata_parse_errors),
		cmocka_unit_test(test_zone_signed),
		cmocka_unit_test(test_zone_parse),
		cmocka_unit_test(test_zone_errors),
		cmocka_unit_test(test_zone_load),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_set_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
