/*
 * keygen - see keygen.h.
 *
 * The key is generated before the file is created, so a failure never
 * leaves an empty file behind, and it is written to memory first so that
 * the file sees one write (and one fsync) of the finished PEM.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "errbuf.h"
#include "keygen.h"
#include "xalloc.h"

/* Write all of buf, riding out short writes and signals. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/* Make the new name itself durable; best effort. */
static void
sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, slash - path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

int
keygen_new(const char *alg, const char *path, EVP_PKEY **out,
    struct errbuf *err)
{
	EVP_PKEY *pkey;
	BIO *mem = NULL;
	char *pem;
	long pemlen;
	int fd, saved;

	*out = NULL;
	if (strcmp(alg, "rsa") == 0)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (strcmp(alg, "ecdsa") == 0)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else {
		errbuf_set(err, "%s: cannot generate a key of algorithm "
		    "\"%s\" (use rsa or ecdsa)", path, alg);
		return -1;
	}
	if (pkey == NULL) {
		errbuf_ssl(err, "%s: cannot generate %s key", path, alg);
		return -1;
	}

	/* PEM_write_bio_PrivateKey writes unencrypted PKCS#8. */
	if ((mem = BIO_new(BIO_s_secmem())) == NULL ||
	    !PEM_write_bio_PrivateKey(mem, pkey, NULL, NULL, 0, NULL, NULL) ||
	    (pemlen = BIO_get_mem_data(mem, &pem)) <= 0) {
		errbuf_ssl(err, "%s: cannot encode the %s key", path, alg);
		goto fail;
	}

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		if (errno == EEXIST)
			errbuf_set(err, "%s: already exists; a next key is "
			    "never overwritten", path);
		else
			errbuf_set(err, "%s: cannot create: %s", path,
			    strerror(errno));
		goto fail;
	}
	if (write_all(fd, pem, (size_t)pemlen) == -1 || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(path);
		errbuf_set(err, "%s: cannot write: %s", path,
		    strerror(saved));
		goto fail;
	}
	if (close(fd) == -1) {
		saved = errno;
		unlink(path);
		errbuf_set(err, "%s: cannot write: %s", path,
		    strerror(saved));
		goto fail;
	}
	sync_parent(path);
	BIO_free(mem);
	ERR_clear_error();
	*out = pkey;
	return 0;

fail:
	BIO_free(mem);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return -1;
}
