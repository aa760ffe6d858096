/*
 * probe-tool - run one probe_run from the command line, for the lab tests.
 *
 *	probe-tool [-a ALG] [-x CLIENT] [-t MS] [-H HELO] ADDR PORT
 *
 * Prints key=value lines that a shell test can grep:
 *	status=ok step=done elapsed_ms=12
 *	detail=TLSv1.3 TLS_AES_256_GCM_SHA384 rsa-2048 certificate, chain of 2
 *	starttls=1 version=TLSv1.3 cipher=... alg=rsa-2048
 *	chain=2
 *	leaf_311=3 1 1 <hex>
 * Exit status: 0 when the probe ran (whatever its status), 2 for bad
 * arguments.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "errbuf.h"
#include "probe.h"
#include "tlsa.h"

static void
usage(void)
{
	fprintf(stderr, "usage: probe-tool [-a rsa|ecdsa|ed25519|ed448] "
	    "[-x CLIENT-ADDR] [-t TIMEOUT-MS] [-H HELO] ADDR PORT\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct probe_params p = { 0 };
	struct probe_result res;
	struct tlsa_type t311 = { 3, 1, 1 };
	struct tlsa_record rec;
	struct errbuf err;
	char *hex, *end;
	int ch;

	p.helo = "probe.daneguard.invalid";
	p.timeout_ms = 5000;
	while ((ch = getopt(argc, argv, "a:x:t:H:")) != -1) {
		switch (ch) {
		case 'a':
			p.alg = optarg;
			break;
		case 'x':
			p.xclient = optarg;
			break;
		case 't':
			p.timeout_ms = (int)strtol(optarg, &end, 10);
			if (*end != '\0')
				usage();
			break;
		case 'H':
			p.helo = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	p.addr = argv[optind];
	p.port = (unsigned)strtoul(argv[optind + 1], &end, 10);
	if (*end != '\0')
		usage();

	if (probe_run(&p, &res) < 0) {
		fprintf(stderr, "probe-tool: %s\n", res.detail);
		return 2;
	}
	printf("status=%s step=%s elapsed_ms=%ld\n",
	    probe_status_name(res.status), probe_step_name(res.step),
	    res.elapsed_ms);
	printf("detail=%s\n", res.detail);
	printf("starttls=%d version=%s cipher=%s alg=%s\n", res.starttls,
	    res.version, res.cipher, res.alg);
	if (res.chain != NULL) {
		printf("chain=%d\n", sk_X509_num(res.chain));
		if (tlsa_record_from_cert(&rec, t311,
		    sk_X509_value(res.chain, 0), &err) < 0) {
			fprintf(stderr, "probe-tool: %s\n", err.msg);
		} else {
			hex = tlsa_hex(rec.data, rec.len);
			printf("leaf_311=3 1 1 %s\n", hex);
			free(hex);
			tlsa_record_clear(&rec);
		}
	}
	probe_result_clear(&res);
	return 0;
}
