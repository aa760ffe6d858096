/*
 * callbacks - see callbacks.h.
 *
 * A session needs three stages: connect (client address, listener),
 * HELO (the name that tells the guard's own probes apart) and MAIL FROM,
 * the first point where "this session is plaintext" can be concluded:
 * HELO comes twice on a STARTTLS session, the first time without TLS
 * macros. Everything after MAIL FROM is skipped by negotiation and MAIL
 * FROM answers ACCEPT, so the MTA does not talk to us again about this
 * message. Connect and HELO need no answer (SMFIP_NR_CONN, _HELO).
 *
 * Debian's libmilter runs callbacks on a worker pool, so one connection's
 * callbacks may run on different threads: all per-connection state is in
 * the smfi_setpriv pointer, a struct session.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmilter/mfapi.h>

#include "callbacks.h"
#include "stats.h"
#include "xalloc.h"

struct session {
	char client[STATS_ADDR_MAX];	/* as connect or {client_addr} gave it */
	char daemon_addr[STATS_ADDR_MAX];
	char daemon_port[8];
	char daemon_name[STATS_NAME_MAX];	/* sendmail {daemon_name} */
	char daemon_flags[32];		/* sendmail {daemon_flags} */
	char helo[256];			/* the last HELO/EHLO argument */
	int counted;			/* one count per session, not per message */
};

/*
 * Macros per stage, in Postfix and sendmail spellings. Postfix names the
 * listener with {daemon_addr} {daemon_port} (3.2 and later); sendmail's
 * {daemon_addr} is the address the daemon listens on (0.0.0.0 for all),
 * its {if_addr} the interface the client reached. The TLS macros are
 * asked for at MAIL FROM: at HELO they are missing on the first EHLO.
 * The listener macros are asked for again at MAIL FROM because Postfix
 * starts a new milter connection after XCLIENT. sendmail's {daemon_name}
 * and {daemon_flags} (the M= modifiers, "SS" for M=S: no STARTTLS on
 * that daemon) are fixed per daemon, so connect is enough for them.
 */
static char callbacks_connect_macros[] =
    "{daemon_addr} {daemon_port} {if_addr} {daemon_name} {daemon_flags} "
    "{client_addr}";
static char callbacks_envfrom_macros[] =
    "{tls_version} {cipher} {cipher_bits} {daemon_addr} {daemon_port} "
    "{if_addr}";

/*
 * Whether connect and HELO were negotiated as no-reply. libmilter offers
 * these bits itself even to an MTA that lacks them (it then answers
 * CONTINUE in our place), so the value is the same for every connection
 * of the process; a per-connection copy could not survive the
 * connection reuse of SMFIC_QUIT_NC, which calls xxfi_close and then
 * xxfi_connect without a new negotiation.
 */
static int callbacks_noreply;

static struct session *
session_get(SMFICTX *ctx)
{
	struct session *s = smfi_getpriv(ctx);

	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		smfi_setpriv(ctx, s);
	}
	return s;
}

static void
copy_macro(SMFICTX *ctx, const char *name, char *buf, size_t len)
{
	const char *v = smfi_getsymval(ctx, (char *)name);

	if (v != NULL && *v != '\0')
		snprintf(buf, len, "%s", v);
}

/* sendmail's {daemon_addr} for a daemon bound to every address. */
static int
addr_unspecified(const char *a)
{
	return a[0] == '\0' || strcmp(a, "0.0.0.0") == 0 ||
	    strcmp(a, "::") == 0 || strcmp(a, "IPv6:::") == 0 ||
	    strcmp(a, "IPv6:0:0:0:0:0:0:0:0") == 0;
}

/* The listener as the macros of the current stage name it, if they do. */
static void
session_listener(SMFICTX *ctx, struct session *s)
{
	char addr[STATS_ADDR_MAX] = "";

	copy_macro(ctx, "{daemon_addr}", addr, sizeof(addr));
	if (addr_unspecified(addr))
		copy_macro(ctx, "{if_addr}", addr, sizeof(addr));
	if (addr[0] != '\0')
		snprintf(s->daemon_addr, sizeof(s->daemon_addr), "%s", addr);
	copy_macro(ctx, "{daemon_port}", s->daemon_port,
	    sizeof(s->daemon_port));
}

