/*
 * certkey - chain files and the certificates in them; see certkey.h.
 * Key files are certkey_key.c's, reading files and PEM certkey_pem.c's.
 *
 * Chain certificates are "light" (certkey.h says what that allows): they
 * are decoded in a library context of their own that has only the null
 * provider, so OpenSSL 3.0 finds no decoder for the public key and leaves
 * it as the SubjectPublicKeyInfo bytes. Whatever needs the key decodes it
 * here, on demand, in the default context.
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certkey.h"
#include "certkey_key.h"
#include "certkey_pem.h"
#include "errbuf.h"
#include "xalloc.h"

/* ------------------------------------------------------------ light */

/*
 * Made once and never freed: certificates keep a pointer to it. Loading
 * a provider explicitly is what stops OpenSSL from loading the default
 * one into a new context on its first fetch. The guard loads chains from
 * several threads, hence pthread_once. If the context cannot be made,
 * light_ctx stays NULL and certificates are decoded whole (slower, same
 * results).
 */
static pthread_once_t light_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *light_ctx;

static void
light_init(void)
{
	OSSL_LIB_CTX *ctx;

	ERR_set_mark();
	if ((ctx = OSSL_LIB_CTX_new()) != NULL &&
	    OSSL_PROVIDER_load(ctx, "null") == NULL) {
		OSSL_LIB_CTX_free(ctx);
		ctx = NULL;
	}
	ERR_pop_to_mark();
	light_ctx = ctx;
}

/*
 * One DER certificate at *pp (advanced past it), light. A TRUSTED
 * CERTIFICATE (aux) carries trust settings after the certificate; they
 * are kept, as d2i_X509_AUX does.
 */
