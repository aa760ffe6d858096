/*
 * supervise - the daemon's supervisor: runs the milter process and starts
 * it again when it dies (OpenDKIM's AutoRestart), passing on the signals
 * sent to it (the pidfile and systemd's MainPID name the supervisor).
 */
#ifndef DG_SUPERVISE_H
#define DG_SUPERVISE_H

/* The supervisor starts a milter process that died again after
 * RESTART_DELAY seconds, and gives up (exit 1) after RESTART_MAX
 * restarts within RESTART_WINDOW seconds. */
#define RESTART_DELAY	1
#define RESTART_MAX	10
#define RESTART_WINDOW	600

#define SUPERVISE_FAIL	1	/* the start failed, or too many restarts */

struct supervise_child {
	/* The milter process, in a child that dies with the supervisor:
	 * resume is 1 on a restart after a crash; it writes "R" to ready
	 * once started. Returns its exit status. */
	int (*run)(void *arg, int resume, int ready);
	void *arg;
	/* Called in the supervisor each time a milter process started. */
	void (*started)(void);
};

/*
 * Run child->run in a child process and start it again when it dies: at
 * most RESTART_MAX times within RESTART_WINDOW seconds, each logged with
 * the signal. HUP, TERM and INT stop it, USR1 and USR2 are passed on;
 * these and CHLD must be blocked in the caller. Returns the exit status:
 * the milter process's once stopped, SUPERVISE_FAIL when the first start
 * failed or after too many restarts.
 */
int supervise(const struct supervise_child *child);

#endif
