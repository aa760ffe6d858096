/*
 * dns-tool - one lib/dns.c lookup from the command line, for the lab tests.
 *
 *	dns-tool [--anchor FILE] [--config FILE] [--resolver ADDR]
 *	    [--timeout MS] NAME TYPE
 *	dns-tool ... --tlsa HOST PORT
 *
 * TYPE is A, AAAA or TLSA. Prints key=value lines a shell test can grep:
 *	status=secure ttl=3600 elapsed_ms=12
 *	why=...			(bogus, servfail, timeout, error)
 *	tlsa=3 1 1 <hex>	(one per record)
 *	addr=192.0.2.25		(one per address)
 * Exit status: 0 when the lookup ran (whatever its status), 1 when the
 * context could not be made, 2 for bad arguments.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dns.h"
#include "errbuf.h"
#include "tlsa.h"

static void
usage(void)
{
	fprintf(stderr, "usage: dns-tool [--anchor FILE] [--config FILE] "
	    "[--resolver ADDR] [--timeout MS] NAME A|AAAA|TLSA\n"
	    "       dns-tool [options] --tlsa HOST PORT\n");
	exit(2);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
main(int argc, char **argv)
{
	const char *anchor = NULL, *config = NULL, *resolver = NULL;
	struct dns_ctx *ctx;
	struct dns_answer ans;
	struct errbuf err;
	int i, timeout_ms = 5000, type, tlsa_mode = 0;
	long start;
	size_t k;
	char *line;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--tlsa") == 0) {
			tlsa_mode = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--anchor") == 0)
			anchor = argv[++i];
		else if (strcmp(argv[i], "--config") == 0)
			config = argv[++i];
		else if (strcmp(argv[i], "--resolver") == 0)
			resolver = argv[++i];
		else if (strcmp(argv[i], "--timeout") == 0)
			timeout_ms = atoi(argv[++i]);
		else
			usage();
	}
	if (argc - i != 2)
		usage();
	if (tlsa_mode)
		type = DNS_TYPE_TLSA;
	else if (strcasecmp(argv[i + 1], "A") == 0)
		type = DNS_TYPE_A;
	else if (strcasecmp(argv[i + 1], "AAAA") == 0)
		type = DNS_TYPE_AAAA;
	else if (strcasecmp(argv[i + 1], "TLSA") == 0)
		type = DNS_TYPE_TLSA;
	else
		usage();

	if ((ctx = dns_ctx_new(anchor, resolver, config, &err)) == NULL) {
		fprintf(stderr, "dns-tool: %s\n", err.msg);
		return 1;
	}
	start = now_ms();
	if (tlsa_mode)
		dns_tlsa(ctx, argv[i], (unsigned)atoi(argv[i + 1]),
		    timeout_ms, &ans);
	else
		dns_lookup(ctx, argv[i], type, timeout_ms, &ans);
	printf("status=%s ttl=%ld elapsed_ms=%ld\n",
	    dns_status_name(ans.status), ans.ttl, now_ms() - start);
	printf("rcode=%d havedata=%d nxdomain=%d skipped=%zu\n", ans.rcode,
	    ans.havedata, ans.nxdomain, ans.skipped);
	if (ans.why != NULL)
		printf("why=%s\n", ans.why);
	for (k = 0; k < ans.tlsa.n; k++) {
		line = tlsa_record_format(&ans.tlsa.v[k], TLSA_FORM_RDATA);
		printf("tlsa=%s\n", line != NULL ? line : "?");
		free(line);
		line = tlsa_record_format(&ans.tlsa.v[k], TLSA_FORM_ZONE);
		printf("tlsa_rr=%s\n", line != NULL ? line : "?");
		free(line);
	}
	for (k = 0; k < ans.naddr; k++)
		printf("addr=%s\n", ans.addr[k]);
	dns_answer_clear(&ans);
	dns_ctx_free(ctx);
	return 0;
}
