/*
 * test_callbacks - milter/callbacks.c, the libmilter callbacks, driven
 * the way libmilter drives them: callbacks_register hands its table to
 * smfi_register, and the test calls the callbacks of that table with
 * the macros a Postfix or a sendmail would send (a TLS session, a
 * plaintext one, the HELO of the guard's own probes, sendmail's daemon
 * macros, Postfix's XCLIENT, a context reused by SMFIC_QUIT_NC). What
 * they record is read back from the real milter/stats.c.
 *
 * libmilter itself needs an MTA on the other end of a socket, so the few
 * smfi_ functions callbacks.c calls (smfi_register, smfi_getsymval,
 * smfi_getpriv, smfi_setpriv, smfi_setsymlist) are defined here, over a
 * struct smfi_str of the test's own; the binary is not linked with
 * libmilter, so a callback that calls anything else does not link. The
 * MTA's side is tested for real in tests/lab (milter-hostile.sh,
 * guard-check.sh, sendmail-live.sh).
 *
 * The callbacks must never do network or disk I/O: every test runs
 * under a seccomp filter that traps the system calls that open a file
 * or a socket, create, rename or remove a name, or write to any
 * descriptor but standard output and error (the test's own report). A
 * call trapped in a test fails it ("Bad system call", cmocka's SIGSYS
 * handler); outside, it ends the run with its number. The filter is in
 * a child process that leaves with _exit, so a sanitizer's leak check
 * at exit (which reads /proc) runs in the parent, outside the filter.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <libmilter/mfapi.h>

#include "callbacks.h"
#include "stats.h"
#include "stats_listener.h"

#define PROBE_HELO	"daneguard-probe.mx1.example.test"

/* ------------------------------------------------------------ libmilter */

#define MACROS_MAX	16

/* One milter connection as the MTA shows it to the callbacks. */
struct smfi_str {
	void *priv;			/* smfi_setpriv's pointer */
	struct {
		const char *name;	/* "{daemon_addr}" */
		const char *value;
	} macro[MACROS_MAX];		/* what smfi_getsymval finds now */
	char asked[512];		/* names asked since the last clear */
	int setsymlist_fails;		/* smfi_setsymlist answers MI_FAILURE */
	char symlist[SMFIM_LAST + 1][256];	/* what it was asked for */
	int symlist_calls;
};

static struct smfiDesc registered;
static int register_calls, register_fails;
/* The macro lists the callbacks asked for (test_negotiate), per stage. */
static char negotiated[SMFIM_LAST + 1][256];

int
smfi_register(struct smfiDesc desc)
{
	register_calls++;
	registered = desc;
	return register_fails ? MI_FAILURE : MI_SUCCESS;
}

void *
smfi_getpriv(SMFICTX *ctx)
{
	return ctx->priv;
}

int
smfi_setpriv(SMFICTX *ctx, void *priv)
{
	ctx->priv = priv;
	return MI_SUCCESS;
}

char *
smfi_getsymval(SMFICTX *ctx, char *name)
{
	size_t i, len = strlen(ctx->asked);

	snprintf(ctx->asked + len, sizeof(ctx->asked) - len, "%s ", name);
	for (i = 0; i < MACROS_MAX && ctx->macro[i].name != NULL; i++)
		if (strcmp(ctx->macro[i].name, name) == 0)
			return (char *)ctx->macro[i].value;
	return NULL;
}

int
smfi_setsymlist(SMFICTX *ctx, int stage, char *macros)
{
	ctx->symlist_calls++;
	if (ctx->setsymlist_fails)
		return MI_FAILURE;
	if (stage < 0 || stage > SMFIM_LAST)
		fail_msg("smfi_setsymlist: no stage %d", stage);
	snprintf(ctx->symlist[stage], sizeof(ctx->symlist[stage]), "%s",
	    macros);
	return MI_SUCCESS;
}

