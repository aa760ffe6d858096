/*
 * fileio - see fileio.h.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "xalloc.h"

const char *
fileio_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "is a directory";
	if (S_ISFIFO(mode))
		return "is a FIFO";
	if (S_ISCHR(mode))
		return "is a character device";
	if (S_ISBLK(mode))
		return "is a block device";
	if (S_ISSOCK(mode))
		return "is a socket";
	if (S_ISLNK(mode))
		return "is a symbolic link";
	return "is a special file";
}

static void
fileio_syserr(const char *path, int saved, struct errbuf *err)
{
	errbuf_set(err, "%s: %s", path, strerror(saved));
	errno = saved;
}

/* The open descriptor of a regular file, or -1 with err and errno. */
static int
fileio_open(const char *path, struct stat *st, struct errbuf *err)
{
	int fd;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		fileio_syserr(path, errno, err);
		return -1;
	}
	if (fstat(fd, st) < 0) {
		fileio_syserr(path, errno, err);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		errbuf_set(err, "%s: %s, not a regular file; name the file "
		    "itself", path, fileio_kind(st->st_mode));
		close(fd);
		errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	return fd;
}

void
fileio_free(char *buf, size_t len, int flags)
{
	if (buf == NULL)
		return;
	if (flags & FILEIO_SECRET)
		explicit_bzero(buf, len);
	free(buf);
}

static void
fileio_toolarge(const char *path, size_t max, struct errbuf *err)
{
	if (max >= 1024 * 1024)
		errbuf_set(err, "%s: larger than %zu MiB; is this the right "
		    "file?", path, max >> 20);
	else
		errbuf_set(err, "%s: larger than %zu bytes; is this the right "
		    "file?", path, max);
	errno = EFBIG;
}

int
fileio_read_fd(int fd, const char *name, size_t max, size_t hint, int flags,
    char **bufp, size_t *lenp, struct errbuf *err)
{
	char *buf, *grown;
	size_t len = 0, cap;
	ssize_t n;
	int saved;

	*bufp = NULL;
	*lenp = 0;
	/* Room for one more byte than the hint tells a file that grew from
	 * one that ended; without a hint, 64 KiB to start with. */
	cap = hint > 0 ? hint + 1 : 65536;
	if (cap > max + 1)
		cap = max + 1;
	buf = xmalloc(cap + 1);
	for (;;) {
		if (len == cap) {
			if (cap > max) {
				fileio_free(buf, len, flags);
				fileio_toolarge(name, max, err);
				return -1;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			if (flags & FILEIO_SECRET) {
				/* no realloc: it would leave a copy behind */
				grown = xmalloc(cap + 1);
				memcpy(grown, buf, len);
				fileio_free(buf, len, flags);
				buf = grown;
			} else
				buf = xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			fileio_free(buf, len, flags);
			fileio_syserr(name, saved, err);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

int
fileio_read(const char *path, size_t max, int flags, char **bufp,
    size_t *lenp, struct errbuf *err)
{
	struct stat st;
	int fd, rc, saved;

	*bufp = NULL;
	*lenp = 0;
	if ((fd = fileio_open(path, &st, err)) < 0)
		return -1;
	if ((unsigned long long)st.st_size > max) {
		close(fd);
		fileio_toolarge(path, max, err);
		return -1;
	}
	rc = fileio_read_fd(fd, path, max, (size_t)st.st_size, flags, bufp,
	    lenp, err);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int
fileio_check(const char *path, struct errbuf *err)
{
	struct stat st;
	int fd;

	if ((fd = fileio_open(path, &st, err)) < 0)
		return -1;
	close(fd);
	return 0;
}
