/*
 * test_certkey - lib/certkey*.c and lib/keygen.c over the files that
 * tests/data/gen-certs.sh makes in $CERTDIR (see tests/data/README.md),
 * and over certificates made here for the algorithms and damage those
 * files do not cover.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certkey.h"
#include "errbuf.h"
#include "keygen.h"

static const char *certdir;

static int
setup(void **state)
{
	(void)state;
	certdir = getenv("CERTDIR");
	if (certdir != NULL && *certdir == '\0')
		certdir = NULL;
	return 0;
}

/* $CERTDIR/name, in one of a few rotating buffers. */
static const char *
path(const char *name)
{
	static char buf[4][1024];
	static int i;

	if (certdir == NULL)
		skip();
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", certdir, name);
	return buf[i];
}

/* The whole of $CERTDIR/name, NUL-terminated; *len excludes the NUL. */
static char *
slurp(const char *name, size_t *len)
{
	FILE *fp;
	char *buf;
	long n;

	fp = fopen(path(name), "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	rewind(fp);
	buf = malloc(n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* err holds a one-line message that starts with prefix and has want. */
static void
assert_err(const struct errbuf *err, const char *prefix, const char *want)
{
	if (strncmp(err->msg, prefix, strlen(prefix)) != 0 ||
	    strstr(err->msg, want) == NULL)
		fail_msg("message \"%s\": want prefix \"%s\" and \"%s\"",
		    err->msg, prefix, want);
	assert_null(strchr(err->msg, '\n'));
}

static struct certkey_chain *
chain_ok(const char *name)
{
	struct certkey_chain *chain = NULL;
	struct errbuf err = { "" };

	if (certkey_chain_load(path(name), &chain, &err) != 0)
		fail_msg("%s: %s", name, err.msg);
	assert_non_null(chain);
	assert_true(sk_X509_num(chain->certs) >= 1);
	assert_string_equal(chain->path, path(name));
	return chain;
}

static struct certkey_key *
key_ok(const char *name, const char *passphrase)
{
	struct certkey_key *key = NULL;
	struct errbuf err = { "" };

	if (certkey_key_load(path(name), passphrase, &key, &err) != 0)
		fail_msg("%s: %s", name, err.msg);
	assert_non_null(key);
	assert_non_null(key->pkey);
	return key;
}

static void
chain_fails(const char *name, const char *want)
{
	struct certkey_chain *chain = (void *)1;
	struct errbuf err = { "" };
	const char *p = path(name);

	assert_int_equal(certkey_chain_load(p, &chain, &err), -1);
	assert_null(chain);
	assert_err(&err, p, want);
}

static void
key_fails(const char *name, const char *passphrase, const char *want)
{
	struct certkey_key *key = (void *)1;
	struct errbuf err = { "" };
	const char *p = path(name);

	assert_int_equal(certkey_key_load(p, passphrase, &key, &err), -1);
	assert_null(key);
	assert_err(&err, p, want);
}

static void
assert_alg(EVP_PKEY *pkey, const char *want, const char *family)
{
	char alg[64];

	assert_int_equal(certkey_alg_name(pkey, alg, sizeof(alg)), 0);
	assert_string_equal(alg, want);
	assert_string_equal(certkey_alg_family(pkey), family);
}

/*
 * The leaf's key (free it). Chain certificates are complete: OpenSSL
 * itself has decoded it.
 */
static EVP_PKEY *
leaf_key(const struct certkey_chain *chain)
{
	X509 *leaf = certkey_chain_leaf(chain);
	EVP_PKEY *pkey;

	assert_non_null(X509_get0_pubkey(leaf));
	ERR_clear_error();
	pkey = certkey_cert_pubkey(leaf);
	assert_non_null(pkey);
	assert_int_equal(ERR_peek_error(), 0);
	return pkey;
}

/* certkey_cert_alg_name and _family of cert give want and family. */
static void
assert_cert_alg(X509 *cert, const char *want, const char *family)
{
	char alg[64];

	assert_int_equal(certkey_cert_alg_name(cert, alg, sizeof(alg)), 0);
	assert_string_equal(alg, want);
	assert_string_equal(certkey_cert_alg_family(cert), family);
}

static void
test_chain_files(void **state)
{
	static const struct {
		const char *file;
		int certs;
		const char *alg, *family;
	} t[] = {
		{ "rsa.pem", 1, "rsa-2048", "rsa" },
		{ "rsa-chain.pem", 2, "rsa-2048", "rsa" },
		{ "rsa-full.pem", 3, "rsa-2048", "rsa" },
		{ "rsa.pem.der", 1, "rsa-2048", "rsa" },
		{ "rsa-other-chain.pem", 2, "rsa-2048", "rsa" },
		{ "ecdsa.pem", 1, "ecdsa-p256", "ecdsa" },
		{ "ecdsa-chain.pem", 2, "ecdsa-p256", "ecdsa" },
		{ "ed25519.pem", 1, "ed25519", "ed25519" },
		{ "ed25519-chain.pem", 2, "ed25519", "ed25519" },
		{ "ed448.pem", 1, "ed448", "ed448" },
		{ "p384.pem", 1, "ecdsa-p384", "ecdsa" },
		{ "p521.pem", 1, "ecdsa-p521", "ecdsa" },
		{ "expired.pem", 1, "ecdsa-p256", "ecdsa" },
		{ "selfsigned.pem", 1, "ecdsa-p256", "ecdsa" },
		{ "leafonly-as-ca.pem", 2, "rsa-2048", "rsa" },
		{ "ca.pem", 1, "ecdsa-p256", "ecdsa" },
	};
	struct certkey_chain *chain;
	EVP_PKEY *pkey;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		chain = chain_ok(t[i].file);
		assert_int_equal(sk_X509_num(chain->certs), t[i].certs);
		assert_null(chain->key);
		pkey = leaf_key(chain);
		assert_alg(pkey, t[i].alg, t[i].family);
		assert_cert_alg(certkey_chain_leaf(chain), t[i].alg,
		    t[i].family);
		assert_true(certkey_key_matches_cert(pkey,
		    certkey_chain_leaf(chain)));
		EVP_PKEY_free(pkey);
		certkey_chain_free(chain);
	}
}

static void
test_key_files(void **state)
{
	static const struct {
		const char *file;
		int is_private;
		const char *alg, *family;
	} t[] = {
		{ "rsa.key", 1, "rsa-2048", "rsa" },
		{ "rsa-next.key", 1, "rsa-2048", "rsa" },
		{ "rsa-trad.key", 1, "rsa-2048", "rsa" },
		{ "rsa.key.der", 1, "rsa-2048", "rsa" },
		{ "ecdsa.key", 1, "ecdsa-p256", "ecdsa" },
		{ "ecdsa-trad.key", 1, "ecdsa-p256", "ecdsa" },
		{ "ecdsa-next.key", 1, "ecdsa-p256", "ecdsa" },
		{ "ecdsa-next.pub", 0, "ecdsa-p256", "ecdsa" },
		{ "ecdsa-next.pub.der", 0, "ecdsa-p256", "ecdsa" },
		{ "ecdsa-next-compressed.pub", 0, "ecdsa-p256", "ecdsa" },
		{ "ed25519.key", 1, "ed25519", "ed25519" },
		{ "ed448.key", 1, "ed448", "ed448" },
		{ "p384.key", 1, "ecdsa-p384", "ecdsa" },
		{ "p521.key", 1, "ecdsa-p521", "ecdsa" },
		{ "combined.pem", 1, "ecdsa-p256", "ecdsa" },
	};
	struct certkey_key *key;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		key = key_ok(t[i].file, NULL);
		assert_int_equal(key->is_private, t[i].is_private);
		assert_string_equal(key->path, path(t[i].file));
		assert_alg(key->pkey, t[i].alg, t[i].family);
		certkey_key_free(key);
	}
}

/* Every form of a key is the same key. */
static void
test_key_forms_equal(void **state)
{
	static const char *rsa[] = { "rsa-trad.key", "rsa.key.der" };
	static const char *ec[] = { "ecdsa-next.pub", "ecdsa-next.pub.der",
	    "ecdsa-next-compressed.pub" };
	struct certkey_key *a, *b, *other;
	char *pass = NULL;
	struct errbuf err = { "" };
	size_t i;

	(void)state;
	a = key_ok("rsa.key", NULL);
	other = key_ok("rsa-other.key", NULL);
	for (i = 0; i < sizeof(rsa) / sizeof(rsa[0]); i++) {
		b = key_ok(rsa[i], NULL);
		assert_true(certkey_pubkey_equal(a->pkey, b->pkey));
		assert_false(certkey_pubkey_equal(other->pkey, b->pkey));
		certkey_key_free(b);
	}
	assert_int_equal(certkey_passphrase_read(path("pass.txt"), &pass,
	    &err), 0);
	b = key_ok("rsa-enc.key", pass);
	assert_int_equal(b->is_private, 1);
	assert_true(certkey_pubkey_equal(a->pkey, b->pkey));
	certkey_key_free(b);
	free(pass);
	certkey_key_free(a);
	certkey_key_free(other);

	/* The compressed point is the same public key as the full one. */
	a = key_ok("ecdsa-next.key", NULL);
	other = key_ok("ecdsa.key", NULL);
	for (i = 0; i < sizeof(ec) / sizeof(ec[0]); i++) {
		b = key_ok(ec[i], NULL);
		assert_int_equal(b->is_private, 0);
		assert_true(certkey_pubkey_equal(a->pkey, b->pkey));
		assert_true(certkey_pubkey_equal(b->pkey, a->pkey));
		assert_false(certkey_pubkey_equal(other->pkey, b->pkey));
		certkey_key_free(b);
	}
	assert_false(certkey_pubkey_equal(a->pkey, NULL));
	certkey_key_free(a);
	certkey_key_free(other);
}

static void
test_key_matches_cert(void **state)
{
	static const struct {
		const char *key, *cert;
		int match;
	} t[] = {
		{ "rsa.key", "rsa.pem", 1 },
		{ "rsa-trad.key", "rsa-chain.pem", 1 },
		{ "rsa.key.der", "rsa.pem.der", 1 },
		{ "ecdsa.key", "ecdsa.pem", 1 },
		{ "ed25519.key", "ed25519.pem", 1 },
		{ "ed448.key", "ed448.pem", 1 },
		{ "p384.key", "p384.pem", 1 },
		{ "p521.key", "p521.pem", 1 },
		{ "rsa-other.key", "rsa-other.pem", 1 },
		{ "rsa-other.key", "rsa.pem", 0 },
		{ "rsa-next.key", "rsa.pem", 0 },
		{ "ecdsa-next.key", "ecdsa.pem", 0 },
		{ "ecdsa-next.pub", "ecdsa.pem", 0 },
		{ "ecdsa.key", "rsa.pem", 0 },
		{ "ed25519.key", "ed448.pem", 0 },
	};
	struct certkey_chain *chain;
	struct certkey_key *key;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		key = key_ok(t[i].key, NULL);
		chain = chain_ok(t[i].cert);
		if (certkey_key_matches_cert(key->pkey,
		    certkey_chain_leaf(chain)) != t[i].match)
			fail_msg("%s vs %s: want %d", t[i].key, t[i].cert,
			    t[i].match);
		certkey_key_free(key);
		certkey_chain_free(chain);
	}
}