/* Set (or with value NULL remove) a macro the MTA sends from now on. */
static void
macro(SMFICTX *ctx, const char *name, const char *value)
{
	size_t i, j;

	for (i = 0; i < MACROS_MAX && ctx->macro[i].name != NULL; i++)
		if (strcmp(ctx->macro[i].name, name) == 0)
			break;
	if (i == MACROS_MAX)
		fail_msg("more than %d macros", MACROS_MAX);
	if (value == NULL) {
		for (j = i; j + 1 < MACROS_MAX; j++)
			ctx->macro[j] = ctx->macro[j + 1];
		ctx->macro[MACROS_MAX - 1].name = NULL;
		return;
	}
	ctx->macro[i].name = name;
	ctx->macro[i].value = value;
}

/* Whether a space-separated list holds a word. */
static int
has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

/*
 * Every macro asked since the last clear must be in list (what the
 * callbacks asked the MTA to send at that stage); then clear.
 */
static void
asked_within(SMFICTX *ctx, const char *list, const char *stage)
{
	char copy[sizeof(ctx->asked)], *w, *save;

	snprintf(copy, sizeof(copy), "%s", ctx->asked);
	for (w = strtok_r(copy, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save))
		if (!has_word(list, w))
			fail_msg("%s reads %s, which its macro list \"%s\" "
			    "does not ask the MTA for", stage, w, list);
	ctx->asked[0] = '\0';
}

/* ------------------------------------------------------------ the callbacks */

/* The answers that let mail through untouched, the only ones allowed. */
static void
passes(sfsistat rc, const char *what)
{
	if (rc != SMFIS_CONTINUE && rc != SMFIS_NOREPLY && rc != SMFIS_ACCEPT)
		fail_msg("%s answers %d: the milter never rejects, "
		    "tempfails or holds mail", what, (int)rc);
}

static sfsistat
connect_in(SMFICTX *ctx, const char *client)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&ss;
	char name[] = "client.example";
	sfsistat rc;

	memset(&ss, 0, sizeof(ss));
	if (client == NULL) {
		rc = registered.xxfi_connect(ctx, name, NULL);
	} else if (inet_pton(AF_INET, client, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		rc = registered.xxfi_connect(ctx, name,
		    (struct sockaddr *)&ss);
	} else if (inet_pton(AF_INET6, client, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		rc = registered.xxfi_connect(ctx, name,
		    (struct sockaddr *)&ss);
	} else {
		fail_msg("bad client %s", client);
		return SMFIS_TEMPFAIL;
	}
	passes(rc, "connect");
	return rc;
}

static sfsistat
helo(SMFICTX *ctx, const char *name)
{
	char buf[256];
	sfsistat rc;

	snprintf(buf, sizeof(buf), "%s", name);
	rc = registered.xxfi_helo(ctx, buf);
	passes(rc, "helo");
	return rc;
}

static sfsistat
mail_from(SMFICTX *ctx)
{
	char from[] = "<sender@client.example>";
	char *argv[] = { from, NULL };
	sfsistat rc;

	rc = registered.xxfi_envfrom(ctx, argv);
	passes(rc, "envfrom");
	assert_int_equal(rc, SMFIS_ACCEPT);	/* nothing more to see */
	return rc;
}

static void
close_ctx(SMFICTX *ctx)
{
	sfsistat rc = registered.xxfi_close(ctx);

	passes(rc, "close");
	assert_null(ctx->priv);
}

static int
drain(void)
{
	struct stats_plaintext p;
	int n = 0;

	while (stats_take_plaintext(&p))
		n++;
	return n;
}

/* The one plaintext session queued since the last drain. */
static void
queued(const char *listener_addr, unsigned port, const char *client)
{
	struct stats_plaintext p;

	if (!stats_take_plaintext(&p))
		fail_msg("no plaintext session queued for G6");
	assert_string_equal(p.listener, listener_addr);
	assert_int_equal(p.port, port);
	assert_string_equal(p.client, client);
	assert_int_equal(drain(), 0);
}

static int
setup(void **state)
{
	(void)state;
	drain();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	drain();
	return 0;
}

/* ------------------------------------------------------------ the tests */

static void trap_handler(void);
static volatile sig_atomic_t trap_expected;	/* test_sandbox: quiet */

/* The filter holds: a socket or a file open ends a process that tries. */
static void
test_sandbox(void **state)
{
	static const char *what[] = { "socket", "open", "write" };
	size_t i;
	pid_t pid;
	int status;

	(void)state;
	for (i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			/* cmocka's own SIGSYS handler would go on testing */
			trap_handler();
			trap_expected = 1;
			if (i == 0)
				(void)socket(AF_INET, SOCK_STREAM, 0);
			else if (i == 1)
				(void)open("/dev/null", O_RDONLY);
			else if (write(3, "x", 1) < 0)
				_exit(1);	/* refused, not trapped */
			_exit(0);	/* not trapped */
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 3)
			fail_msg("%s was not trapped by the filter", what[i]);
	}
}

