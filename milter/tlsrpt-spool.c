/*
 * daneguard-tlsrpt-spool - the MTA's pipe for TLS-RPT report mail: one
 * message from standard input into the spool that the running daneguard
 * drains (state_dir/tlsrpt-spool, a Maildir; milter/intake.c), where it
 * is parsed and counted. See daneguard-tlsrpt-spool(8).
 *
 * A pipe starts one process per mail, so this one links nothing but the
 * C library (no GMime, OpenSSL, libunbound: their loading and start-up
 * were nine tenths of a "daneguard --tlsrpt" process; bench/RESULTS.md).
 * Maildir delivery: the message is written to tmp/ under a unique name,
 * fsync'd, linked into new/ (link, not rename: a name that exists is
 * never replaced), and new/ is fsync'd before the exit status says
 * "delivered"; on any failure the file in tmp/ is removed and nothing
 * appears in new/. Exit statuses (sysexits.h) as an MTA pipe reads them:
 * 0 spooled, 64 usage, 65 empty or larger than the limit (the mail
 * bounces), 75 the spool cannot be written (the MTA keeps the mail and
 * tries again).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "paths.h"

#define PROG		"daneguard-tlsrpt-spool"
/* As daneguard --tlsrpt: a larger mail is not a report (lib/tlsrpt.h). */
#define SPOOL_MAX	(16ul << 20)
/* After the limit, input is read and dropped up to this much (the MTA
 * must see it taken, then the exit status), never for ever. */
#define SPOOL_DRAIN	(1ul << 30)

static char tmp_path[PATH_MAX];	/* removed by fail() when set */

static void __attribute__((noreturn, format(printf, 2, 3)))
fail(int status, const char *fmt, ...)
{
	va_list ap;

	if (tmp_path[0] != '\0')
		(void)unlink(tmp_path);
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void
usage(void)
{
	fprintf(stderr, "usage: " PROG " [-d spool_dir] [-m max_bytes] "
	    "< message\n");
	exit(EX_USAGE);
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
fsync_dir(const char *path)
{
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Read and drop the rest of standard input (at most SPOOL_DRAIN). */
static void
drain_stdin(char *buf, size_t size)
{
	unsigned long total = 0;
	ssize_t n;

	while (total < SPOOL_DRAIN) {
		if ((n = read(STDIN_FILENO, buf, size)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		total += (unsigned long)n;
	}
}

int
main(int argc, char **argv)
{
	const char *dir = PATHS_STATE_DIR "/tlsrpt-spool";
	unsigned long max = SPOOL_MAX, total = 0;
	char host[64], name[160], new_path[PATH_MAX], buf[65536], *end;
	struct timespec ts;
	struct stat st;
	ssize_t n;
	int c, fd, i;

	while ((c = getopt(argc, argv, "d:m:")) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'm':
			errno = 0;
			max = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || max == 0 ||
			    optarg[0] == '-' || max > SPOOL_MAX)
				fail(EX_USAGE, "-m %s: not a number of bytes "
				    "from 1 to %lu", optarg, SPOOL_MAX);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	umask(077);

	/* The daemon makes the spool: missing, the mail waits at the MTA. */
	snprintf(new_path, sizeof(new_path), "%s/new", dir);
	if (stat(new_path, &st) < 0)
		c = errno;
	else
		c = S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
	if (c != 0)
		fail(EX_TEMPFAIL, "%s: %s; %sthe message stays with the MTA",
		    new_path, strerror(c), c != ENOENT ? "" :
		    "the running daneguard makes its spool in "
		    "state_dir/tlsrpt-spool: start it, or give -d that "
		    "directory; ");

	if (gethostname(host, sizeof(host)) < 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0'; i++)	/* Maildir: no / or : */
		if (host[i] == '/' || host[i] == ':')
			host[i] = '_';
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(name, sizeof(name), "%lld.M%ldP%ld.%s", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000, (long)getpid(), host);
	if ((size_t)snprintf(tmp_path, sizeof(tmp_path), "%s/tmp/%s", dir,
	    name) >= sizeof(tmp_path))
		fail(EX_USAGE, "-d %s: too long a path", dir);
	fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd < 0) {
		c = errno;
		tmp_path[0] = '\0';	/* not ours: leave it */
		fail(EX_TEMPFAIL, "%s/tmp/%s: %s; the message stays with the "
		    "MTA", dir, name, strerror(c));
	}

	for (;;) {
		if ((n = read(STDIN_FILENO, buf, sizeof(buf))) < 0) {
			if (errno == EINTR)
				continue;
			fail(EX_TEMPFAIL, "reading the message: %s",
			    strerror(errno));
		}
		if (n == 0)
			break;
		total += (unsigned long)n;
		if (total > max) {
			drain_stdin(buf, sizeof(buf));
			fail(EX_DATAERR, "the message is larger than %lu "
			    "bytes: not a TLS report; not spooled", max);
		}
		if (write_all(fd, buf, (size_t)n) < 0)
			fail(EX_TEMPFAIL, "%s: %s; the message stays with "
			    "the MTA", tmp_path, strerror(errno));
	}
	if (total == 0)
		fail(EX_DATAERR, "the message is empty: not a TLS report; "
		    "not spooled");
	if (fsync(fd) < 0 || close(fd) < 0)
		fail(EX_TEMPFAIL, "%s: %s; the message stays with the MTA",
		    tmp_path, strerror(errno));

	/* A name in new/ is never replaced: another one if it exists. */
	for (i = 0;; i++) {
		if ((size_t)snprintf(new_path, sizeof(new_path), "%s/new/%s%s%d",
		    dir, name, i ? "_" : "", i) >= sizeof(new_path))
			fail(EX_USAGE, "-d %s: too long a path", dir);
		if (i == 0)	/* no suffix the first time */
			new_path[strlen(new_path) - 1] = '\0';
		if (link(tmp_path, new_path) == 0)
			break;
		if (errno != EEXIST || i >= 100)
			fail(EX_TEMPFAIL, "%s: %s; the message stays with "
			    "the MTA", new_path, strerror(errno));
	}
	(void)unlink(tmp_path);
	tmp_path[0] = '\0';
	snprintf(buf, sizeof(buf), "%s/new", dir);
	if (fsync_dir(buf) < 0) {
		/* Not known to be on disk: take it back, let the MTA retry. */
		c = errno;
		(void)unlink(new_path);
		fail(EX_TEMPFAIL, "%s: %s; the message stays with the MTA",
		    buf, strerror(c));
	}
	return 0;
}
