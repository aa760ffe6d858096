/*
 * test_report - milter/report.c: the worst state and its ranking, keys,
 * status.json and metrics.prom text (golden fragments, escaping of what a
 * hostile server may put in a reason), the --check table, and the files
 * written into a state_dir that does not exist yet, the check names and
 * guard.state read back.
 */
#include "config.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "report.h"
#include "xalloc.h"

static void
fill(struct report *r)
{
	memset(r, 0, sizeof(*r));
	r->when = 1700000000;
	r->duration = 0.25;
	report_add(r, CHECK_G1, "mx1.example.test", "::1", "rsa", NULL,
	    VERDICT_OK, "STARTTLS offered and accepted");
	report_add(r, CHECK_G3, "mx1.example.test", "127.0.0.1", "rsa", NULL,
	    VERDICT_CRITICAL, "no \"record\" \\ matches\n\x01\xff"
	    " \xe2\x86\x92 \xf0\x9f\x93\xa7 \xc0\x80 \xed\xa0\x80 \xe2\x86");
	report_add(r, CHECK_G4, "mx1.example.test", NULL, "ecdsa", NULL,
	    VERDICT_WARNING, "next key has no record");
}

static void
test_worst(void **state)
{
	struct report r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(report_worst(&r), VERDICT_UNKNOWN);
	report_add(&r, CHECK_G1, "h", "a", "rsa", NULL, VERDICT_OK, "ok");
	assert_int_equal(report_worst(&r), VERDICT_OK);
	report_add(&r, CHECK_G4, "h", "", "rsa", NULL, VERDICT_WARNING, "w");
	assert_int_equal(report_worst(&r), VERDICT_WARNING);
	report_add(&r, CHECK_G2, "h", "a", "rsa", NULL, VERDICT_UNKNOWN, "u");
	assert_int_equal(report_worst(&r), VERDICT_UNKNOWN);
	report_add(&r, CHECK_G3, "h", "a", "rsa", NULL, VERDICT_CRITICAL, "c");
	assert_int_equal(report_worst(&r), VERDICT_CRITICAL);
	report_clear(&r);
	assert_int_equal(r.n, 0);
}

static void
test_keys(void **state)
{
	struct report r;
	struct report_item probe;

	(void)state;
	fill(&r);
	memset(&probe, 0, sizeof(probe));
	probe.check = CHECK_G4;
	probe.host = "mx1.example.test";
	probe.addr = "";
	probe.alg = "ecdsa";
	probe.client = "";
	assert_int_equal(report_find(&r, &probe), 2);
	probe.alg = "rsa";
	assert_int_equal(report_find(&r, &probe), -1);
	report_clear(&r);
}

static void
test_json(void **state)
{
	struct report r;
	char *j;

	(void)state;
	fill(&r);
	j = report_json(&r);
	assert_non_null(strstr(j, "\"sweep\": {\"time\": 1700000000, "
	    "\"time_utc\": \"2023-11-14T22:13:20Z\", \"duration_seconds\": "
	    "0.250},\n"));
	assert_non_null(strstr(j, "\"state\": \"CRITICAL\",\n"));
	assert_non_null(strstr(j, "{\"check\": \"G3\", \"host\": "
	    "\"mx1.example.test\", \"addr\": \"127.0.0.1\", \"alg\": \"rsa\", "
	    "\"state\": \"CRITICAL\", \"reason\": \"no \\\"record\\\" \\\\ "
	    "matches\\n\\u0001\\ufffd \\u2192 \\ud83d\\udce7 \\ufffd\\ufffd "
	    "\\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\", \"since\": 1700000000"));
	assert_non_null(strstr(j, "\"addr\": \"\", \"alg\": \"ecdsa\""));
	assert_non_null(strstr(j, "\"listeners\": []\n}\n"));
	assert_null(strstr(j, "client"));
	free(j);
	report_clear(&r);
}