/* Leaf first, then its issuers, in the order of the file. */
static void
test_chain_order(void **state)
{
	struct certkey_chain *full, *leaf, *ca, *in;
	X509 *c0, *c1, *c2;

	(void)state;
	full = chain_ok("rsa-full.pem");
	leaf = chain_ok("rsa.pem");
	in = chain_ok("int.pem");
	ca = chain_ok("ca.pem");
	c0 = sk_X509_value(full->certs, 0);
	c1 = sk_X509_value(full->certs, 1);
	c2 = sk_X509_value(full->certs, 2);
	assert_ptr_equal(certkey_chain_leaf(full), c0);
	assert_int_equal(X509_cmp(c0, certkey_chain_leaf(leaf)), 0);
	assert_int_equal(X509_cmp(c1, certkey_chain_leaf(in)), 0);
	assert_int_equal(X509_cmp(c2, certkey_chain_leaf(ca)), 0);
	/* Issuing needs the issuer's key: complete certificates have it. */
	assert_int_equal(X509_check_issued(c1, c0), X509_V_OK);
	assert_int_equal(X509_check_issued(c2, c1), X509_V_OK);
	assert_int_equal(X509_check_host(c0, "mx2.example.test", 0, 0, NULL),
	    1);
	assert_false(certkey_is_ca(c0));
	assert_true(certkey_is_ca(c1));
	assert_true(certkey_is_ca(c2));
	certkey_chain_free(full);
	certkey_chain_free(leaf);
	certkey_chain_free(in);
	certkey_chain_free(ca);

	/* A second leaf is loaded as it comes; it is no CA. */
	full = chain_ok("leafonly-as-ca.pem");
	assert_false(certkey_is_ca(sk_X509_value(full->certs, 1)));
	assert_cert_alg(sk_X509_value(full->certs, 1), "ecdsa-p256", "ecdsa");
	certkey_chain_free(full);
}

