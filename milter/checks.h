/*
 * checks - one sweep: probe every (host, address, algorithm) of the
 * configuration in parallel and turn the probe results, the files on disk
 * and the published records into the items of checks G1-G5 and G7
 * (report.h); and the G6 probes that impersonate a client.
 *
 * Sources of "published" records: tlsa_file when set, else the expected
 * set itself (lib/expect, what tlsagen prints) stands in for it, and the
 * G3/G4 reasons say which. DNS-published records will be one more source.
 *
 * The expected set is recomputed at every sweep, so a chain renewed on
 * disk is seen. Private key files may have become unreadable once the
 * daemon dropped its privileges: the chain files are then still read
 * afresh, and a next key that cannot be read any more is taken from the
 * set loaded at start (checks_preload).
 *
 * Nothing here keeps state between calls except struct checks_keep; the
 * guard thread (guard.c) owns the states, their "since" times and logging.
 */
#ifndef DG_CHECKS_H
#define DG_CHECKS_H

#include "conf.h"
#include "errbuf.h"
#include "report.h"

/* What one sweep leaves for the next: the last expected set per host. */
struct checks_keep;

struct checks_keep *checks_keep_new(void);
void checks_keep_free(struct checks_keep *keep);

/*
 * Load the expected set of every host of conf into keep (reading the key
 * files: call it before privileges are dropped). Returns 0, or -1 with
 * err naming the host and the problem.
 */
int checks_preload(const struct conf *conf, struct checks_keep *keep,
    struct errbuf *err);

/*
 * One sweep over conf: add the items of G1-G5 and G7 to out (out->when
 * is used for "since"). helo is the probes' EHLO name. keep may be NULL
 * (--check); otherwise it is updated with the sets loaded now.
 */
void checks_sweep(const struct conf *conf, const char *helo,
    struct checks_keep *keep, struct report *out);

/* A listener on which a client sent mail in plaintext. */
struct checks_g6_target {
	char listener[64];	/* address the client connected to */
	unsigned port;
	char client[64];	/* the client's address */
};

/*
 * G6 with XCLIENT: probe each target's listener as its client (in
 * parallel) and add one G6 item per target to out: CRITICAL when STARTTLS
 * is withheld, OK when it is offered, UNKNOWN when the probe could not
 * tell (unreachable, XCLIENT refused).
 */
void checks_g6(const struct conf *conf, const char *helo,
    const struct checks_g6_target *targets, size_t n, struct report *out);

/* The configured host that listens on addr and port, or NULL. */
const struct conf_host *checks_host_of(const struct conf *conf,
    const char *addr, unsigned port);

#endif
