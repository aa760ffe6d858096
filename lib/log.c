/*
 * log - see log.h.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static const char *log_ident = "daneguard";
static int log_to_stderr = 1;
static int log_verbose;
static int log_fatal_status = 2;
static atomic_int log_stderr_copy;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void
log_init(const char *ident, int to_stderr, int verbose)
{
	log_ident = ident;
	log_to_stderr = to_stderr;
	log_verbose = verbose;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

int
log_get_verbose(void)
{
	return log_verbose;
}

void
log_set_stderr_copy(int on)
{
	log_stderr_copy = on;
}

void
log_set_fatal_status(int status)
{
	log_fatal_status = status;
}

static void
log_vemit(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char line[2048];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_to_stderr || (log_stderr_copy && pri <= LOG_WARNING)) {
		/* One write per line, so threads never interleave mid-line. */
		pthread_mutex_lock(&log_lock);
		if (suffix != NULL)
			fprintf(stderr, "%s: %s: %s\n", log_ident, line, suffix);
		else
			fprintf(stderr, "%s: %s\n", log_ident, line);
		fflush(stderr);
		pthread_mutex_unlock(&log_lock);
	}
	if (log_to_stderr)
		return;
	if (suffix != NULL)
		syslog(pri, "%s: %s", line, suffix);
	else
		syslog(pri, "%s", line);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	char errstr[256];
	int saved = errno;

	/* GNU strerror_r may return a static string instead of filling errstr. */
	const char *s = strerror_r(saved, errstr, sizeof(errstr));

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, fmt, ap, s);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vemit(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	char errstr[256];
	const char *s = strerror_r(errno, errstr, sizeof(errstr));

	va_start(ap, fmt);
	log_vemit(LOG_CRIT, fmt, ap, s);
	va_end(ap);
	exit(log_fatal_status);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(log_fatal_status);
}
