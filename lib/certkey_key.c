/*
 * certkey_key - key files and keys: PKCS#8 (encrypted too), traditional
 * PEM and DER private keys, public-key files, the algorithm names; see
 * certkey.h for the contracts, certkey_key.h for what certkey.c uses.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "certkey.h"
#include "certkey_key.h"
#include "certread.h"
#include "errbuf.h"
#include "xalloc.h"

#define CERTKEY_SUPPORTED_ALGS	"RSA, ECDSA P-256/P-384/P-521, Ed25519, Ed448"

/*
 * The cost of deriving a key from a passphrase is chosen by whoever wrote
 * the file. Refuse absurd costs rather than spin for minutes (or let a
 * fuzzer do so): OpenSSL writes 2048 PBKDF2 iterations, or scrypt with
 * N=16384 r=8 p=1.
 */
#define CERTKEY_MAX_PBKDF2_ITER	1000000L
#define CERTKEY_MAX_SCRYPT_COST	(1L << 22)	/* N * r * p */

/* ------------------------------------------------------------ keys */

void
certkey_oid_desc(const ASN1_OBJECT *oid, char *buf, size_t len)
{
	int nid = OBJ_obj2nid(oid);
	const char *sn;
	char *p;

	if (nid != NID_undef && (sn = OBJ_nid2sn(nid)) != NULL)
		snprintf(buf, len, "%s", sn);
	else if (oid == NULL || OBJ_obj2txt(buf, (int)len, oid, 1) <= 0)
		snprintf(buf, len, "unknown");
	for (p = buf; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
}

int
certkey_unsupported(const char *name, const char *alg, struct errbuf *err)
{
	errbuf_set(err, "%s: unsupported key algorithm %s (supported: "
	    CERTKEY_SUPPORTED_ALGS ")", name, alg);
	return -1;
}

/* Refuse a supported algorithm's key with a description of it, else 0. */
static int
check_key_alg(EVP_PKEY *pkey, const char *name, struct errbuf *err)
{
	char alg[128];

	if (certkey_alg_name(pkey, alg, sizeof(alg)) == -1)
		return certkey_unsupported(name, alg, err);
	return 0;
}

/*
 * 0 if the passphrase-based encryption of an encrypted PKCS#8 key costs
 * a sane amount of work, else -1 with err set. Structures this does not
 * know are left for PKCS8_decrypt to judge.
 */
static int
check_pbe_cost(const X509_SIG *sig, const char *name, struct errbuf *err)
{
	const X509_ALGOR *alg;
	PBE2PARAM *pbe2 = NULL;
	PBKDF2PARAM *kdf = NULL;
	SCRYPT_PARAMS *scrypt = NULL;
	PBEPARAM *pbe1 = NULL;
	long iter = 0, n, r, p;
	int rc = 0;

	X509_SIG_get0(sig, &alg, NULL);
	if (alg->parameter == NULL || alg->parameter->type != V_ASN1_SEQUENCE)
		return 0;
	if (OBJ_obj2nid(alg->algorithm) != NID_pbes2) {
		pbe1 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM),
		    alg->parameter);
		if (pbe1 != NULL && pbe1->iter != NULL)
			iter = ASN1_INTEGER_get(pbe1->iter);
		PBEPARAM_free(pbe1);
		goto done;
	}
	pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM),
	    alg->parameter);
	if (pbe2 == NULL || pbe2->keyfunc == NULL ||
	    pbe2->keyfunc->parameter == NULL ||
	    pbe2->keyfunc->parameter->type != V_ASN1_SEQUENCE)
		goto done;
	switch (OBJ_obj2nid(pbe2->keyfunc->algorithm)) {
	case NID_id_pbkdf2:
		kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
		    pbe2->keyfunc->parameter);
		if (kdf != NULL && kdf->iter != NULL)
			iter = ASN1_INTEGER_get(kdf->iter);
		break;
	case NID_id_scrypt:
		scrypt = ASN1_TYPE_unpack_sequence(
		    ASN1_ITEM_rptr(SCRYPT_PARAMS), pbe2->keyfunc->parameter);
		if (scrypt == NULL || scrypt->costParameter == NULL ||
		    scrypt->blockSize == NULL ||
		    scrypt->parallelizationParameter == NULL)
			break;
		n = ASN1_INTEGER_get(scrypt->costParameter);
		r = ASN1_INTEGER_get(scrypt->blockSize);
		p = ASN1_INTEGER_get(scrypt->parallelizationParameter);
		/* Each factor is capped first, so the products fit. */
		if (n < 0 || r < 0 || p < 0 ||
		    n > CERTKEY_MAX_SCRYPT_COST ||
		    r > CERTKEY_MAX_SCRYPT_COST ||
		    p > CERTKEY_MAX_SCRYPT_COST ||
		    n * r > CERTKEY_MAX_SCRYPT_COST ||
		    n * r * p > CERTKEY_MAX_SCRYPT_COST) {
			errbuf_set(err, "%s: encrypted private key: scrypt "
			    "cost N*r*p over %ld is refused; re-encrypt it "
			    "with the defaults", name,
			    (long)CERTKEY_MAX_SCRYPT_COST);
			rc = -1;
		}
		break;
	}