static void
test_register(void **state)
{
	(void)state;
	register_fails = 1;
	assert_int_equal(callbacks_register(), -1);
	register_fails = 0;
	assert_int_equal(callbacks_register(), 0);
	assert_int_equal(register_calls, 2);
	assert_string_equal(registered.xxfi_name, CALLBACKS_NAME);
	assert_int_equal(registered.xxfi_version, SMFI_VERSION);
	/* No message modification of any kind. */
	assert_int_equal(registered.xxfi_flags, 0);
	assert_non_null(registered.xxfi_connect);
	assert_non_null(registered.xxfi_helo);
	assert_non_null(registered.xxfi_envfrom);
	assert_non_null(registered.xxfi_close);
	assert_non_null(registered.xxfi_negotiate);
	/* Nothing after MAIL FROM: the message itself is never seen. */
	assert_null(registered.xxfi_envrcpt);
	assert_null(registered.xxfi_header);
	assert_null(registered.xxfi_eoh);
	assert_null(registered.xxfi_body);
	assert_null(registered.xxfi_eom);
	assert_null(registered.xxfi_abort);
	assert_null(registered.xxfi_unknown);
	assert_null(registered.xxfi_data);
}

/*
 * Before any negotiation offered the no-reply bits, connect and HELO
 * answer CONTINUE (an MTA waits for an answer). Runs before
 * test_negotiate, which turns no-reply on for the process.
 */
static void
test_without_noreply(void **state)
{
	SMFICTX ctx;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(connect_in(&ctx, "192.0.2.1"), SMFIS_CONTINUE);
	assert_int_equal(helo(&ctx, "client.example"), SMFIS_CONTINUE);
	close_ctx(&ctx);
}

