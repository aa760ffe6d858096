/*
 * intake - daneguard --tlsrpt (see intake.h).
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "fileio.h"
#include "intake.h"
#include "log.h"
#include "tlsrpt.h"
#include "tlsrpt_store.h"
#include "xalloc.h"

static int
worse(int a, int b)
{
	static const int rank[] = { INTAKE_OK, INTAKE_DATAERR,
	    INTAKE_NOINPUT, INTAKE_CONFIG, INTAKE_TEMPFAIL };
	int ra = 0, rb = 0, i;

	for (i = 0; i < 5; i++) {
		if (rank[i] == a)
			ra = i;
		if (rank[i] == b)
			rb = i;
	}
	return ra >= rb ? a : b;
}

static long long
failed_sessions(const struct tlsrpt_report *r)
{
	long long n = 0;
	size_t i;

	for (i = 0; i < r->npolicies; i++)
		n += r->policies[i].failure;
	return n;
}

/*
 * One input: the open descriptor fd, or (fd < 0) the file name; name in
 * messages.
 */
static int
intake_one(const struct conf *conf, const char *store, int fd,
    const char *name, time_t now)
{
	struct tlsrpt_report *r;
	enum tlsrpt_store_status status;
	struct errbuf err;
	char *data;
	size_t len;
	int rc;

	err.msg[0] = '\0';
	if (fd >= 0)
		rc = fileio_read_fd(fd, name, TLSRPT_MAX_INPUT, 0, 0, &data,
		    &len, &err);
	else
		rc = fileio_read(name, TLSRPT_MAX_INPUT, 0, &data, &len, &err);
	if (rc < 0 && errno == EFBIG) {
		log_warnx("tlsrpt: %s: larger than %u bytes: not a report; "
		    "nothing stored", name, TLSRPT_MAX_INPUT);
		return INTAKE_DATAERR;
	}
	if (rc < 0) {
		log_warnx("tlsrpt: %s", err.msg);
		return INTAKE_NOINPUT;
	}
	err.msg[0] = '\0';
	rc = tlsrpt_read(data, len, now, &r, NULL, &err);
	free(data);
	if (rc < 0) {
		log_warnx("tlsrpt: %s: %s; nothing stored", name, err.msg);
		return INTAKE_DATAERR;
	}
	if (tlsrpt_store_add(store, conf->tlsrpt_days, r, now, &status,
	    &err) < 0) {
		log_warnx("tlsrpt: %s: report-id \"%s\" not stored: %s", name,
		    r->report_id, err.msg);
		tlsrpt_free(r);
		return INTAKE_TEMPFAIL;
	}
	switch (status) {
	case TLSRPT_STORE_ADDED:
		log_info("tlsrpt: %s: counted report-id=\"%s\" org=\"%s\" "
		    "domain=%s policies=%zu failed=%lld", name, r->report_id,
		    r->organization, r->policies[0].domain, r->npolicies,
		    failed_sessions(r));
		break;
	case TLSRPT_STORE_DUPLICATE:
		log_info("tlsrpt: %s: report-id=\"%s\" org=\"%s\" was "
		    "counted before: not again", name, r->report_id,
		    r->organization);
		break;
	case TLSRPT_STORE_TOO_OLD:
		log_info("tlsrpt: %s: report-id=\"%s\" org=\"%s\" ended "
		    "before the last %ld days (tlsrpt_days): not counted",
		    name, r->report_id, r->organization, conf->tlsrpt_days);
		break;
	}
	tlsrpt_free(r);
	return INTAKE_OK;
}

static int
intake_file(const struct conf *conf, const char *store, const char *path,
    time_t now)
{
	return intake_one(conf, store, -1, path, now);
}