/* Key and chain in one file, as smtpd_tls_chain_files allows. */
static void
test_combined(void **state)
{
	struct certkey_chain *chain, *plain;
	struct certkey_key *key;

	(void)state;
	chain = chain_ok("combined.pem");
	plain = chain_ok("ecdsa-chain.pem");
	assert_int_equal(sk_X509_num(chain->certs), 2);
	assert_non_null(chain->key);
	assert_true(certkey_key_matches_cert(chain->key,
	    certkey_chain_leaf(chain)));
	assert_int_equal(X509_cmp(certkey_chain_leaf(chain),
	    certkey_chain_leaf(plain)), 0);
	key = key_ok("ecdsa.key", NULL);
	assert_true(certkey_pubkey_equal(key->pkey, chain->key));
	certkey_key_free(key);
	certkey_chain_free(chain);
	certkey_chain_free(plain);
}

/* A key that is not the leaf's, in a combined file, from memory. */
static void
test_combined_mismatch(void **state)
{
	struct certkey_chain *chain = NULL;
	struct errbuf err = { "" };
	char *k, *c, *both;
	size_t klen, clen;

	(void)state;
	k = slurp("rsa-other.key", &klen);
	c = slurp("rsa-chain.pem", &clen);
	both = malloc(2 * klen + clen);
	assert_non_null(both);
	memcpy(both, c, clen);
	memcpy(both + clen, k, klen);
	assert_int_equal(certkey_chain_parse((unsigned char *)both,
	    klen + clen, "mixed.pem", 0, &chain, &err), -1);
	assert_null(chain);
	assert_err(&err, "mixed.pem: ",
	    "private key does not match the certificate");

	/* Two keys in a chain file. */
	memcpy(both, k, klen);
	memcpy(both + klen, k, klen);
	assert_int_equal(certkey_chain_parse((unsigned char *)both,
	    2 * klen, "keys.pem", 0, &chain, &err), -1);
	assert_err(&err, "keys.pem: ", "more than one private key");
	/* A key alone. */
	assert_int_equal(certkey_chain_parse((unsigned char *)both, klen,
	    "key.pem", 0, &chain, &err), -1);
	assert_err(&err, "key.pem: ", "holds a key but no certificate");
	free(both);
	free(k);

	/* An encrypted key in a chain file. */
	k = slurp("rsa-enc.key", &klen);
	both = malloc(klen + clen);
	assert_non_null(both);
	memcpy(both, c, clen);
	memcpy(both + clen, k, klen);
	assert_int_equal(certkey_chain_parse((unsigned char *)both,
	    klen + clen, "enc.pem", 0, &chain, &err), -1);
	assert_err(&err, "enc.pem: ", "encrypted private key in a chain file");
	free(both);
	free(k);
	free(c);
}

static void
test_errors(void **state)
{
	const char *unsupported = "unsupported key algorithm dsa (supported: "
	    "RSA, ECDSA P-256/P-384/P-521, Ed25519, Ed448)";

	(void)state;
	chain_fails("nonexistent.pem", "no such file");
	key_fails("nonexistent.key", NULL, "no such file");
	chain_fails("nonexistent/x.pem", "no such file");
	chain_fails("dir.pem", "is a directory");
	key_fails("dir.pem", NULL, "is a directory");
	chain_fails("empty.pem", "empty file");
	key_fails("empty.pem", NULL, "empty file");
	chain_fails("garbage.pem", "neither PEM nor DER certificate or key");
	key_fails("garbage.pem", NULL,
	    "neither PEM nor DER certificate or key");
	chain_fails("truncated.pem",
	    "truncated PEM: BEGIN CERTIFICATE without END line");
	chain_fails("truncated-mid.pem", "bad PEM data");
	key_fails("rsa-enc.key", NULL, "encrypted private key; give the "
	    "passphrase with --passphrase-file");
	key_fails("rsa-enc.key", "not the passphrase", "wrong passphrase");
	key_fails("dsa.key", NULL, unsupported);
	chain_fails("dsa.pem", unsupported);
	key_fails("k256.key", NULL, "unsupported key algorithm ec secp256k1");
	chain_fails("k256.pem", "unsupported key algorithm ec secp256k1");
	chain_fails("rsa.key", "holds a key but no certificate");
	chain_fails("rsa.key.der", "holds a key but no certificate");
	key_fails("rsa.pem", NULL, "holds a certificate, not a key");
	key_fails("rsa.pem.der", NULL, "holds a certificate, not a key");
	key_fails("pass.txt", NULL, "neither PEM nor DER certificate or key");
}

/* Damage in memory: base64, END lines, wrong kinds of block. */
static void
test_parse_damage(void **state)
{
	struct certkey_chain *chain = NULL;
	struct certkey_key *key = NULL;
	struct errbuf err = { "" };
	char *pem, *p;
	size_t len;

	(void)state;
	pem = slurp("rsa.pem", &len);
	/* A character outside the base64 alphabet in the third line. */
	p = strchr(strchr(pem, '\n') + 1, '\n') + 5;
	*p = '!';
	assert_int_equal(certkey_chain_parse((unsigned char *)pem, len,
	    "b64.pem", 0, &chain, &err), -1);
	assert_null(chain);
	assert_err(&err, "b64.pem: ", "bad PEM data");
	free(pem);

	pem = slurp("rsa.pem", &len);
	p = strstr(pem, "-----END CERTIFICATE");
	assert_non_null(p);
	memcpy(p + 9, "CRL        ", 11);
	assert_int_equal(certkey_chain_parse((unsigned char *)pem, len,
	    "end.pem", 0, &chain, &err), -1);
	assert_err(&err, "end.pem: ", "bad PEM data");
	free(pem);

	assert_int_equal(certkey_chain_parse((const unsigned char *)"", 0,
	    "nothing", 0, &chain, &err), -1);
	assert_err(&err, "nothing: ", "empty file");
	assert_int_equal(certkey_key_parse((const unsigned char *)"x", 1,
	    "x", NULL, &key, &err), -1);
	assert_null(key);
	assert_err(&err, "x: ", "neither PEM nor DER certificate or key");

	/* A BEGIN line OpenSSL does not take for one. */
	assert_int_equal(certkey_chain_parse((const unsigned char *)
	    "-----BEGIN CERT\nAAAA\n", 21, "begin.pem", 0, &chain, &err), -1);
	assert_err(&err, "begin.pem: ", "bad PEM data: malformed BEGIN line");
	assert_int_equal(certkey_key_parse((const unsigned char *)
	    "x -----BEGIN PRIVATE KEY-----\n", 30, "begin.key", NULL, &key,
	    &err), -1);
	assert_err(&err, "begin.key: ", "malformed BEGIN line");

	/* PEM of another kind is no certificate and no key. */
	pem = strdup("-----BEGIN X509 CRL-----\nAAAA\n"
	    "-----END X509 CRL-----\n");
	assert_non_null(pem);
	assert_int_equal(certkey_chain_parse((unsigned char *)pem,
	    strlen(pem), "crl.pem", 0, &chain, &err), -1);
	assert_err(&err, "crl.pem: ", "no certificate in it");
	assert_int_equal(certkey_key_parse((unsigned char *)pem,
	    strlen(pem), "crl.pem", NULL, &key, &err), -1);
	assert_err(&err, "crl.pem: ", "no private or public key in it");
	free(pem);
}

