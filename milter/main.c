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
 * the guard (which reads the key files, as root), privilege drop, the
 * signal thread, smfi_main. The callbacks are in callbacks.c, the
 * probing in guard.c. Exit statuses: 0 done, 1 configuration or startup
 * failure, 2 usage; --check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN;
 * --tlsrpt: sysexits (intake.h).
 * See daneguard(8).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

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
#include "xalloc.h"

#define EXIT_CONF	1	/* configuration or startup failure */
#define EXIT_USAGE	2

enum { OPT_CHECK = 256, OPT_TLSRPT };

static const struct option long_options[] = {
	{ "check",	no_argument,	NULL, OPT_CHECK },
	{ "tlsrpt",	no_argument,	NULL, OPT_TLSRPT },
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
};

/* The configuration file, absolute: SIGUSR1 reloads it after chdir("/"). */
static char *conf_path;
static char *pidfile;
static int ready_fd = -1;	/* write end of the pipe to the parent */

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: daneguard [-fv] [-c FILE] [-p SOCKSPEC] [-u USER[:GROUP]]\n"
"                 [-P PIDFILE]\n"
"       daneguard -n [-c FILE]          check the configuration\n"
"       daneguard --check [-c FILE]     one sweep, monitoring-plugin exit\n"
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
 * exit status 1; the child's messages are in the mail log by then.
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
		fprintf(stderr, "daneguard: start failed; see the mail log\n");
		_exit(EXIT_CONF);
	}
	close(fds[0]);
	ready_fd = fds[1];
	if (setsid() < 0)
		fatal("setsid");
	if (chdir("/") < 0)
		fatal("chdir /");
	if ((null = open("/dev/null", O_RDWR)) < 0)
		fatal("/dev/null");
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	if (null > STDERR_FILENO)
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
}

static void
pidfile_write(const char *path)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0644);
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
			log_info("SIGUSR2: sweep requested");
			guard_sweep_now();
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
 * threads exist), PIPE nowhere. Done before any thread starts, so every
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
	if ((rc = pthread_sigmask(SIG_BLOCK, &set, NULL)) != 0) {
		errno = rc;
		fatal("pthread_sigmask");
	}
}

static int
run_check_conf(const char *path)
{
	struct conf *conf;

	struct dnscache *dns;
	struct errbuf err;
	int rc;

	if ((conf = load_conf(path)) == NULL)
		return EXIT_CONF;
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
run_check_once(const char *path)
{
	struct conf *conf;
	enum guard_state state;

	/* A probe's write to a peer that hung up must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if ((conf = load_conf(path)) == NULL) {
		printf("DANEGUARD UNKNOWN - %s has errors\n", path);
		return GUARD_UNKNOWN;
	}
	state = guard_check_once(conf, stdout);
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
	int rc;

	if (!o->foreground && !isatty(STDERR_FILENO))
		log_init("daneguard", 0, o->verbose);
	if ((conf = load_conf(conf_path)) == NULL)
		return INTAKE_CONFIG;
	rc = intake_run(conf, paths, n, time(NULL));
	conf_free(conf);
	return rc;
}

static int
run_milter(const struct options *o)
{
	struct user user = { NULL, 0, 0 };
	struct conf *conf;
	const char *path, *user_spec;
	char *spec;
	pthread_t tid;
	mode_t old;
	int rc, drop;

	if ((conf = load_conf(conf_path)) == NULL)
		return EXIT_CONF;
	/* A copy: after guard_start the configuration is the guard's. */
	spec = xstrdup(o->socket != NULL ? o->socket : conf->socket);
	user_spec = o->user != NULL ? o->user : conf->user;
	if (o->pidfile != NULL)
		pidfile = path_absolute(o->pidfile);
	else if (conf->pidfile != NULL)
		pidfile = path_absolute(conf->pidfile);

	/* Only root can switch users; anyone else runs as itself. */
	drop = geteuid() == 0 && user_spec != NULL && *user_spec != '\0';
	if (drop && user_resolve(user_spec, &user) < 0)
		goto fail;
	if (drop && user.uid == 0) {
		log_warnx("user %s is root: privileges are not dropped",
		    user.name);
		drop = 0;
	}
	if (!drop && geteuid() != 0 && o->user != NULL)
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
	if (path != NULL && drop && chown(path, user.uid, user.gid) < 0) {
		log_warn("chown %s", path);
		goto fail;
	}
	if (path == NULL)
		socket_nodelay();

	signals_block();
	if (!o->foreground) {
		daemonise();
		log_init("daneguard", 0, o->verbose);
	}
	if (pidfile != NULL)
		pidfile_write(pidfile);

	/* guard_start reads the key files before returning: still root. */
	if (guard_start(conf) < 0) {
		pidfile_remove();
		goto fail;		/* it takes conf only when it starts */
	}
	conf = NULL;		/* the guard's now */
	if (drop)
		privileges_drop(&user);
	if ((rc = pthread_create(&tid, NULL, signal_thread, NULL)) != 0) {
		errno = rc;
		fatal("pthread_create");
	}
	log_info("started on %s", spec);
	daemon_ready();

	rc = smfi_main();
	log_info("stopping");
	guard_stop();
	pidfile_remove();
	free(user.name);
	free(spec);
	return rc == MI_SUCCESS ? 0 : EXIT_CONF;

fail:
	conf_free(conf);
	free(user.name);
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
	while ((ch = getopt_long(argc, argv, ":c:fnp:u:P:vVh", long_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.conf = optarg;
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
		return run_check_conf(conf_path);
	if (o.check_once)
		return run_check_once(conf_path);
	if (o.tlsrpt)
		return run_tlsrpt(&o, argv + optind, argc - optind);
	return run_milter(&o);
}
