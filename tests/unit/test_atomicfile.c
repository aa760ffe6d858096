/*
 * test_atomicfile - lib/atomicfile.c in a fresh temporary directory:
 * creation with the mode asked for, unchanged content left alone (mtime
 * too), replacement keeping the old mode, replacement by rename (a new
 * inode; a hard link or an open descriptor keeps the old content; a
 * writer killed or failing mid-write leaves the old file whole), and
 * failures that leave the original and no temporary file behind.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <grp.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "atomicfile.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/test_atomicfile.XXXXXX";

static char *
in_tmp(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

/* The whole file as a string (the tests write text). */
static char *
slurp(const char *path)
{
	char *buf = xmalloc(4096);
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, 4095);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

/* Names in the directory other than . and .., sorted, joined by spaces. */
static char *
listing(const char *dir)
{
	struct dirent **names;
	char *out = xstrdup(""), *next;
	int i, n;

	n = scandir(dir, &names, NULL, alphasort);
	assert_true(n >= 0);
	for (i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") != 0 &&
		    strcmp(names[i]->d_name, "..") != 0) {
			next = xasprintf("%s%s%s", out, *out ? " " : "",
			    names[i]->d_name);
			free(out);
			out = next;
		}
		free(names[i]);
	}
	free(names);
	return out;
}

