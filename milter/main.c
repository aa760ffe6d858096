/*
 * daneguard - the milter that confirms at runtime that this MTA offers
 * STARTTLS on every listener and serves, for every algorithm, a chain
 * that the published TLSA records match.
 *
 *	daneguard [-fv] [-c FILE] [-p SOCKSPEC] [-u USER[:GROUP]] [-P PIDFILE]
 *	daneguard -n [-c FILE]
 *	daneguard --check [-c FILE]
 *	daneguard --tlsrpt [-fv] [-c FILE] [FILE|DIR|-]...
 *
 * This file holds the options and the daemon chores, in the order they
 * must happen: configuration, milter socket (as root), fork, pidfile,
 * then the supervisor (supervise.c), which forks the milter process and
 * starts it again when it dies (a hostile peer can crash libmilter:
 * daneguard(8)); that process starts the guard (which reads the key files, as root),
 * drops privileges, starts the signal thread and runs smfi_main. The
 * callbacks are in callbacks.c, the probing in guard.c. Exit statuses: 0
 * done, 1 configuration or startup failure, 2 usage; --check: 0 OK,
 * 1 WARNING, 2 CRITICAL, 3 UNKNOWN; --tlsrpt: sysexits (intake.h).
 * See daneguard(8).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "callbacks.h"
#include "checks.h"
#include "conf.h"
#include "dnscache.h"
#include "errbuf.h"
#include "guard.h"
#include "intake.h"
#include "log.h"
#include "paths.h"
#include "supervise.h"
#include "xalloc.h"

#define EXIT_CONF	1	/* configuration or startup failure */
#define EXIT_USAGE	2

enum { OPT_CHECK = 256, OPT_TLSRPT, OPT_REMOTE, OPT_DOMAIN, OPT_JSON };

static const struct option long_options[] = {
	{ "check",	no_argument,	NULL, OPT_CHECK },
	{ "tlsrpt",	no_argument,	NULL, OPT_TLSRPT },
	{ "remote",	no_argument,	NULL, OPT_REMOTE },
	{ "domain",	required_argument, NULL, OPT_DOMAIN },
	{ "json",	no_argument,	NULL, OPT_JSON },
	{ "help",	no_argument,	NULL, 'h' },
	{ "version",	no_argument,	NULL, 'V' },
	{ NULL,		0,		NULL, 0 }
};

struct options {
	const char *conf;
	const char *socket;
	const char *user;
	const char *pidfile;
	int foreground;
	int check_conf;		/* -n */
	int check_once;		/* --check */
	int tlsrpt;		/* --tlsrpt */
	int verbose;
	int conf_given;		/* -c */
	int remote;		/* --remote */
	const char *host;	/* -H */
	const char *domain;	/* --domain */
	int json;		/* --json */
};

/* The configuration file, absolute: SIGUSR1 reloads it after chdir("/"). */
static char *conf_path;
static char *pidfile;
static int ready_fd = -1;	/* write end of the pipe to the parent */
static int detached;		/* daemonise() ran: stderr until ready */

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: daneguard [-fv] [-c FILE] [-p SOCKSPEC] [-u USER[:GROUP]]\n"
"                 [-P PIDFILE]\n"
"       daneguard -n [-c FILE]          check the configuration\n"
"       daneguard --check [--json] [-c FILE]\n"
"                                       one sweep, monitoring-plugin exit\n"
"       daneguard --check [--json] [-c FILE] --remote -H HOST\n"
"       daneguard --check [--json] [-c FILE] --domain DOMAIN\n"
"                                       the same for any MX host or mail\n"
"                                       domain, without keys (-c: only its\n"
"                                       dns section and probe_timeout)\n"
"       daneguard --tlsrpt [-fv] [-c FILE] [FILE|DIR|-]...\n"
"                                       take in TLS-RPT reports\n"
"options:\n"
"  -c FILE          configuration, default " PATHS_CONF "\n"
"  -f               stay in the foreground, log to stderr\n"
"  -n               check the configuration, print \"configuration OK\"\n"
"  -p SOCKSPEC      unix:/PATH, inet:PORT@HOST, inet6:PORT@HOST (or a path)\n"
"  -u USER[:GROUP]  run as USER after opening the socket, default \"user\"\n"
"  -P PIDFILE       write the process id there\n"
"  -v               debug messages\n"
"  -V, --version; -h, --help\n"
"exit status: 0 done, 1 configuration or startup failure, 2 usage;\n"
"--check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN;\n"
"--tlsrpt: 0 taken, 65 not a report, 66 no input, 75 store not writable,\n"
"78 configuration errors\n");
}