/* DER forms made here from loaded objects: traditional keys, a chain. */
static void
test_der_forms(void **state)
{
	static const char *keys[] = { "rsa.key", "ecdsa.key" };
	struct certkey_key *key, *back;
	struct certkey_chain *chain, *dchain;
	struct errbuf err = { "" };
	unsigned char *der, *p;
	int n, n2;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		key = key_ok(keys[i], NULL);
		/* i2d_PrivateKey writes RSAPrivateKey / ECPrivateKey. */
		der = NULL;
		n = i2d_PrivateKey(key->pkey, &der);
		assert_true(n > 0);
		if (certkey_key_parse(der, n, "trad.der", NULL, &back,
		    &err) != 0)
			fail_msg("%s", err.msg);
		assert_int_equal(back->is_private, 1);
		assert_true(certkey_pubkey_equal(key->pkey, back->pkey));
		certkey_key_free(back);
		/* A key is no certificate. */
		assert_int_equal(certkey_chain_parse(der, n, "trad.der", 0,
		    &chain, &err), -1);
		assert_err(&err, "trad.der: ",
		    "holds a key but no certificate");
		OPENSSL_free(der);
		certkey_key_free(key);
	}

	/* Two DER certificates back to back read as a chain. */
	chain = chain_ok("rsa-chain.pem");
	n = i2d_X509(sk_X509_value(chain->certs, 0), NULL);
	n2 = i2d_X509(sk_X509_value(chain->certs, 1), NULL);
	assert_true(n > 0 && n2 > 0);
	der = p = malloc(n + n2);
	assert_non_null(der);
	i2d_X509(sk_X509_value(chain->certs, 0), &p);
	i2d_X509(sk_X509_value(chain->certs, 1), &p);
	if (certkey_chain_parse(der, n + n2, "chain.der", 0, &dchain, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(sk_X509_num(dchain->certs), 2);
	assert_int_equal(X509_cmp(sk_X509_value(dchain->certs, 1),
	    sk_X509_value(chain->certs, 1)), 0);
	certkey_chain_free(dchain);
	/* Cut short in the second one. */
	assert_int_equal(certkey_chain_parse(der, n + n2 / 2, "cut.der", 0,
	    &dchain, &err), -1);
	assert_err(&err, "cut.der: ", "bad DER data after certificate 1");
	free(der);
	certkey_chain_free(chain);
}

/* Unreadable file: root reads everything, so try as nobody. */
static void
test_unreadable(void **state)
{
	const char *p = path("unreadable.pem");
	struct certkey_chain *chain = NULL;
	struct errbuf err = { "" };
	pid_t pid;
	int status;

	(void)state;
	if (geteuid() != 0) {
		if (access(p, R_OK) == 0)
			skip();
		chain_fails("unreadable.pem", "permission denied");
		return;
	}
	if ((pid = fork()) == -1)
		fail_msg("fork failed");
	if (pid == 0) {
		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(77);
		if (certkey_chain_load(p, &chain, &err) != -1)
			_exit(1);
		if (strncmp(err.msg, p, strlen(p)) != 0 ||
		    strstr(err.msg, "permission denied") == NULL)
			_exit(2);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_file_load(void **state)
{
	static const struct {
		const char *file;
		int chain;	/* 1 chain, 0 key */
	} t[] = {
		{ "rsa.pem", 1 },
		{ "rsa.pem.der", 1 },
		{ "combined.pem", 1 },
		{ "ecdsa-chain.pem", 1 },
		{ "rsa.key", 0 },
		{ "rsa.key.der", 0 },
		{ "ecdsa-next.pub", 0 },
		{ "ecdsa-next.pub.der", 0 },
		{ "ecdsa-trad.key", 0 },
	};
	struct certkey_chain *chain;
	struct certkey_key *key;
	struct errbuf err = { "" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (certkey_file_load(path(t[i].file), NULL, 0, &chain, &key,
		    &err) != 0)
			fail_msg("%s: %s", t[i].file, err.msg);
		assert_int_equal(chain != NULL, t[i].chain);
		assert_int_equal(key != NULL, !t[i].chain);
		certkey_chain_free(chain);
		certkey_key_free(key);
	}
	assert_int_equal(certkey_file_load(path("garbage.pem"), NULL, 0, &chain,
	    &key, &err), -1);
	assert_null(chain);
	assert_null(key);
	assert_err(&err, path("garbage.pem"), "neither");
	assert_int_equal(certkey_file_load(path("truncated.pem"), NULL, 0,
	    &chain, &key, &err), -1);
	assert_err(&err, path("truncated.pem"), "truncated PEM");
	assert_int_equal(certkey_file_load(path("rsa-enc.key"), NULL, 0,
	    &chain, &key, &err), -1);
	assert_err(&err, path("rsa-enc.key"), "--passphrase-file");
	assert_int_equal(certkey_file_load(path("rsa-enc.key"),
	    "correct horse battery staple", 0, &chain, &key, &err), 0);
	assert_non_null(key);
	certkey_key_free(key);
}

static void
test_expiry(void **state)
{
	struct certkey_chain *chain;
	char date[16];
	time_t now = time(NULL), notafter, t;
	struct tm tm;
	X509 *leaf;

	(void)state;
	chain = chain_ok("expired.pem");
	assert_true(certkey_is_expired(certkey_chain_leaf(chain), now, date,
	    sizeof(date)));
	assert_string_equal(date, "2020-03-01");
	/* It was valid once. */
	assert_false(certkey_is_expired(certkey_chain_leaf(chain),
	    (time_t)1580515200, NULL, 0));	/* 2020-02-01 */
	/* Around notAfter, as X509_cmp_time judges: expired at it. */
	leaf = certkey_chain_leaf(chain);
	assert_int_equal(ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm), 1);
	notafter = timegm(&tm);
	for (t = notafter - 1; t <= notafter + 1; t++)
		assert_int_equal(certkey_is_expired(leaf, t, NULL, 0),
		    X509_cmp_time(X509_get0_notAfter(leaf), &t) < 0);
	assert_false(certkey_is_expired(leaf, notafter - 1, NULL, 0));
	assert_true(certkey_is_expired(leaf, notafter, NULL, 0));
	certkey_chain_free(chain);

	chain = chain_ok("rsa.pem");
	assert_false(certkey_is_expired(certkey_chain_leaf(chain), now, date,
	    sizeof(date)));
	assert_int_equal(strlen(date), 10);
	assert_true(certkey_is_expired(certkey_chain_leaf(chain),
	    now + 365 * 86400, NULL, 0));
	certkey_chain_free(chain);
}

static void
test_passphrase_read(void **state)
{
	struct errbuf err = { "" };
	char *pass = (void *)1;

	(void)state;
	assert_int_equal(certkey_passphrase_read(path("pass.txt"), &pass,
	    &err), 0);
	assert_string_equal(pass, "correct horse battery staple");
	free(pass);
	assert_int_equal(certkey_passphrase_read(path("empty.pem"), &pass,
	    &err), -1);
	assert_null(pass);
	assert_err(&err, path("empty.pem"), "empty file");
	assert_int_equal(certkey_passphrase_read(path("nonexistent"), &pass,
	    &err), -1);
	assert_err(&err, path("nonexistent"), "no such file");
}

static void
test_alg_unsupported(void **state)
{
	EVP_PKEY *pkey;
	char alg[64];

	(void)state;
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	assert_non_null(pkey);
	assert_int_equal(certkey_alg_name(pkey, alg, sizeof(alg)), -1);
	assert_string_equal(alg, "x25519");
	assert_null(certkey_alg_family(pkey));
	EVP_PKEY_free(pkey);
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	assert_non_null(pkey);
	assert_int_equal(certkey_alg_name(pkey, alg, sizeof(alg)), -1);
	assert_string_equal(alg, "ec secp256k1");
	assert_null(certkey_alg_family(pkey));
	EVP_PKEY_free(pkey);
}

/* A fresh directory for keygen files; removed with its files. */
static char keydir[64];

static int
keygen_setup(void **state)
{
	(void)state;
	snprintf(keydir, sizeof(keydir), "/tmp/test_certkey.XXXXXX");
	return mkdtemp(keydir) == NULL ? -1 : 0;
}

static int
keygen_teardown(void **state)
{
	static const char *names[] = { "next.key", "rsa.key", "bad.key" };
	char p[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", keydir, names[i]);
		unlink(p);
	}
	return rmdir(keydir);
}

static void
test_keygen(void **state)
{
	struct certkey_key *key = NULL;
	struct errbuf err = { "" };
	EVP_PKEY *pkey = NULL, *again = (void *)1;
	struct stat st, st2;
	char p[128], rsa[128], bad[128];

	(void)state;
	snprintf(p, sizeof(p), "%s/next.key", keydir);
	snprintf(rsa, sizeof(rsa), "%s/rsa.key", keydir);
	snprintf(bad, sizeof(bad), "%s/bad.key", keydir);

	if (keygen_new("ecdsa", p, &pkey, &err) != 0)
		fail_msg("%s", err.msg);
	assert_non_null(pkey);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(certkey_key_load(p, NULL, &key, &err), 0);
	assert_int_equal(key->is_private, 1);
	assert_alg(key->pkey, "ecdsa-p256", "ecdsa");
	assert_true(certkey_pubkey_equal(key->pkey, pkey));
	certkey_key_free(key);

	/* Never overwritten: the same file, the same key. */
	assert_int_equal(keygen_new("ecdsa", p, &again, &err), -1);
	assert_null(again);
	assert_err(&err, p, "already exists; a next key is never overwritten");
	assert_int_equal(stat(p, &st2), 0);
	assert_int_equal(st.st_ino, st2.st_ino);
	assert_int_equal(st.st_size, st2.st_size);
	assert_int_equal(certkey_key_load(p, NULL, &key, &err), 0);
	assert_true(certkey_pubkey_equal(key->pkey, pkey));
	certkey_key_free(key);
	EVP_PKEY_free(pkey);

	pkey = NULL;
	if (keygen_new("rsa", rsa, &pkey, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(certkey_key_load(rsa, NULL, &key, &err), 0);
	assert_alg(key->pkey, "rsa-2048", "rsa");
	assert_true(certkey_pubkey_equal(key->pkey, pkey));
	certkey_key_free(key);
	EVP_PKEY_free(pkey);

	/* Failures leave no file. */
	assert_int_equal(keygen_new("dsa", bad, &pkey, &err), -1);
	assert_null(pkey);
	assert_non_null(strstr(err.msg, "dsa"));
	assert_int_equal(access(bad, F_OK), -1);
	assert_int_equal(keygen_new("ecdsa", "/nonexistent/dir/next.key",
	    &pkey, &err), -1);
	assert_err(&err, "/nonexistent/dir/next.key", "cannot create");
}

/* name loaded as tlsagen's bulk path does: light if it is a chain. */
static struct certkey_chain *
chain_light(const char *name)
{
	struct certkey_chain *chain = NULL;
	struct certkey_key *key = NULL;
	struct errbuf err = { "" };

	if (certkey_file_load(path(name), NULL, CERTKEY_LIGHT, &chain, &key,
	    &err) != 0)
		fail_msg("%s: %s", name, err.msg);
	certkey_key_free(key);
	return chain;
}

/*
 * Light certificates (certkey.h): no decoded key, yet all that records,
 * expiry, names and the CA check need works, the SHA-1 fingerprint that
 * the light context cannot compute does not spill an error, and the
 * complete certificate of the same file (loaded without the flag) is the
 * same certificate with its key.
 */
static void
test_light(void **state)
{
	struct certkey_chain *chain, *complete;
	X509 *leaf, *ca, *full;
	EVP_PKEY *pkey;
	unsigned char *a = NULL, *b = NULL;
	int alen, blen;

	(void)state;
	complete = chain_ok("rsa-chain.pem");
	full = certkey_chain_leaf(complete);
	assert_non_null(X509_get0_pubkey(full));
	assert_non_null(X509_get0_pubkey(sk_X509_value(complete->certs, 1)));
	chain = chain_light("rsa-chain.pem");
	assert_non_null(chain);
	leaf = certkey_chain_leaf(chain);
	ca = sk_X509_value(chain->certs, 1);
	ERR_clear_error();
	assert_null(X509_get0_pubkey(leaf));
	assert_null(X509_get0_pubkey(ca));
	ERR_clear_error();

	assert_true(i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), NULL) > 0);
	assert_non_null(X509_get0_notAfter(leaf));
	assert_int_equal(X509_check_host(leaf, "mx1.example.test", 0, 0,
	    NULL), 1);
	assert_int_equal(X509_check_host(leaf, "mx9.example.test", 0, 0,
	    NULL), 0);
	assert_true(certkey_is_ca(ca));
	assert_false(certkey_is_ca(leaf));
	assert_int_equal(ERR_peek_error(), 0);
	assert_int_equal(X509_check_ca(ca), 1);
	assert_int_equal(X509_check_ca(leaf), 0);
	ERR_clear_error();

	/* The complete one: the same DER, and OpenSSL has its key. */
	alen = i2d_X509(leaf, &a);
	blen = i2d_X509(full, &b);
	assert_true(alen > 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	OPENSSL_free(a);
	OPENSSL_free(b);
	pkey = certkey_cert_pubkey(leaf);
	assert_non_null(pkey);
	assert_true(certkey_pubkey_equal(pkey, X509_get0_pubkey(full)));
	assert_true(certkey_key_matches_cert(pkey, full));
	assert_true(certkey_key_matches_cert(pkey, leaf));
	assert_cert_alg(full, "rsa-2048", "rsa");
	EVP_PKEY_free(pkey);

	/* A complete certificate's key is not decoded again. */
	pkey = certkey_cert_pubkey(full);
	assert_ptr_equal(pkey, X509_get0_pubkey(full));
	EVP_PKEY_free(pkey);
	assert_null(certkey_cert_pubkey(NULL));
	assert_int_equal(ERR_peek_error(), 0);
	certkey_chain_free(chain);
	certkey_chain_free(complete);
}

/*
 * certkey_cert_alg_name on cert (light or complete) says exactly what
 * certkey_alg_name says of its decoded key. Returns the name in buf.
 */
static void
assert_same_alg(X509 *cert, const char *what, char *buf, size_t len)
{
	EVP_PKEY *pkey;
	char want[128];
	int rc, wantrc;

	pkey = certkey_cert_pubkey(cert);
	assert_non_null(pkey);
	wantrc = certkey_alg_name(pkey, want, sizeof(want));
	rc = certkey_cert_alg_name(cert, buf, len);
	if (rc != wantrc || strcmp(buf, want) != 0)
		fail_msg("%s: certkey_cert_alg_name gives %d \"%s\", "
		    "certkey_alg_name %d \"%s\"", what, rc, buf, wantrc, want);
	if (certkey_alg_family(pkey) == NULL)
		assert_null(certkey_cert_alg_family(cert));
	else
		assert_string_equal(certkey_cert_alg_family(cert),
		    certkey_alg_family(pkey));
	EVP_PKEY_free(pkey);
}

/* Every certificate of every file in CERTDIR, light and complete. */
static void
test_cert_alg_certdir(void **state)
{
	static const char *want[] = { "rsa-2048", "ecdsa-p256", "ecdsa-p384",
	    "ecdsa-p521", "ed25519", "ed448", "dsa", "ec secp256k1" };
	int seen[sizeof(want) / sizeof(want[0])] = { 0 };
	struct certkey_chain *chain;
	struct certkey_key *key;
	struct errbuf err;
	struct dirent *de;
	char what[512], alg[128];
	X509 *cert;
	DIR *dir;
	BIO *bio;
	size_t i;
	int n, complete = 0, light = 0;

	(void)state;
	(void)path("");
	assert_non_null(dir = opendir(certdir));
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' ||
		    strcmp(de->d_name, "dir.pem") == 0 ||
		    access(path(de->d_name), R_OK) != 0)
			continue;
		/* Complete, as OpenSSL's own reader makes them. */
		assert_non_null(bio = BIO_new_file(path(de->d_name), "r"));
		for (n = 0; (cert = PEM_read_bio_X509(bio, NULL, NULL,
		    NULL)) != NULL; n++) {
			assert_non_null(X509_get0_pubkey(cert));
			snprintf(what, sizeof(what), "%s #%d", de->d_name, n);
			assert_same_alg(cert, what, alg, sizeof(alg));
			for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
				if (strcmp(alg, want[i]) == 0)
					seen[i] = 1;
			X509_free(cert);
			complete++;
		}
		BIO_free(bio);
		ERR_clear_error();
		/* Light, as certkey loads them for tlsagen's bulk path. */
		if (certkey_file_load(path(de->d_name), NULL, CERTKEY_LIGHT,
		    &chain, &key, &err) != 0 || chain == NULL) {
			certkey_key_free(key);
			continue;
		}
		for (n = 0; n < sk_X509_num(chain->certs); n++) {
			snprintf(what, sizeof(what), "%s #%d (light)",
			    de->d_name, n);
			assert_same_alg(sk_X509_value(chain->certs, n), what,
			    alg, sizeof(alg));
			light++;
		}
		certkey_chain_free(chain);
	}
	closedir(dir);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!seen[i])
			fail_msg("no certificate with %s in CERTDIR", want[i]);
	assert_true(complete >= 20);
	assert_true(light >= 20);
}

