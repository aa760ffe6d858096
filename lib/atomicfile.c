/*
 * atomicfile - see atomicfile.h.
 *
 * The temporary file lives in the target's directory because rename(2)
 * is atomic only within one file system. It is named ".NAME.XXXXXX" so
 * that a crash leaves something recognisable, and hidden from globs such
 * as a zone directory's "*.zone".
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "fileio.h"
#include "xalloc.h"

/*
 * 1 if the regular file fd holds exactly data[0..len), 0 if not, -1 on a
 * read error (errno set).
 */
static int
atomicfile_same(int fd, const struct stat *st, const void *data, size_t len)
{
	char buf[8192];
	size_t off = 0;
	ssize_t n;

	if (!S_ISREG(st->st_mode) || st->st_size < 0 ||
	    (unsigned long long)st->st_size != (unsigned long long)len)
		return 0;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return off == len;
		if ((size_t)n > len - off ||
		    memcmp(buf, (const char *)data + off, (size_t)n) != 0)
			return 0;	/* it grew, or differs */
		off += (size_t)n;
	}
}

static int
atomicfile_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * What is at path now: 1 when it is a regular file that already holds
 * data (leave it alone), 0 when it must be written (*exists and *st say
 * whether it is there), -1 with err set when it cannot be replaced.
 */
static int
atomicfile_existing(const char *path, const void *data, size_t len,
    struct stat *st, int *exists, struct errbuf *err)
{
	int fd, same, save;

	/* lstat: a symbolic link is not followed, neither for the mode and
	 * owner nor by the rename, which would replace the link itself. */
	*exists = 0;
	if (lstat(path, st) < 0) {
		if (errno == ENOENT)
			return 0;
		errbuf_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	*exists = 1;
	/* A device, FIFO or link renamed over would be gone (-o /dev/null
	 * as root made /dev/null a regular file). */
	if (!S_ISREG(st->st_mode)) {
		errbuf_set(err, "%s: %s, not a regular file; only regular "
		    "files are replaced: name the file itself", path,
		    fileio_kind(st->st_mode));
		errno = EEXIST;
		return -1;
	}
	/* Unchanged content: leave the file, and its mtime, alone. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) < 0) {
		errbuf_set(err, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	same = atomicfile_same(fd, st, data, len);
	save = errno;
	close(fd);
	if (same < 0) {
		errbuf_set(err, "%s: cannot read: %s", path, strerror(save));
		return -1;
	}
	return same;
}

/*
 * Write data to the new temporary file fd with mode (and owner, from st
 * when exists), synced and closed. Returns 0, or -1 with err set and fd
 * closed all the same.
 */
static int
atomicfile_fill(int fd, const char *path, const char *dir, const void *data,
    size_t len, mode_t mode, const struct stat *st, int exists,
    struct errbuf *err)
{
	int save;

	if (atomicfile_write_all(fd, data, len) < 0) {
		/* No temporary name in the message: the guard logs each
		 * distinct problem once (a full state_dir). */
		errbuf_set(err, "%s: cannot write a temporary copy in %s: %s",
		    path, dir, strerror(errno));
		goto fail;
	}
	if (fchmod(fd, mode) < 0) {
		errbuf_set(err, "%s: cannot set mode %04o on a temporary "
		    "copy: %s", path, (unsigned)mode, strerror(errno));
		goto fail;
	}
	/* Keep the owner too where we may; only root may give files away. */
	if (exists && (st->st_uid != geteuid() || st->st_gid != getegid()))
		(void)!fchown(fd, st->st_uid, st->st_gid);
	if (fsync(fd) < 0) {
		errbuf_set(err, "%s: cannot sync a temporary copy: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		errbuf_set(err, "%s: cannot write a temporary copy in %s: %s",
		    path, dir, strerror(errno));
		return -1;
	}
	return 0;
fail:
	save = errno;
	close(fd);
	errno = save;
	return -1;
}

int
atomicfile_replace(const char *path, const void *data, size_t len,
    mode_t mode, int *changed, struct errbuf *err)
{
	struct stat st;
	const char *slash, *base;
	char *dir, *tmp;
	int fd, exists, same, save, dirfd;

	if (changed != NULL)
		*changed = 0;
	if ((same = atomicfile_existing(path, data, len, &st, &exists,
	    err)) != 0)
		return same > 0 ? 0 : -1;
	if (exists)
		mode = st.st_mode & 07777;

	if ((slash = strrchr(path, '/')) != NULL) {
		dir = slash == path ? xstrdup("/") :
		    xstrndup(path, (size_t)(slash - path));
		base = slash + 1;
	} else {
		dir = xstrdup(".");
		base = path;
	}
	tmp = xasprintf("%s/.%s.XXXXXX", dir, base);
	if ((fd = mkstemp(tmp)) < 0) {
		errbuf_set(err, "%s: cannot create temporary file in %s: %s",
		    path, dir, strerror(errno));
		free(tmp);
		free(dir);
		return -1;
	}
	if (atomicfile_fill(fd, path, dir, data, len, mode, &st, exists,
	    err) < 0)
		goto fail;
	if (rename(tmp, path) < 0) {
		errbuf_set(err, "%s: cannot replace: %s", path,
		    strerror(errno));
		goto fail;
	}
	/*
	 * Make the rename itself durable. The new content is in place
	 * already, so a failure here (some file systems refuse fsync on a
	 * directory) cannot be undone and is not reported.
	 */
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dirfd);
		close(dirfd);
	}
	if (changed != NULL)
		*changed = 1;
	free(tmp);
	free(dir);
	return 0;

fail:
	save = errno;
	unlink(tmp);
	free(tmp);
	free(dir);
	errno = save;
	return -1;
}
