/*
 * test_firstseen - lib/firstseen.c: the state file of the pre-deploy
 * gate. Parsing good and garbage lines (dropped with file:line), keeping
 * first-seen times across observations, forgetting records that went
 * away, and the atomic rewrite (sorted, re-read identically; a failed
 * write leaves the old file).
 */
#include "config.h"

#include <sys/wait.h>

#include <sys/stat.h>

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

#include "firstseen.h"
#include "xalloc.h"

#define OWNER "_25._tcp.mx.example.test."
#define H1 "0101010101010101010101010101010101010101010101010101010101010101"
#define H2 "0202020202020202020202020202020202020202020202020202020202020202"
#define NOW 1764000000

static char tmpdir[] = "/tmp/test_firstseen.XXXXXX";

static char *
in_tmp(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static char *
slurp(const char *path)
{
	char *buf = xcalloc(1, 65536);
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, 65535);
	assert_true(n >= 0);
	close(fd);
	return buf;
}

static void
record(struct tlsa_record *rec, const char *hex)
{
	struct errbuf err;
	char *text = xasprintf("3 1 1 %s", hex);

	assert_int_equal(tlsa_rdata_parse(text, rec, &err), 0);
	tlsa_record_set_owner(rec, OWNER);
	free(text);
}

static void
test_parse_line(void **state)
{
	struct firstseen_entry e;
	struct errbuf why;

	(void)state;
	assert_int_equal(firstseen_parse_line("192.0.2.1 " OWNER " 3 1 1 "
	    H1 " 1763990000", NOW, &e, &why), 1);
	assert_string_equal(e.server, "192.0.2.1");
	assert_string_equal(e.rec.owner, OWNER);
	assert_int_equal(e.rec.type.usage, 3);
	assert_int_equal(e.rec.len, 32);
	assert_int_equal(e.first, 1763990000);
	free(e.server);
	tlsa_record_clear(&e.rec);

	assert_int_equal(firstseen_parse_line("  # comment", NOW, &e, &why),
	    0);
	assert_int_equal(firstseen_parse_line("", NOW, &e, &why), 0);
	assert_int_equal(firstseen_parse_line("2001:db8::53\t" OWNER
	    "\t3 1 1 " H2 "\t0", NOW, &e, &why), 1);
	free(e.server);
	tlsa_record_clear(&e.rec);
}

static void
test_garbage_lines(void **state)
{
	static const struct { const char *line, *why; } bad[] = {
		{ "garbage", "7 fields" },
		{ "192.0.2.1 " OWNER " 3 1 1 " H1, "7 fields" },
		{ "192.0.2.1 " OWNER " 3 1 1 " H1 " 1 extra", "7 fields" },
		{ "ns1.example. " OWNER " 3 1 1 " H1 " 1", "not an IP" },
		{ "192.0.2.1 _25._tcp.mx 3 1 1 " H1 " 1", "trailing dot" },
		{ "192.0.2.1 " OWNER " 3 1 1 0102 1", "" },
		{ "192.0.2.1 " OWNER " 3 1 1 " H1 " 12x", "not a time" },
		{ "192.0.2.1 " OWNER " 3 1 1 " H1 " -5", "not a time" },
		{ "192.0.2.1 " OWNER " 3 1 1 " H1 " 1764000001", "future" },
	};
	struct firstseen_entry e;
	struct errbuf why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&why, 0, sizeof(why));
		assert_int_equal(firstseen_parse_line(bad[i].line, NOW, &e,
		    &why), -1);
		assert_non_null(strstr(why.msg, bad[i].why));
		assert_true(why.msg[0] != '\0');
	}
}