static X509 *
cert_d2i_light(const unsigned char **pp, long len, int aux)
{
	X509 *cert;

	pthread_once(&light_once, light_init);
	if (!aux)
		return (X509 *)ASN1_item_d2i_ex(NULL, pp, len,
		    ASN1_ITEM_rptr(X509), light_ctx, NULL);
	if ((cert = X509_new_ex(light_ctx, NULL)) == NULL)
		return NULL;
	/* On failure d2i may already have freed it and set cert NULL. */
	if (d2i_X509_AUX(&cert, pp, len) == NULL) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

/* Is cert's public key decoded (a complete certificate)? */
static int
cert_key_decoded(X509 *cert)
{
	EVP_PKEY *pkey;

	ERR_set_mark();
	pkey = X509_get0_pubkey(cert);
	ERR_pop_to_mark();
	return pkey != NULL;
}

/* ------------------------------------------------------------ chains */

static struct certkey_chain *
chain_new(const char *name)
{
	struct certkey_chain *chain = xcalloc(1, sizeof(*chain));

	chain->path = xstrdup(name);
	if ((chain->certs = sk_X509_new_null()) == NULL) {
		free(chain->path);
		free(chain);
		return NULL;
	}
	return chain;
}

static int
chain_push(struct certkey_chain *chain, X509 *cert, const char *name,
    struct errbuf *err)
{
	if (sk_X509_push(chain->certs, cert) <= 0) {
		X509_free(cert);
		errbuf_ssl(err, "%s: out of memory", name);
		return -1;
	}
	return 0;
}

static int
chain_parse_pem(struct certkey_chain *chain, const unsigned char *buf,
    size_t len, const char *name, struct errbuf *err)
{
	struct certkey_pem_scan scan;
	struct certkey_pem_block blk;
	unsigned char *data;
	const unsigned char *p;
	char *header;
	long dlen;
	X509 *cert;
	EVP_PKEY *pkey;
	int rc, is_private, keys = 0, pubkeys = 0;

	certkey_pem_scan_init(&scan, buf, len, name);
	while ((rc = certkey_pem_next(&scan, &blk, err)) == 1) {
		if (blk.kind == CERTKEY_PEM_OTHER)
			continue;
		if (blk.kind == CERTKEY_PEM_SPKI ||
		    blk.kind == CERTKEY_PEM_RSA_PUB) {
			pubkeys++;
			continue;
		}
		if (CERTKEY_PEM_IS_PRIVATE(blk.kind)) {
			if (++keys > 1) {
				errbuf_set(err, "%s: more than one private "
				    "key in it", name);
				return -1;
			}
			if (blk.kind == CERTKEY_PEM_PKCS8_ENC) {
				/* No MTA asks for its passphrase. */
				errbuf_set(err, "%s: encrypted private key "
				    "in a chain file; the MTA cannot use it",
				    name);
				return -1;
			}
			if (certkey_key_from_block(&blk, NULL, name, &pkey,
			    &is_private, err) == -1)
				return -1;
			chain->key = pkey;
			continue;
		}
		if (certkey_pem_decode(&blk, name, &header, &data, &dlen,
		    err) == -1)
			return -1;
		p = data;
		cert = cert_d2i_light(&p, dlen,
		    blk.kind == CERTKEY_PEM_CERT_AUX);
		certkey_pem_free(header, data, dlen);
		if (cert == NULL) {
			errbuf_ssl(err, "%s: bad PEM data: certificate %d is "
			    "cut short or damaged", name,
			    sk_X509_num(chain->certs) + 1);
			return -1;
		}
		if (chain_push(chain, cert, name, err) == -1)
			return -1;
	}
	if (rc == -1)
		return -1;
	if (sk_X509_num(chain->certs) == 0) {
		if (keys > 0 || pubkeys > 0)
			errbuf_set(err, "%s: holds a key but no certificate",
			    name);
		else
			errbuf_set(err, "%s: no certificate in it", name);
		return -1;
	}
	return 0;
}

static int
chain_parse_der(struct certkey_chain *chain, const unsigned char *buf,
    size_t len, const char *name, struct errbuf *err)
{
	const unsigned char *p = buf, *end = buf + len;
	enum certkey_der_shape shape = certkey_der_shape(buf, len);
	X509 *cert;

	if (shape != CERTKEY_DER_CERT) {
		if (certkey_der_shape_is_key(shape))
			errbuf_set(err, "%s: holds a key but no certificate",
			    name);
		else
			errbuf_set(err, "%s: neither PEM nor DER certificate "
			    "or key", name);
		return -1;
	}
	/* Usually one certificate; concatenated DER is read as a chain. */
	while (p < end) {
		if ((cert = cert_d2i_light(&p, end - p, 0)) == NULL) {
			if (sk_X509_num(chain->certs) == 0)
				errbuf_ssl(err, "%s: bad DER certificate",
				    name);
			else
				errbuf_ssl(err, "%s: bad DER data after "
				    "certificate %d", name,
				    sk_X509_num(chain->certs));
			return -1;
		}
		if (chain_push(chain, cert, name, err) == -1)
			return -1;
	}
	return 0;
}

/* Below, with the other algorithm code. */
static int cert_alg(X509 *cert, char *buf, size_t len, int *damaged);

int
certkey_chain_parse(const unsigned char *buf, size_t len, const char *name,
    struct certkey_chain **out, struct errbuf *err)
{
	struct certkey_chain *chain;
	char alg[128];
	int rc, damaged;

	*out = NULL;
	if (name == NULL)
		name = "(memory)";
	if (buf == NULL || len == 0) {
		errbuf_set(err, "%s: empty file", name);
		return -1;
	}
	if ((chain = chain_new(name)) == NULL) {
		errbuf_ssl(err, "%s: out of memory", name);
		return -1;
	}
	if (certkey_pem_looks(buf, len))
		rc = chain_parse_pem(chain, buf, len, name, err);
	else
		rc = chain_parse_der(chain, buf, len, name, err);
	if (rc == 0) {
		/* Named from the key's outline: no key is decoded here. */
		if (cert_alg(certkey_chain_leaf(chain), alg, sizeof(alg),
		    &damaged) == -1) {
			if (damaged)
				errbuf_set(err, "%s: the public key of the "
				    "certificate is damaged (%s)", name, alg);
			else
				certkey_unsupported(name, alg, err);
			rc = -1;
		} else if (chain->key != NULL &&
		    !certkey_key_matches_cert(chain->key,
		    certkey_chain_leaf(chain))) {
			errbuf_set(err, "%s: private key does not match the "
			    "certificate", name);
			rc = -1;
		}
	}
	ERR_clear_error();
	if (rc == -1) {
		certkey_chain_free(chain);
		return -1;
	}
	*out = chain;
	return 0;
}

int
certkey_chain_load(const char *path, struct certkey_chain **out,
    struct errbuf *err)
{
	unsigned char *buf;
	size_t len;
	int rc;

	*out = NULL;
	if (certkey_read_file(path, &buf, &len, err) == -1)
		return -1;
	rc = certkey_chain_parse(buf, len, path, out, err);
	certkey_free_file(buf, len);
	return rc;
}

void
certkey_chain_free(struct certkey_chain *chain)
{
	if (chain == NULL)
		return;
	sk_X509_pop_free(chain->certs, X509_free);
	EVP_PKEY_free(chain->key);
	free(chain->path);
	free(chain);
}

X509 *
certkey_chain_leaf(const struct certkey_chain *chain)
{
	return sk_X509_value(chain->certs, 0);
}

/* ------------------------------------------------------------ either */

/* Does the data hold a certificate? -1 with err set on damaged PEM. */
static int
holds_cert(const unsigned char *buf, size_t len, const char *name,
    struct errbuf *err)
{
	struct certkey_pem_scan scan;
	struct certkey_pem_block blk;
	int rc;

	if (certkey_pem_looks(buf, len)) {
		certkey_pem_scan_init(&scan, buf, len, name);
		while ((rc = certkey_pem_next(&scan, &blk, err)) == 1)
			if (CERTKEY_PEM_IS_CERT(blk.kind))
				return 1;
		return rc;
	}
	return certkey_der_shape(buf, len) == CERTKEY_DER_CERT;
}

int
certkey_file_load(const char *path, const char *passphrase,
    struct certkey_chain **chain, struct certkey_key **key,
    struct errbuf *err)
{
	unsigned char *buf;
	size_t len;
	EVP_PKEY *pkey;
	int rc, is_private, nokey;

	*chain = NULL;
	*key = NULL;
	if (certkey_read_file(path, &buf, &len, err) == -1)
		return -1;
	rc = holds_cert(buf, len, path, err);
	if (rc == 1)
		rc = certkey_chain_parse(buf, len, path, chain, err);
	else if (rc == 0) {
		rc = certkey_key_decode(buf, len, path, passphrase, &pkey,
		    &is_private, &nokey, err);
		ERR_clear_error();
		if (rc == 0)
			*key = certkey_key_new(path, pkey, is_private);
		else if (nokey && certkey_pem_looks(buf, len))
			errbuf_set(err, "%s: neither a certificate nor a key",
			    path);
	}
	certkey_free_file(buf, len);
	return rc;
}

/* ------------------------------------------------------------ keys of certs */

EVP_PKEY *
certkey_cert_pubkey(X509 *cert)
{
	X509_PUBKEY *xpk;
	EVP_PKEY *pkey;
	unsigned char *der = NULL;
	const unsigned char *p;
	int len;

	if (cert == NULL)
		return NULL;
	ERR_set_mark();
	if ((pkey = X509_get0_pubkey(cert)) != NULL) {
		ERR_pop_to_mark();
		return EVP_PKEY_up_ref(pkey) ? pkey : NULL;
	}
	/* Light: decode the SubjectPublicKeyInfo in the default context. */
	if ((xpk = X509_get_X509_PUBKEY(cert)) != NULL &&
	    (len = i2d_X509_PUBKEY(xpk, &der)) > 0) {
		p = der;
		pkey = d2i_PUBKEY(NULL, &p, len);
	}
	OPENSSL_free(der);
	ERR_pop_to_mark();
	return pkey;
}

int
certkey_key_matches_cert(EVP_PKEY *key, X509 *cert)
{
	EVP_PKEY *certkey;
	int rc;

	if (key == NULL || (certkey = certkey_cert_pubkey(cert)) == NULL)
		return 0;
	ERR_set_mark();
	rc = EVP_PKEY_eq(key, certkey);
	ERR_pop_to_mark();
	EVP_PKEY_free(certkey);
	return rc == 1;
}

X509 *
certkey_cert_complete(X509 *cert)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	X509 *full = NULL;
	int len;

	if (cert == NULL)
		return NULL;
	if (cert_key_decoded(cert))
		return X509_up_ref(cert) ? cert : NULL;
	/* The _AUX forms keep the trust settings of a TRUSTED CERTIFICATE. */
	ERR_set_mark();
	if ((len = i2d_X509_AUX(cert, &der)) > 0) {
		p = der;
		full = d2i_X509_AUX(NULL, &p, len);
	}
	OPENSSL_free(der);
	ERR_pop_to_mark();
	return full;
}