static void
test_negotiate(void **state)
{
	const unsigned long skip = SMFIP_NORCPT | SMFIP_NOHDRS |
	    SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA;
	const unsigned long noreply = SMFIP_NR_CONN | SMFIP_NR_HELO;
	unsigned long p0, p1, p2, p3;
	SMFICTX ctx;

	(void)state;
	/* An MTA that offers little: only what it offers is asked for. */
	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(registered.xxfi_negotiate(&ctx, 0, SMFIP_NOBODY, 0,
	    0, &p0, &p1, &p2, &p3), SMFIS_CONTINUE);
	assert_int_equal(p0, 0);
	assert_int_equal(p1, SMFIP_NOBODY);
	assert_int_equal(p2, 0);
	assert_int_equal(p3, 0);
	assert_int_equal(ctx.symlist_calls, 0);
	/* Still no no-reply: connect must answer. */
	assert_int_equal(connect_in(&ctx, "192.0.2.1"), SMFIS_CONTINUE);
	close_ctx(&ctx);

	/* SMFIF_SETSYMLIST offered but refused: not claimed. */
	memset(&ctx, 0, sizeof(ctx));
	ctx.setsymlist_fails = 1;
	assert_int_equal(registered.xxfi_negotiate(&ctx, SMFIF_SETSYMLIST,
	    0, 0, 0, &p0, &p1, &p2, &p3), SMFIS_CONTINUE);
	assert_int_equal(p0, 0);
	assert_true(ctx.symlist_calls >= 1);

	/*
	 * Everything offered: every step after MAIL FROM skipped, connect
	 * and HELO without reply, but connect, HELO and MAIL FROM still
	 * sent, and no reply skipped that is not ours to skip.
	 */
	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(registered.xxfi_negotiate(&ctx,
	    SMFIF_SETSYMLIST | SMFIF_ADDHDRS | SMFIF_CHGBODY,
	    0x003fffffUL, 0, 0, &p0, &p1, &p2, &p3), SMFIS_CONTINUE);
	assert_int_equal(p0, SMFIF_SETSYMLIST);	/* no modification */
	assert_int_equal(p1, skip | noreply);
	assert_int_equal(p1 & (SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL),
	    0);
	assert_int_equal(ctx.symlist_calls, 2);
	/* The macros each stage needs, asked for at that stage. */
	assert_true(has_word(ctx.symlist[SMFIM_ENVFROM], "{tls_version}"));
	assert_true(has_word(ctx.symlist[SMFIM_ENVFROM], "{cipher}"));
	assert_true(has_word(ctx.symlist[SMFIM_ENVFROM], "{daemon_addr}"));
	assert_true(has_word(ctx.symlist[SMFIM_ENVFROM], "{daemon_port}"));
	assert_true(has_word(ctx.symlist[SMFIM_CONNECT], "{daemon_addr}"));
	assert_true(has_word(ctx.symlist[SMFIM_CONNECT], "{daemon_flags}"));
	assert_true(has_word(ctx.symlist[SMFIM_CONNECT], "{client_addr}"));
	/* TLS is not known at connect: asking then would be wrong. */
	assert_false(has_word(ctx.symlist[SMFIM_CONNECT], "{tls_version}"));
	memcpy(negotiated, ctx.symlist, sizeof(negotiated));

	/* From now on connect and HELO do not answer. */
	assert_int_equal(connect_in(&ctx, "192.0.2.1"), SMFIS_NOREPLY);
	assert_int_equal(helo(&ctx, "client.example"), SMFIS_NOREPLY);
	close_ctx(&ctx);
}

/* Postfix, STARTTLS: the TLS macros are read at MAIL FROM. */
static void
test_postfix_tls(void **state)
{
	struct stats_listener l;
	unsigned long before = stats_connections();
	SMFICTX ctx;
	void *priv;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	macro(&ctx, "{daemon_addr}", "198.51.100.1");
	macro(&ctx, "{daemon_port}", "2501");
	connect_in(&ctx, "192.0.2.10");
	assert_int_equal(stats_connections(), before + 1);
	assert_non_null(ctx.priv);
	priv = ctx.priv;
	asked_within(&ctx, negotiated[SMFIM_CONNECT], "connect");
	helo(&ctx, "client.example");
	/* HELO reads no macro: the TLS ones are not there yet. */
	assert_string_equal(ctx.asked, "");
	macro(&ctx, "{tls_version}", "TLSv1.3");
	macro(&ctx, "{cipher}", "TLS_AES_256_GCM_SHA384");
	macro(&ctx, "{cipher_bits}", "256");
	helo(&ctx, "client.example");
	ctx.asked[0] = '\0';
	mail_from(&ctx);
	assert_true(has_word(ctx.asked, "{tls_version}"));
	asked_within(&ctx, negotiated[SMFIM_ENVFROM], "envfrom");
	/* The same pointer throughout: one session. */
	assert_ptr_equal(ctx.priv, priv);

	l = listener("198.51.100.1", 2501);
	assert_int_equal(l.sessions, 1);
	assert_int_equal(l.tls, 1);
	assert_int_equal(l.plaintext, 0);
	assert_int_equal(l.versions[STATS_TLS_1_3], 1);
	assert_int_equal(l.no_starttls, 0);
	assert_int_equal(drain(), 0);	/* TLS: nothing for G6 */

	/* A second message of the session is not a second session. */
	mail_from(&ctx);
	assert_int_equal(listener("198.51.100.1", 2501).sessions, 1);
	close_ctx(&ctx);
	assert_int_equal(listener("198.51.100.1", 2501).sessions, 1);
}

