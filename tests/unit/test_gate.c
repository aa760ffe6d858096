/*
 * test_gate - the two rules of tlsagen's pre-deploy gate (tlsagen/gate.c)
 * for one nameserver's validated answer, without DNS: every item (the
 * chain, the next key) must be covered by a record the server serves
 * ("missing" otherwise), and that record must have been served for at
 * least the minimum age, 2 x TTL unless --min-age says otherwise ("too
 * young"). A second coverage beside tests/lab/gate-lab.sh (live NSD and
 * unbound). gate.c keeps its rule in a static function, so this file
 * includes it; the records come from the openssl command line
 * (tests/tlsagen/oracle.sh), not from lib/tlsa.c.
 */
#include "../../tlsagen/gate.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

static const char *certdir, *top_srcdir;
static char tmpdir[] = "/tmp/test_gate.XXXXXX";
static struct conf *conf;
static struct expect *hostexp;
static const time_t now = 2000000000;

/* The 3 1 1 record of the leaf or key in CERTDIR/file, by oracle.sh. */
static void
oracle_311(const char *file, struct tlsa_record *rec)
{
	char *cmd, line[8192], sel[4], mt[4], hex[8000], idx[8], *text = NULL;
	struct errbuf err;
	FILE *p;

	cmd = xasprintf("sh '%s/tests/tlsagen/oracle.sh' '%s/%s'", top_srcdir,
	    certdir, file);
	assert_non_null(p = popen(cmd, "r"));
	while (fgets(line, sizeof(line), p) != NULL)
		if (sscanf(line, "%3s %3s %7999s %7s", sel, mt, hex, idx) == 4 &&
		    strcmp(sel, "1") == 0 && strcmp(mt, "1") == 0 &&
		    strcmp(idx, "0") == 0 && text == NULL)
			text = xasprintf("3 1 1 %s", hex);
	pclose(p);
	free(cmd);
	if (text == NULL)
		fail_msg("oracle.sh gave no 3 1 1 data for %s", file);
	if (tlsa_rdata_parse(text, rec, &err) != 0)
		fail_msg("%s: %s", text, err.msg);
	tlsa_record_set_owner(rec, hostexp->owner);
	free(text);
}

/*
 * Judge a server that serves the records of files (NULL-ended), first
 * seen age seconds ago, with the answer's TTL; min_age < 0: the default.
 * Returns judge()'s verdict; the line in *line (malloc'd).
 */
static int
run_judge(const char *const *files, long age, long ttl, long min_age,
    char **line)
{
	struct dnsauth_server s;
	struct options o;
	struct firstseen fs;
	struct strbuf out;
	struct tlsa_record rec;
	char *state = xasprintf("%s/firstseen", tmpdir);
	size_t i;
	int pass;

	memset(&s, 0, sizeof(s));
	memset(&o, 0, sizeof(o));
	memset(&out, 0, sizeof(out));
	s.name = "ns1.example.test.";
	s.addr = "127.0.0.2";
	s.serial = 1;
	s.tlsa.status = DNS_SECURE;
	s.tlsa.ttl = ttl;
	tlsa_set_init(&s.tlsa.tlsa);
	for (i = 0; files[i] != NULL; i++) {
		oracle_311(files[i], &rec);
		tlsa_set_take(&s.tlsa.tlsa, &rec);
	}
	if (min_age >= 0) {
		o.min_age = min_age;
		o.min_age_set = 1;
	}
	firstseen_init(&fs, state);
	firstseen_observe(&fs, s.addr, hostexp->owner, &s.tlsa.tlsa, now - age);
	firstseen_observe(&fs, s.addr, hostexp->owner, &s.tlsa.tlsa, now);
	pass = judge(&o, hostexp, &s, &fs, now, &out);
	*line = xstrdup(out.buf != NULL ? out.buf : "");
	print_message("  %s\n", *line);
	strbuf_free(&out);
	firstseen_free(&fs);
	tlsa_set_free(&s.tlsa.tlsa);
	free(state);
	return pass;
}