done:
	if (rc == 0 && (iter < 0 || iter > CERTKEY_MAX_PBKDF2_ITER)) {
		errbuf_set(err, "%s: encrypted private key: more than %ld "
		    "key derivation iterations are refused; re-encrypt it "
		    "with fewer", name, CERTKEY_MAX_PBKDF2_ITER);
		rc = -1;
	}
	PBE2PARAM_free(pbe2);
	PBKDF2PARAM_free(kdf);
	SCRYPT_PARAMS_free(scrypt);
	return rc;
}

/* PKCS#8 PrivateKeyInfo to a key, naming an unsupported algorithm. */
static EVP_PKEY *
pkcs8_to_key(const PKCS8_PRIV_KEY_INFO *p8, const char *name,
    struct errbuf *err)
{
	const ASN1_OBJECT *oid = NULL;
	EVP_PKEY *pkey;
	char alg[128];

	if ((pkey = EVP_PKCS82PKEY(p8)) != NULL)
		return pkey;
	ERR_clear_error();
	PKCS8_pkey_get0(&oid, NULL, NULL, NULL, p8);
	switch (OBJ_obj2nid(oid)) {
	case NID_rsaEncryption:
	case NID_X9_62_id_ecPublicKey:
	case NID_ED25519:
	case NID_ED448:
		errbuf_set(err, "%s: bad private key data", name);
		return NULL;
	}
	certkey_oid_desc(oid, alg, sizeof(alg));
	certkey_unsupported(name, alg, err);
	return NULL;
}

static int
passphrase_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pass = u;
	size_t len;

	(void)rwflag;
	if (pass == NULL || size <= 0)
		return -1;
	len = strlen(pass);
	if (len > (size_t)size)
		return -1;
	memcpy(buf, pass, len);
	return (int)len;
}

static int
need_passphrase(const char *name, struct errbuf *err)
{
	errbuf_set(err, "%s: encrypted private key; give the passphrase "
	    "with --passphrase-file", name);
	return -1;
}

static int
wrong_passphrase(const char *name, struct errbuf *err)
{
	ERR_clear_error();
	errbuf_set(err, "%s: wrong passphrase (or damaged encrypted key)",
	    name);
	return -1;
}

/* An encrypted PKCS#8 key decrypted into *p8, or -1 with err set. */
static int
pkcs8_decrypt(const unsigned char *der, long len, const char *passphrase,
    const char *name, PKCS8_PRIV_KEY_INFO **p8, struct errbuf *err)
{
	X509_SIG *sig;

	if ((sig = d2i_X509_SIG(NULL, &der, len)) == NULL) {
		errbuf_ssl(err, "%s: bad encrypted private key data", name);
		return -1;
	}
	if (passphrase == NULL) {
		X509_SIG_free(sig);
		return need_passphrase(name, err);
	}
	if (check_pbe_cost(sig, name, err) == -1) {
		X509_SIG_free(sig);
		return -1;
	}
	*p8 = PKCS8_decrypt(sig, passphrase, (int)strlen(passphrase));
	X509_SIG_free(sig);
	return *p8 == NULL ? wrong_passphrase(name, err) : 0;
}

