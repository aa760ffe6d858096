/*
 * log - the one place that prints diagnostics.
 *
 * In the foreground (and for tlsagen) messages go to stderr as
 * "PROG: message"; a daemon logs to syslog with facility LOG_MAIL.
 * log_warn appends ": strerror(errno)", log_warnx does not (OpenBSD style).
 * Messages meant for log searches carry key=value fields:
 *   "host=mx1.example.com addr=2001:db8::10 alg=ecdsa check=G3 state=CRITICAL"
 * fatal/fatalx are for main() and the daemon only; library code never exits.
 */
#ifndef DG_LOG_H
#define DG_LOG_H

#include <stdarg.h>

/*
 * Start logging as ident. to_stderr: print to stderr instead of syslog.
 * verbose: 0 warnings and info, 1 adds debug messages.
 */
void log_init(const char *ident, int to_stderr, int verbose);
void log_set_verbose(int verbose);
int log_get_verbose(void);

/*
 * A daemon that has not finished starting: warnings (and fatal errors)
 * go to stderr as well as to syslog, so that "daneguard" started from a
 * terminal or a script says why it did not start. Off once it is ready.
 */
void log_set_stderr_copy(int on);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Log and exit with the status set by log_set_fatal_status (default 2). */
void log_set_fatal_status(int status);
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