STACK_OF(X509) *
certkey_certs_complete(STACK_OF(X509) *certs)
{
	STACK_OF(X509) *full;
	X509 *cert;
	int i;

	if (certs == NULL || (full = sk_X509_new_null()) == NULL)
		return NULL;
	for (i = 0; i < sk_X509_num(certs); i++) {
		if ((cert = certkey_cert_complete(sk_X509_value(certs,
		    i))) == NULL || sk_X509_push(full, cert) <= 0) {
			X509_free(cert);
			sk_X509_pop_free(full, X509_free);
			return NULL;
		}
	}
	return full;
}

/* ------------------------------------------------------------ algorithms */

/*
 * Bits in the modulus of a DER RSAPublicKey (RFC 8017 A.1.1), or -1 if it
 * is not SEQUENCE { INTEGER n, INTEGER e } with a positive n and nothing
 * after it. OpenSSL reads n as unsigned and ignores what follows, so all
 * it accepts and this refuses is damaged anyway.
 */
static int
rsa_modulus_bits(const unsigned char *der, int len)
{
	const unsigned char *p = der, *end, *n;
	long l, nlen;
	int tag, class, bits = -1;
	unsigned c;

	ERR_set_mark();
	if (ASN1_get_object(&p, &l, &tag, &class, len) != V_ASN1_CONSTRUCTED ||
	    tag != V_ASN1_SEQUENCE || class != V_ASN1_UNIVERSAL ||
	    l != der + len - p)
		goto done;
	end = p + l;
	if (ASN1_get_object(&p, &nlen, &tag, &class, end - p) != 0 ||
	    tag != V_ASN1_INTEGER || class != V_ASN1_UNIVERSAL || nlen < 1)
		goto done;
	n = p;
	p += nlen;
	if (ASN1_get_object(&p, &l, &tag, &class, end - p) != 0 ||
	    tag != V_ASN1_INTEGER || class != V_ASN1_UNIVERSAL || l < 1 ||
	    l != end - p || (n[0] & 0x80) != 0)
		goto done;
	while (nlen > 0 && *n == 0) {
		n++;
		nlen--;
	}
	if (nlen == 0 || nlen > INT_MAX / 8)
		goto done;
	bits = (int)(nlen - 1) * 8;
	for (c = n[0]; c != 0; c >>= 1)
		bits++;
done:
	ERR_pop_to_mark();
	return bits;
}