/* A certificate for pub, signed by signer (an Ed25519 key). */
static X509 *
make_cert(EVP_PKEY *pub, EVP_PKEY *signer)
{
	X509 *x;
	X509_NAME *name;

	assert_non_null(x = X509_new());
	assert_true(X509_set_version(x, X509_VERSION_3));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 1));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	name = X509_get_subject_name(x);
	assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"mx1.example.test", -1, -1, 0));
	assert_true(X509_set_issuer_name(x, name));
	assert_true(X509_set_pubkey(x, pub));
	assert_true(X509_sign(x, signer, NULL) > 0);
	return x;
}

/*
 * x with its key's parameters and bits replaced (ptype V_ASN1_UNDEF: no
 * parameters), re-signed: keys OpenSSL would never write.
 */
static X509 *
doctor(X509 *x, EVP_PKEY *signer, int nid, int ptype, void *pval,
    const unsigned char *bits, int nbits)
{
	unsigned char *copy = OPENSSL_memdup(bits, nbits);

	assert_non_null(copy);
	assert_true(X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x),
	    OBJ_nid2obj(nid), ptype, pval, copy, nbits));
	assert_true(X509_sign(x, signer, NULL) > 0);
	return x;
}

/* Load x as certkey does (flags); 0 with the chain, or -1 with err. */
static int
made_load(X509 *x, unsigned flags, struct certkey_chain **chain,
    struct errbuf *err)
{
	unsigned char *der = NULL;
	int len, rc;

