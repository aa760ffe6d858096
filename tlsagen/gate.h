/*
 * gate - tlsagen --check --dns: the pre-deploy gate.
 *
 * Before a renewed chain (or the next key) goes live, every authoritative
 * nameserver of the zone must already serve a validly signed record that
 * matches it, and must have served it for long enough (--min-age, default
 * 2 x TTL) that no resolver still holds only the old set in its cache.
 * The nameservers are found and asked by lib/dnsauth; the records are
 * matched with OpenSSL's DANE verification (lib/match, the guard's G3
 * rule); first-seen times live in lib/firstseen's state file.
 */
#ifndef TLSAGEN_GATE_H
#define TLSAGEN_GATE_H

#include <time.h>

#include "dns.h"
#include "dnsauth.h"
#include "expect.h"
#include "inputs.h"
#include "options.h"

/*
 * The resolver settings of the gate and of --sync: the configuration's
 * dns section, overridden by --resolver-config and --timeout.
 */
void gate_settings(const struct options *o, const struct conf *conf,
    struct dnsauth_settings *settings);

/* The first-seen state file: STATE_DIR/firstseen (caller frees). */
char *gate_state_path(const struct conf *conf);

/*
 * Where senders look for e's records (RFC 7672 section 2.2.3), asked
 * through ctx: *eb is a copy of e whose host and owner are the secure
 * CNAME expansion of e's host name when its A or AAAA lookup shows one,
 * unless the expansion has no TLSA records (a validated denial, or an
 * insecure answer: senders fall back to the original name); else e's.
 * Says which name it follows on standard error. The gate and --sync both
 * use it; free with gate_base_free(eb, e).
 */
void gate_base(struct dns_ctx *ctx, const struct expect *e, int timeout_ms,
    struct expect *eb);
void gate_base_free(struct expect *eb, const struct expect *e);

/*
 * Check every host of r at every nameserver address of its zone; print
 * one line per address and a verdict line on standard output, errors on
 * standard error. Returns the exit status: 0 every address passes, 1 one
 * lacks a record, has it too young, or is bogus, insecure or unreachable
 * while others answer, 2 on errors (no zone or NS, every address
 * unreachable, resolver settings, state file).
 */
int gate_run(const struct options *o, const struct run *r, time_t now);

#endif