/*
 * The EC named curves we support, with their field size in bytes: a
 * point is 0x04 X Y uncompressed or 0x02/0x03 X compressed.
 */
static const struct {
	int nid;
	size_t field;
	const char *name;
} ec_curves[] = {
	{ NID_X9_62_prime256v1, 32, "ecdsa-p256" },
	{ NID_secp384r1, 48, "ecdsa-p384" },
	{ NID_secp521r1, 66, "ecdsa-p521" },
};

/*
 * Names for unsupported algorithms where OpenSSL's key type name (which
 * certkey_alg_name gives) differs from the OID's short name.
 */
static const struct {
	int nid;
	const char *name;
} key_type_names[] = {
	{ NID_rsassaPss, "rsa-pss" },
	{ NID_dhKeyAgreement, "dh" },
	{ NID_dhpublicnumber, "dhx" },
};

/*
 * Has the encoded point the length its form calls for? Whether it is on
 * the curve only decoding tells; certkey.h says why that is left.
 */
static int
ec_point_fits(const unsigned char *pk, int pklen, size_t field)
{
	if (pk == NULL || pklen < 1)
		return 0;
	if (pk[0] == 0x04)
		return (size_t)pklen == 1 + 2 * field;
	if (pk[0] == 0x02 || pk[0] == 0x03)
		return (size_t)pklen == 1 + field;
	return 0;
}

static int
cert_alg_ec(const X509_ALGOR *palg, const unsigned char *pk, int pklen,
    char *buf, size_t len, int *damaged)
{
	const ASN1_OBJECT *curve;
	const void *pval;
	const char *cname;
	size_t i;
	int ptype, nid;
	char oid[80];

	X509_ALGOR_get0(NULL, &ptype, &pval, palg);
	if (ptype == V_ASN1_SEQUENCE) {
		snprintf(buf, len, "ec with explicit curve parameters");
		return -1;
	}
	if (ptype != V_ASN1_OBJECT) {
		*damaged = 1;
		snprintf(buf, len, "ec without a named curve");
		return -1;
	}
	curve = pval;
	nid = OBJ_obj2nid(curve);
	for (i = 0; i < sizeof(ec_curves) / sizeof(ec_curves[0]); i++) {
		if (ec_curves[i].nid != nid)
			continue;
		snprintf(buf, len, "%s", ec_curves[i].name);
		if (!ec_point_fits(pk, pklen, ec_curves[i].field)) {
			*damaged = 1;
			return -1;
		}
		return 0;
	}
	/* OpenSSL makes an SM2 key of a key on that curve. */
	if (nid == NID_sm2)
		snprintf(buf, len, "sm2");
	else if ((cname = OSSL_EC_curve_nid2name(nid)) != NULL)
		snprintf(buf, len, "ec %s", cname);
	else if (OBJ_obj2txt(oid, sizeof(oid), curve, 1) > 0)
		snprintf(buf, len, "ec %s", oid);
	else
		snprintf(buf, len, "ec unknown");
	return -1;
}