static const char *const both[] = { "rsa-chain.pem", "rsa-next.key", NULL };

static void
test_present(void **state)
{
	char *line;

	(void)state;
	/* old enough: 2 x TTL = 7200 s, seen 3 h ago */
	assert_int_equal(run_judge(both, 3 * 3600, 3600, -1, &line), 1);
	assert_string_equal(line, "present");
	free(line);
}

static void
test_missing(void **state)
{
	static const char *const chain_only[] = { "rsa-chain.pem", NULL };
	static const char *const next_only[] = { "rsa-next.key", NULL };
	static const char *const other[] = { "rsa-other-chain.pem", NULL };
	char *line;

	(void)state;
	assert_int_equal(run_judge(chain_only, 3 * 3600, 3600, -1, &line), 0);
	assert_int_equal(strncmp(line, "missing: ", 9), 0);
	assert_non_null(strstr(line, "next"));
	assert_null(strstr(line, "current"));
	free(line);

	assert_int_equal(run_judge(next_only, 3 * 3600, 3600, -1, &line), 0);
	assert_int_equal(strncmp(line, "missing: ", 9), 0);
	assert_non_null(strstr(line, "current"));
	assert_null(strstr(line, " next"));
	free(line);

	assert_int_equal(run_judge(other, 3 * 3600, 3600, -1, &line), 0);
	assert_int_equal(strncmp(line, "missing: ", 9), 0);
	assert_non_null(strstr(line, "current"));
	assert_non_null(strstr(line, "next"));
	free(line);
}

static void
test_too_young(void **state)
{
	char *line;

	(void)state;
	/* 2 x TTL by default: seen 1 h ago with TTL 3600 is too young */
	assert_int_equal(run_judge(both, 3600, 3600, -1, &line), 0);
	assert_int_equal(strncmp(line, "too young: ", 11), 0);
	assert_non_null(strstr(line, "2 x TTL"));
	free(line);
	/* the TTL is the answer's: 1 h ago is old enough for TTL 600 */
	assert_int_equal(run_judge(both, 3600, 600, -1, &line), 1);
	free(line);
	/* --min-age overrides 2 x TTL, both ways */
	assert_int_equal(run_judge(both, 3600, 3600, 1800, &line), 1);
	free(line);
	assert_int_equal(run_judge(both, 3 * 3600, 600, 4 * 3600, &line), 0);
	assert_int_equal(strncmp(line, "too young: ", 11), 0);
	free(line);
	/* just old enough, and a second short */
	assert_int_equal(run_judge(both, 7200, 3600, -1, &line), 1);
	free(line);
	assert_int_equal(run_judge(both, 7199, 3600, -1, &line), 0);
	free(line);
}

static int
setup(void **state)
{
	struct errbuf err;
	char *cf;
	FILE *f;

	(void)state;
	certdir = getenv("CERTDIR");
	top_srcdir = getenv("top_srcdir");
	if (certdir == NULL || top_srcdir == NULL) {
		fprintf(stderr, "test_gate: CERTDIR and top_srcdir must be set "
		    "(make check sets them)\n");
		return -1;
	}
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	cf = xasprintf("%s/dg.conf", tmpdir);
	if ((f = fopen(cf, "w")) == NULL)
		return -1;
	fprintf(f, "host \"mx1.example.test\" {\n  rollover = \"current+next\"\n"
	    "  cert \"rsa\" { chain = \"%s/rsa-chain.pem\"\n"
	    "    next_key = \"%s/rsa-next.key\" }\n}\n", certdir, certdir);
	fclose(f);
	if (conf_load(cf, &conf, &err) != 0 ||
	    expect_load(&conf->hosts[0], NULL, now, &hostexp, &err) != 0) {
		fprintf(stderr, "test_gate: %s\n", err.msg);
		return -1;
	}
	unlink(cf);
	free(cf);
	return 0;
}

static int
teardown(void **state)
{
	char *p = xasprintf("%s/firstseen", tmpdir);

	(void)state;
	unlink(p);
	free(p);
	expect_free(hostexp);
	conf_free(conf);
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_present),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_too_young),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
