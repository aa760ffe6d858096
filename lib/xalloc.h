/*
 * xalloc - allocation that never returns NULL.
 *
 * Running out of memory is the one failure library code does not report
 * to its caller: these wrappers print "out of memory" and exit with
 * status 2. Everything they return is freed with free().
 */
#ifndef DG_XALLOC_H
#define DG_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grow an array of nmemb elements of size bytes; checks for overflow. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