/* conf_load's message holds one problem per line; log each. */
static void
log_lines(const char *msg)
{
	const char *p = msg, *nl;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (nl > p)
			log_warnx("%.*s", (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

static struct conf *
load_conf(const char *path)
{
	struct conf *conf;
	struct errbuf err;

	err.msg[0] = '\0';
	if (conf_load(path, &conf, &err) < 0) {
		log_lines(err.msg[0] ? err.msg : "configuration failed");
		return NULL;
	}
	return conf;
}

/* "unix:/p", "local:/p" and a bare "/p" name a unix socket; NULL else. */
static const char *
socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

/* 1 if host (of inet:PORT@HOST) is a loopback address or "localhost". */
static int
host_loopback(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}

/*
 * A TCP milter socket can be reached by every local user (on loopback)
 * or by the network; any peer that reaches it can crash libmilter
 * (daneguard(8), BUGS). Loopback: a warning. Else: -1, an error.
 */
static int
socket_check(const char *spec)
{
	const char *at;

	if (strncmp(spec, "inet:", 5) != 0 && strncmp(spec, "inet6:", 6) != 0)
		return 0;
	at = strchr(spec, '@');
	if (at == NULL || !host_loopback(at + 1)) {
		log_warnx("socket %s: not on loopback; anyone who reaches it "
		    "can crash libmilter (daneguard(8), BUGS): use a unix "
		    "socket, or inet:PORT@127.0.0.1", spec);
		return -1;
	}
	log_warnx("socket %s: every local user can connect; a unix socket "
	    "in a directory of the MTA's group keeps them out (daneguard(8), "
	    "BUGS)", spec);
	return 0;
}

/*
 * Remove a socket file left by a daneguard that did not stop cleanly, but
 * only if it is a socket and nothing answers on it: a running milter
 * keeps its socket, and a file that is not a socket is not ours.
 * libmilter's own removal (smfi_opensocket(true)) checks neither.
 */
static int
socket_remove_stale(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, rc, saved;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		log_warn("%s", path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("%s exists and is not a socket; remove it or choose "
		    "another socket (-p or socket in the configuration)", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("%s: socket path too long (at most %zu bytes)",
		    path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		log_warn("socket");
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	close(fd);
	if (rc == 0) {
		log_warnx("%s: another milter answers on this socket; is "
		    "daneguard already running?", path);
		return -1;
	}
	if (saved != ECONNREFUSED) {
		errno = saved;
		log_warn("%s: cannot tell whether the socket is in use", path);
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		log_warn("%s: cannot remove the stale socket", path);
		return -1;
	}
	log_info("removed stale socket %s", path);
	return 0;
}

/*
 * Over TCP the MTA's no-reply packets (connect, HELO) otherwise wait for
 * Nagle and a delayed ACK, about 40 ms a session. libmilter does not
 * hand out its listening socket, so find it; Linux passes TCP_NODELAY
 * on to every accepted connection.
 */
static void
socket_nodelay(void)
{
	int fd, on = 1, acc, dom;
	socklen_t len;

	for (fd = 3; fd < 1024; fd++) {
		len = sizeof(acc);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0 ||
		    !acc)
			continue;
		len = sizeof(dom);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) < 0 ||
		    (dom != AF_INET && dom != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on)) < 0)
			log_warn("TCP_NODELAY on the milter socket");
		else
			log_debug("TCP_NODELAY on the milter socket (fd %d)",
			    fd);
	}
}

struct user {
	char *name;
	uid_t uid;
	gid_t gid;
};

/* "user" or "user:group"; 0, or -1 after logging. */
static int
user_resolve(const char *spec, struct user *u)
{
	char *name = xstrdup(spec), *group;
	struct passwd *pw;
	struct group *gr;

	if ((group = strchr(name, ':')) != NULL)
		*group++ = '\0';
	errno = 0;
	if (*name == '\0' || (pw = getpwnam(name)) == NULL) {
		log_warnx("user \"%s\" not found; create it or name another "
		    "with -u or user in the configuration", name);
		free(name);
		return -1;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	if (group != NULL && *group != '\0') {
		if ((gr = getgrnam(group)) == NULL) {
			log_warnx("group \"%s\" not found (-u %s)", group,
			    spec);
			free(name);
			return -1;
		}
		u->gid = gr->gr_gid;
	}
	u->name = name;
	return 0;
}

static void
privileges_drop(const struct user *u)
{
	if (initgroups(u->name, u->gid) < 0)
		fatal("initgroups %s", u->name);
	if (setgid(u->gid) < 0)
		fatal("setgid %lu", (unsigned long)u->gid);
	if (setuid(u->uid) < 0)
		fatal("setuid %lu (%s)", (unsigned long)u->uid, u->name);
	if (setuid(0) != -1 || geteuid() != u->uid || getegid() != u->gid)
		fatalx("privileges were not dropped to %s", u->name);
	log_debug("running as %s (uid %lu gid %lu)", u->name,
	    (unsigned long)u->uid, (unsigned long)u->gid);
}

/*
 * Fork into the background. The parent waits until the child says it is
 * ready (or dies), so a start that fails after the fork still fails with
 * exit status 1. Until then the child keeps stderr and copies its
 * warnings there, so the reason is on the terminal, not only in the mail
 * log.
 */
static void
daemonise(void)
{
	int fds[2], null;
	pid_t pid;
	ssize_t n;
	char c;

	if (pipe(fds) < 0)
		fatal("pipe");
	if ((pid = fork()) < 0)
		fatal("fork");
	if (pid > 0) {
		close(fds[1]);
		do
			n = read(fds[0], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n == 1 && c == 'R')
			_exit(0);
		fprintf(stderr, "daneguard: start failed (the reason is above "
		    "and in the mail log)\n");
		_exit(EXIT_CONF);
	}
	close(fds[0]);
	ready_fd = fds[1];
	detached = 1;
	if (setsid() < 0)
		fatal("setsid");
	if (chdir("/") < 0)
		fatal("chdir /");
	if ((null = open("/dev/null", O_RDWR)) < 0)
		fatal("/dev/null");
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	if (null > STDERR_FILENO)
		close(null);
}

/* Started: stderr goes to /dev/null from now on (after daemonise). */
static void
stderr_detach(void)
{
	int null;

	log_set_stderr_copy(0);
	if (!detached || (null = open("/dev/null", O_WRONLY)) < 0)
		return;
	dup2(null, STDERR_FILENO);
	if (null != STDERR_FILENO)
		close(null);
}

static void
daemon_ready(void)
{
	if (ready_fd < 0)
		return;
	if (write(ready_fd, "R", 1) != 1)
		log_warn("telling the parent process we started");
	close(ready_fd);
	ready_fd = -1;
	stderr_detach();
}

/* The pidfile's directory is made (one level, like /run/daneguard). */
static void
pidfile_write(const char *path)
{
	char buf[32], *dir, *slash;
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0644);
	if (fd < 0 && errno == ENOENT && (slash = strrchr(path, '/')) != NULL &&
	    slash != path) {
		dir = xstrndup(path, (size_t)(slash - path));
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			fatal("pidfile %s: cannot make its directory %s", path,
			    dir);
		log_info("made the pidfile directory %s", dir);
		free(dir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
	}
	if (fd < 0)
		fatal("pidfile %s", path);
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n || close(fd) < 0)
		fatal("pidfile %s", path);
}

/*
 * After the privilege drop this fails when root owns the directory; the
 * pidfile is stale then but harmless (nothing reads it at start).
 */
static void
pidfile_remove(void)
{
	if (pidfile == NULL || unlink(pidfile) == 0 || errno == ENOENT)
		return;
	if (errno == EACCES || errno == EPERM)
		log_debug("cannot remove pidfile %s: its directory is not "
		    "writable after the privilege drop", pidfile);
	else
		log_warn("cannot remove pidfile %s", pidfile);
}

/* An absolute copy of path, so that chdir("/") does not move it. */
static char *
path_absolute(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(path);
	return xasprintf("%s/%s", cwd, path);
}

/*
 * SIGUSR2: a sweep, which coalesces any number of requests. A storm of
 * them logs one line, then at most one per SIGUSR2_LOG_INTERVAL seconds
 * that says how many came in between.
 */
#define SIGUSR2_LOG_INTERVAL	10
static void
sweep_requested(void)
{
	static struct timespec last;
	static unsigned long more;
	static int logged;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (logged && now.tv_sec - last.tv_sec < SIGUSR2_LOG_INTERVAL)
		more++;
	else {
		if (more > 0)
			log_info("SIGUSR2: sweep requested (%lu more "
			    "requests before, coalesced)", more);
		else
			log_info("SIGUSR2: sweep requested");
		more = 0;
		last = now;
		logged = 1;
	}
	guard_sweep_now();
}

/* SIGUSR1 reloads the configuration, SIGUSR2 asks for a sweep. */
static void *
signal_thread(void *arg)
{
	sigset_t set;
	struct conf *conf;
	int sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGUSR2) {
			sweep_requested();
			continue;
		}
		if ((conf = load_conf(conf_path)) == NULL) {
			log_warnx("SIGUSR1: %s has errors; keeping the running "
			    "configuration", conf_path);
			continue;
		}
		log_info("SIGUSR1: configuration %s reloaded", conf_path);
		guard_reload(conf);
	}
	return NULL;
}

