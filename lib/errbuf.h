/*
 * errbuf - one-line error messages from library code to the caller.
 *
 * Library functions never print and never exit: on failure they return -1
 * (or an error enum) and describe the problem in a caller-supplied errbuf.
 * A message names the file, host or option and, where it helps, what to do:
 *   "/etc/ssl/mx1.pem: truncated PEM (no END line); copy the whole file again"
 */
#ifndef DG_ERRBUF_H
#define DG_ERRBUF_H

#include <stddef.h>

#define ERRBUF_SIZE 1024

struct errbuf {
	char msg[ERRBUF_SIZE];
};

/* Replace the message. err may be NULL (the message is dropped). */
void errbuf_set(struct errbuf *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Like errbuf_set, then append ": " and the most useful reason from
 * OpenSSL's error queue (if any). The queue is always drained, so a stale
 * OpenSSL error never leaks into a later message.
 */
void errbuf_ssl(struct errbuf *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Put "prefix: " in front of the current message (e.g. a file name). */
void errbuf_prefix(struct errbuf *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