static void
test_prom(void **state)
{
	struct report r;
	struct stats_listener l[1];
	char *p;

	(void)state;
	fill(&r);
	memset(l, 0, sizeof(l));
	snprintf(l[0].addr, sizeof(l[0].addr), "::1");
	l[0].port = 25;
	l[0].sessions = 5;
	l[0].tls = 3;
	l[0].plaintext = 2;
	l[0].versions[STATS_TLS_1_3] = 3;
	l[0].no_starttls = 1;
	snprintf(l[0].name, sizeof(l[0].name), "MTA-v6");
	r.listeners = xmalloc(sizeof(l));
	memcpy(r.listeners, l, sizeof(l));
	r.nlisteners = 1;
	p = report_prom(&r);
	assert_non_null(strstr(p, "# TYPE daneguard_check_state gauge\n"));
	assert_non_null(strstr(p, "\ndaneguard_state 2\n"));
	assert_non_null(strstr(p, "\ndaneguard_sweep_timestamp_seconds "
	    "1700000000\n"));
	assert_non_null(strstr(p, "\ndaneguard_sweep_duration_seconds "
	    "0.250\n"));
	assert_non_null(strstr(p, "\ndaneguard_check_state{check=\"G3\","
	    "host=\"mx1.example.test\",addr=\"127.0.0.1\",alg=\"rsa\","
	    "client=\"\"} 2\n"));
	assert_non_null(strstr(p, "\ndaneguard_checks{state=\"WARNING\"} 1\n"));
	assert_non_null(strstr(p, "# TYPE daneguard_sessions_total counter\n"));
	assert_non_null(strstr(p, "\ndaneguard_sessions_total{listener="
	    "\"[::1]:25\",tls=\"no\"} 2\n"));
	assert_non_null(strstr(p, "\ndaneguard_tls_sessions_total{listener="
	    "\"[::1]:25\",version=\"TLSv1.3\"} 3\n"));
	assert_non_null(strstr(p, "\ndaneguard_no_starttls_sessions_total{"
	    "listener=\"[::1]:25\"} 1\n"));
	free(p);
	/* status.json with a listener: complete, and ends in a newline. */
	p = report_json(&r);
	assert_non_null(strstr(p, "\"addr\": \"::1\", \"port\": 25, "
	    "\"sessions\": 5"));
	assert_non_null(strstr(p, "\"TLSv1.3\": 3, \"other\": 0}, "
	    "\"daemon\": \"MTA-v6\", \"no_starttls\": 1}"));
	assert_true(strlen(p) > 7);
	assert_string_equal(p + strlen(p) - 7, "\n  ]\n}\n");
	free(p);
	report_clear(&r);
}

/* G9's seconds to the earliest RRSIG expiration: a series of its own,
 * in status.json too, and a copied item keeps it. */
static void
test_rrsig_seconds(void **state)
{
	struct report r, c;
	struct report_item *it;
	char *p;

	(void)state;
	fill(&r);
	p = report_prom(&r);
	assert_null(strstr(p, "daneguard_rrsig_expiry_seconds"));
	free(p);
	it = report_add(&r, CHECK_G9, "mx1.example.test", "127.0.0.2", "rrsig",
	    NULL, VERDICT_WARNING, "expires soon");
	it->sig_dated = 1;
	it->sig_seconds = -3600;
	memset(&c, 0, sizeof(c));
	report_add_item(&c, &r.items[r.n - 1]);
	p = report_prom(&c);
	assert_non_null(strstr(p, "# TYPE daneguard_rrsig_expiry_seconds "
	    "gauge\n"));
	assert_non_null(strstr(p, "\ndaneguard_rrsig_expiry_seconds{check="
	    "\"G9\",host=\"mx1.example.test\",addr=\"127.0.0.2\","
	    "alg=\"rrsig\",client=\"\"} -3600\n"));
	free(p);
	p = report_json(&c);
	assert_non_null(strstr(p, "\"rrsig_expiry_seconds\": -3600"));
	free(p);
	report_clear(&c);
	report_clear(&r);
}

