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
 * Adding a check on the same queries (G9): put its questions next to
 * the TLSA owners in g8_zone's batch (dnsauth_ask) and judge the answers
 * in the per-server loop there; it runs on the same schedule.
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

/* One host to check: name, port and TLSA base domain (NULL: the name). */
struct checks_g8_host {
	const char *host;
	unsigned port;
	const char *base;
};

/*
 * The resolver settings of conf's dns section for lib/dnsauth, with
 * probe_timeout per query (as the gate's).
 */
void checks_g8_settings(const struct conf *conf, struct dnsauth_settings *s);

/*
 * G8 of the n hosts into out: the zones found through ctx (the
 * validating resolver of s), every address asked with s. served (may be
 * NULL: every TLSA verdict UNKNOWN) gives the chains to match; mem (may
 * be NULL: a one-off check, lag never a WARNING) the lag history, judged
 * at now (duration_clock()). Needs no configuration file: daneguard
 * --check --remote calls it with a host name.
 */
void checks_g8_hosts(const struct checks_g8_host *hosts, size_t n,
    const struct dnsauth_settings *s, struct dns_ctx *ctx,
    const struct checks_served *served, struct checks_g8_memory *mem,
    time_t now, struct report *out);

/* 1 when conf has G8 on: ns_interval > 0, no tlsa_file, some host. */
int checks_g8_enabled(const struct conf *conf);

/*
 * The pass over every host of conf (their TLSA base domains from dns,
 * which may be NULL), as checks_g8_hosts.
 */
void checks_g8(const struct conf *conf, const struct dnscache *dns,
    const struct dnsauth_settings *s, struct dns_ctx *ctx,
    const struct checks_served *served, struct checks_g8_memory *mem,
    time_t now, struct report *out);

#endif
