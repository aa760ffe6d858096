/*
 * sync - tlsagen --sync: the changes that bring the TLSA records the
 * nameservers publish in line with the files on disk, as nsupdate
 * commands (RFC 2136, TSIG through nsupdate -k) or as JSON for a DNS
 * provider's API.
 *
 * Every authoritative nameserver address of the host's zone is asked (as
 * by the pre-deploy gate, lib/dnsauth) and its answer recorded in the
 * first-seen state. A record that the expected set (lib/expect: chains,
 * next keys, issuers) needs and that some address lacks is added. A
 * published record that nothing needs is deleted only when
 *  - every address answered validly, and serves every needed record,
 *    first seen there at least --min-age ago (default 2 x TTL): the
 *    replacements are in every cache that could hold the old set;
 *  - it does not match the chain the MTA serves now: every probe address
 *    of the host (else its A and AAAA records) is probed for every
 *    algorithm (lib/probe), and a record that matches a served chain is
 *    kept; an address that cannot be probed holds every deletion.
 * Otherwise the deletion is held, with the reason, and tried again at
 * the next run. These rules hold whatever the caller does with the
 * output: there is no dry-run default to forget.
 */
#ifndef TLSAGEN_SYNC_H
#define TLSAGEN_SYNC_H

#include <time.h>

#include "inputs.h"
#include "options.h"

/*
 * Print the changes for every host of r on standard output (o->form:
 * nsupdate or json), errors on standard error. Returns the exit status:
 * 0 nothing held back (the output is everything to do, maybe nothing),
 * 1 some deletion was held back (run again later), 2 on errors (no zone,
 * no nameserver answered, resolver settings, state file).
 */
int sync_run(const struct options *o, const struct run *r, time_t now);

#endif