static void
test_load_garbage(void **state)
{
	struct firstseen fs;
	struct tlsa_record r1;
	struct errbuf err;
	char *path = in_tmp("garbage");

	(void)state;
	write_file(path, "# header\n"
	    "192.0.2.1 " OWNER " 3 1 1 " H1 " 1763990000\n"
	    "this is not a line\n"
	    "\n"
	    "192.0.2.2 " OWNER " 3 1 1 " H1 " 1763999999");	/* no newline */
	firstseen_init(&fs, path);
	assert_int_equal(firstseen_load(&fs, NOW, &err), 0);
	assert_int_equal(fs.n, 2);
	assert_int_equal(fs.nwarnings, 1);
	assert_non_null(strstr(fs.warnings[0], "garbage:3: ignored: "));
	record(&r1, H1);
	assert_int_equal(firstseen_get(&fs, "192.0.2.1", &r1), 1763990000);
	assert_int_equal(firstseen_get(&fs, "192.0.2.2", &r1), 1763999999);
	assert_int_equal(firstseen_get(&fs, "192.0.2.3", &r1), -1);
	tlsa_record_clear(&r1);
	firstseen_free(&fs);

	/* A missing file is an empty state; an unreadable one an error. */
	free(path);
	path = in_tmp("missing");
	firstseen_init(&fs, path);
	assert_int_equal(firstseen_load(&fs, NOW, &err), 0);
	assert_int_equal(fs.n, 0);
	firstseen_free(&fs);
	firstseen_init(&fs, tmpdir);	/* a directory */
	assert_int_equal(firstseen_load(&fs, NOW, &err), -1);
	assert_non_null(strstr(err.msg, tmpdir));
	firstseen_free(&fs);
	free(path);
}

static void
test_observe(void **state)
{
	struct firstseen fs;
	struct tlsa_set set;
	struct tlsa_record r1, r2;

	(void)state;
	firstseen_init(&fs, "/nonexistent/unused");
	record(&r1, H1);
	record(&r2, H2);
	tlsa_set_init(&set);
	tlsa_set_add(&set, &r1);
	firstseen_observe(&fs, "192.0.2.1", OWNER, &set, 1000);
	assert_int_equal(firstseen_get(&fs, "192.0.2.1", &r1), 1000);
	assert_int_equal(firstseen_get(&fs, "192.0.2.2", &r1), -1);

	/* Seen again later with a new record: r1 keeps its time. */
	tlsa_set_add(&set, &r2);
	firstseen_observe(&fs, "192.0.2.1", OWNER, &set, 2000);
	assert_int_equal(firstseen_get(&fs, "192.0.2.1", &r1), 1000);
	assert_int_equal(firstseen_get(&fs, "192.0.2.1", &r2), 2000);
	firstseen_observe(&fs, "192.0.2.2", OWNER, &set, 2500);
	assert_int_equal(fs.n, 4);

	/* r1 withdrawn from .1: forgotten there, .2 untouched; when it
	 * comes back its age starts again. */
	tlsa_set_free(&set);
	tlsa_set_add(&set, &r2);
	firstseen_observe(&fs, "192.0.2.1", OWNER, &set, 3000);
	assert_int_equal(firstseen_get(&fs, "192.0.2.1", &r1), -1);
	assert_int_equal(firstseen_get(&fs, "192.0.2.1", &r2), 2000);
	assert_int_equal(firstseen_get(&fs, "192.0.2.2", &r1), 2500);
	tlsa_set_add(&set, &r1);
	firstseen_observe(&fs, "192.0.2.1", OWNER, &set, 4000);
	assert_int_equal(firstseen_get(&fs, "192.0.2.1", &r1), 4000);

	/* A validated denial: nothing left for that server and owner. */
	tlsa_set_free(&set);
	firstseen_observe(&fs, "192.0.2.1", OWNER, &set, 5000);
	assert_int_equal(firstseen_get(&fs, "192.0.2.1", &r2), -1);
	assert_int_equal(fs.n, 2);

	tlsa_record_clear(&r1);
	tlsa_record_clear(&r2);
	firstseen_free(&fs);
}

static void
test_save_roundtrip(void **state)
{
	struct firstseen fs, again;
	struct tlsa_set set;
	struct tlsa_record r1, r2;
	struct errbuf err;
	char *path = in_tmp("state"), *text, *text2, *p;

	(void)state;
	firstseen_init(&fs, path);
	record(&r1, H1);
	record(&r2, H2);
	tlsa_set_init(&set);
	tlsa_set_add(&set, &r2);
	tlsa_set_add(&set, &r1);
	firstseen_observe(&fs, "2001:db8::53", OWNER, &set, 1700);
	firstseen_observe(&fs, "192.0.2.1", OWNER, &set, 1600);
	assert_int_equal(firstseen_save(&fs, &err), 0);
	text = slurp(path);
	/* Sorted: server, then rdata; then the times as written. */
	p = strstr(text, "192.0.2.1 " OWNER " 3 1 1 " H1 " 1600\n"
	    "192.0.2.1 " OWNER " 3 1 1 " H2 " 1600\n"
	    "2001:db8::53 " OWNER " 3 1 1 " H1 " 1700\n"
	    "2001:db8::53 " OWNER " 3 1 1 " H2 " 1700\n");
	assert_non_null(p);
	assert_int_equal(text[0], '#');

	/* Re-read: the same state, rendered byte for byte the same. */
	firstseen_init(&again, path);
	assert_int_equal(firstseen_load(&again, NOW, &err), 0);
	assert_int_equal(again.nwarnings, 0);
	assert_int_equal(again.n, 4);
	text2 = firstseen_render(&again);
	assert_string_equal(text, text2);
	free(text2);
	firstseen_free(&again);

	/* A state that cannot be written: error naming the file, the old
	 * one untouched, no temporary file left. */
	free(fs.path);
	fs.path = in_tmp("nodir/state");
	assert_int_equal(firstseen_save(&fs, &err), -1);
	assert_non_null(strstr(err.msg, "nodir/state"));
	text2 = slurp(path);
	assert_string_equal(text, text2);
	free(text2);

	free(text);
	tlsa_set_free(&set);
	tlsa_record_clear(&r1);
	tlsa_record_clear(&r2);
	firstseen_free(&fs);
	free(path);
}

