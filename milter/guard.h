/*
 * guard - the background thread that probes this machine's own listeners
 * and keeps the state of checks G1-G7 (DESIGN.md) per host, address and
 * algorithm.
 *
 * A sweep probes every probe address of every configured host once per
 * algorithm (probes in parallel, each step under probe_timeout), holds
 * the served chains against the expected TLSA set (lib/expect: exactly
 * what tlsagen prints) and against the published records: those of
 * tlsa_file when it is set, else the secure TLSA RRset in DNS (kept for
 * its TTL; G7 judges the lookups), and compares served chains with the
 * files on disk. Hosts without a probe list are probed on their A and
 * AAAA records.
 * Sweeps run at start, every probe_interval, within 2 s of a configured
 * certificate or key file changing, on guard_sweep_now (SIGUSR2), and,
 * rate-limited, when the milter saw a plaintext session (G6 re-probes
 * that client through XCLIENT when xclient = yes).
 * Each state change is logged once with key=value fields; status.json and
 * metrics.prom in state_dir are rewritten atomically after every sweep.
 */
#ifndef DG_GUARD_H
#define DG_GUARD_H

#include <stdio.h>

#include "conf.h"
#include "state.h"

/*
 * Start the guard thread over conf (the guard keeps its own reference
 * until guard_reload or guard_stop). resume: a restart after a crash;
 * the states and their "since" times are read back from state_dir
 * first. Returns 0, or -1 after logging.
 */
int guard_start(struct conf *conf, int resume);

/*
 * Let the guard thread begin (its first sweep, its writes to state_dir):
 * call after the privilege drop. Until then it waits.
 */
void guard_release(void);

/* Swap in a new configuration (SIGUSR1, after conf_load succeeded). */
void guard_reload(struct conf *conf);

/* Ask for a sweep now (SIGUSR2); returns at once. */
void guard_sweep_now(void);

/* Stop the thread and free what it holds. */
void guard_stop(void);

/*
 * daneguard --check: one sweep without the milter; prints a one-line
 * summary then a table to out (json: the status.json text instead) and
 * returns the worst state.
 */
enum verdict_state guard_check_once(const struct conf *conf, int json,
    FILE *out);

#endif
