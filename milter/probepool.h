/*
 * probepool - run many probes (lib/probe) at once: the guard's sweeps
 * and its G6 impersonation probes. A probe mostly waits on the network,
 * so a sweep costs about one probe when they overlap.
 */
#ifndef DG_PROBEPOOL_H
#define DG_PROBEPOOL_H

#include <stddef.h>

#include "probe.h"

/* Most probes running at once: 16 listeners x 2 algorithms in one round. */
#define PROBEPOOL_THREADS_MAX	32

struct probe_job {
	struct probe_params params;	/* in */
	const char *dial;	/* connect here instead of params.addr, which
				 * names the probe in reports (NAT), or NULL */
	struct probe_result res;	/* out; probe_result_clear after */
};

/*
 * Run every job, at most PROBEPOOL_THREADS_MAX at a time; returns when
 * all are done. Without any thread (resource limits) they run here, one
 * after another. Bad parameters leave a result with a detail saying so.
 */
void probepool_run(struct probe_job *jobs, size_t n);

#endif