	assert_true((len = i2d_X509(x, &der)) > 0);
	rc = certkey_chain_parse(der, len, "made.pem", flags, chain, err);
	OPENSSL_free(der);
	return rc;
}

static void
made_ok(X509 *x, const char *alg, const char *family)
{
	struct certkey_chain *chain = NULL;
	struct errbuf err = { "" };
	char buf[128];
	unsigned flags;

	for (flags = 0; flags <= CERTKEY_LIGHT; flags += CERTKEY_LIGHT) {
		if (made_load(x, flags, &chain, &err) != 0)
			fail_msg("%s: %s", alg, err.msg);
		assert_cert_alg(certkey_chain_leaf(chain), alg, family);
		assert_same_alg(certkey_chain_leaf(chain), alg, buf,
		    sizeof(buf));
		certkey_chain_free(chain);
	}
	X509_free(x);
}

static void
made_fails(X509 *x, const char *alg, const char *want)
{
	struct certkey_chain *chain = (void *)1;
	struct errbuf err = { "" };
	unsigned char *der = NULL;
	const unsigned char *q;
	X509 *again;
	char buf[128];
	unsigned flags;
	int len;

	for (flags = 0; flags <= CERTKEY_LIGHT; flags += CERTKEY_LIGHT) {
		assert_int_equal(made_load(x, flags, &chain, &err), -1);
		assert_null(chain);
		assert_err(&err, "made.pem: ", want);
	}
	assert_int_equal(certkey_cert_alg_name(x, buf, sizeof(buf)), -1);
	assert_string_equal(buf, alg);
	assert_null(certkey_cert_alg_family(x));
	/* The same once OpenSSL has read it (its decode may fail). */
	len = i2d_X509(x, &der);
	q = der;
	assert_non_null(again = d2i_X509(NULL, &q, len));
	assert_int_equal(certkey_cert_alg_name(again, buf, sizeof(buf)), -1);
	assert_string_equal(buf, alg);
	X509_free(again);
	OPENSSL_free(der);
	X509_free(x);
	ERR_clear_error();
}

