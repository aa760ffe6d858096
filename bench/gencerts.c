/*
 * gencerts - make N distinct ECDSA P-256 leaf certificates for the tlsagen
 * benchmark, each with its own key, all issued by one throw-away CA.
 *
 *	gencerts N OUTDIR
 *
 * writes OUTDIR/bench-ca.pem and OUTDIR/c00000.pem ... (certificate only; the
 * keys are discarded: tlsagen needs none for 3 1 1).  The openssl command
 * line needs several processes per certificate (minutes for 10,000); this
 * takes about a second.  Built by bench/tlsagen-bench.sh with
 * "cc gencerts.c -lcrypto".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static void
fatal_ssl(const char *what)
{
	fprintf(stderr, "gencerts: %s failed\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

/* Add one extension given in openssl.cnf syntax. */
static void
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		fatal_ssl(value);
	if (!X509_add_ext(cert, ext, -1))
		fatal_ssl("X509_add_ext");
	X509_EXTENSION_free(ext);
}

/*
 * A certificate for key, named cn, signed by issuer_key; a CA when issuer
 * is NULL (then self-signed).
 */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, long serial, X509 *issuer,
    EVP_PKEY *issuer_key)
{
	X509 *cert;
	X509_NAME *name;
	char san[128];

	if ((cert = X509_new()) == NULL)
		fatal_ssl("X509_new");
	X509_set_version(cert, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 365L * 86400);
	X509_set_pubkey(cert, key);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	if (issuer == NULL) {
		X509_set_issuer_name(cert, name);
		add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
		issuer = cert;
	} else {
		X509_set_issuer_name(cert, X509_get_subject_name(issuer));
		add_ext(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
		snprintf(san, sizeof(san), "DNS:%s", cn);
		add_ext(cert, issuer, NID_subject_alt_name, san);
	}
	if (X509_sign(cert, issuer_key, EVP_sha256()) == 0)
		fatal_ssl("X509_sign");
	return cert;
}

static void
write_pem(const char *path, X509 *cert)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL) {
		fprintf(stderr, "gencerts: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if (!PEM_write_X509(fp, cert))
		fatal_ssl(path);
	if (fclose(fp) != 0) {
		fprintf(stderr, "gencerts: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	EVP_PKEY *ca_key, *key;
	X509 *ca, *cert;
	char path[4096], cn[64];
	long i, n;

	if (argc != 3 || (n = strtol(argv[1], NULL, 10)) <= 0 || n > 99999) {
		fprintf(stderr, "usage: gencerts N OUTDIR (1 <= N <= 99999)\n");
		return 2;
	}
	if ((ca_key = EVP_EC_gen("P-256")) == NULL)
		fatal_ssl("EVP_EC_gen");
	ca = make_cert(ca_key, "Bench CA", 1, NULL, ca_key);
	snprintf(path, sizeof(path), "%s/bench-ca.pem", argv[2]);
	write_pem(path, ca);

	for (i = 0; i < n; i++) {
		if ((key = EVP_EC_gen("P-256")) == NULL)
			fatal_ssl("EVP_EC_gen");
		snprintf(cn, sizeof(cn), "mx%05ld.bench.test", i);
		cert = make_cert(key, cn, i + 2, ca, ca_key);
		snprintf(path, sizeof(path), "%s/c%05ld.pem", argv[2], i);
		write_pem(path, cert);
		X509_free(cert);
		EVP_PKEY_free(key);
	}
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return 0;
}