static sfsistat
callbacks_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long skip = SMFIP_NORCPT | SMFIP_NOHDRS |
	    SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA;
	const unsigned long noreply = SMFIP_NR_CONN | SMFIP_NR_HELO;

	(void)f2;
	(void)f3;
	*pf0 = 0;
	*pf1 = f1 & skip;		/* only what the MTA can skip */
	*pf2 = 0;
	*pf3 = 0;
	if ((f1 & noreply) == noreply) {
		*pf1 |= noreply;
		__atomic_store_n(&callbacks_noreply, 1, __ATOMIC_RELAXED);
	}
	/*
	 * Without SMFIF_SETSYMLIST the MTA sends its configured lists
	 * (milter_connect_macros and milter_mail_macros in Postfix,
	 * confMILTER_MACROS_* in sendmail: conf/ has both).
	 */
	if ((f0 & SMFIF_SETSYMLIST) != 0 &&
	    smfi_setsymlist(ctx, SMFIM_CONNECT,
	    callbacks_connect_macros) == MI_SUCCESS &&
	    smfi_setsymlist(ctx, SMFIM_ENVFROM,
	    callbacks_envfrom_macros) == MI_SUCCESS)
		*pf0 |= SMFIF_SETSYMLIST;
	return SMFIS_CONTINUE;
}

static sfsistat
callbacks_nothing(void)
{
	return __atomic_load_n(&callbacks_noreply, __ATOMIC_RELAXED) ?
	    SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
callbacks_connect(SMFICTX *ctx, char *hostname, struct sockaddr *hostaddr)
{
	struct session *s = session_get(ctx);
	const void *a = NULL;

	(void)hostname;
	stats_connect();
	/* A fresh session, also when SMFIC_QUIT_NC reuses the context. */
	memset(s, 0, sizeof(*s));
	if (hostaddr != NULL && hostaddr->sa_family == AF_INET)
		a = &((struct sockaddr_in *)(void *)hostaddr)->sin_addr;
	else if (hostaddr != NULL && hostaddr->sa_family == AF_INET6)
		a = &((struct sockaddr_in6 *)(void *)hostaddr)->sin6_addr;
	if (a == NULL || inet_ntop(hostaddr->sa_family, a, s->client,
	    sizeof(s->client)) == NULL) {
		s->client[0] = '\0';
		copy_macro(ctx, "{client_addr}", s->client, sizeof(s->client));
	}
	session_listener(ctx, s);
	copy_macro(ctx, "{daemon_name}", s->daemon_name,
	    sizeof(s->daemon_name));
	copy_macro(ctx, "{daemon_flags}", s->daemon_flags,
	    sizeof(s->daemon_flags));
	return callbacks_nothing();
}

static sfsistat
callbacks_helo(SMFICTX *ctx, char *helohost)
{
	struct session *s = session_get(ctx);

	/* The second HELO of a STARTTLS session replaces the first. */
	snprintf(s->helo, sizeof(s->helo), "%s",
	    helohost != NULL ? helohost : "");
	return callbacks_nothing();
}

static sfsistat
callbacks_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s = session_get(ctx);
	struct stats_session_info si;
	const char *version, *cipher;

	(void)argv;
	if (s->counted)
		return SMFIS_ACCEPT;
	session_listener(ctx, s);
	version = smfi_getsymval(ctx, "{tls_version}");
	cipher = smfi_getsymval(ctx, "{cipher}");
	/* A cipher without a version is still TLS (counted as "other"). */
	if ((version == NULL || *version == '\0') &&
	    cipher != NULL && *cipher != '\0')
		version = "unknown";
	memset(&si, 0, sizeof(si));
	si.daemon_addr = s->daemon_addr[0] ? s->daemon_addr : NULL;
	si.daemon_port = s->daemon_port[0] ? s->daemon_port : NULL;
	si.client_addr = s->client[0] ? s->client : NULL;
	si.helo = s->helo[0] ? s->helo : NULL;
	si.tls_version = version != NULL && *version != '\0' ? version : NULL;
	si.daemon_name = s->daemon_name[0] ? s->daemon_name : NULL;
	si.daemon_flags = s->daemon_flags[0] ? s->daemon_flags : NULL;
	stats_count_session(&si);
	s->counted = 1;
	return SMFIS_ACCEPT;
}

/* May run without xxfi_connect, with no private data. */
static sfsistat
callbacks_close(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

int
callbacks_register(void)
{
	struct smfiDesc desc;

	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = CALLBACKS_NAME;
	desc.xxfi_version = SMFI_VERSION;
	desc.xxfi_flags = 0;		/* no message modifications */
	desc.xxfi_connect = callbacks_connect;
	desc.xxfi_helo = callbacks_helo;
	desc.xxfi_envfrom = callbacks_envfrom;
	desc.xxfi_close = callbacks_close;
	desc.xxfi_negotiate = callbacks_negotiate;
	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}