/*
 * certkey_cert_alg_name, and whether a failure is a damaged key of a
 * supported algorithm (*damaged 1) rather than an unsupported one.
 */
static int
cert_alg(X509 *cert, char *buf, size_t len, int *damaged)
{
	X509_PUBKEY *xpk;
	ASN1_OBJECT *oid = NULL;
	const unsigned char *pk = NULL;
	X509_ALGOR *palg = NULL;
	int pklen = 0, nid, ptype, bits;
	size_t i;

	*damaged = 0;
	if (cert == NULL || (xpk = X509_get_X509_PUBKEY(cert)) == NULL ||
	    !X509_PUBKEY_get0_param(&oid, &pk, &pklen, &palg, xpk)) {
		snprintf(buf, len, "none");
		return -1;
	}
	switch (nid = OBJ_obj2nid(oid)) {
	case NID_rsaEncryption:
		if ((bits = rsa_modulus_bits(pk, pklen)) <= 0) {
			*damaged = 1;
			snprintf(buf, len, "rsa");
			return -1;
		}
		snprintf(buf, len, "rsa-%d", bits);
		return 0;
	case NID_X9_62_id_ecPublicKey:
		return cert_alg_ec(palg, pk, pklen, buf, len, damaged);
	case NID_ED25519:
	case NID_ED448:
		snprintf(buf, len, nid == NID_ED25519 ? "ed25519" : "ed448");
		/* RFC 8410: no parameters, and a key of exactly this size. */
		X509_ALGOR_get0(NULL, &ptype, NULL, palg);
		if (ptype != V_ASN1_UNDEF ||
		    pklen != (nid == NID_ED25519 ? 32 : 57)) {
			*damaged = 1;
			return -1;
		}
		return 0;
	}
	for (i = 0; i < sizeof(key_type_names) / sizeof(key_type_names[0]);
	    i++)
		if (key_type_names[i].nid == nid) {
			snprintf(buf, len, "%s", key_type_names[i].name);
			return -1;
		}
	certkey_oid_desc(oid, buf, len);
	return -1;
}

int
certkey_cert_alg_name(X509 *cert, char *buf, size_t len)
{
	int damaged;

	return cert_alg(cert, buf, len, &damaged);
}

const char *
certkey_cert_alg_family(X509 *cert)
{
	char name[128];

	if (certkey_cert_alg_name(cert, name, sizeof(name)) == -1)
		return NULL;
	return certkey_alg_family_of(name);
}

/* ------------------------------------------------------------ dates, CA */

int
certkey_is_ca(X509 *cert)
{
	uint32_t flags;

	/* A light certificate's SHA-1 fingerprint fails quietly. */
	ERR_set_mark();
	flags = X509_get_extension_flags(cert);
	ERR_pop_to_mark();
	return (flags & EXFLAG_CA) != 0;
}

/*
 * The time forms RFC 5280 allows, which are all X509_cmp_time accepts:
 * UTCTime YYMMDDHHMMSSZ, GeneralizedTime YYYYMMDDHHMMSSZ.
 */
static int
time_strict(const ASN1_TIME *t)
{
	const unsigned char *d = ASN1_STRING_get0_data(t);
	int i, n = ASN1_STRING_length(t);

	switch (ASN1_STRING_type(t)) {
	case V_ASN1_UTCTIME:
		if (n != 13)
			return 0;
		break;
	case V_ASN1_GENERALIZEDTIME:
		if (n != 15)
			return 0;
		break;
	default:
		return 0;
	}
	for (i = 0; i < n - 1; i++)
		if (d[i] < '0' || d[i] > '9')
			return 0;
	return d[n - 1] == 'Z';
}

int
certkey_is_expired(X509 *cert, time_t now, char *buf, size_t len)
{
	const ASN1_TIME *notafter = X509_get0_notAfter(cert);
	struct tm tm;
	int cmp;

	if (buf != NULL && len > 0) {
		if (notafter != NULL && ASN1_TIME_to_tm(notafter, &tm) == 1)
			strftime(buf, len, "%Y-%m-%d", &tm);
		else
			snprintf(buf, len, "unknown");
	}
	/*
	 * What X509_cmp_time(notafter, &now) < 0 says (expired at notAfter
	 * itself), without the ASN1_TIME it allocates and prints now into
	 * (3% of tlsagen's time per file).
	 */
	if (notafter == NULL || !time_strict(notafter))
		return 0;
	cmp = ASN1_TIME_cmp_time_t(notafter, now);
	return cmp == -1 || cmp == 0;
}
