/*
 * errbuf - see errbuf.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "errbuf.h"

void
errbuf_set(struct errbuf *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

void
errbuf_ssl(struct errbuf *err, const char *fmt, ...)
{
	va_list ap;
	unsigned long code, last = 0;
	size_t used;

	/* The last queued error is usually the outermost, most readable one. */
	while ((code = ERR_get_error()) != 0)
		last = code;
	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (last != 0) {
		const char *reason = ERR_reason_error_string(last);

		used = strlen(err->msg);
		if (reason != NULL)
			snprintf(err->msg + used, sizeof(err->msg) - used,
			    ": %s", reason);
		else
			snprintf(err->msg + used, sizeof(err->msg) - used,
			    ": OpenSSL error %lx", last);
	}
}

void
errbuf_prefix(struct errbuf *err, const char *fmt, ...)
{
	char prefix[ERRBUF_SIZE], old[ERRBUF_SIZE];
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
}
