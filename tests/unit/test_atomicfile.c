/*
 * test_atomicfile - lib/atomicfile.c in a fresh temporary directory:
 * creation with the mode asked for, unchanged content left alone (mtime
 * too), replacement keeping the old mode, and failures that leave the
 * original and no temporary file behind.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
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

/* The target is a directory: rename fails after the temporary exists. */
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
	expect = xmalloc(strlen(path) + 64);
	strcpy(expect, path);
	strcat(expect, ": cannot replace: Is a directory");
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

/* A directory we may not write to (meaningless as root, who may). */
static void
test_unwritable_dir(void **state)
{
	char *dir, *path, *text, *ls, *expect;
	struct errbuf err;
	int changed = -1, rc;

	(void)state;
	if (geteuid() == 0)
		skip();
	dir = in_tmp("ro");
	path = in_tmp("ro/out.zone");
	assert_int_equal(mkdir(dir, 0755), 0);
	put(path, "original", 0644);
	assert_int_equal(chmod(dir, 0555), 0);
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
		cmocka_unit_test_teardown(test_unwritable_dir, clean),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
