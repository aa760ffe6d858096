/*
 * test_tlsrpt_store - lib/tlsrpt_store.c: reports counted per day,
 * organisation, policy domain, result, MX host and address; a report-id
 * counted once; reports older than the window ignored and old days
 * dropped; names with spaces and '%' kept intact; lines that do not
 * parse dropped; two processes adding to one shard at once lose nothing;
 * a report-id's line is the first 128 bits of its SHA-256 (stores
 * written before stay valid).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tlsrpt.h"
#include "tlsrpt_store.h"
#include "xalloc.h"

#define DAY0	20792			/* 2026-12-05 */
#define NOW	(DAY0 * 86400L + 43200)	/* its noon */

static char tmpdir[] = "/tmp/test_tlsrpt_store.XXXXXX";
static char *store;

/* A report for domain ending on day, with tlsa-invalid failures. */
static struct tlsrpt_report *
report(const char *org, const char *id, const char *domain, long day,
    long long ok, long long bad)
{
	struct tlsrpt_report *r;
	struct errbuf err;
	time_t end = day * 86400L + 86399;
	char start_s[32], end_s[32], *json;
	struct tm tm;

	time_t start = day * 86400L;

	gmtime_r(&start, &tm);
	strftime(start_s, sizeof(start_s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	gmtime_r(&end, &tm);
	strftime(end_s, sizeof(end_s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json = xasprintf("{\"organization-name\": \"%s\", \"report-id\": "
	    "\"%s\", \"date-range\": {\"start-datetime\": \"%s\", "
	    "\"end-datetime\": \"%s\"}, \"policies\": [{\"policy\": "
	    "{\"policy-type\": \"tlsa\", \"policy-domain\": \"%s\"}, "
	    "\"summary\": {\"total-successful-session-count\": %lld, "
	    "\"total-failure-session-count\": %lld}, \"failure-details\": "
	    "[{\"result-type\": \"tlsa-invalid\", \"receiving-mx-hostname\": "
	    "\"mx1.example.test\", \"receiving-ip\": \"192.0.2.10\", "
	    "\"failed-session-count\": %lld}]}, {\"policy\": {\"policy-type\": "
	    "\"no-policy-found\", \"policy-domain\": \"second.example\"}, "
	    "\"summary\": {\"total-successful-session-count\": 5, "
	    "\"total-failure-session-count\": 0}}]}", org, id, start_s,
	    end_s, domain, ok, bad, bad);
	if (tlsrpt_parse_json(json, strlen(json), day * 86400L + 86400 * 2,
	    &r, &err) < 0)
		fail_msg("%s", err.msg);
	free(json);
	return r;
}

static enum tlsrpt_store_status
add(struct tlsrpt_report *r, long days, time_t now)
{
	enum tlsrpt_store_status status;
	struct errbuf err;

	if (tlsrpt_store_add(store, days, r, now, &status, &err) < 0)
		fail_msg("%s", err.msg);
	tlsrpt_free(r);
	return status;
}

struct sum {
	const char *result;	/* count only this result (NULL: all lines) */
	long long count;
	size_t lines;
	char last[512];		/* the last line matched, as text */
};

static int
sum_fn(const struct tlsrpt_store_count *c, void *arg)
{
	struct sum *s = arg;

	if (s->result != NULL && strcmp(c->result, s->result) != 0)
		return 0;
	s->count += c->count;
	s->lines++;
	snprintf(s->last, sizeof(s->last), "%ld|%s|%s|%s|%s|%s|%s|%lld",
	    c->day, c->org, c->domain, c->policy_type, c->result, c->mx,
	    c->ip, c->count);
	return 0;
}

static struct sum
sum(const char *result, long since, const char *domain)
{
	struct sum s;
	struct errbuf err;

	memset(&s, 0, sizeof(s));
	s.result = result;
	if (tlsrpt_store_scan(store, since, domain, sum_fn, &s, &err) < 0)
		fail_msg("%s", err.msg);
	return s;
}

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	store = xasprintf("%s/tlsrpt", tmpdir);
	return 0;
}

static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);

	(void)state;
	if (system(cmd) != 0)
		return -1;
	free(cmd);
	free(store);
	return 0;
}

static void
test_count_and_duplicates(void **state)
{
	struct sum s;

	(void)state;
	assert_int_equal(add(report("Mail Provider Inc.", "r1", "Example.TEST",
	    DAY0 - 1, 100, 7), 14, NOW), TLSRPT_STORE_ADDED);
	s = sum("tlsa-invalid", 0, NULL);
	assert_int_equal(s.count, 7);
	assert_string_equal(s.last, "20791|Mail Provider Inc.|example.test|"
	    "tlsa|tlsa-invalid|mx1.example.test|192.0.2.10|7");
	assert_int_equal(sum("success", 0, "example.test").count, 100);
	assert_int_equal(sum("success", 0, "second.example").count, 5);
	assert_int_equal(sum("failure", 0, NULL).count, 7);

	/* The same report-id again (even a day later): not counted. */
	assert_int_equal(add(report("Mail Provider Inc.", "r1", "example.test",
	    DAY0, 100, 7), 14, NOW), TLSRPT_STORE_DUPLICATE);
	assert_int_equal(sum("tlsa-invalid", 0, NULL).count, 7);

	/* Another report with the same key: summed in one line. */
	assert_int_equal(add(report("Mail Provider Inc.", "r2", "example.test",
	    DAY0 - 1, 1, 3), 14, NOW), TLSRPT_STORE_ADDED);
	s = sum("tlsa-invalid", 0, NULL);
	assert_int_equal(s.count, 10);
	assert_int_equal(s.lines, 1);
	/* Another organisation and day: lines of their own. */
	assert_int_equal(add(report("100% Mail  Co", "r3", "example.test",
	    DAY0, 1, 2), 14, NOW), TLSRPT_STORE_ADDED);
	s = sum("tlsa-invalid", DAY0, NULL);
	assert_int_equal(s.count, 2);
	assert_string_equal(s.last, "20792|100% Mail  Co|example.test|"
	    "tlsa|tlsa-invalid|mx1.example.test|192.0.2.10|2");
	assert_int_equal(sum("tlsa-invalid", 0, NULL).lines, 2);
	assert_int_equal(sum(NULL, 0, "nowhere.example").lines, 0);
}

static void
test_window(void **state)
{
	long later = DAY0 + 20;

	(void)state;
	/* Ended 14 days before: outside a 14-day window, nothing written. */
	assert_int_equal(add(report("Old", "old1", "old.example", DAY0 - 14,
	    1, 1), 14, NOW), TLSRPT_STORE_TOO_OLD);
	assert_int_equal(sum(NULL, 0, "old.example").lines, 0);
	assert_int_equal(add(report("Old", "old2", "old.example", DAY0 - 13,
	    1, 1), 14, NOW), TLSRPT_STORE_ADDED);
	assert_int_equal(sum(NULL, 0, "old.example").lines, 3);
	/* Twenty days on, a rewrite of that shard drops the old days. */
	assert_int_equal(add(report("Old", "old3", "old.example", later, 1, 1),
	    14, later * 86400L + 3600), TLSRPT_STORE_ADDED);
	assert_int_equal(sum(NULL, 0, "old.example").lines, 3);
	assert_int_equal(sum(NULL, later, "old.example").lines, 3);
	/* second.example's shard: the old days gone there too. */
	assert_int_equal(sum("success", 0, "second.example").count, 5);
	/* ...and its report-ids: old2 counts again (it is new again). */
	assert_int_equal(add(report("Old", "old2", "old.example", later, 1, 1),
	    14, later * 86400L + 3600), TLSRPT_STORE_ADDED);
}

/* The path of the shard that holds domain (an assertion if none). */
static char *
shard_with(const char *domain)
{
	char *path, *cmd;
	unsigned i;
	int found;

	for (i = 0; i < TLSRPT_STORE_SHARDS; i++) {
		path = xasprintf("%s/%02x", store, i);
		cmd = xasprintf("grep -q '%s' '%s' 2>/dev/null", domain, path);
		found = system(cmd) == 0;
		free(cmd);
		if (found)
			return path;
		free(path);
	}
	fail_msg("no shard holds %s", domain);
	return NULL;
}

static void
test_garbage_lines(void **state)
{
	struct tlsrpt_report *r = report("G", "g1", "garbage.example", DAY0,
	    4, 0);
	char *path;
	FILE *fp;

	(void)state;
	assert_int_equal(add(r, 14, NOW), TLSRPT_STORE_ADDED);
	/* Spoil the shard that holds garbage.example. */
	path = shard_with("garbage.example");
	fp = fopen(path, "a");
	assert_non_null(fp);
	fputs("c\tnot-a-day\tx\ty\n", fp);
	fputs("c\t20792\tG\tgarbage.example\ttlsa\tsuccess\t-\t-\tmany\n", fp);
	fputs("c\t20792\tG\tgarbage.example\ttlsa\tsuccess\t-\t-\t-3\n", fp);
	fputs("c\t20792\tG\tgarbage.example\ttlsa\n", fp);
	fputs("z whatever\n", fp);
	fclose(fp);
	free(path);
	assert_int_equal(sum("success", 0, "garbage.example").count, 4);
	assert_int_equal(add(report("G", "g2", "garbage.example", DAY0, 6, 0),
	    14, NOW), TLSRPT_STORE_ADDED);
	assert_int_equal(sum("success", 0, "garbage.example").count, 10);
}

/*
 * A report-id's line as every version of the store writes it: "i", the
 * day, the first 32 hex digits of the SHA-256 of the report-id
 * ("compat-1": printf %s compat-1 | sha256sum). A report with that id
 * is a duplicate.
 */
static void
test_id_line_format(void **state)
{
	char *path;
	FILE *fp;

	(void)state;
	assert_int_equal(add(report("C", "compat-0", "compat.example", DAY0,
	    1, 0), 14, NOW), TLSRPT_STORE_ADDED);
	path = shard_with("compat.example");
	fp = fopen(path, "a");
	assert_non_null(fp);
	fputs("i\t20792\tfbea57479815d9c3fbb2487ed22dacf5\n", fp);
	fclose(fp);
	free(path);
	assert_int_equal(add(report("C", "compat-1", "compat.example", DAY0,
	    1, 0), 14, NOW), TLSRPT_STORE_DUPLICATE);
	assert_int_equal(sum("success", 0, "compat.example").count, 1);
}

static void
test_parallel_writers(void **state)
{
	int i, k, status;
	pid_t pid[2];

	(void)state;
	for (k = 0; k < 2; k++) {
		if ((pid[k] = fork()) == 0) {
			for (i = 0; i < 100; i++) {
				char *id = xasprintf("p%d-%d", k, i);

				add(report("P", id, "parallel.example", DAY0,
				    1, 0), 14, NOW);
				free(id);
			}
			_exit(0);
		}
		assert_true(pid[k] > 0);
	}
	for (k = 0; k < 2; k++) {
		assert_int_equal(waitpid(pid[k], &status, 0), pid[k]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(sum("success", 0, "parallel.example").count, 200);
}

static void
test_unwritable(void **state)
{
	enum tlsrpt_store_status status;
	struct errbuf err;
	struct tlsrpt_report *r = report("U", "u1", "u.example", DAY0, 1, 0);
	char *bad = xasprintf("%s/missing/tlsrpt", tmpdir);
	char *saved = store;

	(void)state;
	err.msg[0] = '\0';
	assert_int_equal(tlsrpt_store_add(bad, 14, r, NOW, &status, &err), -1);
	assert_non_null(strstr(err.msg, bad));
	/* Scanning a store that does not exist: empty. */
	store = bad;
	assert_int_equal(sum(NULL, 0, NULL).lines, 0);
	store = saved;
	tlsrpt_free(r);
	free(bad);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_and_duplicates),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_garbage_lines),
		cmocka_unit_test(test_id_line_format),
		cmocka_unit_test(test_parallel_writers),
		cmocka_unit_test(test_unwritable),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
