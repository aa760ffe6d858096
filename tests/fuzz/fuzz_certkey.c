/*
 * fuzz_certkey - libFuzzer target for lib/certkey*.c and lib/certread.c.
 *
 * Feeds the input to certkey_chain_parse (complete and light) and to
 * certkey_key_parse (with no passphrase and with "x", the passphrase of
 * the encrypted seeds).
 * Besides what the sanitizers catch, a broken promise aborts: a success
 * must give a leaf (or key) of a supported algorithm, a failure a one-line
 * message naming the input, and neither may leave errors on OpenSSL's
 * queue for the next caller to misreport.
 *
 * Of the light leaf (certkey.h), the algorithm, read without decoding
 * the key, must be supported; decoded on demand, the key must
 * have that very name and match the certificate, and the complete leaf
 * of the same input must carry the same key. The one thing the light reading cannot see is
 * an EC point of the right length off its curve: then the key does not
 * decode, which is allowed unless the file also held the private key.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "certkey.h"
#include "errbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME	"fuzz.pem"

static void
check_error(int rc, const struct errbuf *err)
{
	if (ERR_peek_error() != 0)
		abort();
	if (rc == 0)
		return;
	if (strncmp(err->msg, NAME ": ", strlen(NAME ": ")) != 0 ||
	    strchr(err->msg, '\n') != NULL)
		abort();
}

static void
check_key(EVP_PKEY *pkey)
{
	char alg[128];

	if (pkey == NULL || certkey_alg_name(pkey, alg, sizeof(alg)) != 0 ||
	    certkey_alg_family(pkey) == NULL ||
	    !certkey_pubkey_equal(pkey, pkey))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *passphrases[] = { NULL, "x" };
	struct certkey_chain *chain = NULL, *complete = NULL;
	struct certkey_key *key = NULL;
	struct errbuf err;
	char date[16], alg[128], decoded[128];
	EVP_PKEY *pkey;
	X509 *leaf, *full;
	size_t i;
	int rc;

	err.msg[0] = '\0';
	/* Complete and light certificates load alike. */
	rc = certkey_chain_parse(data, size, NAME, 0, &complete, &err);
	check_error(rc, &err);
	if (certkey_chain_parse(data, size, NAME, CERTKEY_LIGHT, &chain,
	    &err) != rc)
		abort();
	check_error(rc, &err);
	if (rc == 0) {
		if (chain == NULL || sk_X509_num(chain->certs) < 1 ||
		    strcmp(chain->path, NAME) != 0)
			abort();
		leaf = certkey_chain_leaf(chain);
		if (certkey_cert_alg_name(leaf, alg, sizeof(alg)) != 0 ||
		    certkey_cert_alg_family(leaf) == NULL)
			abort();
		if ((pkey = certkey_cert_pubkey(leaf)) != NULL) {
			check_key(pkey);
			if (certkey_alg_name(pkey, decoded,
			    sizeof(decoded)) != 0 ||
			    strcmp(alg, decoded) != 0 ||
			    strcmp(certkey_cert_alg_family(leaf),
			    certkey_alg_family(pkey)) != 0 ||
			    !certkey_key_matches_cert(pkey, leaf))
				abort();
			full = certkey_chain_leaf(complete);
			if (!certkey_pubkey_equal(X509_get0_pubkey(full),
			    pkey))
				abort();
			EVP_PKEY_free(pkey);
		} else if (chain->key != NULL)
			abort();
		if (chain->key != NULL &&
		    !certkey_key_matches_cert(chain->key, leaf))
			abort();
		if (ERR_peek_error() != 0)
			abort();
		for (i = 0; i < (size_t)sk_X509_num(chain->certs); i++) {
			(void)certkey_is_ca(sk_X509_value(chain->certs, i));
			(void)certkey_is_expired(sk_X509_value(chain->certs,
			    i), time(NULL), date, sizeof(date));
		}
		ERR_clear_error();
	} else if (chain != NULL)
		abort();
	certkey_chain_free(chain);
	certkey_chain_free(complete);

	for (i = 0; i < sizeof(passphrases) / sizeof(passphrases[0]); i++) {
		err.msg[0] = '\0';
		key = NULL;
		rc = certkey_key_parse(data, size, NAME, passphrases[i], &key,
		    &err);
		check_error(rc, &err);
		if (rc == 0) {
			if (key == NULL || strcmp(key->path, NAME) != 0)
				abort();
			check_key(key->pkey);
		} else if (key != NULL)
			abort();
		certkey_key_free(key);
	}
	return 0;
}