/*
 * Block the signals that threads must not take: USR1/USR2 go to the
 * signal thread, HUP/TERM/INT to libmilter's own (it blocks them too,
 * but only in the thread that calls smfi_main, after the guard's
 * threads exist), PIPE nowhere, CHLD to the supervisor's sigwaitinfo. Done before any thread starts, so every
 * thread inherits the mask.
 */
static void
signals_block(void)
{
	sigset_t set;
	int rc;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPIPE);
	sigaddset(&set, SIGCHLD);	/* the supervisor waits for it */
	if ((rc = pthread_sigmask(SIG_BLOCK, &set, NULL)) != 0) {
		errno = rc;
		fatal("pthread_sigmask");
	}
}

static int
run_check_conf(const char *path, const char *socket)
{
	struct conf *conf;

	struct dnscache *dns;
	struct errbuf err;
	int rc;

	if ((conf = load_conf(path)) == NULL)
		return EXIT_CONF;
	if (socket_check(socket != NULL ? socket : conf->socket) < 0) {
		conf_free(conf);
		return EXIT_CONF;
	}
	/* The resolver settings are part of the configuration. */
	rc = checks_dns_new(conf, &dns, &err);
	dnscache_free(dns);
	conf_free(conf);
	if (rc < 0) {
		log_warnx("%s: %s", path, err.msg);
		return EXIT_CONF;
	}
	printf("configuration OK\n");
	return 0;
}