int
certkey_der_to_key(enum pem_kind kind, char *header, unsigned char *der,
    long len, const char *passphrase, const char *name, EVP_PKEY **out,
    int *is_private, struct errbuf *err)
{
	const unsigned char *p = der;
	PKCS8_PRIV_KEY_INFO *p8;
	X509_PUBKEY *xpk;
	EVP_CIPHER_INFO cipher;
	const ASN1_OBJECT *oid;
	EVP_PKEY *pkey = NULL;
	char alg[128];

	*out = NULL;
	*is_private = PEM_IS_PRIVATE(kind);
	switch (kind) {
	case PEM_PKCS8:
	case PEM_PKCS8_ENC:
		if (kind == PEM_PKCS8_ENC) {
			if (pkcs8_decrypt(der, len, passphrase, name, &p8,
			    err) == -1)
				return -1;
		} else if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p,
		    len)) == NULL) {
			errbuf_ssl(err, "%s: bad private key data", name);
			return -1;
		}
		pkey = pkcs8_to_key(p8, name, err);
		PKCS8_PRIV_KEY_INFO_free(p8);
		if (pkey == NULL)
			return -1;
		break;
	case PEM_RSA:
	case PEM_EC:
		if (header != NULL && *header != '\0') {
			if (!PEM_get_EVP_CIPHER_INFO(header, &cipher)) {
				errbuf_ssl(err, "%s: bad PEM encryption "
				    "header", name);
				return -1;
			}
			if (cipher.cipher != NULL) {
				if (passphrase == NULL)
					return need_passphrase(name, err);
				if (!PEM_do_header(&cipher, der, &len,
				    passphrase_cb, (void *)passphrase))
					return wrong_passphrase(name, err);
				pkey = d2i_PrivateKey(kind == PEM_RSA ?
				    EVP_PKEY_RSA : EVP_PKEY_EC, NULL, &p, len);
				if (pkey == NULL)
					return wrong_passphrase(name, err);
				break;
			}
		}
		pkey = d2i_PrivateKey(kind == PEM_RSA ? EVP_PKEY_RSA :
		    EVP_PKEY_EC, NULL, &p, len);
		if (pkey == NULL) {
			errbuf_ssl(err, "%s: bad private key data", name);
			return -1;
		}
		break;
	case PEM_DSA:
		return certkey_unsupported(name, "dsa", err);
	case PEM_SPKI:
		/* Via X509_PUBKEY, to name an algorithm OpenSSL lacks. */
		if ((xpk = d2i_X509_PUBKEY(NULL, &p, len)) == NULL) {
			errbuf_ssl(err, "%s: bad public key data", name);
			return -1;
		}
		if ((pkey = X509_PUBKEY_get(xpk)) == NULL) {
			ERR_clear_error();
			oid = NULL;
			X509_PUBKEY_get0_param((ASN1_OBJECT **)&oid, NULL,
			    NULL, NULL, xpk);
			certkey_oid_desc(oid, alg, sizeof(alg));
			X509_PUBKEY_free(xpk);
			return certkey_unsupported(name, alg, err);
		}
		X509_PUBKEY_free(xpk);
		break;
	case PEM_RSA_PUB:
		if ((pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len)) ==
		    NULL) {
			errbuf_ssl(err, "%s: bad public key data", name);
			return -1;
		}
		break;
	default:
		errbuf_set(err, "%s: not a key", name);
		return -1;
	}
	if (check_key_alg(pkey, name, err) == -1) {
		EVP_PKEY_free(pkey);
		return -1;
	}
	*out = pkey;
	return 0;
}

