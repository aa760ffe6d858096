/*
 * fileio - the one way the programs read a whole file.
 *
 * Every path a configuration or a command line names (chains, keys, next
 * keys, passphrase files, zone and TLSA files, the configuration, the
 * trust anchor, resolver_config, the state files, the access map) may
 * name anything: a FIFO blocks a plain open() for ever, /dev/zero never
 * ends. fileio opens without blocking, refuses what is not a regular file
 * with a one-line error and reads at most a cap, so a wrong path costs a
 * message, never a hang.
 */
#ifndef DG_FILEIO_H
#define DG_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "errbuf.h"

/* fileio_read flags */
#define FILEIO_SECRET	0x1	/* wipe every buffer it frees (keys) */

/*
 * Read the regular file path whole: at most max bytes (a larger file is
 * an error). Returns 0 with a malloc'd buffer in *bufp, NUL-terminated
 * (the NUL is not counted in *lenp); free it with fileio_free. Returns
 * -1 with err "PATH: WHY" (strerror for a failed open or read; "is a FIFO,
 * not a regular file ..." for anything else; larger than max bytes)
 * and errno set: ENOENT for a missing file, so that a caller to whom
 * absence is normal can tell.
 */
int fileio_read(const char *path, size_t max, int flags, char **bufp,
    size_t *lenp, struct errbuf *err);

/*
 * Read the open descriptor fd to its end (standard input, a pipe, a file
 * already open), at most max bytes, as fileio_read does; name stands for
 * the path in err ("NAME: larger than ...", errno EFBIG). hint: the size
 * expected (st_size), 0 if unknown. fd stays open.
 */
int fileio_read_fd(int fd, const char *name, size_t max, size_t hint,
    int flags, char **bufp, size_t *lenp, struct errbuf *err);

/* Free a buffer from fileio_read or fileio_read_fd (wiped first with FILEIO_SECRET). */
void fileio_free(char *buf, size_t len, int flags);

/*
 * For files that a library opens itself (libconfuse, libunbound): 0 if
 * path is a regular file this process can open for reading, else -1 with
 * err as fileio_read says it (and errno set).
 */
int fileio_check(const char *path, struct errbuf *err);

/* "is a FIFO", "is a directory", ... for "PATH: is a FIFO, not a
 * regular file". */
const char *fileio_kind(mode_t mode);

#endif
