/*
 * supervise - the daemon's supervisor (supervise.h). It stays root (when
 * started as root) so that a restart reads the key files as the first
 * start did.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "supervise.h"

/* "exited with status 1", "killed by signal 11 (Segmentation fault)". */
static void
child_status(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)%s",
		    WTERMSIG(status), strsignal(WTERMSIG(status)),
		    WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
}

/* Fork the milter process; its pid, with *ready the read end of its
 * "started" pipe. */
static pid_t
milter_fork(const struct supervise_child *child, int resume, int *ready)
{
	pid_t pid, parent = getpid();
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		fatal("pipe");
	if ((pid = fork()) < 0)
		fatal("fork");
	if (pid == 0) {
		/* A supervisor killed outright takes the milter along. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(SUPERVISE_FAIL);
		close(fds[0]);
		exit(child->run(child->arg, resume, fds[1]));
	}
	close(fds[1]);
	*ready = fds[0];
	return pid;
}

/* 1 once the milter process said "R", 0 if it ended before. */
static int
milter_started(int ready)
{
	ssize_t n;
	char c;

	do
		n = read(ready, &c, 1);
	while (n < 0 && errno == EINTR);
	close(ready);
	return n == 1 && c == 'R';
}

/*
 * Wait for the milter process to end, passing on the signals sent to
 * the supervisor (pidfile, systemd's MainPID): HUP, TERM and INT stop
 * it, USR1 and USR2 go to its signal thread. *stopping is set once a
 * stop was passed on. Returns its wait status.
 */
static int
milter_wait(pid_t pid, int *stopping)
{
	sigset_t set;
	int sig, status;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		if ((sig = sigwaitinfo(&set, NULL)) < 0)
			continue;
		if (sig == SIGCHLD)
			continue;
		if (sig == SIGHUP || sig == SIGTERM || sig == SIGINT)
			*stopping = 1;
		kill(pid, sig);
	}
}

/* Sleep seconds unless a stop signal comes; 1 if one came. */
static int
supervisor_pause(int seconds)
{
	struct timespec ts = { seconds, 0 };
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sig = sigtimedwait(&set, NULL, &ts);
	return sig == SIGHUP || sig == SIGTERM || sig == SIGINT;
}

/*
 * The supervisor: runs the milter process and starts it again when it
 * dies (OpenDKIM's AutoRestart): at most RESTART_MAX times within
 * RESTART_WINDOW seconds, each logged with the signal. It stays root
 * (when started as root) so that a restart reads the key files as the
 * first start did. Returns the exit status.
 */
int
supervise(const struct supervise_child *child)
{
	struct timespec now;
	time_t restarts[RESTART_MAX];
	char how[128];
	size_t nrestarts = 0, i;
	int resume = 0, stopping = 0, status, ready;
	pid_t pid;

	for (;;) {
		pid = milter_fork(child, resume, &ready);
		if (milter_started(ready)) {
			child->started();	/* the first time: the parent */
			status = milter_wait(pid, &stopping);
		} else {
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			if (!resume)
				return SUPERVISE_FAIL;	/* the start failed */
		}
		if (stopping || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
			return WIFEXITED(status) ? WEXITSTATUS(status) : 0;

		child_status(status, how, sizeof(how));
		clock_gettime(CLOCK_MONOTONIC, &now);
		for (i = 0; i < nrestarts; )
			if (now.tv_sec - restarts[i] >= RESTART_WINDOW)
				restarts[i] = restarts[--nrestarts];
			else
				i++;
		if (nrestarts == RESTART_MAX) {
			log_warnx("milter process %ld %s; %d restarts within "
			    "%d s: giving up", (long)pid, how, RESTART_MAX,
			    RESTART_WINDOW);
			return SUPERVISE_FAIL;
		}
		restarts[nrestarts++] = now.tv_sec;
		log_warnx("milter process %ld %s; restarting it in %d s "
		    "(restart %zu of at most %d within %d s)", (long)pid, how,
		    RESTART_DELAY, nrestarts, RESTART_MAX, RESTART_WINDOW);
		if (supervisor_pause(RESTART_DELAY))
			return 0;
		resume = 1;
	}
}