/* Postfix, plaintext over IPv6: counted and queued for G6. */
static void
test_postfix_plaintext(void **state)
{
	struct stats_listener l;
	SMFICTX ctx;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	macro(&ctx, "{daemon_addr}", "IPv6:2001:db8::1");
	macro(&ctx, "{daemon_port}", "2502");
	connect_in(&ctx, "2001:db8::25");
	helo(&ctx, "plain.example");
	mail_from(&ctx);
	l = listener("2001:db8::1", 2502);
	assert_int_equal(l.sessions, 1);
	assert_int_equal(l.plaintext, 1);
	assert_int_equal(l.tls, 0);
	queued("2001:db8::1", 2502, "2001:db8::25");
	close_ctx(&ctx);
}

/* A cipher without a version is TLS all the same. */
static void
test_cipher_without_version(void **state)
{
	struct stats_listener l;
	SMFICTX ctx;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	macro(&ctx, "{daemon_addr}", "198.51.100.1");
	macro(&ctx, "{daemon_port}", "2504");
	connect_in(&ctx, "192.0.2.12");
	helo(&ctx, "odd.example");
	macro(&ctx, "{cipher}", "ECDHE-RSA-AES256-GCM-SHA384");
	mail_from(&ctx);
	l = listener("198.51.100.1", 2504);
	assert_int_equal(l.sessions, 1);
	assert_int_equal(l.tls, 1);
	assert_int_equal(l.plaintext, 0);
	assert_int_equal(l.versions[STATS_TLS_OTHER], 1);
	assert_int_equal(drain(), 0);
	close_ctx(&ctx);
}

/*
 * The guard's own probes (their HELO name) are not counted, and the
 * name that counts is the last HELO: the one after STARTTLS.
 */
static void
test_probe_helo(void **state)
{
	SMFICTX ctx;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	macro(&ctx, "{daemon_addr}", "198.51.100.1");
	macro(&ctx, "{daemon_port}", "2505");
	connect_in(&ctx, "127.0.0.1");
	helo(&ctx, "someone.example");
	helo(&ctx, "DANEGUARD-PROBE.mx1.example.test");
	mail_from(&ctx);
	close_ctx(&ctx);
	assert_false(has_listener("198.51.100.1", 2505));
	assert_int_equal(drain(), 0);

	memset(&ctx, 0, sizeof(ctx));
	macro(&ctx, "{daemon_addr}", "198.51.100.1");
	macro(&ctx, "{daemon_port}", "2505");
	connect_in(&ctx, "127.0.0.1");
	helo(&ctx, PROBE_HELO);
	helo(&ctx, "someone.example");
	mail_from(&ctx);
	close_ctx(&ctx);
	assert_int_equal(listener("198.51.100.1", 2505).sessions, 1);
	queued("198.51.100.1", 2505, "127.0.0.1");
}

/*
 * sendmail: {daemon_addr} 0.0.0.0 for a daemon on every address, the
 * interface in {if_addr}; the client in {client_addr} when the address
 * given to connect is not IP (a local socket); the daemon's name and
 * its M=S ("no STARTTLS here") in {daemon_name} and {daemon_flags}.
 */
