/*
 * g6sendmail - see g6sendmail.h.
 *
 * Why G1 from a macro: a daemon with M=S offers no STARTTLS to anyone,
 * and the guard's probes see that only on the addresses they are told to
 * probe; {daemon_flags} names every listener mail really arrives on.
 * Why G6 from a file: Srv_Features S is the administrator withholding
 * STARTTLS per client on purpose or by an old workaround, and a DANE
 * sender among those clients cannot deliver at all. Plaintext shares per
 * listener are reported by the guard itself (xclient = no).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "accessmap.h"
#include "checks.h"
#include "errbuf.h"
#include "g6sendmail.h"
#include "stats.h"

static void
add_g1(const struct conf *conf, struct report *r)
{
	const struct conf_host *h;
	char lst[STATS_ADDR_MAX + 16], daemon[STATS_NAME_MAX + 16];
	size_t i, n = r->nlisteners;

	for (i = 0; i < n; i++) {
		/* r->listeners stays put: report_add grows items only. */
		const struct stats_listener *l = &r->listeners[i];

		if (l->no_starttls == 0)
			continue;
		h = checks_host_of(conf, l->addr, l->port);
		report_listener(l->addr, l->port, lst, sizeof(lst));
		if (l->name[0] != '\0')
			snprintf(daemon, sizeof(daemon), "daemon %s", l->name);
		else
			snprintf(daemon, sizeof(daemon), "the daemon");
		if (l->no_starttls_latest)
			report_add(r, CHECK_G1,
			    h != NULL && h->name ? h->name : "",
			    lst, NULL, NULL, VERDICT_CRITICAL, "sendmail %s "
			    "on %s offers no STARTTLS to anyone ({daemon_flags} "
			    "S: DaemonPortOptions M=S); %lu of %lu sessions "
			    "since start came through it: remove S from its "
			    "M= modifiers", daemon, lst, l->no_starttls,
			    l->sessions);
		else
			report_add(r, CHECK_G1,
			    h != NULL && h->name ? h->name : "",
			    lst, NULL, NULL, VERDICT_OK, "sendmail %s on %s "
			    "offered no STARTTLS for %lu of %lu sessions "
			    "since start ({daemon_flags} S), the latest "
			    "session not", daemon, lst, l->no_starttls,
			    l->sessions);
	}
}

static void
add_g6(const struct conf *conf, struct report *r)
{
	struct accessmap m;
	struct errbuf err;
	const struct accessmap_entry *e;
	size_t i, found = 0;

	if (conf->sendmail_access == NULL)
		return;
	if (accessmap_load(conf->sendmail_access, &m, &err) < 0) {
		report_add(r, CHECK_G6, "", "", NULL, "", VERDICT_UNKNOWN,
		    "cannot read sendmail_access: %s", err.msg);
		return;
	}
	for (i = 0; i < m.n; i++) {
		e = &m.v[i];
		if (strcasecmp(e->tag, "Srv_Features") != 0 ||
		    !accessmap_no_starttls(e->value))
			continue;
		found++;
		report_add(r, CHECK_G6, "", "", NULL, e->key[0] ? e->key : "*",
		    VERDICT_CRITICAL, "STARTTLS withheld from %s%s on every "
		    "sendmail listener: %s:%u has \"Srv_Features:%s %s\" "
		    "(S: no STARTTLS); a DANE sender there cannot deliver. "
		    "Remove the S flag", e->key[0] ? "client " : "every "
		    "client without a more specific entry", e->key,
		    conf->sendmail_access, e->line, e->key, e->value);
	}
	if (found == 0)
		report_add(r, CHECK_G6, "", "", NULL, "", VERDICT_OK, "no "
		    "Srv_Features entry in %s withholds STARTTLS (%zu "
		    "entries read)", conf->sendmail_access, m.n);
	accessmap_free(&m);
}

void
g6sendmail_add(const struct conf *conf, struct report *r)
{
	add_g1(conf, r);
	add_g6(conf, r);
}