/* --check: the monitoring-plugin convention, so a bad file is UNKNOWN. */
static int
run_check_once(const char *path, int json)
{
	struct conf *conf;
	enum verdict_state state;

	/* A probe's write to a peer that hung up must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if ((conf = load_conf(path)) == NULL) {
		printf("DANEGUARD UNKNOWN - %s has errors\n", path);
		return VERDICT_UNKNOWN;
	}
	state = guard_check_once(conf, json, stdout);
	fflush(stdout);
	conf_free(conf);
	return (int)state;
}

/*
 * --check --remote -H HOST, --check --domain DOMAIN: a configuration
 * made here, with one keyless host or one domain; only the dns section
 * and probe_timeout of -c FILE (when given) are used.
 */
static int
run_check_remote(const struct options *o)
{
	const char *name = o->remote ? o->host : o->domain;
	struct conf *conf, *file = NULL;
	struct errbuf err;
	enum verdict_state state;

	signal(SIGPIPE, SIG_IGN);
	if (name == NULL || !conf_hostname_ok(name) || strlen(name) > 240) {
		printf("DANEGUARD UNKNOWN - %s \"%s\" is not a %s name; "
		    "give %s\n", o->remote ? "-H" : "--domain",
		    name ? name : "", o->remote ? "host" : "domain",
		    o->remote ? "--remote -H MX-HOST" :
		    "--domain MAIL-DOMAIN");
		return VERDICT_UNKNOWN;
	}
	if (o->conf_given && conf_load_flags(conf_path, CONF_HOSTS_OPTIONAL,
	    &file, &err) < 0) {
		log_lines(err.msg);
		printf("DANEGUARD UNKNOWN - %s has errors\n", conf_path);
		return VERDICT_UNKNOWN;
	}
	conf = xcalloc(1, sizeof(*conf));
	conf->path = xstrdup(file ? file->path : "(command line)");
	conf->state_dir = xstrdup(file ? file->state_dir : PATHS_STATE_DIR);
	conf->probe_interval = 300;
	conf->probe_timeout = file ? file->probe_timeout : 10;
	conf->dns.trust_anchor_file = file && file->dns.trust_anchor_file ?
	    xstrdup(file->dns.trust_anchor_file) : file ? NULL :
	    xstrdup(DNS_DEFAULT_ANCHOR);
	conf->dns.resolver = file && file->dns.resolver ?
	    xstrdup(file->dns.resolver) : NULL;
	conf->dns.resolver_config = file && file->dns.resolver_config ?
	    xstrdup(file->dns.resolver_config) : NULL;
	/* G8 and G9 are part of the outside view (G9 with the file's
	 * thresholds). */
	conf->ns_interval = 900;
	conf->dns.dnssec_health = 1;
	conf->dns.rrsig_warning = file ? file->dns.rrsig_warning : 259200;
	conf->dns.rrsig_critical = file ? file->dns.rrsig_critical : 86400;
	conf_free(file);
	if (o->remote) {
		conf->hosts = xcalloc(1, sizeof(*conf->hosts));
		conf->hosts[0].name = xstrdup(name);
		conf->hosts[0].port = 25;
		conf->hosts[0].ttl = 3600;
		conf->hosts[0].keyless = 1;
		conf->nhosts = 1;
	} else {
		conf->domains = xcalloc(1, sizeof(*conf->domains));
		conf->domains[0].name = xasprintf("%.*s", (int)(strlen(name) -
		    (name[strlen(name) - 1] == '.')), name);
		conf->domains[0].remote = 1;
		conf->domains[0].file = xstrdup("--domain");
		conf->ndomains = 1;
	}
	state = guard_check_once(conf, o->json, stdout);
	fflush(stdout);
	conf_free(conf);
	return (int)state;
}

/*
 * --tlsrpt: from an MTA's pipe nobody reads stderr, so log to syslog
 * unless in the foreground (-f) or on a terminal.
 */
static int
run_tlsrpt(const struct options *o, char *const *paths, int n)
{
	struct conf *conf;
	struct errbuf err;
	int rc;

	if (!o->foreground && !isatty(STDERR_FILENO))
		log_init("daneguard", 0, o->verbose);
	/* Only state_dir and tlsrpt_days matter here: no host needed. */
	err.msg[0] = '\0';
	if (conf_load_flags(conf_path, CONF_HOSTS_OPTIONAL, &conf,
	    &err) < 0) {
		log_lines(err.msg[0] ? err.msg : "configuration failed");
		return INTAKE_CONFIG;
	}
	rc = intake_run(conf, paths, n, time(NULL));
	conf_free(conf);
	return rc;
}

/* What the milter process needs from the start-up (main's stack). */
struct milter_run {
	struct conf *conf;	/* read at start; the supervisor keeps it */
	const char *spec;	/* the socket */
	struct user user;
	int drop;		/* drop privileges to user */
	pid_t supervisor;
};

/*
 * The milter process: the guard, the privilege drop, the signal thread,
 * smfi_main (the socket is open already: libmilter keeps it across the
 * fork). resume: a restart after a crash; the guard then reads its
 * states back from state_dir, and the configuration is read again (a
 * SIGUSR1 may have changed it since the start; if it now has errors,
 * the one read at start is used). Writes "R" to ready once started.
 * Returns the exit status.
 */
static int
milter_process(void *arg, int resume, int ready)
{
	struct milter_run *run = arg;
	struct conf *conf = run->conf, *fresh;
	sigset_t set;
	pthread_t tid;
	int rc;

	if (ready_fd >= 0)
		close(ready_fd);	/* the supervisor answers */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (resume) {
		if ((fresh = load_conf(conf_path)) != NULL)
			conf = fresh;
		else
			log_warnx("%s has errors; restarting with the "
			    "configuration read at start", conf_path);
	}
	/* guard_start reads the key files before returning: still root. */
	if (guard_start(conf, resume) < 0)
		return EXIT_CONF;
	if (run->drop) {
		privileges_drop(&run->user);
		/* setuid cleared the parent-death signal (milter_fork) */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
		    getppid() != run->supervisor)
			fatalx("the supervisor is gone");
	}
	guard_release();
	if ((rc = pthread_create(&tid, NULL, signal_thread, NULL)) != 0) {
		errno = rc;
		fatal("pthread_create");
	}
	log_info("%s on %s", resume ? "restarted" : "started", run->spec);
	if (write(ready, "R", 1) != 1)
		log_warn("telling the supervisor we started");
	close(ready);
	stderr_detach();

	rc = smfi_main();
	log_info("stopping");
	guard_stop();
	return rc == MI_SUCCESS ? 0 : EXIT_CONF;
}