static void
test_sendmail(void **state)
{
	struct sockaddr_un sun;
	struct stats_listener l;
	char name[] = "localhost";
	SMFICTX ctx;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	macro(&ctx, "{daemon_addr}", "0.0.0.0");
	macro(&ctx, "{if_addr}", "198.51.100.3");
	macro(&ctx, "{daemon_port}", "2503");
	macro(&ctx, "{daemon_name}", "MTA-NoTLS");
	macro(&ctx, "{daemon_flags}", "SS");
	macro(&ctx, "{client_addr}", "IPv6:2001:db8:0:0:0:0:0:26");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	passes(registered.xxfi_connect(&ctx, name,
	    (struct sockaddr *)&sun), "connect");
	asked_within(&ctx, negotiated[SMFIM_CONNECT], "connect");
	/*
	 * What connect read is kept: the callbacks do not count on the
	 * MTA sending the connect macros again at MAIL FROM.
	 */
	macro(&ctx, "{daemon_name}", NULL);
	macro(&ctx, "{daemon_flags}", NULL);
	macro(&ctx, "{client_addr}", NULL);
	helo(&ctx, "sm.example");
	mail_from(&ctx);
	l = listener("198.51.100.3", 2503);
	assert_int_equal(l.sessions, 1);
	assert_int_equal(l.plaintext, 1);
	assert_int_equal(l.no_starttls, 1);
	assert_int_equal(l.no_starttls_latest, 1);
	assert_string_equal(l.name, "MTA-NoTLS");
	queued("198.51.100.3", 2503, "2001:db8::26");
	close_ctx(&ctx);

	/* IPv6 daemon on every address, no client at all: still counted. */
	memset(&ctx, 0, sizeof(ctx));
	macro(&ctx, "{daemon_addr}", "IPv6:::");
	macro(&ctx, "{if_addr}", "IPv6:2001:db8:0:0:0:0:0:3");
	macro(&ctx, "{daemon_port}", "2503");
	macro(&ctx, "{daemon_name}", "MTA-v6");
	connect_in(&ctx, NULL);
	helo(&ctx, "sm.example");
	macro(&ctx, "{tls_version}", "TLSv1.2");
	mail_from(&ctx);
	l = listener("2001:db8::3", 2503);
	assert_int_equal(l.sessions, 1);
	assert_int_equal(l.versions[STATS_TLS_1_2], 1);
	assert_int_equal(l.no_starttls, 0);
	assert_string_equal(l.name, "MTA-v6");
	close_ctx(&ctx);
}

/*
 * Postfix after XCLIENT starts a new milter connection whose connect
 * has no listener macros: the listener is taken at MAIL FROM, from the
 * macros asked for there.
 */
static void
test_listener_at_mail_from(void **state)
{
	SMFICTX ctx;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	connect_in(&ctx, "192.0.2.40");
	helo(&ctx, "xclient.example");
	macro(&ctx, "{daemon_addr}", "198.51.100.6");
	macro(&ctx, "{daemon_port}", "2506");
	macro(&ctx, "{tls_version}", "TLSv1.2");
	ctx.asked[0] = '\0';
	mail_from(&ctx);
	asked_within(&ctx, negotiated[SMFIM_ENVFROM], "envfrom");
	assert_int_equal(listener("198.51.100.6", 2506).sessions, 1);
	assert_int_equal(listener("198.51.100.6", 2506).tls, 1);
	close_ctx(&ctx);
}

/*
 * SMFIC_QUIT_NC: libmilter calls close, then connect again on the same
 * context; and connect may also come again without a close. Each
 * connect starts a fresh session: nothing of the last one (its HELO,
 * its "already counted") carries over.
 */
static void
test_context_reuse(void **state)
{
	SMFICTX ctx;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	macro(&ctx, "{daemon_addr}", "198.51.100.7");
	macro(&ctx, "{daemon_port}", "2507");
	connect_in(&ctx, "192.0.2.50");
	helo(&ctx, PROBE_HELO);
	mail_from(&ctx);		/* the probe: not counted */
	assert_false(has_listener("198.51.100.7", 2507));

	connect_in(&ctx, "192.0.2.51");	/* reused without close */
	mail_from(&ctx);		/* no HELO this time */
	assert_int_equal(listener("198.51.100.7", 2507).sessions, 1);
	queued("198.51.100.7", 2507, "192.0.2.51");

	close_ctx(&ctx);
	connect_in(&ctx, "192.0.2.52");	/* after close */
	helo(&ctx, "again.example");
	mail_from(&ctx);
	assert_int_equal(listener("198.51.100.7", 2507).sessions, 2);
	queued("198.51.100.7", 2507, "192.0.2.52");
	close_ctx(&ctx);

	/* close without a connect (libmilter may): nothing to free. */
	memset(&ctx, 0, sizeof(ctx));
	close_ctx(&ctx);
}

