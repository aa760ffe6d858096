/*
 * probepool - see probepool.h.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>

#include "probepool.h"

struct pool {
	struct probe_job *jobs;
	size_t n, next;
	pthread_mutex_t mu;
};

static void *
pool_worker(void *arg)
{
	struct pool *p = arg;
	struct probe_params pp;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			break;
		pp = p->jobs[i].params;
		if (p->jobs[i].dial != NULL)
			pp.addr = p->jobs[i].dial;
		if (probe_run(&pp, &p->jobs[i].res) < 0 &&
		    p->jobs[i].res.detail[0] == '\0')
			snprintf(p->jobs[i].res.detail,
			    sizeof(p->jobs[i].res.detail), "bad probe "
			    "parameters");
	}
	return NULL;
}

void
probepool_run(struct probe_job *jobs, size_t n)
{
	pthread_t tids[PROBEPOOL_THREADS_MAX];
	struct pool p;
	size_t i, started = 0, want;

	if (n == 0)
		return;
	p.jobs = jobs;
	p.n = n;
	p.next = 0;
	pthread_mutex_init(&p.mu, NULL);
	want = n < PROBEPOOL_THREADS_MAX ? n : PROBEPOOL_THREADS_MAX;
	for (i = 0; i < want; i++) {
		if (pthread_create(&tids[i], NULL, pool_worker, &p) != 0)
			break;
		started++;
	}
	/* Without any thread (resource limits) the jobs still run, here. */
	if (started == 0)
		pool_worker(&p);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_mutex_destroy(&p.mu);
}