static EVP_PKEY *
keygen(const char *type, const char *arg)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;

	if (strcmp(type, "RSA-PSS") == 0) {
		/* EVP_PKEY_Q_keygen knows no RSA-PSS. */
		assert_non_null(ctx = EVP_PKEY_CTX_new_from_name(NULL, type,
		    NULL));
		assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 1024),
		    1);
		assert_int_equal(EVP_PKEY_keygen(ctx, &pkey), 1);
		EVP_PKEY_CTX_free(ctx);
	} else if (strcmp(type, "RSA") == 0)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, type, (size_t)1024);
	else if (arg != NULL)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, type, arg);
	else
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, type);
	assert_non_null(pkey);
	return pkey;
}

/*
 * Algorithms and damage CERTDIR lacks. Damaged keys of supported
 * algorithms are refused at load (before, OpenSSL's failed decode made
 * them "unsupported key algorithm rsaencryption").
 */
static void
test_cert_alg_made(void **state)
{
	static const unsigned char neg[] = { 0x30, 0x08, 0x02, 0x03, 0x80,
	    0x00, 0x01, 0x02, 0x01, 0x03 };
	static const unsigned char onlyn[] = { 0x30, 0x05, 0x02, 0x03, 0x40,
	    0x00, 0x01 };
	static const unsigned char trailing[] = { 0x30, 0x08, 0x02, 0x03,
	    0x40, 0x00, 0x01, 0x02, 0x01, 0x03, 0x00 };
	unsigned char pad[400], point[65] = { 0x04 }, ed[32] = { 0 };
	EVP_PKEY *signer, *pkey, *rsa;
	unsigned char *bits = NULL;
	const unsigned char *pk;
	size_t blen;
	int pklen;
	X509 *x;

	(void)state;
	if (certdir == NULL)
		skip();
	signer = keygen("ED25519", NULL);
	rsa = keygen("RSA", NULL);

	made_ok(make_cert(rsa, signer), "rsa-1024", "rsa");
	made_ok(make_cert(signer, signer), "ed25519", "ed25519");

	/* A compressed point is a P-256 key all the same. */
	pkey = keygen("EC", "P-256");
	assert_true(EVP_PKEY_set_utf8_string_param(pkey,
	    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed"));
	x = make_cert(pkey, signer);
	assert_int_equal(X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL,
	    X509_get_X509_PUBKEY(x)), 1);
	assert_int_equal(pklen, 33);
	made_ok(x, "ecdsa-p256", "ecdsa");

	/* Explicit parameters: refused, whichever curve they describe. */
	assert_true(EVP_PKEY_set_utf8_string_param(pkey,
	    OSSL_PKEY_PARAM_EC_ENCODING, OSSL_PKEY_EC_ENCODING_EXPLICIT));
	made_fails(make_cert(pkey, signer),
	    "ec with explicit curve parameters",
	    "unsupported key algorithm ec with explicit curve parameters");
	EVP_PKEY_free(pkey);

	pkey = keygen("RSA-PSS", NULL);
	made_fails(make_cert(pkey, signer), "rsa-pss",
	    "unsupported key algorithm rsa-pss (supported: RSA, ECDSA");
	EVP_PKEY_free(pkey);
	pkey = keygen("X25519", NULL);
	made_fails(make_cert(pkey, signer), "x25519",
	    "unsupported key algorithm x25519");
	EVP_PKEY_free(pkey);
	pkey = keygen("EC", "brainpoolP256r1");
	made_fails(make_cert(pkey, signer), "ec brainpoolP256r1",
	    "unsupported key algorithm ec brainpoolP256r1");
	EVP_PKEY_free(pkey);

	/* RSA moduli: a leading zero byte too many is still 1024 bits. */
	x = make_cert(rsa, signer);
	assert_true((blen = i2d_PublicKey(rsa, &bits)) > 0);
	assert_true(blen + 1 < sizeof(pad) && bits[0] == 0x30 &&
	    bits[1] == 0x81 && bits[3] == 0x02 && bits[4] == 0x81);
	/* 30 81 L 02 81 N 00 <n> ... -> 30 81 L+1 02 81 N+1 00 00 <n> */
	memcpy(pad, bits, 7);
	pad[2]++;
	pad[5]++;
	pad[7] = 0x00;
	memcpy(pad + 8, bits + 7, blen - 7);
	made_ok(doctor(x, signer, NID_rsaEncryption, V_ASN1_NULL, NULL, pad,
	    (int)blen + 1), "rsa-1024", "rsa");
	OPENSSL_free(bits);
	x = make_cert(rsa, signer);
	made_fails(doctor(x, signer, NID_rsaEncryption, V_ASN1_NULL, NULL,
	    neg, sizeof(neg)), "rsa", "public key of the certificate is "
	    "damaged (rsa)");
	x = make_cert(rsa, signer);
	made_fails(doctor(x, signer, NID_rsaEncryption, V_ASN1_NULL, NULL,
	    onlyn, sizeof(onlyn)), "rsa", "damaged (rsa)");
	x = make_cert(rsa, signer);
	made_fails(doctor(x, signer, NID_rsaEncryption, V_ASN1_NULL, NULL,
	    trailing, sizeof(trailing)), "rsa", "damaged (rsa)");

	/* EC points of the wrong length or form; unknown curves. */
	x = make_cert(rsa, signer);
	made_fails(doctor(x, signer, NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT,
	    OBJ_nid2obj(NID_X9_62_prime256v1), point, 64), "ecdsa-p256",
	    "damaged (ecdsa-p256)");
	x = make_cert(rsa, signer);
	point[0] = 0x06;
	made_fails(doctor(x, signer, NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT,
	    OBJ_nid2obj(NID_X9_62_prime256v1), point, 65), "ecdsa-p256",
	    "damaged (ecdsa-p256)");
	x = make_cert(rsa, signer);
	made_fails(doctor(x, signer, NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT,
	    OBJ_nid2obj(NID_secp384r1), point, 65), "ecdsa-p384",
	    "damaged (ecdsa-p384)");
	x = make_cert(rsa, signer);
	made_fails(doctor(x, signer, NID_X9_62_id_ecPublicKey, V_ASN1_NULL,
	    NULL, point, 65), "ec without a named curve",
	    "damaged (ec without a named curve)");
	x = make_cert(rsa, signer);
	made_fails(doctor(x, signer, NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT,
	    OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1), point, 65),
	    "ec 1.3.6.1.4.1.99999.1", "unsupported key algorithm ec "
	    "1.3.6.1.4.1.99999.1");

	/* Ed25519 keys are 32 bytes, without parameters. */
	x = make_cert(rsa, signer);
	made_fails(doctor(x, signer, NID_ED25519, V_ASN1_UNDEF, NULL, ed, 31),
	    "ed25519", "damaged (ed25519)");
	x = make_cert(rsa, signer);
	made_fails(doctor(x, signer, NID_ED25519, V_ASN1_NULL, NULL, ed, 32),
	    "ed25519", "damaged (ed25519)");
	x = make_cert(rsa, signer);
	made_fails(doctor(x, signer, NID_ED448, V_ASN1_UNDEF, NULL, ed, 32),
	    "ed448", "damaged (ed448)");

	EVP_PKEY_free(rsa);
	EVP_PKEY_free(signer);
}