static int
skip_entry(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/*
 * A Maildir message taken in (counted, counted before, too old, or not a
 * report: nothing to try again) moves from new/ to cur/ as seen, so the
 * next run does not read it again; one the store could not take stays.
 */
static void
maildir_seen(const char *maildir, const char *name, int rc)
{
	char *from, *to;

	if (rc != INTAKE_OK && rc != INTAKE_DATAERR)
		return;
	from = xasprintf("%s/new/%s", maildir, name);
	to = xasprintf("%s/cur/%s%s", maildir, name,
	    strchr(name, ':') != NULL ? "" : ":2,S");
	if (rename(from, to) < 0)
		log_warn("tlsrpt: cannot move %s to %s", from, to);
	free(from);
	free(to);
}

/*
 * Every regular file of dir, in name order; of a Maildir (a directory
 * with new/ and cur/) the messages in new/, moved to cur/ once taken in.
 */
static int
intake_dir(const struct conf *conf, const char *store, const char *dir,
    time_t now)
{
	struct dirent **names;
	struct stat st;
	char *path, *scan, *cur;
	int i, n, rc = INTAKE_OK, one, maildir;

	scan = xasprintf("%s/new", dir);
	cur = xasprintf("%s/cur", dir);
	maildir = stat(scan, &st) == 0 && S_ISDIR(st.st_mode) &&
	    stat(cur, &st) == 0 && S_ISDIR(st.st_mode);
	free(cur);
	if (!maildir) {
		free(scan);
		scan = xstrdup(dir);
	}
	if ((n = scandir(scan, &names, skip_entry, alphasort)) < 0) {
		log_warn("tlsrpt: %s", scan);
		free(scan);
		return INTAKE_NOINPUT;
	}
	for (i = 0; i < n; i++) {
		path = xasprintf("%s/%s", scan, names[i]->d_name);
		if (stat(path, &st) < 0) {
			log_warn("tlsrpt: %s", path);
			rc = worse(rc, INTAKE_NOINPUT);
		} else if (S_ISREG(st.st_mode)) {
			one = intake_file(conf, store, path, now);
			if (maildir)
				maildir_seen(dir, names[i]->d_name, one);
			rc = worse(rc, one);
		}
		free(path);
		free(names[i]);
	}
	free(names);
	free(scan);
	return rc;
}

int
intake_run(const struct conf *conf, char *const *paths, int n, time_t now)
{
	char *store = xasprintf("%s/tlsrpt", conf->state_dir);
	struct stat st;
	int i, rc = INTAKE_OK;

	if (n == 0)
		rc = intake_one(conf, store, STDIN_FILENO, "stdin", now);
	for (i = 0; i < n; i++) {
		if (strcmp(paths[i], "-") == 0)
			rc = worse(rc, intake_one(conf, store, STDIN_FILENO,
			    "stdin", now));
		else if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
			rc = worse(rc, intake_dir(conf, store, paths[i], now));
		else
			rc = worse(rc, intake_file(conf, store, paths[i], now));
	}
	free(store);
	return rc;
}

/* ------------------------------------------------------------ spool */

/* A file in tmp/ older than this was left by a spooler that died. */
#define SPOOL_TMP_AGE	(36 * 3600)

static char *
spool_path(const struct conf *conf, const char *sub)
{
	return xasprintf("%s/" INTAKE_SPOOL "%s%s", conf->state_dir,
	    sub != NULL ? "/" : "", sub != NULL ? sub : "");
}

int
intake_spool_tidy(const struct conf *conf, time_t now)
{
	static const char *const subs[] = { NULL, "tmp", "new", "cur" };
	struct dirent *d;
	struct stat st;
	char *path, *f;
	DIR *dir;
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		path = spool_path(conf, subs[i]);
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			log_warn("tlsrpt: cannot make the spool %s", path);
			rc = -1;
		}
		free(path);
	}
	path = spool_path(conf, "tmp");
	if ((dir = opendir(path)) != NULL) {
		while ((d = readdir(dir)) != NULL) {
			if (d->d_name[0] == '.')
				continue;
			f = xasprintf("%s/%s", path, d->d_name);
			if (lstat(f, &st) == 0 && S_ISREG(st.st_mode) &&
			    st.st_mtime + SPOOL_TMP_AGE < now) {
				if (unlink(f) == 0)
					log_info("tlsrpt: removed %s, left "
					    "unfinished by a spooler", f);
			}
			free(f);
		}
		closedir(dir);
	}
	free(path);
	return rc;
}

int
intake_spool(const struct conf *conf, size_t max, time_t now, int *more)
{
	char *store = xasprintf("%s/tlsrpt", conf->state_dir);
	char *newdir = spool_path(conf, "new"), *path;
	struct dirent *d;
	struct stat st;
	size_t n = 0;
	DIR *dir;
	int rc = 0, one;

	*more = 0;
	if ((dir = opendir(newdir)) == NULL) {
		/* made at the next sweep (intake_spool_tidy) */
		free(newdir);
		free(store);
		return 0;
	}
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if (n == max) {
			*more = 1;
			break;
		}
		path = xasprintf("%s/%s", newdir, d->d_name);
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		one = intake_file(conf, store, path, now);
		if (one == INTAKE_TEMPFAIL) {
			/* The store cannot be written: all stay for later. */
			free(path);
			rc = -1;
			break;
		}
		/* Taken in, or not a report (logged): done with it. One that
		 * cannot be removed would be read again at every call: stop
		 * as for a store failure. */
		if (unlink(path) < 0 && errno != ENOENT) {
			log_warn("tlsrpt: cannot remove %s from the spool",
			    path);
			free(path);
			rc = -1;
			break;
		}
		free(path);
		n++;
	}
	closedir(dir);
	free(newdir);
	free(store);
	return rc < 0 ? -1 : (int)n;
}