/*
 * A DER key. Returns 0 with the key, -1 with err set, or -2 (err not set)
 * if the data is no key at all.
 */
static int
der_key(const unsigned char *buf, size_t size, const char *passphrase,
    const char *name, EVP_PKEY **out, int *is_private, struct errbuf *err)
{
	unsigned char *copy;
	enum pem_kind kind;
	int rc;

	*out = NULL;
	*is_private = 0;
	switch (certread_der_shape(buf, size)) {
	case DER_SPKI:
		kind = PEM_SPKI;
		break;
	case DER_PKCS8_ENC:
		kind = PEM_PKCS8_ENC;
		break;
	case DER_PKCS8:
		kind = PEM_PKCS8;
		break;
	case DER_RSA:
		kind = PEM_RSA;
		break;
	case DER_EC:
		kind = PEM_EC;
		break;
	case DER_DSA:
		return certkey_unsupported(name, "dsa", err);
	default:
		return -2;
	}
	/* certkey_der_to_key may decrypt in place; ours is the caller's buffer. */
	copy = xmalloc(size);
	memcpy(copy, buf, size);
	rc = certkey_der_to_key(kind, NULL, copy, (long)size, passphrase, name,
	    out, is_private, err);
	OPENSSL_clear_free(copy, size);
	return rc;
}

/* ------------------------------------------------------------ key files */

int
certkey_key_decode(const unsigned char *buf, size_t len, struct pem_file *pf,
    const char *name, const char *passphrase, EVP_PKEY **pkey,
    int *is_private, int *nokey, struct errbuf *err)
{
	struct pem_block *keyblk = NULL;
	size_t i;
	int rc, certs = 0;

	*pkey = NULL;
	*is_private = 0;
	*nokey = 0;
	if (pf != NULL) {
		for (i = 0; i < pf->n; i++) {
			if (PEM_IS_CERT(pf->v[i].kind))
				certs++;
			else if (PEM_IS_KEY(pf->v[i].kind)) {
				if (keyblk != NULL) {
					errbuf_set(err, "%s: more than one "
					    "key in it", name);
					return -1;
				}
				keyblk = &pf->v[i];
			}
		}
		if (keyblk == NULL) {
			*nokey = 1;
			if (certs > 0)
				errbuf_set(err, "%s: holds a certificate, "
				    "not a key", name);
			else
				errbuf_set(err, "%s: no private or public "
				    "key in it", name);
			return -1;
		}
		return certkey_der_to_key(keyblk->kind, keyblk->header,
		    keyblk->data, keyblk->len, passphrase, name, pkey,
		    is_private, err);
	}
	rc = der_key(buf, len, passphrase, name, pkey, is_private, err);
	if (rc != -2)
		return rc;
	*nokey = 1;
	if (certread_der_shape(buf, len) == DER_CERT)
		errbuf_set(err, "%s: holds a certificate, not a key", name);
	else
		errbuf_set(err, "%s: neither PEM nor DER certificate or key",
		    name);
	return -1;
}

struct certkey_key *
certkey_key_new(const char *name, EVP_PKEY *pkey, int is_private)
{
	struct certkey_key *key = xcalloc(1, sizeof(*key));

	key->path = xstrdup(name);
	key->pkey = pkey;
	key->is_private = is_private;
	return key;
}

void
certkey_key_free(struct certkey_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey);
	free(key->path);
	free(key);
}

struct certkey_key *
certkey_key_ref(const struct certkey_key *key)
{
	if (key == NULL || !EVP_PKEY_up_ref(key->pkey))
		return NULL;
	return certkey_key_new(key->path, key->pkey, key->is_private);
}