/*
 * Hostile state files for the gate: a huge one (refused from its size,
 * not read), a FIFO (refused at once, no hang), a symbolic link (read
 * through, but never replaced by a save), and two writers while a reader
 * loads: every load sees one whole state, never a mix or a half.
 */
static void
test_hostile_files(void **state)
{
	struct firstseen fs, w;
	struct tlsa_set set;
	struct tlsa_record r1;
	struct errbuf err;
	char *huge = in_tmp("huge"), *fifo = in_tmp("fifo");
	char *real = in_tmp("real"), *link = in_tmp("link");
	struct stat st;
	pid_t pid[2];
	int fd, i, k, status;

	(void)state;
	fd = open(huge, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)65 * 1024 * 1024), 0);
	close(fd);
	firstseen_init(&fs, huge);
	assert_int_equal(firstseen_load(&fs, NOW, &err), -1);
	assert_non_null(strstr(err.msg, "huge: larger than"));
	firstseen_free(&fs);

	assert_int_equal(mkfifo(fifo, 0644), 0);
	firstseen_init(&fs, fifo);
	assert_int_equal(firstseen_load(&fs, NOW, &err), -1);
	assert_non_null(strstr(err.msg, "fifo: is a FIFO, not a regular file"));
	firstseen_free(&fs);

	record(&r1, H1);
	tlsa_set_init(&set);
	tlsa_set_add(&set, &r1);
	firstseen_init(&w, real);
	firstseen_observe(&w, "192.0.2.1", OWNER, &set, 1600);
	assert_int_equal(firstseen_save(&w, &err), 0);
	firstseen_free(&w);

	/* Two writers, each its own state, 300 saves each. */
	for (i = 0; i < 2; i++) {
		assert_true((pid[i] = fork()) >= 0);
		if (pid[i] != 0)
			continue;
		firstseen_init(&w, real);
		firstseen_observe(&w, i ? "192.0.2.2" : "192.0.2.1", OWNER,
		    &set, 1600 + i);
		if (i)
			firstseen_observe(&w, "192.0.2.3", OWNER, &set, 1700);
		for (k = 0; k < 300; k++)
			if (firstseen_save(&w, &err) < 0)
				_exit(1);
		_exit(0);
	}
	for (k = 0; k < 300; k++) {
		firstseen_init(&fs, real);
		assert_int_equal(firstseen_load(&fs, NOW, &err), 0);
		assert_int_equal(fs.nwarnings, 0);
		assert_true(fs.n == 1 || fs.n == 2);
		firstseen_free(&fs);
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}

	/* Through a symbolic link: read, but a save leaves the link. */
	assert_int_equal(symlink(real, link), 0);
	firstseen_init(&fs, link);
	assert_int_equal(firstseen_load(&fs, NOW, &err), 0);
	assert_true(fs.n == 1 || fs.n == 2);
	assert_int_equal(firstseen_save(&fs, &err), -1);
	assert_non_null(strstr(err.msg, "link: is a symbolic link"));
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	firstseen_free(&fs);

	tlsa_set_free(&set);
	tlsa_record_clear(&r1);
	free(huge);
	free(fifo);
	free(real);
	free(link);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char *cmd;

	(void)state;
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return -1;
	free(cmd);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_line),
		cmocka_unit_test(test_garbage_lines),
		cmocka_unit_test(test_load_garbage),
		cmocka_unit_test(test_observe),
		cmocka_unit_test(test_save_roundtrip),
		cmocka_unit_test(test_hostile_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
