/*
 * test_certkey - lib/certkey.c and lib/keygen.c over the files that
 * tests/data/gen-certs.sh makes in $CERTDIR (see tests/data/README.md).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

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

#include <openssl/evp.h>
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

static EVP_PKEY *
leaf_key(const struct certkey_chain *chain)
{
	EVP_PKEY *pkey = X509_get0_pubkey(certkey_chain_leaf(chain));

	assert_non_null(pkey);
	return pkey;
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
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		chain = chain_ok(t[i].file);
		assert_int_equal(sk_X509_num(chain->certs), t[i].certs);
		assert_null(chain->key);
		assert_alg(leaf_key(chain), t[i].alg, t[i].family);
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
	assert_alg(X509_get0_pubkey(sk_X509_value(full->certs, 1)),
	    "ecdsa-p256", "ecdsa");
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
	    klen + clen, "mixed.pem", &chain, &err), -1);
	assert_null(chain);
	assert_err(&err, "mixed.pem: ",
	    "private key does not match the certificate");

	/* Two keys in a chain file. */
	memcpy(both, k, klen);
	memcpy(both + klen, k, klen);
	assert_int_equal(certkey_chain_parse((unsigned char *)both,
	    2 * klen, "keys.pem", &chain, &err), -1);
	assert_err(&err, "keys.pem: ", "more than one private key");
	/* A key alone. */
	assert_int_equal(certkey_chain_parse((unsigned char *)both, klen,
	    "key.pem", &chain, &err), -1);
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
	    klen + clen, "enc.pem", &chain, &err), -1);
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
	    "b64.pem", &chain, &err), -1);
	assert_null(chain);
	assert_err(&err, "b64.pem: ", "bad PEM data");
	free(pem);

	pem = slurp("rsa.pem", &len);
	p = strstr(pem, "-----END CERTIFICATE");
	assert_non_null(p);
	memcpy(p + 9, "CRL        ", 11);
	assert_int_equal(certkey_chain_parse((unsigned char *)pem, len,
	    "end.pem", &chain, &err), -1);
	assert_err(&err, "end.pem: ", "bad PEM data");
	free(pem);

	assert_int_equal(certkey_chain_parse((const unsigned char *)"", 0,
	    "nothing", &chain, &err), -1);
	assert_err(&err, "nothing: ", "empty file");
	assert_int_equal(certkey_key_parse((const unsigned char *)"x", 1,
	    "x", NULL, &key, &err), -1);
	assert_null(key);
	assert_err(&err, "x: ", "neither PEM nor DER certificate or key");

	/* PEM of another kind is no certificate and no key. */
	pem = strdup("-----BEGIN X509 CRL-----\nAAAA\n"
	    "-----END X509 CRL-----\n");
	assert_non_null(pem);
	assert_int_equal(certkey_chain_parse((unsigned char *)pem,
	    strlen(pem), "crl.pem", &chain, &err), -1);
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
		assert_int_equal(certkey_chain_parse(der, n, "trad.der",
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
	if (certkey_chain_parse(der, n + n2, "chain.der", &dchain, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(sk_X509_num(dchain->certs), 2);
	assert_int_equal(X509_cmp(sk_X509_value(dchain->certs, 1),
	    sk_X509_value(chain->certs, 1)), 0);
	certkey_chain_free(dchain);
	/* Cut short in the second one. */
	assert_int_equal(certkey_chain_parse(der, n + n2 / 2, "cut.der",
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
		if (certkey_file_load(path(t[i].file), NULL, &chain, &key,
		    &err) != 0)
			fail_msg("%s: %s", t[i].file, err.msg);
		assert_int_equal(chain != NULL, t[i].chain);
		assert_int_equal(key != NULL, !t[i].chain);
		certkey_chain_free(chain);
		certkey_key_free(key);
	}
	assert_int_equal(certkey_file_load(path("garbage.pem"), NULL, &chain,
	    &key, &err), -1);
	assert_null(chain);
	assert_null(key);
	assert_err(&err, path("garbage.pem"), "neither");
	assert_int_equal(certkey_file_load(path("truncated.pem"), NULL,
	    &chain, &key, &err), -1);
	assert_err(&err, path("truncated.pem"), "truncated PEM");
	assert_int_equal(certkey_file_load(path("rsa-enc.key"), NULL,
	    &chain, &key, &err), -1);
	assert_err(&err, path("rsa-enc.key"), "--passphrase-file");
	assert_int_equal(certkey_file_load(path("rsa-enc.key"),
	    "correct horse battery staple", &chain, &key, &err), 0);
	assert_non_null(key);
	certkey_key_free(key);
}

static void
test_expiry(void **state)
{
	struct certkey_chain *chain;
	char date[16];
	time_t now = time(NULL);

	(void)state;
	chain = chain_ok("expired.pem");
	assert_true(certkey_is_expired(certkey_chain_leaf(chain), now, date,
	    sizeof(date)));
	assert_string_equal(date, "2020-03-01");
	/* It was valid once. */
	assert_false(certkey_is_expired(certkey_chain_leaf(chain),
	    (time_t)1580515200, NULL, 0));	/* 2020-02-01 */
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
		cmocka_unit_test_setup_teardown(test_keygen, keygen_setup,
		    keygen_teardown),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
