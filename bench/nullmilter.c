/*
 * nullmilter - a milter that does nothing and accepts every message at
 * MAIL FROM: the reference that bench/milter-bench.sh measures daneguard
 * against. What is left is the cost of the milter protocol itself.
 *
 *	nullmilter [-n] -p SOCKSPEC
 *
 * By default it negotiates exactly what daneguard negotiates
 * (milter/callbacks.c): connect and HELO without a reply (SMFIP_NR_CONN,
 * SMFIP_NR_HELO), every stage after MAIL FROM skipped, the same macro
 * lists requested with smfi_setsymlist. The difference between the two is
 * then daneguard's own work, not a protocol choice. With -n it negotiates
 * nothing (every stage is answered; the "naive" milter of LAB.md).
 *
 * On exit (SIGTERM or SIGHUP, which libmilter turns into a clean stop) it
 * prints how many connections and MAIL FROM commands it saw, so that the
 * benchmark can prove that the MTA really talked to it.
 *
 * Built by the benchmark: cc -O2 -o nullmilter nullmilter.c -lmilter
 * -lpthread (Debian package libmilter-dev).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

static unsigned long null_connects;
static unsigned long null_mails;
static int null_naive;

static char null_connect_macros[] =
    "{daemon_addr} {daemon_port} {if_addr} {daemon_name} {daemon_flags} "
    "{client_addr}";
static char null_envfrom_macros[] =
    "{tls_version} {cipher} {cipher_bits} {daemon_addr} {daemon_port} "
    "{if_addr}";

static sfsistat
null_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long skip = SMFIP_NORCPT | SMFIP_NOHDRS |
	    SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA;
	const unsigned long noreply = SMFIP_NR_CONN | SMFIP_NR_HELO;

	(void)f2;
	(void)f3;
	if (null_naive)
		return SMFIS_ALL_OPTS;
	*pf0 = 0;
	*pf1 = f1 & skip;
	*pf2 = 0;
	*pf3 = 0;
	if ((f1 & noreply) == noreply)
		*pf1 |= noreply;
	if ((f0 & SMFIF_SETSYMLIST) != 0 &&
	    smfi_setsymlist(ctx, SMFIM_CONNECT, null_connect_macros) ==
	    MI_SUCCESS &&
	    smfi_setsymlist(ctx, SMFIM_ENVFROM, null_envfrom_macros) ==
	    MI_SUCCESS)
		*pf0 |= SMFIF_SETSYMLIST;
	return SMFIS_CONTINUE;
}

/* No reply where none was negotiated away; libmilter answers otherwise. */
static sfsistat
null_continue(void)
{
	return null_naive ? SMFIS_CONTINUE : SMFIS_NOREPLY;
}

static sfsistat
null_connect(SMFICTX *ctx, char *hostname, struct sockaddr *hostaddr)
{
	(void)ctx;
	(void)hostname;
	(void)hostaddr;
	__atomic_add_fetch(&null_connects, 1, __ATOMIC_RELAXED);
	return null_continue();
}

static sfsistat
null_helo(SMFICTX *ctx, char *helohost)
{
	(void)ctx;
	(void)helohost;
	return null_continue();
}

static sfsistat
null_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	__atomic_add_fetch(&null_mails, 1, __ATOMIC_RELAXED);
	return SMFIS_ACCEPT;
}

int
main(int argc, char **argv)
{
	struct smfiDesc desc;
	const char *sock = NULL;
	int ch, rc;

	while ((ch = getopt(argc, argv, "np:")) != -1) {
		switch (ch) {
		case 'n':
			null_naive = 1;
			break;
		case 'p':
			sock = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (sock == NULL || optind != argc)
		goto usage;

	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = "nullmilter";
	desc.xxfi_version = SMFI_VERSION;
	desc.xxfi_flags = 0;
	desc.xxfi_connect = null_connect;
	desc.xxfi_helo = null_helo;
	desc.xxfi_envfrom = null_envfrom;
	desc.xxfi_negotiate = null_negotiate;

	if (smfi_setconn((char *)sock) != MI_SUCCESS ||
	    smfi_register(desc) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot set up %s\n", sock);
		return 1;
	}
	rc = smfi_main();
	fprintf(stderr, "nullmilter: %lu connects, %lu mail\n",
	    __atomic_load_n(&null_connects, __ATOMIC_RELAXED),
	    __atomic_load_n(&null_mails, __ATOMIC_RELAXED));
	return rc == MI_SUCCESS ? 0 : 1;

usage:
	fprintf(stderr, "usage: nullmilter [-n] -p SOCKSPEC\n");
	return 2;
}
