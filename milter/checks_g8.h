/*
 * checks_g8 - G8, every authoritative nameserver: every address of every
 * NS of the zone that holds each host's TLSA base domain, asked directly
 * and validated (lib/dnsauth), judged by lib/nsverdict (the rules that
 * tlsagen --check --dns shares): CRITICAL when an address serves a TLSA
 * set that does not match a chain the MTA serves (or none, or a bogus or
 * insecure answer), WARNING when its SOA serial has lagged the highest
 * for longer than the SOA refresh, UNKNOWN when it does not answer.
 * One item per (host, nameserver address): addr "NSNAME/ADDRESS".
 *
 * The guard runs a pass every ns_interval, after a changed DNS answer or
 * served chain, on SIGUSR2 and after a reload (guard.c), in the guard's
 * thread between sweeps: every query is under probe_timeout and the
 * addresses are asked in parallel, so a dead nameserver costs a pass
 * about one timeout; daneguard --check runs one after its sweep.
 * Hosts of one zone share one question batch per address (every TLSA
 * owner at once), so many hosts cost about what one does.
 *
 * G9 (checks_g9.c) runs in the same pass: its questions (the RRsets
 * senders need, the apex's DNSKEY and SOA, with their RRSIGs) go in the
 * same batch per address as G8's TLSA owners (ns_zone), and each zone is
 * found once for both.
 */
#ifndef DG_CHECKS_G8_H
#define DG_CHECKS_G8_H

#include <time.h>

#include <openssl/x509.h>

#include "conf.h"
#include "dns.h"
#include "dnsauth.h"
#include "dnscache.h"
#include "report.h"

/* The distinct chains a sweep saw served, per (host, port). */
struct checks_served;

struct checks_served *checks_served_new(void);
void checks_served_free(struct checks_served *s);

/* Remember chain (up-referenced; a leaf already held for host, port and
 * alg is not added twice) as served by host:port; alg as probe_result. */
void checks_served_add(struct checks_served *s, const char *host,
    unsigned port, STACK_OF(X509) *chain, const char *alg);

/* 1 when now holds a leaf that before (may be NULL) does not: a chain
 * renewed or reloaded since. */
int checks_served_has_new(const struct checks_served *now,
    const struct checks_served *before);

/* When each (zone, nameserver address) was first seen behind the zone's
 * highest serial, across passes (duration_clock() seconds). */
struct checks_g8_memory;

struct checks_g8_memory *checks_g8_memory_new(void);
void checks_g8_memory_free(struct checks_g8_memory *m);

/*
 * The resolver settings of conf's dns section for lib/dnsauth, with
 * probe_timeout per query (as the gate's).
 */
void checks_g8_settings(const struct conf *conf, struct dnsauth_settings *s);

/* 1 when conf has G8 on: ns_interval > 0, no tlsa_file, some host. */
int checks_g8_enabled(const struct conf *conf);

/* 1 when conf has the nameserver pass on: G8, or G9 (dnssec_health,
 * ns_interval > 0, no tlsa_file, some host or domain). */
int checks_ns_enabled(const struct conf *conf);

/*
 * The nameserver pass over every host of conf (their TLSA base domains
 * from dns, which may be NULL) and, for G9, its domains: the zone of
 * each name found once through ctx (the validating resolver of s; NULL:
 * every item UNKNOWN), hosts of one zone asked together, every address
 * asked with s for G8's and G9's questions in one batch. G8 items (when
 * checks_g8_enabled) judge served (may be NULL: every TLSA verdict
 * UNKNOWN) and the lag history mem (may be NULL: a one-off check, lag
 * never a WARNING) at now (duration_clock()); G9 items (dnssec_health)
 * date the RRSIGs at wall (time()). Needs no configuration file:
 * daneguard --check --remote runs it over a host name.
 */
void checks_ns(const struct conf *conf, const struct dnscache *dns,
    const struct dnsauth_settings *s, struct dns_ctx *ctx,
    const struct checks_served *served, struct checks_g8_memory *mem,
    time_t now, time_t wall, struct report *out);

#endif
