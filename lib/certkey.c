/*
 * certkey - certificate chains, and the entry points for chain and key
 * files; see certkey.h. The bytes of a file are certread's (PEM blocks,
 * DER outline), keys are certkey_key.c's.
 *
 * Certificates are complete (decoded as OpenSSL does) unless the caller
 * asks for light ones (CERTKEY_LIGHT, certkey.h): those are decoded in a
 * library context of their own that has only the null provider, so
 * OpenSSL 3.0 finds no decoder for the public key and leaves it as the
 * SubjectPublicKeyInfo bytes. Algorithms are named from the key's
 * outline (cert_alg), which works on both.
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
#include "certread.h"
#include "errbuf.h"
#include "xalloc.h"

/* ------------------------------------------------------------ light */

/*
 * Made once and never freed: certificates keep a pointer to it. Loading
 * a provider explicitly is what stops OpenSSL from loading the default
 * one into a new context on its first fetch. Chains may be loaded from
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
 * One DER certificate at *pp (advanced past it), complete or light
 * (flags). A TRUSTED CERTIFICATE (aux) carries trust settings after the
 * certificate; they are kept, as d2i_X509_AUX does.
 */
static X509 *
cert_d2i(const unsigned char **pp, long len, int aux, unsigned flags)
{
	OSSL_LIB_CTX *ctx = NULL;
	X509 *cert;

	if (flags & CERTKEY_LIGHT) {
		pthread_once(&light_once, light_init);
		ctx = light_ctx;
	}
	if (!aux)
		return (X509 *)ASN1_item_d2i_ex(NULL, pp, len,
		    ASN1_ITEM_rptr(X509), ctx, NULL);
	if ((cert = X509_new_ex(ctx, NULL)) == NULL)
		return NULL;
	/* On failure d2i may already have freed it and set cert NULL. */
	if (d2i_X509_AUX(&cert, pp, len) == NULL) {
		X509_free(cert);
		return NULL;
	}
	return cert;
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
chain_from_pem(struct certkey_chain *chain, struct pem_file *pf,
    const char *name, unsigned flags, struct errbuf *err)
{
	struct pem_block *blk;
	const unsigned char *p;
	X509 *cert;
	size_t i;
	int is_private, keys = 0, pubkeys = 0;

	for (i = 0; i < pf->n; i++) {
		blk = &pf->v[i];
		if (blk->kind == PEM_OTHER)
			continue;
		if (blk->kind == PEM_SPKI || blk->kind == PEM_RSA_PUB) {
			pubkeys++;
			continue;
		}
		if (PEM_IS_PRIVATE(blk->kind)) {
			if (++keys > 1) {
				errbuf_set(err, "%s: more than one private "
				    "key in it", name);
				return -1;
			}
			if (blk->kind == PEM_PKCS8_ENC) {
				/* No MTA asks for its passphrase. */
				errbuf_set(err, "%s: encrypted private key "
				    "in a chain file; the MTA cannot use it",
				    name);
				return -1;
			}
			if (certkey_der_to_key(blk->kind, blk->header,
			    blk->data, blk->len, NULL, name, &chain->key,
			    &is_private, err) == -1)
				return -1;
			continue;
		}
		p = blk->data;
		if ((cert = cert_d2i(&p, blk->len, blk->kind == PEM_CERT_AUX,
		    flags)) == NULL) {
			errbuf_ssl(err, "%s: bad PEM data: certificate %d is "
			    "cut short or damaged", name,
			    sk_X509_num(chain->certs) + 1);
			return -1;
		}
		if (chain_push(chain, cert, name, err) == -1)
			return -1;
	}
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
chain_from_der(struct certkey_chain *chain, const unsigned char *buf,
    size_t len, const char *name, unsigned flags, struct errbuf *err)
{
	const unsigned char *p = buf, *end = buf + len;
	enum der_shape shape = certread_der_shape(buf, len);
	X509 *cert;

	if (shape != DER_CERT) {
		if (shape != DER_UNKNOWN)
			errbuf_set(err, "%s: holds a key but no certificate",
			    name);
		else
			errbuf_set(err, "%s: neither PEM nor DER certificate "
			    "or key", name);
		return -1;
	}
	/* Usually one certificate; concatenated DER is read as a chain. */
	while (p < end) {
		if ((cert = cert_d2i(&p, end - p, 0, flags)) == NULL) {
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

/*
 * The chain in buf: pf holds its PEM blocks, or is NULL for DER. Returns
 * 0 and a new chain in *out, or -1 with err set.
 */
static int
chain_parse(const unsigned char *buf, size_t len, struct pem_file *pf,
    const char *name, unsigned flags, struct certkey_chain **out,
    struct errbuf *err)
{
	struct certkey_chain *chain;
	char alg[128];
	int rc, damaged;

	*out = NULL;
	if ((chain = chain_new(name)) == NULL) {
		errbuf_ssl(err, "%s: out of memory", name);
		return -1;
	}
	if (pf != NULL)
		rc = chain_from_pem(chain, pf, name, flags, err);
	else
		rc = chain_from_der(chain, buf, len, name, flags, err);
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

struct certkey_chain *
certkey_chain_ref(const struct certkey_chain *chain)
{
	struct certkey_chain *n;

	if (chain == NULL)
		return NULL;
	n = xcalloc(1, sizeof(*n));
	n->path = xstrdup(chain->path);
	if ((n->certs = X509_chain_up_ref(chain->certs)) == NULL ||
	    (chain->key != NULL && !EVP_PKEY_up_ref(chain->key))) {
		sk_X509_pop_free(n->certs, X509_free);
		free(n->path);
		free(n);
		return NULL;
	}
	n->key = chain->key;
	return n;
}

X509 *
certkey_chain_leaf(const struct certkey_chain *chain)
{
	return sk_X509_value(chain->certs, 0);
}

/* ------------------------------------------------------------ entry points */

enum want {
	WANT_CHAIN,
	WANT_KEY,
	WANT_EITHER	/* a chain if it holds a certificate, else a key */
};

/*
 * Parse buf (from name) as want says into *chain or *key. Returns 0, or
 * -1 with err naming name.
 */
static int
parse(const unsigned char *buf, size_t len, const char *name,
    const char *passphrase, unsigned flags, enum want want,
    struct certkey_chain **chain, struct certkey_key **key,
    struct errbuf *err)
{
	struct pem_file pf = { NULL, 0 }, *pfp = NULL;
	EVP_PKEY *pkey;
	size_t i;
	int rc, is_private, nokey, certs = 0;

	if (name == NULL)
		name = "(memory)";
	if (buf == NULL || len == 0) {
		errbuf_set(err, "%s: empty file", name);
		return -1;
	}
	if (certread_pem_looks(buf, len)) {
		if (certread_pem(buf, len, name, &pf, err) == -1)
			return -1;
		pfp = &pf;
		for (i = 0; i < pf.n; i++)
			certs += PEM_IS_CERT(pf.v[i].kind);
	} else
		certs = certread_der_shape(buf, len) == DER_CERT;
	if (want == WANT_CHAIN || (want == WANT_EITHER && certs > 0))
		rc = chain_parse(buf, len, pfp, name, flags, chain, err);
	else {
		rc = certkey_key_decode(buf, len, pfp, name, passphrase, &pkey,
		    &is_private, &nokey, err);
		ERR_clear_error();
		if (rc == 0)
			*key = certkey_key_new(name, pkey, is_private);
		else if (want == WANT_EITHER && nokey && pfp != NULL)
			errbuf_set(err, "%s: neither a certificate nor a key",
			    name);
	}
	certread_pem_free(&pf);
	return rc;
}

/* Read path and parse it. */
static int
file_parse(const char *path, const char *passphrase, unsigned flags,
    enum want want, struct certkey_chain **chain, struct certkey_key **key,
    struct errbuf *err)
{
	unsigned char *buf;
	size_t len;
	int rc;

	if (certread_file(path, &buf, &len, err) == -1)
		return -1;
	rc = parse(buf, len, path, passphrase, flags, want, chain, key, err);
	certread_free(buf, len);
	return rc;
}

int
certkey_chain_parse(const unsigned char *buf, size_t len, const char *name,
    unsigned flags, struct certkey_chain **out, struct errbuf *err)
{
	*out = NULL;
	return parse(buf, len, name, NULL, flags, WANT_CHAIN, out, NULL, err);
}

int
certkey_chain_load(const char *path, struct certkey_chain **out,
    struct errbuf *err)
{
	*out = NULL;
	return file_parse(path, NULL, 0, WANT_CHAIN, out, NULL, err);
}

int
certkey_key_parse(const unsigned char *buf, size_t len, const char *name,
    const char *passphrase, struct certkey_key **out, struct errbuf *err)
{
	*out = NULL;
	return parse(buf, len, name, passphrase, 0, WANT_KEY, NULL, out, err);
}

int
certkey_key_load(const char *path, const char *passphrase,
    struct certkey_key **out, struct errbuf *err)
{
	*out = NULL;
	return file_parse(path, passphrase, 0, WANT_KEY, NULL, out, err);
}

int
certkey_file_load(const char *path, const char *passphrase, unsigned flags,
    struct certkey_chain **chain, struct certkey_key **key,
    struct errbuf *err)
{
	*chain = NULL;
	*key = NULL;
	return file_parse(path, passphrase, flags, WANT_EITHER, chain, key,
	    err);
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

	return certkey_alg_family_of(certkey_cert_alg_name(cert, name,
	    sizeof(name)), name);
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