/* ------------------------------------------------------------ the filter */

static void
trapped(int sig, siginfo_t *si, void *uc)
{
	char msg[96];
	int n;

	(void)sig;
	(void)uc;
	if (trap_expected)
		_exit(3);
	n = snprintf(msg, sizeof(msg), "test_callbacks: system call %d "
	    "trapped (network or disk I/O)\n", si->si_syscall);
	if (n > 0 && write(2, msg, (size_t)n) < 0)
		n = 0;		/* nothing more to do */
	_exit(3);
}

static void
trap_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = trapped;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
}

#define DENY(nr) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP)
/* A write-like call: allowed on descriptors 0-2 only. */
#define DENY_FD(nr) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4), \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LOW), \
	BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 2, 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#if __BYTE_ORDER == __LITTLE_ENDIAN
#define ARG0_LOW	offsetof(struct seccomp_data, args[0])
#else
#define ARG0_LOW	(offsetof(struct seccomp_data, args[0]) + 4)
#endif

/* The native system calls only: enough to keep this test honest. */
static int
sandbox(void)
{
	static struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
#ifdef SYS_open
		DENY(SYS_open),
#endif
#ifdef SYS_creat
		DENY(SYS_creat),
#endif
#ifdef SYS_rename
		DENY(SYS_rename),
#endif
#ifdef SYS_unlink
		DENY(SYS_unlink),
#endif
#ifdef SYS_mkdir
		DENY(SYS_mkdir),
#endif
#ifdef SYS_openat2
		DENY(SYS_openat2),
#endif
		DENY(SYS_openat),
		DENY(SYS_renameat),
		DENY(SYS_renameat2),
		DENY(SYS_unlinkat),
		DENY(SYS_mkdirat),
		DENY(SYS_truncate),
		DENY(SYS_socket),
		DENY(SYS_socketpair),
		DENY(SYS_connect),
		DENY(SYS_bind),
		DENY(SYS_sendto),
		DENY(SYS_sendmsg),
		DENY(SYS_sendmmsg),
		DENY_FD(SYS_write),
		DENY_FD(SYS_writev),
		DENY_FD(SYS_pwrite64),
		DENY_FD(SYS_pwritev),
		DENY_FD(SYS_ftruncate),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(f) / sizeof(f[0]),
		.filter = f,
	};

	trap_handler();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) {
		fprintf(stderr, "test_callbacks: cannot install the seccomp "
		    "filter: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sandbox),
		cmocka_unit_test(test_register),
		/* before test_negotiate: no-reply is per process */
		cmocka_unit_test_setup_teardown(test_without_noreply, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_negotiate, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_postfix_tls, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_postfix_plaintext, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cipher_without_version,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_helo, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sendmail, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_listener_at_mail_from,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_context_reuse, setup,
		    teardown),
	};
	pid_t pid;
	int status, rc;

	stats_init(PROBE_HELO);
	fflush(NULL);
	if ((pid = fork()) < 0) {
		perror("test_callbacks: fork");
		return 1;
	}
	if (pid == 0) {
		if (sandbox() < 0)
			_exit(1);
		rc = cmocka_run_group_tests(tests, NULL, NULL);
		fflush(NULL);
		_exit(rc == 0 ? 0 : 1);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			perror("test_callbacks: waitpid");
			return 1;
		}
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "test_callbacks: the tests died of signal %d\n",
		    WTERMSIG(status));
		return 1;
	}
	return WEXITSTATUS(status) == 0 ? 0 : 1;
}