static int
run_milter(const struct options *o)
{
	struct milter_run run;
	struct supervise_child child;
	const char *path, *user_spec;
	char *spec;
	mode_t old;
	int rc;

	memset(&run, 0, sizeof(run));
	if ((run.conf = load_conf(conf_path)) == NULL)
		return EXIT_CONF;
	spec = xstrdup(o->socket != NULL ? o->socket : run.conf->socket);
	run.spec = spec;
	user_spec = o->user != NULL ? o->user : run.conf->user;
	if (o->pidfile != NULL)
		pidfile = path_absolute(o->pidfile);
	else if (run.conf->pidfile != NULL)
		pidfile = path_absolute(run.conf->pidfile);
	if (socket_check(spec) < 0)
		goto fail;

	/* Only root can switch users; anyone else runs as itself. */
	run.drop = geteuid() == 0 && user_spec != NULL && *user_spec != '\0';
	if (run.drop && user_resolve(user_spec, &run.user) < 0)
		goto fail;
	if (run.drop && run.user.uid == 0) {
		log_warnx("user %s is root: privileges are not dropped",
		    run.user.name);
		run.drop = 0;
	}
	if (!run.drop && geteuid() != 0 && o->user != NULL)
		log_warnx("-u %s ignored: not started as root", o->user);

	if (callbacks_register() < 0) {
		log_warnx("smfi_register failed");
		goto fail;
	}
	if ((path = socket_path(spec)) != NULL &&
	    socket_remove_stale(path) < 0)
		goto fail;
	if (smfi_setconn(spec) != MI_SUCCESS) {
		log_warnx("socket \"%s\" is not a milter socket (unix:/PATH, "
		    "inet:PORT@HOST or inet6:PORT@HOST)", spec);
		goto fail;
	}
	/* srw-rw----: the MTA reaches the socket through its group. */
	old = umask(0117);
	rc = smfi_opensocket(false);
	umask(old);
	if (rc != MI_SUCCESS) {
		log_warnx("cannot open the milter socket %s (in use, or the "
		    "directory is missing or not writable)", spec);
		goto fail;
	}
	if (path != NULL && run.drop &&
	    chown(path, run.user.uid, run.user.gid) < 0) {
		log_warn("chown %s", path);
		goto fail;
	}
	if (path == NULL)
		socket_nodelay();

	signals_block();
	if (!o->foreground) {
		daemonise();
		log_init("daneguard", 0, o->verbose);
		log_set_stderr_copy(1);
	}
	if (pidfile != NULL)
		pidfile_write(pidfile);

	run.supervisor = getpid();
	child.run = milter_process;
	child.arg = &run;
	child.started = daemon_ready;
	rc = supervise(&child);
	pidfile_remove();
	conf_free(run.conf);
	free(run.user.name);
	free(spec);
	return rc;

fail:
	conf_free(run.conf);
	free(run.user.name);
	free(spec);
	return EXIT_CONF;
}

