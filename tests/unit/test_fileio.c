/*
 * test_fileio - lib/fileio.c: fileio_read_fd on pipes (no size known in
 * advance: longer than the first buffer, exactly the limit, one byte
 * over it, empty), on a descriptor that cannot be read, and fileio_read
 * on a file, a FIFO (refused, no hang) and a file over the limit.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
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

#include "fileio.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/test_fileio.XXXXXX";

static int
setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf %s", tmpdir);
	int rc;

	(void)state;
	rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

/* n bytes of a pattern, byte i = i * 7 mod 251 (no NUL run to hide in). */
static char *
pattern(size_t n)
{
	char *p = xmalloc(n + 1);
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (char)(1 + (i * 7) % 251);
	return p;
}

/* The read end of a pipe into which a child writes data[0..n). */
static int
feed(const char *data, size_t n, pid_t *pid)
{
	int p[2];
	ssize_t w;
	size_t off = 0;

	assert_int_equal(pipe(p), 0);
	*pid = fork();
	assert_true(*pid >= 0);
	if (*pid == 0) {
		close(p[0]);
		while (off < n && (w = write(p[1], data + off, n - off)) > 0)
			off += (size_t)w;
		_exit(0);
	}
	close(p[1]);
	return p[0];
}

static void
reap(int fd, pid_t pid)
{
	close(fd);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
}

static void
test_fd_pipe(void **state)
{
	size_t n = 300000;	/* past the first 64 KiB buffer */
	char *data = pattern(n), *buf;
	struct errbuf err;
	size_t len;
	pid_t pid;
	int fd;

	(void)state;
	fd = feed(data, n, &pid);
	assert_int_equal(fileio_read_fd(fd, "stdin", 1 << 20, 0, 0, &buf,
	    &len, &err), 0);
	reap(fd, pid);
	assert_int_equal(len, n);
	assert_memory_equal(buf, data, n);
	assert_int_equal(buf[n], '\0');
	fileio_free(buf, len, 0);
	free(data);
}

static void
test_fd_limit(void **state)
{
	size_t max = 100000;
	char *data = pattern(max + 1), *buf;
	struct errbuf err;
	size_t len;
	pid_t pid;
	int fd;

	(void)state;
	/* Exactly the limit: taken. */
	fd = feed(data, max, &pid);
	assert_int_equal(fileio_read_fd(fd, "stdin", max, 0, 0, &buf, &len,
	    &err), 0);
	reap(fd, pid);
	assert_int_equal(len, max);
	assert_memory_equal(buf, data, max);
	fileio_free(buf, len, 0);

	/* One byte more: refused, nothing handed out. */
	fd = feed(data, max + 1, &pid);
	buf = (char *)1;
	assert_int_equal(fileio_read_fd(fd, "stdin", max, 0, FILEIO_SECRET,
	    &buf, &len, &err), -1);
	reap(fd, pid);
	assert_int_equal(errno, EFBIG);
	assert_null(buf);
	assert_int_equal(len, 0);
	assert_string_equal(err.msg, "stdin: larger than 100000 bytes; is "
	    "this the right file?");
	free(data);
}

static void
test_fd_empty(void **state)
{
	struct errbuf err;
	char *buf;
	size_t len;
	pid_t pid;
	int fd;

	(void)state;
	fd = feed("", 0, &pid);
	assert_int_equal(fileio_read_fd(fd, "stdin", 10, 0, 0, &buf, &len,
	    &err), 0);
	reap(fd, pid);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	fileio_free(buf, len, 0);
}

static void
test_fd_error(void **state)
{
	struct errbuf err;
	char *buf;
	size_t len;
	int fd;

	(void)state;
	fd = open(tmpdir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(fileio_read_fd(fd, "the spool", 10, 0, 0, &buf,
	    &len, &err), -1);
	assert_int_equal(errno, EISDIR);
	assert_null(buf);
	assert_string_equal(err.msg, "the spool: Is a directory");
	close(fd);
}

static void
test_read_path(void **state)
{
	char *path = xasprintf("%s/f", tmpdir);
	char *fifo = xasprintf("%s/fifo", tmpdir);
	char *data = pattern(70000), *buf, *want;
	struct errbuf err;
	size_t len;
	int fd;

	(void)state;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, 70000), 70000);
	close(fd);
	assert_int_equal(fileio_read(path, 70000, 0, &buf, &len, &err), 0);
	assert_int_equal(len, 70000);
	assert_memory_equal(buf, data, 70000);
	fileio_free(buf, len, 0);

	assert_int_equal(fileio_read(path, 69999, 0, &buf, &len, &err), -1);
	assert_int_equal(errno, EFBIG);

	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(fileio_read(fifo, 100, 0, &buf, &len, &err), -1);
	want = xasprintf("%s: is a FIFO, not a regular file; name the file "
	    "itself", fifo);
	assert_string_equal(err.msg, want);
	free(want);
	free(data);
	free(path);
	free(fifo);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_pipe),
		cmocka_unit_test(test_fd_limit),
		cmocka_unit_test(test_fd_empty),
		cmocka_unit_test(test_fd_error),
		cmocka_unit_test(test_read_path),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
