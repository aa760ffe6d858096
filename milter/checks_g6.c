/*
 * checks_g6 - G6 with XCLIENT: a probe that impersonates a client seen
 * in plaintext, on the listener it used (contract in checks.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "expected.h"
#include "probepool.h"
#include "report.h"
#include "xalloc.h"

void
checks_g6(const struct conf *conf, const struct dnscache *dns,
    const char *helo, const struct checks_g6_target *t, size_t n,
    struct report *out)
{
	struct probe_job *jobs;
	struct verdict_base *base;
	const struct conf_host *hb;
	size_t i;

	if (n == 0)
		return;
	jobs = xcalloc(n, sizeof(*jobs));
	base = xcalloc(n, sizeof(*base));
	for (i = 0; i < n; i++) {
		/* The SNI a sender sends to this listener's host. */
		if ((hb = checks_host_dns(conf, dns, t[i].listener,
		    t[i].port)) != NULL) {
			checks_base_domain(conf, hb, dns, &base[i]);
			jobs[i].params.sni = base[i].name;
		}
		jobs[i].params.addr = t[i].listener;
		jobs[i].params.port = t[i].port;
		jobs[i].params.helo = helo;
		jobs[i].params.alg = NULL;
		jobs[i].params.xclient = t[i].client;
		jobs[i].params.timeout_ms = checks_timeout_ms(conf);
	}
	probepool_run(jobs, n);
	for (i = 0; i < n; i++) {
		const struct probe_result *r = &jobs[i].res;
		const struct conf_host *h = checks_host_dns(conf, dns,
		    t[i].listener, t[i].port);
		const char *host = h != NULL ? checks_host_name(h) : "";
		char lst[80];

		/* The port belongs to the key: 25 and 587 often share an address. */
		report_listener(t[i].listener, t[i].port, lst, sizeof(lst));
		switch (r->status) {
		case PROBE_NO_STARTTLS:
		case PROBE_STARTTLS_REFUSED:
			report_add(out, CHECK_G6, host, lst, NULL,
			    t[i].client, VERDICT_CRITICAL, "STARTTLS withheld "
			    "from client %s on listener %s: %s",
			    t[i].client, lst, r->detail);
			break;
		case PROBE_NO_XCLIENT:
			report_add(out, CHECK_G6, host, lst, NULL,
			    t[i].client, VERDICT_UNKNOWN, "cannot impersonate "
			    "%s: %s (authorise the guard's address, e.g. "
			    "Postfix smtpd_authorized_xclient_hosts, or set "
			    "xclient = no)", t[i].client, r->detail);
			break;
		case PROBE_UNREACHABLE:
		case PROBE_TIMEOUT:
		case PROBE_PROTOCOL:
			if (r->step < PROBE_STEP_HANDSHAKE) {
				report_add(out, CHECK_G6, host, lst,
				    NULL, t[i].client, VERDICT_UNKNOWN,
				    "%s at %s: %s",
				    probe_status_name(r->status),
				    probe_step_name(r->step), r->detail);
				break;
			}
			/* STARTTLS was accepted: it was offered. */
			/* FALLTHROUGH */
		case PROBE_OK:
		case PROBE_TLS_FAILED:
		case PROBE_TLS_OLD:
			report_add(out, CHECK_G6, host, lst, NULL,
			    t[i].client, VERDICT_OK, "STARTTLS offered to "
			    "client %s on listener %s", t[i].client, lst);
			break;
		}
		probe_result_clear(&jobs[i].res);
	}
	free(base);
	free(jobs);
}