int
certkey_key_public(struct certkey_key *key, struct errbuf *err)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	EVP_PKEY *pub = NULL;
	int len;

	if ((len = i2d_PUBKEY(key->pkey, &der)) > 0) {
		p = der;
		pub = d2i_PUBKEY(NULL, &p, len);
	}
	OPENSSL_free(der);
	if (pub == NULL) {
		errbuf_ssl(err, "%s: cannot take the public key", key->path);
		return -1;
	}
	EVP_PKEY_free(key->pkey);
	key->pkey = pub;
	key->is_private = 0;
	return 0;
}

/* ------------------------------------------------------------ queries */

int
certkey_pubkey_equal(EVP_PKEY *a, EVP_PKEY *b)
{
	int rc;

	if (a == NULL || b == NULL)
		return 0;
	rc = EVP_PKEY_eq(a, b);
	ERR_clear_error();
	return rc == 1;
}

int
certkey_alg_name(EVP_PKEY *key, char *buf, size_t len)
{
	char group[80];
	const char *type;
	size_t glen, i;
	int nid;

	if (key == NULL) {
		snprintf(buf, len, "none");
		return -1;
	}
	if (EVP_PKEY_is_a(key, "RSA")) {
		snprintf(buf, len, "rsa-%d", EVP_PKEY_get_bits(key));
		return 0;
	}
	if (EVP_PKEY_is_a(key, "ED25519")) {
		snprintf(buf, len, "ed25519");
		return 0;
	}
	if (EVP_PKEY_is_a(key, "ED448")) {
		snprintf(buf, len, "ed448");
		return 0;
	}
	if (EVP_PKEY_is_a(key, "EC")) {
		if (!EVP_PKEY_get_group_name(key, group, sizeof(group),
		    &glen)) {
			ERR_clear_error();
			snprintf(buf, len,
			    "ec with explicit curve parameters");
			return -1;
		}
		if ((nid = OBJ_sn2nid(group)) == NID_undef)
			nid = EC_curve_nist2nid(group);
		switch (nid) {
		case NID_X9_62_prime256v1:
			snprintf(buf, len, "ecdsa-p256");
			return 0;
		case NID_secp384r1:
			snprintf(buf, len, "ecdsa-p384");
			return 0;
		case NID_secp521r1:
			snprintf(buf, len, "ecdsa-p521");
			return 0;
		}
		snprintf(buf, len, "ec %s", group);
		return -1;
	}
	if ((type = EVP_PKEY_get0_type_name(key)) == NULL &&
	    (type = OBJ_nid2sn(EVP_PKEY_get_base_id(key))) == NULL)
		type = "unknown";
	snprintf(buf, len, "%s", type);
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] >= 'A' && buf[i] <= 'Z')
			buf[i] += 'a' - 'A';
	return -1;
}

const char *
certkey_alg_family_of(int rc, const char *name)
{
	if (rc == -1)
		return NULL;
	if (strncmp(name, "rsa-", 4) == 0)
		return "rsa";
	if (strncmp(name, "ecdsa-", 6) == 0)
		return "ecdsa";
	if (strcmp(name, "ed25519") == 0)
		return "ed25519";
	if (strcmp(name, "ed448") == 0)
		return "ed448";
	return NULL;
}

const char *
certkey_alg_family(EVP_PKEY *key)
{
	char name[128];

	return certkey_alg_family_of(certkey_alg_name(key, name,
	    sizeof(name)), name);
}

int
certkey_passphrase_read(const char *path, char **out, struct errbuf *err)
{
	unsigned char *buf, *nl;
	size_t len, n;

	*out = NULL;
	if (certread_file(path, &buf, &len, err) == -1)
		return -1;
	nl = memchr(buf, '\n', len);
	n = nl != NULL ? (size_t)(nl - buf) : len;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0) {
		certread_free(buf, len);
		errbuf_set(err, "%s: the first line is empty; put the "
		    "passphrase on it", path);
		return -1;
	}
	if (memchr(buf, '\0', n) != NULL) {
		certread_free(buf, len);
		errbuf_set(err, "%s: the passphrase contains a NUL byte",
		    path);
		return -1;
	}
	*out = xstrndup((const char *)buf, n);
	certread_free(buf, len);
	return 0;
}
