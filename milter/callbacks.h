/*
 * callbacks - the libmilter callbacks of daneguard: read the macros that
 * name the listener, the client and TLS, count the session (stats.h) at
 * MAIL FROM and accept. They never do I/O, never block beyond the stats
 * mutex, and never reject, tempfail or delay mail.
 */
#ifndef DG_CALLBACKS_H
#define DG_CALLBACKS_H

/* The milter's name, as the MTA's logs show it. */
#define CALLBACKS_NAME	"daneguard"

/*
 * Register the callbacks with libmilter (smfi_register). Call once,
 * before smfi_opensocket. Returns 0, or -1 if libmilter refused.
 */
int callbacks_register(void);

#endif