static void
test_print(void **state)
{
	struct report r;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	fill(&r);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	report_print(&r, f);
	fclose(f);
	assert_true(strncmp(text, "DANEGUARD CRITICAL - 3 checks: 1 critical, "
	    "1 warning, 0 unknown, 1 ok (G3 mx1.example.test 127.0.0.1 rsa) "
	    "| critical=1;;;0 warning=1;;;0 unknown=0;;;0 ok=1;;;0 "
	    "sweep_duration=0.250s;;;0\n"
	    "CHECK  HOST              ADDR       ALG    STATE     REASON\n",
	    strlen("DANEGUARD CRITICAL - 3 checks: 1 critical, 1 warning, 0 "
	    "unknown, 1 ok (G3 mx1.example.test 127.0.0.1 rsa) | critical=1;;;0 "
	    "warning=1;;;0 unknown=0;;;0 ok=1;;;0 sweep_duration=0.250s;;;0\n"
	    "CHECK  HOST              ADDR       ALG    STATE     REASON\n")) == 0);
	assert_non_null(strstr(text, "\nG4     mx1.example.test  -          "
	    "ecdsa  WARNING   next key has no record\n"));
	free(text);
	/* A "|" in a reason would start performance data in the long
	 * output: it is shown as "/". */
	report_add(&r, CHECK_G2, "mx1.example.test", "::1", "rsa", NULL,
	    VERDICT_OK, "a|b");
	f = open_memstream(&text, &len);
	assert_non_null(f);
	report_print(&r, f);
	fclose(f);
	assert_non_null(strstr(text, "  a/b\n"));
	assert_null(strchr(strchr(text, '\n'), '|'));
	free(text);
	report_clear(&r);
}

/* Each check's name reads back as that check; no other name does. */
static void
test_check_names(void **state)
{
	enum check_id id, got;

	(void)state;
	for (id = CHECK_G1; id <= CHECK_M1; id++) {
		assert_int_equal(check_parse(check_name(id), &got), 0);
		assert_int_equal(got, id);
	}
	assert_string_equal(check_name(CHECK_G1), "G1");
	assert_string_equal(check_name(CHECK_G10), "G10");
	assert_string_equal(check_name(CHECK_M1), "M1");
	assert_string_equal(check_name((enum check_id)(CHECK_M1 + 1)), "?");
	assert_int_equal(check_parse("G12", &got), -1);
	assert_int_equal(check_parse("g1", &got), -1);
	assert_int_equal(check_parse("", &got), -1);
}

/*
 * guard.state read back: the check, key and since of G1 to G9; G10, G11
 * and M1 are not read back (they start again as new).
 */
static void
test_state_load(void **state)
{
	char dir[] = "/tmp/test_report_state.XXXXXX";
	struct report r, back;
	struct errbuf err;
	const char *name[] = { "status.json", "metrics.prom",
	    REPORT_STATE_FILE };
	char *path;
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	fill(&r);
	report_add(&r, CHECK_G10, "mx1.example.test", NULL, NULL, NULL,
	    VERDICT_OK, "no failures");
	report_add(&r, CHECK_M1, NULL, NULL, NULL, NULL, VERDICT_OK, "seen");
	r.items[1].since = 1600000000;
	assert_int_equal(report_write(&r, dir, &err), 0);
	memset(&back, 0, sizeof(back));
	assert_int_equal(report_state_load(dir, &back, &err), 0);
	assert_int_equal(back.n, 3);
	for (i = 0; i < back.n; i++) {
		assert_int_equal(back.items[i].check, r.items[i].check);
		assert_true(report_same_key(&back.items[i], &r.items[i]));
		assert_int_equal(back.items[i].state, r.items[i].state);
		assert_int_equal(back.items[i].since, r.items[i].since);
	}
	assert_int_equal(back.items[2].check, CHECK_G4);
	for (i = 0; i < 3; i++) {
		path = xasprintf("%s/%s", dir, name[i]);
		unlink(path);
		free(path);
	}
	rmdir(dir);
	report_clear(&back);
	report_clear(&r);
}