/* Give path an mtime far in the past, so a rewrite would show. */
static void
age(const char *path)
{
	struct timespec times[2] = {
		{ .tv_sec = 1000000000, .tv_nsec = 0 },
		{ .tv_sec = 1000000000, .tv_nsec = 0 },
	};

	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

static void
put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

/* Empty the directory between tests. */
static int
clean(void **state)
{
	struct dirent *de;
	DIR *d;

	(void)state;
	if ((d = opendir(tmpdir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char *p;

		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		p = in_tmp(de->d_name);
		if (unlink(p) < 0)
			rmdir(p);
		free(p);
	}
	closedir(d);
	return 0;
}

static int
teardown(void **state)
{
	clean(state);
	return rmdir(tmpdir);
}

static void
test_create(void **state)
{
	char *path = in_tmp("out.zone"), *text, *ls;
	struct errbuf err;
	struct stat st;
	int changed = -1;

	(void)state;
	assert_int_equal(atomicfile_replace(path, "a\nb\n", 4, 0640, &changed,
	    &err), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	text = slurp(path);
	assert_string_equal(text, "a\nb\n");
	ls = listing(tmpdir);
	assert_string_equal(ls, "out.zone");

	/* An empty file is content too. */
	free(path);
	path = in_tmp("empty");
	assert_int_equal(atomicfile_replace(path, "", 0, 0600, &changed,
	    &err), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
	free(ls);
	free(text);
	free(path);
}

static void
test_unchanged(void **state)
{
	char *path = in_tmp("out.zone");
	struct errbuf err;
	struct stat st;
	int changed = -1;

	(void)state;
	put(path, "same\n", 0644);
	age(path);
	assert_int_equal(atomicfile_replace(path, "same\n", 5, 0600, &changed,
	    &err), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mtim.tv_sec, 1000000000);
	assert_int_equal(st.st_mode & 07777, 0644);

	/* changed may be NULL */
	assert_int_equal(atomicfile_replace(path, "same\n", 5, 0600, NULL,
	    &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mtim.tv_sec, 1000000000);
	free(path);
}

static void
test_changed(void **state)
{
	static const char *const olds[] = {
		"old\n",		/* same length, other bytes */
		"same\n",		/* a prefix of the new content */
		"same\nand more\n",	/* longer */
	};
	char *path = in_tmp("out.zone"), *text, *ls;
	struct errbuf err;
	struct stat st;
	size_t i;
	int changed;

	(void)state;
	for (i = 0; i < sizeof(olds) / sizeof(olds[0]); i++) {
		put(path, olds[i], 0604);
		age(path);
		changed = -1;
		assert_int_equal(atomicfile_replace(path, "same\nx", 6, 0600,
		    &changed, &err), 0);
		assert_int_equal(changed, 1);
		assert_int_equal(stat(path, &st), 0);
		assert_true(st.st_mtim.tv_sec != 1000000000);
		/* the existing file's mode, not the one passed */
		assert_int_equal(st.st_mode & 07777, 0604);
		text = slurp(path);
		assert_string_equal(text, "same\nx");
		free(text);
		ls = listing(tmpdir);
		assert_string_equal(ls, "out.zone");
		free(ls);
	}
	free(path);
}

/* A relative name: the temporary file goes into the current directory. */
static void
test_relative(void **state)
{
	char *old = getcwd(NULL, 0), *text, *ls;
	struct errbuf err;
	int changed = -1;

	(void)state;
	assert_non_null(old);
	assert_int_equal(chdir(tmpdir), 0);
	put("rel.txt", "x", 0644);
	assert_int_equal(atomicfile_replace("rel.txt", "y", 1, 0600, &changed,
	    &err), 0);
	assert_int_equal(changed, 1);
	text = slurp("rel.txt");
	assert_string_equal(text, "y");
	ls = listing(".");
	assert_string_equal(ls, "rel.txt");
	assert_int_equal(chdir(old), 0);
	free(ls);
	free(text);
	free(old);
}

static void
test_missing_dir(void **state)
{
	char *path = in_tmp("nodir/out.zone"), *dir = in_tmp("nodir"), *expect;
	char *ls;
	struct errbuf err;
	int changed = -1;

	(void)state;
	assert_int_equal(atomicfile_replace(path, "x", 1, 0644, &changed,
	    &err), -1);
	assert_int_equal(changed, 0);
	expect = xasprintf("%s: cannot create temporary file in %s: No such "
	    "file or directory", path, dir);
	assert_string_equal(err.msg, expect);
	ls = listing(tmpdir);
	assert_string_equal(ls, "");
	free(ls);
	free(expect);
	free(dir);
	free(path);
}

/* The target is a directory: refused before a temporary exists. */
static void
test_target_is_dir(void **state)
{
	char *path = in_tmp("out.zone"), *inner = in_tmp("out.zone/keep");
	char *ls, *text, *expect;
	struct errbuf err;
	struct stat st;
	int changed = -1;

	(void)state;
	assert_int_equal(mkdir(path, 0755), 0);
	put(inner, "original", 0644);
	assert_int_equal(atomicfile_replace(path, "x", 1, 0644, &changed,
	    &err), -1);
	assert_int_equal(changed, 0);
	/* (built by hand: gcc -O1 -fsanitize=undefined misreads a %s here) */
	expect = xmalloc(strlen(path) + 128);
	strcpy(expect, path);
	strcat(expect, ": is a directory, not a regular file; only regular "
	    "files are replaced: name the file itself");
	assert_string_equal(err.msg, expect);
	/* the original is untouched and no temporary file is left */
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	text = slurp(inner);
	assert_string_equal(text, "original");
	ls = listing(tmpdir);
	assert_string_equal(ls, "out.zone");
	assert_int_equal(unlink(inner), 0);
	assert_int_equal(rmdir(path), 0);
	free(ls);
	free(text);
	free(expect);
	free(inner);
	free(path);
}

/*
 * A symbolic link and a FIFO are refused, and left as they were: the
 * link is not replaced, its target neither written nor its mode or owner
 * taken, and the FIFO (with no writer) does not block the comparison.
 */
static void
test_target_special(void **state)
{
	char *link = in_tmp("link.zone"), *target = in_tmp("target");
	char *fifo = in_tmp("fifo.zone"), *text, *ls;
	struct errbuf err;
	struct stat st;
	int changed = -1;

	(void)state;
	put(target, "original", 0600);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(atomicfile_replace(link, "x", 1, 0644, &changed,
	    &err), -1);
	assert_int_equal(changed, 0);
	assert_non_null(strstr(err.msg, ": is a symbolic link, not a regular "
	    "file"));
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	text = slurp(target);
	assert_string_equal(text, "original");
	free(text);

	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_int_equal(atomicfile_replace(fifo, "x", 1, 0644, &changed,
	    &err), -1);
	assert_non_null(strstr(err.msg, ": is a FIFO, not a regular file"));
	assert_int_equal(lstat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	ls = listing(tmpdir);
	assert_string_equal(ls, "fifo.zone link.zone target");
	assert_int_equal(unlink(fifo), 0);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(unlink(target), 0);
	free(ls);
	free(fifo);
	free(target);
	free(link);
}

/*
 * What a child running atomicfile_replace reports through a pipe: the
 * tests below run the writer in a child that drops privileges or is
 * stopped mid-write, and cmocka's assertions belong in the parent.
 */
struct child_result {
	int rc;
	int changed;
	char msg[sizeof(((struct errbuf *)0)->msg)];
};

enum child_mode {
	CHILD_AS_NOBODY,	/* drop to nobody, then write */
	CHILD_KILLED,		/* killed by SIGXFSZ in the middle of the write */
	CHILD_WRITE_FAILS,	/* a write fails (EFBIG) in the middle */
};

/*
 * Run atomicfile_replace(path, data) in a child; for CHILD_KILLED the
 * child's end (a signal) is in *sig and *res is not filled.
 */
static void
replace_in_child(enum child_mode mode, const char *path, const char *data,
    size_t len, struct child_result *res, int *sig)
{
	struct rlimit rl = { .rlim_cur = 10, .rlim_max = 10 };
	struct errbuf err = { "" };
	int p[2], status;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	*sig = 0;
	assert_int_equal(pipe(p), 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		close(p[0]);
		if (mode == CHILD_AS_NOBODY && (setgroups(0, NULL) == -1 ||
		    setgid(65534) == -1 || setuid(65534) == -1))
			_exit(3);
		if (mode != CHILD_AS_NOBODY) {
			/* SIGXFSZ (default: terminate) or EFBIG past 10 bytes */
			signal(SIGXFSZ, mode == CHILD_KILLED ? SIG_DFL : SIG_IGN);
			if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
				_exit(4);
		}
		res->rc = atomicfile_replace(path, data, len, 0644,
		    &res->changed, &err);
		snprintf(res->msg, sizeof(res->msg), "%s", err.msg);
		_exit(write(p[1], res, sizeof(*res)) == (ssize_t)sizeof(*res) ?
		    0 : 5);
	}
	close(p[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status)) {
		*sig = WTERMSIG(status);
		close(p[0]);
		return;
	}
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 3)
		fail_msg("cannot drop privileges to uid/gid 65534 in the child");
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(read(p[0], res, sizeof(*res)), (ssize_t)sizeof(*res));
	close(p[0]);
}

/*
 * A directory we may not write to. Root may write anywhere, so as root
 * the attempt runs in a child that has dropped to nobody (as
 * test_certkey's test_unreadable does): the test runs either way.
 */
static void
test_unwritable_dir(void **state)
{
	char *dir, *path, *text, *ls, *expect;
	struct child_result res;
	struct errbuf err = { "" };
	int changed = -1, rc, sig;

	(void)state;
	dir = in_tmp("ro");
	path = in_tmp("ro/out.zone");
	assert_int_equal(mkdir(dir, 0755), 0);
	put(path, "original", 0644);
	assert_int_equal(chmod(dir, 0555), 0);
	if (geteuid() == 0) {
		/*
		 * nobody must reach the directory, not write to it; the file
		 * itself is nobody's, so only the directory stands in the
		 * way (no writing in place instead)
		 */
		assert_int_equal(chown(path, 65534, 65534), 0);
		assert_int_equal(chmod(tmpdir, 0755), 0);
		replace_in_child(CHILD_AS_NOBODY, path, "new", 3, &res, &sig);
		assert_int_equal(chmod(tmpdir, 0700), 0);
		assert_int_equal(sig, 0);
		rc = res.rc;
		changed = res.changed;
		memcpy(err.msg, res.msg, sizeof(err.msg));
	} else
		rc = atomicfile_replace(path, "new", 3, 0644, &changed, &err);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(rc, -1);
	assert_int_equal(changed, 0);
	expect = xasprintf("%s: cannot create temporary file in %s: "
	    "Permission denied", path, dir);
	assert_string_equal(err.msg, expect);
	text = slurp(path);
	assert_string_equal(text, "original");
	ls = listing(dir);
	assert_string_equal(ls, "out.zone");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	free(ls);
	free(expect);
	free(text);
	free(path);
	free(dir);
}

/*
 * Atomic means a new file renamed over the old one, never the old one
 * rewritten in place: the name gets a new inode, and whoever holds the
 * old file (a hard link, an open descriptor: a name server reading the
 * zone include) still sees the old content, whole.
 */
static void
test_new_inode(void **state)
{
	char *path = in_tmp("out.zone"), *linked = in_tmp("old-link"), *text;
	char buf[64];
	struct errbuf err;
	struct stat before, after;
	ssize_t n;
	int changed = -1, fd;

	(void)state;
	put(path, "old records\n", 0644);
	assert_int_equal(stat(path, &before), 0);
	assert_int_equal(link(path, linked), 0);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(atomicfile_replace(path, "new\n", 4, 0644, &changed,
	    &err), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(stat(path, &after), 0);
	assert_true(after.st_ino != before.st_ino);
	text = slurp(path);
	assert_string_equal(text, "new\n");
	free(text);
	text = slurp(linked);
	assert_string_equal(text, "old records\n");
	free(text);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, "old records\n");
	close(fd);
	free(linked);
	free(path);
}

/*
 * A writer stopped in the middle of writing the new content (killed, or
 * its write failing: the file size limit does both on demand) leaves the
 * old file whole. Killed, it cannot clean up: at most its hidden
 * temporary file (".out.zone.XXXXXX") is left beside. A failed write
 * removes it.
 */
static void
test_interrupted(void **state)
{
	char *path = in_tmp("out.zone"), *text, *ls, *big;
	char first[sizeof(((struct errbuf *)0)->msg)];
	struct child_result res;
	size_t len = 100000;
	int sig;

	(void)state;
	big = xmalloc(len);
	memset(big, 'x', len);
	put(path, "old records\n", 0644);

	replace_in_child(CHILD_KILLED, path, big, len, &res, &sig);
	assert_int_equal(sig, SIGXFSZ);
	text = slurp(path);
	assert_string_equal(text, "old records\n");
	free(text);
	ls = listing(tmpdir);
	assert_int_equal(strncmp(ls, ".out.zone.", 10), 0);
	assert_non_null(strstr(ls, " out.zone"));
	assert_null(strchr(strchr(ls, ' ') + 1, ' '));	/* two names */
	free(ls);
	clean(NULL);

	put(path, "old records\n", 0644);
	replace_in_child(CHILD_WRITE_FAILS, path, big, len, &res, &sig);
	assert_int_equal(sig, 0);
	assert_int_equal(res.rc, -1);
	assert_int_equal(res.changed, 0);
	assert_non_null(strstr(res.msg, "File too large"));
	assert_int_equal(strncmp(res.msg, path, strlen(path)), 0);
	/* No temporary name in it: a second failure reads the same, so the
	 * guard logs a full state_dir once. */
	assert_null(strstr(res.msg, ".out.zone."));
	snprintf(first, sizeof(first), "%s", res.msg);
	replace_in_child(CHILD_WRITE_FAILS, path, big, len, &res, &sig);
	assert_string_equal(res.msg, first);
	text = slurp(path);
	assert_string_equal(text, "old records\n");
	free(text);
	ls = listing(tmpdir);
	assert_string_equal(ls, "out.zone");
	free(ls);
	free(big);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_create, clean),
		cmocka_unit_test_teardown(test_unchanged, clean),
		cmocka_unit_test_teardown(test_changed, clean),
		cmocka_unit_test_teardown(test_relative, clean),
		cmocka_unit_test_teardown(test_missing_dir, clean),
		cmocka_unit_test_teardown(test_target_is_dir, clean),
		cmocka_unit_test_teardown(test_target_special, clean),
		cmocka_unit_test_teardown(test_unwritable_dir, clean),
		cmocka_unit_test_teardown(test_new_inode, clean),
		cmocka_unit_test_teardown(test_interrupted, clean),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