/*
 * certkey decodes the usual PEM layout itself and leaves every other to
 * PEM_read_bio_ex: either way a file must load exactly when OpenSSL's
 * own reader loads it, with the same certificate.
 */
static void
pem_layout(const char *what, const char *text)
{
	struct certkey_chain *chain = NULL;
	struct errbuf err = { "" };
	unsigned char *a = NULL, *b = NULL;
	X509 *ossl;
	BIO *bio;
	int ours, alen, blen;

	assert_non_null(bio = BIO_new_mem_buf(text, -1));
	ossl = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	ours = certkey_chain_parse((const unsigned char *)text, strlen(text),
	    what, 0, &chain, &err) == 0;
	if (ours != (ossl != NULL))
		fail_msg("%s: certkey %s, OpenSSL %s (%s)", what,
		    ours ? "loads" : "refuses", ossl ? "loads" : "refuses",
		    err.msg);
	if (ours) {
		alen = i2d_X509(certkey_chain_leaf(chain), &a);
		blen = i2d_X509(ossl, &b);
		assert_true(alen > 0);
		assert_int_equal(alen, blen);
		assert_memory_equal(a, b, alen);
		OPENSSL_free(a);
		OPENSSL_free(b);
	}
	X509_free(ossl);
	certkey_chain_free(chain);
}

/* text with its base64 rewrapped at width (<= 0: one char less in line 2). */
static char *
rewrap(const char *text, int width, const char *eol)
{
	const char *body = strchr(text, '\n') + 1, *end = strstr(text,
	    "-----END");
	char *out = malloc(strlen(text) * 2 + 64), *o = out;
	int col = 0, line = 0;

	assert_non_null(out);
	memcpy(o, text, body - 1 - text);
	o += body - 1 - text;
	o += sprintf(o, "%s", eol);
	for (; body < end; body++) {
		if (*body == '\n' || *body == '\r')
			continue;
		*o++ = *body;
		if (++col == (width > 0 ? width : line == 1 ? 63 : 64)) {
			o += sprintf(o, "%s", eol);
			col = 0;
			line++;
		}
	}
	if (col > 0)
		o += sprintf(o, "%s", eol);
	o += sprintf(o, "-----END CERTIFICATE-----%s", eol);
	return out;
}

static void
test_pem_layouts(void **state)
{
	char *text, *v;
	size_t len, n;

	(void)state;
	text = slurp("rsa.pem", &len);
	pem_layout("as written", text);
	v = rewrap(text, 64, "\r\n");
	pem_layout("CRLF", v);
	free(v);
	v = rewrap(text, 76, "\n");
	pem_layout("76 columns", v);
	free(v);
	v = rewrap(text, 0, "\n");
	pem_layout("a short line inside", v);
	free(v);
	/* No newline after END; junk after END or BEGIN. */
	v = strdup(text);
	assert_non_null(v);
	n = strlen(v);
	v[n - 1] = '\0';
	pem_layout("no final newline", v);
	v[n - 2] = 'x';
	pem_layout("junk after END", v);
	free(v);
	v = malloc(len + 2);
	assert_non_null(v);
	memcpy(v, text, 27);
	v[27] = ' ';
	memcpy(v + 28, text + 27, len - 27 + 1);
	pem_layout("a space after BEGIN", v);
	/* Damaged base64, in a line and in the padding. */
	memcpy(v, text, len + 1);
	v[100] = '*';
	pem_layout("a bad character", v);
	memcpy(v, text, len + 1);
	v[100] = '=';
	pem_layout("padding inside", v);
	free(v);
	free(text);
}

/* Light chains loaded from several threads at once (one light context). */
static void *
load_thread(void *arg)
{
	static const char *files[] = { "rsa-chain.pem", "ecdsa-chain.pem",
	    "ed25519-chain.pem", "combined.pem", "rsa.pem.der" };
	struct certkey_chain *chain;
	struct certkey_key *key = NULL;
	struct errbuf err;
	EVP_PKEY *pkey;
	char alg[64], file[1024];
	size_t i;
	int n, *bad = arg;

	/* Not path(): its buffers are shared. */
	for (n = 0; n < 20; n++)
		for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(file, sizeof(file), "%s/%s", certdir,
			    files[i]);
			if (certkey_file_load(file, NULL, CERTKEY_LIGHT,
			    &chain, &key, &err) != 0 || chain == NULL) {
				certkey_key_free(key);
				(*bad)++;
				continue;
			}
			pkey = certkey_cert_pubkey(certkey_chain_leaf(chain));
			if (pkey == NULL || X509_get0_pubkey(
			    certkey_chain_leaf(chain)) != NULL ||
			    certkey_cert_alg_name(certkey_chain_leaf(chain),
			    alg, sizeof(alg)) != 0)
				(*bad)++;
			EVP_PKEY_free(pkey);
			certkey_chain_free(chain);
		}
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t t[4];
	int bad[4] = { 0 }, i;

	(void)state;
	(void)path("");
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, load_thread,
		    &bad[i]), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(bad[i], 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_files),
		cmocka_unit_test(test_key_files),
		cmocka_unit_test(test_key_forms_equal),
		cmocka_unit_test(test_key_matches_cert),
		cmocka_unit_test(test_chain_order),
		cmocka_unit_test(test_combined),
		cmocka_unit_test(test_combined_mismatch),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_parse_damage),
		cmocka_unit_test(test_der_forms),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_file_load),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_passphrase_read),
		cmocka_unit_test(test_alg_unsupported),
		cmocka_unit_test(test_light),
		cmocka_unit_test(test_cert_alg_certdir),
		cmocka_unit_test(test_cert_alg_made),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_pem_layouts),
		cmocka_unit_test_setup_teardown(test_keygen, keygen_setup,
		    keygen_teardown),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
