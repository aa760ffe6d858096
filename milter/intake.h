/*
 * intake - daneguard --tlsrpt: TLS-RPT reports (lib/tlsrpt) into the
 * store in state_dir/tlsrpt (lib/tlsrpt_store), from an MTA's pipe
 * (standard input), files, or directories of them (of a Maildir: the
 * messages in new/, moved to cur/ once taken in). Each input gets one log line: counted, already counted
 * (same report-id), too old, or why it is not a report (nothing of it
 * stored).
 */
#ifndef DG_INTAKE_H
#define DG_INTAKE_H

#include <time.h>

#include "conf.h"

/* Exit statuses (sysexits.h), which an MTA pipe understands. */
#define INTAKE_OK	0
#define INTAKE_DATAERR	65	/* not a report: a mail bounces */
#define INTAKE_NOINPUT	66	/* a file or directory cannot be read */
#define INTAKE_TEMPFAIL	75	/* the store cannot be written: retried */
#define INTAKE_CONFIG	78	/* the configuration has errors */

/*
 * Take in every path of paths[0..n) ("-" or n == 0: standard input) at
 * time now. Returns the worst exit status: TEMPFAIL, then NOINPUT, then
 * DATAERR, else OK.
 */
int intake_run(const struct conf *conf, char *const *paths, int n,
    time_t now);

/*
 * The spool: state_dir/INTAKE_SPOOL, a Maildir into which the MTA's pipe
 * (daneguard-tlsrpt-spool) writes report mail, and which the running
 * daemon drains, so a pipe process need not load the parser.
 */
#define INTAKE_SPOOL	"tlsrpt-spool"

/*
 * Make the spool (and its tmp/, new/, cur/, mode 0700) where missing, and
 * remove files in tmp/ older than 36 hours (a spooler that died). Returns
 * 0, or -1 when a directory cannot be made (logged).
 */
int intake_spool_tidy(const struct conf *conf, time_t now);

/*
 * Take in at most max messages of the spool's new/ at time now: each one
 * taken in (counted, counted before, too old) or not a report (logged,
 * nothing stored) is removed. Returns how many; *more is 1 when more
 * wait. Returns -1 at the first that the store cannot take, or that
 * cannot be removed (read only new/): it and the rest stay for a later
 * call.
 */
int intake_spool(const struct conf *conf, size_t max, time_t now,
    int *more);

#endif
