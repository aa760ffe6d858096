/*
 * floor - what the installed OpenSSL allows: 3 1 1 records for many PEM
 * certificate files in one process, two ways, to set tlsagen's figure
 * against the library's own limit.
 *
 *	floor x509 FILE...   PEM_read_bio_X509 (full parse, which in OpenSSL
 *	                     3.0 decodes the public key through a fresh
 *	                     OSSL_DECODER context per certificate), then
 *	                     i2d_X509_PUBKEY and SHA-256
 *	floor spki FILE...   PEM_read_bio (base64 only), then ASN1_get_object
 *	                     down to the SubjectPublicKeyInfo bytes and
 *	                     SHA-256: no key decoding at all
 *
 * Prints "3 1 1 HEX" per file and, on stderr, the rate.  Built by
 * bench/tlsagen-bench.sh with "cc floor.c -lcrypto".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static void
print_record(const unsigned char *der, long len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen, i;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	if (!EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL)) {
		fprintf(stderr, "floor: EVP_Digest failed\n");
		exit(1);
	}
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	printf("3 1 1 %s\n", hex);
}

static int
via_x509(BIO *in)
{
	X509 *cert;
	unsigned char *der = NULL;
	int len;

	if ((cert = PEM_read_bio_X509(in, NULL, NULL, NULL)) == NULL)
		return -1;
	if ((len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der)) <= 0) {
		X509_free(cert);
		return -1;
	}
	print_record(der, len);
	OPENSSL_free(der);
	X509_free(cert);
	return 0;
}

/*
 * Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version
 * OPTIONAL, serialNumber, signature, issuer, validity, subject,
 * subjectPublicKeyInfo, ... } ... }: step over the first elements of the
 * TBS and hash the seventh (sixth without a version) as it stands.
 */
static int
via_spki(BIO *in)
{
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	const unsigned char *p, *elem;
	long len, objlen;
	int tag, class, ret = -1, i;

	if (!PEM_read_bio(in, &name, &header, &data, &len))
		return -1;
	p = data;
	/* Certificate, then into tbsCertificate. */
	for (i = 0; i < 2; i++)
		if (ASN1_get_object(&p, &objlen, &tag, &class, len - (p - data))
		    & 0x80)
			goto out;
	for (i = 0; i < 7; i++) {
		elem = p;
		if (ASN1_get_object(&p, &objlen, &tag, &class,
		    len - (p - data)) & 0x80)
			goto out;
		if (i == 0 && class != V_ASN1_CONTEXT_SPECIFIC)
			i++;		/* no version: serial is first */
		if (i == 6) {
			print_record(elem, (p - elem) + objlen);
			ret = 0;
			break;
		}
		p += objlen;
	}
out:
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	return ret;
}

int
main(int argc, char **argv)
{
	int (*one)(BIO *);
	struct timespec t0, t1;
	double secs;
	BIO *in;
	int i;

	if (argc < 3 || (strcmp(argv[1], "x509") != 0 &&
	    strcmp(argv[1], "spki") != 0)) {
		fprintf(stderr, "usage: floor x509|spki FILE...\n");
		return 2;
	}
	one = strcmp(argv[1], "x509") == 0 ? via_x509 : via_spki;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 2; i < argc; i++) {
		if ((in = BIO_new_file(argv[i], "r")) == NULL ||
		    one(in) != 0) {
			fprintf(stderr, "floor: %s: cannot read a certificate\n",
			    argv[i]);
			ERR_print_errors_fp(stderr);
			BIO_free(in);
			return 1;
		}
		BIO_free(in);
	}
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "floor %s: %d certificates in %.3f s = %.0f/s\n",
	    argv[1], argc - 2, secs, (argc - 2) / secs);
	return 0;
}
