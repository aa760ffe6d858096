/*
 * atomicfile - replace a file so readers see the old or the new content,
 * never a half-written one.
 */
#ifndef DG_ATOMICFILE_H
#define DG_ATOMICFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "errbuf.h"

/*
 * Make path hold exactly data[0..len). If it already does, nothing is
 * written and the file (mtime too) is left alone. Otherwise a temporary
 * file in the same directory is written, fsync'd and renamed over path,
 * and the directory is fsync'd. A new file gets mode; an existing file
 * keeps its mode. *changed (may be NULL) is set to 1 when the file was
 * replaced, 0 when not. Returns 0, or -1 with err naming path; on failure
 * path is untouched and no temporary file is left behind.
 */
int atomicfile_replace(const char *path, const void *data, size_t len,
    mode_t mode, int *changed, struct errbuf *err);

#endif