static void
test_write(void **state)
{
	char dir[] = "/tmp/test_report.XXXXXX";
	struct report r;
	struct errbuf err;
	struct stat st;
	char *sub, *path;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sub = xasprintf("%s/state", dir);
	fill(&r);
	assert_int_equal(report_write(&r, sub, &err), 0);
	path = xasprintf("%s/status.json", sub);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 100);
	unlink(path);
	free(path);
	path = xasprintf("%s/metrics.prom", sub);
	assert_int_equal(stat(path, &st), 0);
	unlink(path);
	free(path);
	rmdir(sub);
	/* A state_dir that is a file is refused with its name. */
	path = xasprintf("%s/file", dir);
	fclose(fopen(path, "w"));
	assert_int_equal(report_write(&r, path, &err), -1);
	assert_non_null(strstr(err.msg, "not a directory"));
	unlink(path);
	free(path);
	free(sub);
	rmdir(dir);
	report_clear(&r);
}

/*
 * The child of test_write_full, in its own mount namespace: a state_dir
 * on a 64 KiB tmpfs, filled up. Exit status 0, or the number of the
 * expectation that failed.
 */
static int
write_full_child(void)
{
	char dir[] = "/tmp/test_report_full.XXXXXX";
	char first[ERRBUF_SIZE], buf[4096];
	struct report r;
	struct errbuf err;
	char *filler, *path;
	int fd, rc = 0;

	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mkdtemp(dir) == NULL ||
	    mount("tmpfs", dir, "tmpfs", 0, "size=64k") < 0) {
		fprintf(stderr, "state_dir full: a private 64k tmpfs at %s: "
		    "%s\n", dir, strerror(errno));
		return 10;
	}
	filler = xasprintf("%s/filler", dir);
	if ((fd = open(filler, O_WRONLY | O_CREAT, 0600)) < 0)
		return 11;
	memset(buf, 'x', sizeof(buf));
	while (write(fd, buf, sizeof(buf)) > 0)
		;
	if (errno != ENOSPC)
		return 12;
	close(fd);
	fill(&r);
	/* Two sweeps in a row: the same message, naming the file, not a
	 * temporary name (the guard logs each distinct message once). */
	if (report_write(&r, dir, &err) != -1)
		rc = 1;
	else if (strstr(err.msg, "status.json") == NULL ||
	    strstr(err.msg, "No space left") == NULL ||
	    strstr(err.msg, ".status.json.") != NULL)
		rc = 2;
	snprintf(first, sizeof(first), "%s", err.msg);
	if (rc == 0 && (report_write(&r, dir, &err) != -1 ||
	    strcmp(err.msg, first) != 0))
		rc = 3;
	if (rc != 0)
		fprintf(stderr, "state_dir full: %s\n", first);
	/* Room again: written, and nothing half-written was left. */
	unlink(filler);
	path = xasprintf("%s/status.json", dir);
	if (rc == 0 && (report_write(&r, dir, &err) != 0 ||
	    access(path, R_OK) != 0))
		rc = 4;
	report_clear(&r);
	free(path);
	free(filler);
	umount(dir);
	rmdir(dir);
	return rc;
}

/* A full state_dir: one message, the same at every sweep (issue 11). */
static void
test_write_full(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	if (geteuid() != 0)
		skip();		/* mounting a small tmpfs needs root */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(write_full_child());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worst),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_prom),
		cmocka_unit_test(test_rrsig_seconds),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_check_names),
		cmocka_unit_test(test_state_load),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_write_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