int
main(int argc, char *argv[])
{
	struct options o;
	unsigned int major, minor, patch;
	int ch;

	memset(&o, 0, sizeof(o));
	o.conf = PATHS_CONF;
	log_init("daneguard", 1, 0);
	log_set_fatal_status(EXIT_CONF);
	while ((ch = getopt_long(argc, argv, ":c:fnp:u:P:vVhH:", long_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.conf = optarg;
			o.conf_given = 1;
			break;
		case 'H':
			o.host = optarg;
			break;
		case OPT_REMOTE:
			o.remote = 1;
			break;
		case OPT_DOMAIN:
			o.domain = optarg;
			break;
		case OPT_JSON:
			o.json = 1;
			break;
		case 'f':
			o.foreground = 1;
			break;
		case 'n':
			o.check_conf = 1;
			break;
		case 'p':
			o.socket = optarg;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'P':
			o.pidfile = optarg;
			break;
		case 'v':
			o.verbose = 1;
			break;
		case OPT_CHECK:
			o.check_once = 1;
			break;
		case OPT_TLSRPT:
			o.tlsrpt = 1;
			break;
		case 'V':
			smfi_version(&major, &minor, &patch);
			printf("daneguard %s (libmilter %u.%u.%u)\n",
			    PACKAGE_VERSION, major, minor, patch);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			log_warnx("option -%c needs an argument", optopt);
			usage(stderr);
			return EXIT_USAGE;
		default:
			if (optopt != 0)
				log_warnx("unknown option -%c", optopt);
			else
				log_warnx("unknown option %s",
				    argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc && !o.tlsrpt) {
		log_warnx("unexpected argument \"%s\"", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o.check_conf + o.check_once + o.tlsrpt > 1) {
		log_warnx("-n, --check and --tlsrpt exclude each other");
		return EXIT_USAGE;
	}
	log_set_verbose(o.verbose);
	conf_path = path_absolute(o.conf);
	if (o.check_conf)
		return run_check_conf(conf_path, o.socket);
	if ((o.remote || o.domain != NULL || o.host != NULL || o.json) &&
	    !o.check_once) {
		log_warnx("--remote, -H, --domain and --json go with --check");
		return EXIT_USAGE;
	}
	if (o.remote + (o.domain != NULL) > 1 || (o.host != NULL) !=
	    o.remote) {
		log_warnx("give --check --remote -H HOST, or --check --domain "
		    "DOMAIN");
		return EXIT_USAGE;
	}
	if (o.remote || o.domain != NULL)
		return run_check_remote(&o);
	if (o.check_once)
		return run_check_once(conf_path, o.json);
	if (o.tlsrpt)
		return run_tlsrpt(&o, argv + optind, argc - optind);
	return run_milter(&o);
}
