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

#endif
