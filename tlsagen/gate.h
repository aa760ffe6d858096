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

#include "dnsauth.h"
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
 * Check every host of r at every nameserver address of its zone; print
 * one line per address and a verdict line on standard output, errors on
 * standard error. Returns the exit status: 0 every address passes, 1 one
 * lacks a record, has it too young, or is bogus, insecure or unreachable
 * while others answer, 2 on errors (no zone or NS, every address
 * unreachable, resolver settings, state file).
 */
int gate_run(const struct options *o, const struct run *r, time_t now);

#endif
