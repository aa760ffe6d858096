/*
 * test_conf - lib/conf.c: the sample file, defaults, and for every check
 * the exact message with its line number.
 *
 * Fixtures are in tests/data/conf/ (found through $top_srcdir, which
 * make check exports); single-problem cases are written to a temporary
 * directory, so the line numbers can be read off the strings below.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cmocka.h>

#include "conf.h"
#include "paths.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/test_conf.XXXXXX";
static char *olddir;

/* Path of a fixture, or skip the test when top_srcdir is not known. */
static char *
fixture(const char *name)
{
	const char *top = getenv("top_srcdir");

	if (top == NULL)
		skip();
	return xasprintf("%s/tests/data/conf/%s", top, name);
}

static void
write_file(const char *name, const char *text, size_t len)
{
	FILE *fp = fopen(name, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void
write_str(const char *name, const char *text)
{
	write_file(name, text, strlen(text));
}

/* Write text to t.conf and load it; returns conf_load's result. */
static int
load_text(const char *text, struct conf **conf, struct errbuf *err)
{
	write_file("t.conf", text, strlen(text));
	memset(err->msg, 'x', sizeof(err->msg) - 1);
	err->msg[sizeof(err->msg) - 1] = '\0';
	return conf_load("t.conf", conf, err);
}

/* text must fail with exactly expect (all lines). */
static void
expect_errors(const char *text, const char *expect)
{
	struct conf *conf = (struct conf *)1;
	struct errbuf err;

	if (load_text(text, &conf, &err) != -1)
		fail_msg("no error for:\n%s", text);
	assert_null(conf);
	assert_string_equal(err.msg, expect);
}

static int
setup(void **state)
{
	(void)state;
	olddir = getcwd(NULL, 0);
	if (olddir == NULL || mkdtemp(tmpdir) == NULL || chdir(tmpdir) < 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink("t.conf");
	if (chdir(olddir) < 0 || rmdir(tmpdir) < 0)
		return -1;
	free(olddir);
	return 0;
}

/* ------------------------------------------------------------ success */

static void
test_sample(void **state)
{
	const char *top = getenv("top_srcdir");
	struct conf *conf = NULL;
	struct conf_host *h;
	struct errbuf err;
	char *path;
	int rc;

	(void)state;
	if (top == NULL)
		skip();
	path = xasprintf("%s/conf/daneguard.conf", top);
	rc = conf_load(path, &conf, &err);
	if (rc != 0)
		fail_msg("%s", err.msg);
	assert_non_null(conf);
	assert_string_equal(conf->path, path);
	assert_string_equal(conf->socket,
	    "unix:/var/spool/postfix/daneguard/daneguard.sock");
	assert_string_equal(conf->user, "daneguard");
	assert_string_equal(conf->pidfile, "/run/daneguard/daneguard.pid");
	assert_string_equal(conf->state_dir, PATHS_STATE_DIR);
	assert_int_equal(conf->probe_interval, 300);
	assert_int_equal(conf->probe_timeout, 10);
	assert_int_equal(conf->ns_interval, 900);
	assert_int_equal(conf->xclient, 1);
	assert_null(conf->tlsa_file);
	assert_string_equal(conf->dns.trust_anchor_file,
	    "/usr/share/dns/root.key");
	assert_null(conf->dns.resolver);
	assert_null(conf->dns.resolver_config);

	assert_int_equal(conf->nhosts, 1);
	h = &conf->hosts[0];
	assert_string_equal(h->name, "mx1.example.com");
	assert_int_equal(h->port, 25);
	assert_int_equal(h->ttl, 3600);
	assert_int_equal(h->rollover, CONF_ROLLOVER_CURRENT_NEXT);
	assert_int_equal(h->issuer_depth, 1);
	assert_int_equal(h->nrecords, 1);
	assert_int_equal(h->records[0].usage, 3);
	assert_int_equal(h->records[0].selector, 1);
	assert_int_equal(h->records[0].mtype, 1);
	assert_int_equal(h->nprobe, 2);
	assert_string_equal(h->probe[0], "192.0.2.10");
	assert_string_equal(h->probe[1], "2001:db8::10");

	assert_int_equal(h->ncerts, 2);
	assert_string_equal(h->certs[0].name, "rsa");
	assert_string_equal(h->certs[0].chain, "/etc/ssl/mx1/rsa.pem");
	assert_string_equal(h->certs[0].key, "/etc/ssl/private/mx1-rsa.key");
	assert_string_equal(h->certs[0].next_key,
	    "/etc/ssl/private/mx1-rsa.next.key");
	assert_null(h->certs[0].passphrase_file);
	assert_string_equal(h->certs[1].name, "ecdsa");
	assert_string_equal(h->certs[1].chain, "/etc/ssl/mx1/ecdsa.pem");
	assert_string_equal(h->certs[1].key, "/etc/ssl/private/mx1-ec.key");
	assert_string_equal(h->certs[1].next_key,
	    "/etc/ssl/private/mx1-ec.next.key");
	conf_free(conf);
	free(path);
}

static void
test_defaults(void **state)
{
	char *path = fixture("minimal.conf");
	struct conf *conf = NULL;
	struct conf_host *h;
	struct errbuf err;

	(void)state;
	if (conf_load(path, &conf, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(conf->socket, "unix:/run/daneguard/daneguard.sock");
	assert_string_equal(conf->user, "daneguard");
	assert_null(conf->pidfile);
	assert_string_equal(conf->state_dir, PATHS_STATE_DIR);
	assert_int_equal(conf->probe_interval, 300);
	assert_int_equal(conf->probe_timeout, 10);
	assert_int_equal(conf->xclient, 0);
	assert_null(conf->tlsa_file);
	assert_string_equal(conf->dns.trust_anchor_file,
	    "/usr/share/dns/root.key");
	assert_null(conf->dns.resolver);
	assert_null(conf->dns.resolver_config);
	assert_int_equal(conf->dns.dnssec_health, 1);
	assert_int_equal(conf->dns.rrsig_warning, 259200);
	assert_int_equal(conf->dns.rrsig_critical, 86400);
	assert_int_equal(conf->nhosts, 1);
	h = &conf->hosts[0];
	assert_string_equal(h->name, "mx.example.net");
	assert_int_equal(h->port, 25);
	assert_int_equal(h->ttl, 3600);
	assert_int_equal(h->rollover, CONF_ROLLOVER_CURRENT_NEXT);
	assert_int_equal(h->issuer_depth, 1);
	assert_int_equal(h->nrecords, 1);
	assert_int_equal(h->records[0].usage, 3);
	assert_int_equal(h->records[0].selector, 1);
	assert_int_equal(h->records[0].mtype, 1);
	assert_null(h->probe);
	assert_int_equal(h->nprobe, 0);
	assert_int_equal(h->ncerts, 1);
	assert_string_equal(h->certs[0].name, "rsa");
	assert_string_equal(h->certs[0].chain, "/etc/ssl/mx/rsa.pem");
	assert_null(h->certs[0].key);
	assert_null(h->certs[0].next_key);
	assert_null(h->certs[0].passphrase_file);
	assert_int_equal(h->certs[0].nissuers, 0);
	conf_free(conf);
	free(path);
}

/* Every option set to a non-default value lands in its field. */
static void
test_all_options(void **state)
{
	struct conf *conf = NULL;
	struct conf_host *h;
	struct errbuf err;

	(void)state;
	if (load_text(
	    "socket = \"/run/dg.sock\"\n"
	    "user = \"dg:mail\"\n"
	    "pidfile = \"/run/dg.pid\"\n"
	    "state_dir = \"/srv/dg\"\n"
	    "probe_interval = 10\n"
	    "probe_timeout = 300\n"
	    "xclient = true\n"
	    "tlsa_file = \"/etc/nsd/example.zone\"\n"
	    "dns {\n"
	    "  trust_anchor_file = \"/var/lib/unbound/root.key\"\n"
	    "  resolver = \"::1\"\n"
	    "  resolver_config = \"/etc/dg/unbound.conf\"\n"
	    "  dnssec_health = no\n"
	    "  rrsig_warning = 3600\n"
	    "  rrsig_critical = 0\n"
	    "}\n"
	    "host \"a.example\" {\n"
	    "  port = 65535\n"
	    "  ttl = 0\n"
	    "  rollover = \"current+issuer\"\n"
	    "  issuer_depth = 2\n"
	    "  records = { \"3 1 1\", \"2 0 2\" }\n"
	    "  records += { \"3 1 2\" }\n"
	    "  probe = { \"192.0.2.10\", \" 192.0.2.11 = 10.0.0.5 \",\n"
	    "    \"2001:db8::11=fd00::5\" }\n"
	    "  cert \"ed\" { chain = \"/c\" passphrase_file = \"/p\"\n"
	    "    issuers = { \"/ca/e5.pem\", \"/ca/e6.pem\" } }\n"
	    "}\n"
	    "host b.example. { ttl = 2147483647 cert x { chain = /d } }\n",
	    &conf, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(conf->socket, "/run/dg.sock");
	assert_string_equal(conf->user, "dg:mail");
	assert_string_equal(conf->pidfile, "/run/dg.pid");
	assert_string_equal(conf->state_dir, "/srv/dg");
	assert_int_equal(conf->probe_interval, 10);
	assert_int_equal(conf->probe_timeout, 300);
	assert_int_equal(conf->xclient, 1);
	assert_string_equal(conf->tlsa_file, "/etc/nsd/example.zone");
	assert_string_equal(conf->dns.trust_anchor_file,
	    "/var/lib/unbound/root.key");
	assert_string_equal(conf->dns.resolver, "::1");
	assert_string_equal(conf->dns.resolver_config, "/etc/dg/unbound.conf");
	assert_int_equal(conf->dns.dnssec_health, 0);
	assert_int_equal(conf->dns.rrsig_warning, 3600);
	assert_int_equal(conf->dns.rrsig_critical, 0);
	assert_int_equal(conf->nhosts, 2);
	h = &conf->hosts[0];
	assert_int_equal(h->port, 65535);
	assert_int_equal(h->ttl, 0);
	assert_int_equal(h->rollover, CONF_ROLLOVER_CURRENT_ISSUER);
	assert_int_equal(h->issuer_depth, 2);
	assert_int_equal(h->nrecords, 3);
	assert_int_equal(h->records[1].usage, 2);
	assert_int_equal(h->records[1].selector, 0);
	/* "PUBLISHED = LOCAL": the published address, and where to probe */
	assert_int_equal(h->nprobe, 3);
	assert_string_equal(h->probe[0], "192.0.2.10");
	assert_null(h->probe_local[0]);
	assert_string_equal(h->probe[1], "192.0.2.11");
	assert_string_equal(h->probe_local[1], "10.0.0.5");
	assert_string_equal(h->probe[2], "2001:db8::11");
	assert_string_equal(h->probe_local[2], "fd00::5");
	assert_int_equal(h->records[1].mtype, 2);
	assert_int_equal(h->records[2].mtype, 2);
	assert_string_equal(h->certs[0].passphrase_file, "/p");
	assert_int_equal(h->certs[0].nissuers, 2);
	assert_string_equal(h->certs[0].issuers[0], "/ca/e5.pem");
	assert_string_equal(h->certs[0].issuers[1], "/ca/e6.pem");
	h = &conf->hosts[1];
	assert_string_equal(h->name, "b.example.");
	assert_int_equal(h->ttl, 2147483647L);
	assert_string_equal(h->certs[0].name, "x");
	assert_string_equal(h->certs[0].chain, "/d");
	conf_free(conf);
}

static void
test_socket_forms(void **state)
{
	static const char *const good[] = {
		"unix:/run/x.sock", "local:/run/x.sock", "/run/x.sock",
		"inet:8891@127.0.0.1", "inet:8891@localhost", "inet:8891",
		"inet6:8891@::1", "inet6:1@[::1]",
	};
	struct conf *conf;
	struct errbuf err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *text = xasprintf("socket = \"%s\"\nhost \"h\" { "
		    "cert \"c\" { chain = \"/c\" } }\n", good[i]);

		if (load_text(text, &conf, &err) != 0)
			fail_msg("%s: %s", good[i], err.msg);
		assert_string_equal(conf->socket, good[i]);
		conf_free(conf);
		free(text);
	}
}

static void
test_rollover_names(void **state)
{
	enum conf_rollover r;

	(void)state;
	assert_int_equal(conf_rollover_parse("current+next", &r), 0);
	assert_int_equal(r, CONF_ROLLOVER_CURRENT_NEXT);
	assert_int_equal(conf_rollover_parse("current+issuer", &r), 0);
	assert_int_equal(r, CONF_ROLLOVER_CURRENT_ISSUER);
	assert_int_equal(conf_rollover_parse("Current+Next", &r), -1);
	assert_int_equal(conf_rollover_parse("", &r), -1);
	assert_string_equal(conf_rollover_name(CONF_ROLLOVER_CURRENT_NEXT),
	    "current+next");
	assert_string_equal(conf_rollover_name(CONF_ROLLOVER_CURRENT_ISSUER),
	    "current+issuer");
}

/* ------------------------------------------------------------ errors */

#define HOST_OK	"host \"h.example\" {\n  cert \"c\" { chain = \"/c\" }\n}\n"

static const struct {
	const char *text;
	const char *expect;
} cases[] = {
	/* numbers and ranges */
	{ "probe_interval = 9\n" HOST_OK,
	  "t.conf:1: probe_interval 9 is out of range (10-86400 seconds)" },
	{ "\nprobe_timeout = 0\n" HOST_OK,
	  "t.conf:2: probe_timeout 0 is out of range (1-300 seconds)" },
	{ "dns {\n  rrsig_warning = 3599\n}\n" HOST_OK,
	  "t.conf:2: dns: rrsig_warning 3599 is out of range "
	  "(3600-31622400 seconds)" },
	{ "probe_timeout = 301\n" HOST_OK,
	  "t.conf:1: probe_timeout 301 is out of range (1-300 seconds)" },
	{ "ns_interval = -1\n" HOST_OK,
	  "t.conf:1: ns_interval -1 is out of range (0-86400 seconds; 0 "
	  "turns G8 off)" },
	{ "host \"h\" {\n  cert \"c\" { chain = \"/c\" }\n  port = 0\n}\n",
	  "t.conf:3: host \"h\": port 0 is out of range (1-65535)" },
	{ "host \"h\" {\n  port = 65536\n  cert \"c\" { chain = \"/c\" }\n}\n",
	  "t.conf:2: host \"h\": port 65536 is out of range (1-65535)" },
	{ "host \"h\" {\n  port = 0x19\n  cert \"c\" { chain = \"/c\" }\n}\n",
	  "t.conf:2: host \"h\": port \"0x19\" is not a decimal number" },
	{ "host \"h\" {\n  ttl = -1\n  cert \"c\" { chain = \"/c\" }\n}\n",
	  "t.conf:2: host \"h\": ttl -1 is out of range (0-2147483647 seconds)" },
	{ "host \"h\" {\n  ttl = 2147483648\n  cert \"c\" { chain = \"/c\" }\n}\n",
	  "t.conf:2: host \"h\": ttl 2147483648 is out of range (0-2147483647 seconds)" },
	{ "host \"h\" {\n  ttl = 99999999999999999999\n  cert \"c\" { chain = \"/c\" }\n}\n",
	  "t.conf:2: host \"h\": ttl 99999999999999999999 is out of range" },
	{ "host \"h\" {\n  issuer_depth = 0\n  cert \"c\" { chain = \"/c\" }\n}\n",
	  "t.conf:2: host \"h\": issuer_depth 0 is out of range (1-16)" },
	/* strings */
	{ "host \"h\" {\n  rollover = \"next\"\n  cert \"c\" { chain = \"/c\" }\n}\n",
	  "t.conf:2: host \"h\": rollover \"next\" is not known; use "
	  "\"current+next\" or \"current+issuer\"" },
	{ "socket = \"tcp:25\"\n" HOST_OK,
	  "t.conf:1: socket \"tcp:25\" is not a milter socket "
	  "(unix:/PATH, inet:PORT@HOST or inet6:PORT@HOST)" },
	{ "socket = \"inet:0@localhost\"\n" HOST_OK,
	  "t.conf:1: socket \"inet:0@localhost\" is not a milter socket "
	  "(unix:/PATH, inet:PORT@HOST or inet6:PORT@HOST)" },
	{ "socket = \"unix:run/x\"\n" HOST_OK,
	  "t.conf:1: socket \"unix:run/x\" is not a milter socket "
	  "(unix:/PATH, inet:PORT@HOST or inet6:PORT@HOST)" },
	{ "socket = \"inet:25@\"\n" HOST_OK,
	  "t.conf:1: socket \"inet:25@\" is not a milter socket "
	  "(unix:/PATH, inet:PORT@HOST or inet6:PORT@HOST)" },
	{ "state_dir = \"\"\n" HOST_OK,
	  "t.conf:1: state_dir is empty; give a value or leave the option out" },
	{ "xclient = maybe\n" HOST_OK,
	  "t.conf:1: invalid boolean value for option 'xclient'" },
	/* lists */
	{ "host \"h\" {\n  records = { \"3 1 1\",\n    \"4 1 1\" }\n"
	  "  cert \"c\" { chain = \"/c\" }\n}\n",
	  "t.conf:3: host \"h\": records \"4 1 1\": usage 4 is not one of 0-3 "
	  "(usage 0-3, selector 0-1, matching type 0-2)" },
	{ "host \"h\" {\n  records = { \"1 1 1\" }\n"
	  "  cert \"c\" { chain = \"/c\" }\n}\n",
	  "t.conf:2: host \"h\": records \"1 1 1\": usage 1 (PKIX-EE) is not "
	  "for SMTP: RFC 7672 section 3.1.3 says SMTP clients do not use PKIX "
	  "usages; use 3 (DANE-EE) or 2 (DANE-TA)" },
	{ "host \"h\" {\n  records = {}\n  cert \"c\" { chain = \"/c\" }\n}\n",
	  "t.conf:1: host \"h\": records is empty; list at least one type, "
	  "e.g. records = { \"3 1 1\" }" },
	{ "host \"h\" {\n  probe = { \"192.0.2.1\", \"2001:db8::1\",\n"
	  "    \"mx1.example.com\" }\n  cert \"c\" { chain = \"/c\" }\n}\n",
	  "t.conf:3: host \"h\": probe \"mx1.example.com\" is not an IPv4 or "
	  "IPv6 address" },
	{ "host \"h\" {\n  probe = { \"192.0.2.1 = mx\" }\n"
	  "  cert \"c\" { chain = \"/c\" }\n}\n",
	  "t.conf:2: host \"h\": probe \"192.0.2.1 = mx\": \"mx\" is not an "
	  "IPv4 or IPv6 address (write \"PUBLISHED = LOCAL\", e.g. "
	  "\"192.0.2.10 = 10.0.0.5\")" },
	{ "host \"h\" {\n  probe = \"192.0.2.256\"\n  cert \"c\" { chain = \"/c\" }\n}\n",
	  "t.conf:2: host \"h\": probe \"192.0.2.256\" is not an IPv4 or IPv6 "
	  "address" },
	{ "host \"h\" {\n  cert \"c\" { chain = \"/c\" }\n"
	  "  tlsrpt_domains = { \"example.com\", \"bad domain\" }\n}\n",
	  "t.conf:1: host \"h\": tlsrpt_domains: \"bad domain\" is not a "
	  "domain name (the mail domain whose _smtp._tls TXT record to check, "
	  "e.g. \"example.com\")" },
	/* structure */
	{ "# nothing\n\n",
	  "t.conf:3: no host section; describe each MX host this machine "
	  "serves with host \"NAME\" { cert \"NAME\" { chain = \"/PATH\" } }" },
	{ "\nhost \"h\" {\n  port = 25\n}\n",
	  "t.conf:2: host \"h\": no cert section; add cert \"NAME\" { chain = "
	  "\"/PATH\" } per algorithm" },
	{ "host \"h\" {\n  cert \"c\" { chain = \"/c\" }\n  cert \"d\" {\n"
	  "    key = \"/k\"\n  }\n}\n",
	  "t.conf:3: host \"h\": cert \"d\": chain is required (the chain file "
	  "the MTA serves, leaf first)" },
	{ "host \"h\" {\n  cert \"c\" { chain = \"\" }\n}\n",
	  "t.conf:2: host \"h\": cert \"c\": chain is empty; give a value or "
	  "leave the option out" },
	{ "host \"mx_1.example\" {\n  cert \"c\" { chain = \"/c\" }\n}\n",
	  "t.conf:1: host \"mx_1.example\": not a host name (letters, "
	  "digits, hyphens, dots)" },
	{ "host \"mx1.example.com x\" {\n  cert \"c\" { chain = \"/c\" }\n}\n",
	  "t.conf:1: host \"mx1.example.com x\": not a host name "
	  "(letters, digits, hyphens, dots)" },
	{ "host \"a..b\" {\n  cert \"c\" { chain = \"/c\" }\n}\n",
	  "t.conf:1: host \"a..b\": not a host name (letters, digits, "
	  "hyphens, dots)" },
	{ "host \"mx1.example.com\" {\n  cert \"c\" { chain = \"/c\" }\n}\n"
	  "host \"MX1.Example.COM.\" {\n  cert \"c\" { chain = \"/c\" }\n}\n",
	  "t.conf:4: host \"MX1.Example.COM.\" is defined twice (first at line "
	  "1); give each host a different name" },
	{ "host \"h\" {\n  cert \"rsa\" { chain = \"/c\" }\n"
	  "  cert \"rsa\" { chain = \"/d\" }\n}\n",
	  "t.conf:3: host \"h\": cert \"rsa\" is defined twice (first at line "
	  "2); give each cert a different name" },
	{ "host \"h\" {\n  port = 25\n  cert \"c\" { chain = \"/c\" }\n"
	  "  port = 587\n}\n",
	  "t.conf:4: host \"h\": port is set twice (first at line 2); keep one" },
	/* syntax, unknown options, open sections */
	{ "\nsockte = \"/run/x\"\n" HOST_OK,
	  "t.conf:2: no such option 'sockte'" },
	{ "host \"h\" {\n  cert \"c\" {\n    chain = \"/c\"\n"
	  "    nextkey = \"/n\"\n  }\n}\n",
	  "t.conf:4: host \"h\": cert \"c\": no such option 'nextkey'" },
	{ "host \"h\" {\n  cert \"c\" { chain = \"/c\" }\n}\n}\n",
	  "t.conf:4: unexpected closing brace" },
	{ "host \"h\" {\n  cert \"c\" { chain = \"/c\" }\n",
	  "t.conf:1: section host \"h\" is not closed; add a \"}\" where it "
	  "ends" },
	{ "dns {\n  resolver = \"::1\"\n" HOST_OK,
	  "t.conf:1: section dns is not closed; add a \"}\" where it ends\n"
	  "t.conf:3: dns: no such option 'host'" },
	{ "host \"h\" {\n  cert \"c\" {\n    chain = \"/c\"\n",
	  "t.conf:1: section host \"h\" is not closed; add a \"}\" where it "
	  "ends\n"
	  "t.conf:2: section cert \"c\" is not closed; add a \"}\" where it "
	  "ends" },
	{ "\n/* never closed\n" HOST_OK,
	  "t.conf:2: comment not closed: the /* opened here has no matching */" },
	{ "host \"h\" {\n  cert \"c\" { chain = \"/c }\n}\n",
	  "t.conf:2: string not closed: the \" opened here has no matching \"" },
};

static void
test_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %zu\n", i);
		expect_errors(cases[i].text, cases[i].expect);
	}
}

/*
 * Several problems in one file: all of them, in file order. Loaded by a
 * relative name so that the whole list fits into one errbuf.
 */
static void
test_many_errors(void **state)
{
	const char *top = getenv("top_srcdir");
	struct conf *conf = NULL;
	struct errbuf err;
	char *dir;
	int rc;

	(void)state;
	if (top == NULL)
		skip();
	dir = xasprintf("%s/tests/data/conf", top);
	assert_int_equal(chdir(dir), 0);
	rc = conf_load("errors.conf", &conf, &err);
	assert_int_equal(chdir(tmpdir), 0);
	assert_int_equal(rc, -1);
	assert_null(conf);
	assert_string_equal(err.msg,
	    "errors.conf:2: socket \"tcp:25\" is not a milter socket "
	    "(unix:/PATH, inet:PORT@HOST or inet6:PORT@HOST)\n"
	    "errors.conf:3: probe_timeout 301 is out of range (1-300 seconds)\n"
	    "errors.conf:6: host \"mx1.example.com\": port 0 is out of range "
	    "(1-65535)\n"
	    "errors.conf:7: host \"mx1.example.com\": rollover "
	    "\"current+later\" is not known; use \"current+next\" or "
	    "\"current+issuer\"\n"
	    "errors.conf:9: host \"mx1.example.com\": records \"3 2 1\": "
	    "selector 2 is not one of 0-1 (usage 0-3, selector 0-1, matching "
	    "type 0-2)\n"
	    "errors.conf:10: host \"mx1.example.com\": probe \"192.0.2.999\" "
	    "is not an IPv4 or IPv6 address\n"
	    "errors.conf:11: host \"mx1.example.com\": cert \"rsa\": chain is "
	    "required (the chain file the MTA serves, leaf first)\n"
	    "errors.conf:16: host \"-bad-.example.com\": not a host name "
	    "(letters, digits, hyphens, dots)\n"
	    "errors.conf:16: host \"-bad-.example.com\": no cert section; add "
	    "cert \"NAME\" { chain = \"/PATH\" } per algorithm\n"
	    "errors.conf:17: host \"-bad-.example.com\": ttl -5 is out of "
	    "range (0-2147483647 seconds)");
	free(dir);
}

/* Comments and multi-line strings leave line numbers right. */
static void
test_comment_lines(void **state)
{
	char *path = fixture("comments.conf");
	struct conf *conf = NULL;
	struct errbuf err;
	char *expect;

	(void)state;
	assert_int_equal(conf_load(path, &conf, &err), -1);
	expect = xasprintf("%s:12: host \"mx.example.org\": port 99999 is out "
	    "of range (1-65535)", path);
	assert_string_equal(err.msg, expect);
	free(expect);
	free(path);
}

static void
test_unclosed_fixture(void **state)
{
	char *path = fixture("unclosed.conf");
	struct conf *conf = NULL;
	struct errbuf err;
	char *expect;

	(void)state;
	assert_int_equal(conf_load(path, &conf, &err), -1);
	expect = xasprintf(
	    "%1$s:1: section host \"mx1.example.com\" is not closed; add a "
	    "\"}\" where it ends\n"
	    "%1$s:5: section cert \"ecdsa\" is not closed; add a \"}\" where "
	    "it ends", path);
	assert_string_equal(err.msg, expect);
	free(expect);
	free(path);
}

/* A file with hundreds of problems still gives a tidy, bounded message. */
static void
test_truncation(void **state)
{
	struct conf *conf;
	struct errbuf err;
	char *text = xstrdup(""), *next, *last;
	const char *first;
	int i;

	(void)state;
	for (i = 1; i <= 200; i++) {
		next = xasprintf("%shost \"h%d\" { port = 0 cert \"c\" { "
		    "chain = \"/c\" } }\n", text, i);
		free(text);
		text = next;
	}
	assert_int_equal(load_text(text, &conf, &err), -1);
	assert_true(strlen(err.msg) < sizeof(err.msg));
	first = "t.conf:1: host \"h1\": port 0 is out of range (1-65535)\n"
	    "t.conf:2: host \"h2\": port 0 is out of range (1-65535)\n";
	assert_true(strncmp(err.msg, first, strlen(first)) == 0);
	last = strrchr(err.msg, '\n');
	assert_non_null(last);
	assert_true(strncmp(last, "\nt.conf: ", 9) == 0);
	assert_non_null(strstr(last, " more problems not shown"));
	free(text);
}

static void
test_missing_file(void **state)
{
	struct conf *conf = (struct conf *)1;
	struct errbuf err;

	(void)state;
	assert_int_equal(conf_load("no-such.conf", &conf, &err), -1);
	assert_null(conf);
	assert_string_equal(err.msg, "no-such.conf: No such file or directory");
	assert_int_equal(conf_load(".", &conf, &err), -1);
	assert_string_equal(err.msg, ".: is a directory, not a regular file; "
	    "name the file itself");
}

/*
 * include("PATTERN"): host sections from other files, relative to the
 * main file's directory, in name order; each file's problems name it.
 */
static void
test_include(void **state)
{
	struct conf *conf = NULL;
	struct errbuf err;
	static const char host_b[] =
	    "# provisioned\nhost \"b.example\" { cert rsa { chain = /b } }\n";

	(void)state;
	assert_int_equal(mkdir("etc", 0700), 0);
	assert_int_equal(mkdir("etc/hosts.d", 0700), 0);
	write_str("etc/hosts.d/b.conf", host_b);
	write_str("etc/hosts.d/c.conf",
	    "host \"c.example\" {\n  probe = { \"192.0.2.1 = 10.0.0.1\" }\n"
	    "  cert rsa { chain = /c }\n}\n");
	write_str("etc/main.conf",
	    "state_dir = \"/srv\"\ninclude(\"hosts.d/*.conf\")\n"
	    "host \"a.example\" { cert rsa { chain = /a } }\n");
	if (conf_load("etc/main.conf", &conf, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(conf->nhosts, 3);
	assert_string_equal(conf->hosts[0].name, "a.example");
	assert_string_equal(conf->hosts[1].name, "b.example");
	assert_string_equal(conf->hosts[2].name, "c.example");
	assert_string_equal(conf->hosts[2].probe_local[0], "10.0.0.1");
	assert_string_equal(conf->state_dir, "/srv");
	conf_free(conf);

	/* Only includes, and nothing matches: no host at all. */
	write_str("etc/none.conf", "include(\"none.d/*.conf\")\n");
	assert_int_equal(conf_load("etc/none.conf", &conf, &err), -1);
	assert_non_null(strstr(err.msg, "etc/none.conf: no host section in it "
	    "or in the files it includes"));

	/* A named file that is missing; a host twice; an option that
	 * belongs in the main file; a bad value, named by its own file. */
	write_str("etc/hosts.d/d.conf",
	    "user = \"x\"\nhost \"B.example\" { cert rsa { chain = /d } }\n"
	    "host \"e.example\" { port = 0 cert rsa { chain = /e } }\n");
	write_str("etc/bad.conf",
	    "include(\"hosts.d/*.conf\")\ninclude(\"missing.conf\")\n");
	assert_int_equal(conf_load("etc/bad.conf", &conf, &err), -1);
	assert_null(conf);
	assert_string_equal(err.msg,
	    "etc/hosts.d/d.conf:1: user: only host sections belong in an "
	    "included file; set it in the main configuration file\n"
	    "etc/hosts.d/d.conf:3: host \"e.example\": port 0 is out of range "
	    "(1-65535)\n"
	    "etc/bad.conf:2: include(\"missing.conf\"): etc/missing.conf: "
	    "no such file");
	assert_int_equal(unlink("etc/hosts.d/d.conf"), 0);
	write_str("etc/hosts.d/d.conf",
	    "host \"B.example\" { cert rsa { chain = /d } }\n");
	assert_int_equal(conf_load("etc/main.conf", &conf, &err), -1);
	assert_string_equal(err.msg, "etc/hosts.d/d.conf: host \"B.example\" "
	    "is described twice (again in another file the configuration "
	    "includes); keep one");

	/* Only the main file includes. */
	write_str("etc/hosts.d/d.conf", "include(\"b.conf\")\n");
	assert_int_equal(conf_load("etc/main.conf", &conf, &err), -1);
	assert_string_equal(err.msg, "etc/hosts.d/d.conf:1: include(\"b.conf\"): "
	    "only the main configuration file includes files");

	unlink("etc/hosts.d/b.conf");
	unlink("etc/hosts.d/c.conf");
	unlink("etc/hosts.d/d.conf");
	unlink("etc/main.conf");
	unlink("etc/none.conf");
	unlink("etc/bad.conf");
	assert_int_equal(rmdir("etc/hosts.d"), 0);
	assert_int_equal(rmdir("etc"), 0);
}

static void
test_nul_byte(void **state)
{
	struct conf *conf;
	struct errbuf err;

	(void)state;
	write_file("t.conf", "user = \"a\"\n\0\n", 13);
	assert_int_equal(conf_load("t.conf", &conf, &err), -1);
	assert_string_equal(err.msg, "t.conf:2: NUL byte; is this the "
	    "configuration file?");
}

/*
 * CONF_HOSTS_OPTIONAL (daneguard --tlsrpt): a file with only the globals
 * loads, and so does one whose include() finds nothing; a host section
 * that is there is still checked; without the flag the same file fails.
 */
static void
test_hosts_optional(void **state)
{
	struct conf *conf = NULL;
	struct errbuf err;

	(void)state;
	write_str("t.conf", "state_dir = \"/srv/dg\"\ntlsrpt_days = 3\n");
	if (conf_load_flags("t.conf", CONF_HOSTS_OPTIONAL, &conf, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(conf->nhosts, 0);
	assert_string_equal(conf->state_dir, "/srv/dg");
	assert_int_equal(conf->tlsrpt_days, 3);
	conf_free(conf);
	assert_int_equal(conf_load("t.conf", &conf, &err), -1);
	assert_non_null(strstr(err.msg, "no host section"));

	write_str("t.conf", "include(\"none.d/*.conf\")\n");
	if (conf_load_flags("t.conf", CONF_HOSTS_OPTIONAL, &conf, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(conf->nhosts, 0);
	conf_free(conf);

	write_str("t.conf", "state_dir = \"/srv/dg\"\nhost \"h\" {\n"
	    "  port = 25\n}\n");
	assert_int_equal(conf_load_flags("t.conf", CONF_HOSTS_OPTIONAL, &conf,
	    &err), -1);
	assert_null(conf);
	assert_string_equal(err.msg, "t.conf:2: host \"h\": no cert "
	    "section; add cert \"NAME\" { chain = \"/PATH\" } per algorithm");
}

/* tlsrpt_domains: kept in order, a final dot allowed; none by default. */
static void
test_tlsrpt_domains(void **state)
{
	struct conf *conf = NULL;
	struct errbuf err;

	(void)state;
	if (load_text("host \"a\" { cert \"c\" { chain = \"/c\" }\n"
	    "  tlsrpt_domains = { \"example.com\", \"example.org.\" } }\n"
	    "host \"b\" { cert \"c\" { chain = \"/c\" } }\n", &conf,
	    &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(conf->hosts[0].ntlsrpt_domains, 2);
	assert_string_equal(conf->hosts[0].tlsrpt_domains[0], "example.com");
	assert_string_equal(conf->hosts[0].tlsrpt_domains[1], "example.org.");
	assert_int_equal(conf->hosts[1].ntlsrpt_domains, 0);
	conf_free(conf);
}

/*
 * domain sections and domains_file: the sections first, then the file's
 * lines (comments and blank lines skipped, a final dot dropped); each
 * problem names the file and line.
 */
static void
test_domains(void **state)
{
	struct conf *conf = NULL;
	struct errbuf err;

	(void)state;
	write_str("t.domains", "# customers\n\n  example.net.  # one\n"
	    "EXAMPLE.com\n");
	if (load_text("domains_file = \"t.domains\"\n"
	    "host \"a\" { cert \"c\" { chain = \"/c\" } }\n"
	    "domain \"example.org\" { hosts = { \"A.\" } remote = no }\n",
	    &conf, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(conf->ndomains, 3);
	assert_string_equal(conf->domains[0].name, "example.org");
	assert_int_equal(conf->domains[0].remote, 0);
	assert_int_equal(conf->domains[0].nhosts, 1);
	assert_string_equal(conf->domains[0].hosts[0], "A");
	assert_int_equal(conf->domains[0].line, 3);
	assert_string_equal(conf->domains[1].name, "example.net");
	assert_int_equal(conf->domains[1].remote, 1);
	assert_int_equal(conf->domains[1].nhosts, 0);
	assert_int_equal(conf->domains[1].line, 3);
	assert_string_equal(conf->domains[1].file, "t.domains");
	assert_string_equal(conf->domains[2].name, "EXAMPLE.com");
	conf_free(conf);

	write_str("t.domains", "example.net\nbad_name\nexample.org\n"
	    "a b\nexample.net\n");
	expect_errors("\ndomains_file = \"t.domains\"\n"
	    "host \"a\" { cert \"c\" { chain = \"/c\" } }\n"
	    "domain \"example.org\" { }\n",
	    "t.conf:2: domains_file t.domains:2: \"bad_name\" is not a "
	    "domain name (letters, digits, hyphens, dots)\n"
	    "t.conf:2: domains_file t.domains:3: domain \"example.org\" is "
	    "also at t.conf:4; keep one\n"
	    "t.conf:2: domains_file t.domains:4: more than one word; write "
	    "one mail domain a line\n"
	    "t.conf:2: domains_file t.domains:5: domain \"example.net\" is "
	    "also at t.domains:1; keep one");
	unlink("t.domains");
	expect_errors("domains_file = \"t.domains\"\n"
	    "host \"a\" { cert \"c\" { chain = \"/c\" } }\n",
	    "t.conf:1: domains_file: t.domains: No such file or directory");
	expect_errors("host \"a\" { cert \"c\" { chain = \"/c\" } }\n"
	    "domain \"example.org\" { hosts = { \"b\" } }\n",
	    "t.conf:2: domain \"example.org\": hosts: \"b\" is not a host "
	    "section of the configuration; list the hosts this machine "
	    "serves for the domain");
	expect_errors("host \"a\" { cert \"c\" { chain = \"/c\" } }\n"
	    "domain \"ex ample\" { }\ndomain \"b.\" { }\n"
	    "domain \"B\" { }\n",
	    "t.conf:2: domain \"ex ample\": not a domain name (letters, "
	    "digits, hyphens, dots)\n"
	    "t.conf:4: domain \"B\" is defined twice (first at line 3); give "
	    "each domain a different name");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_socket_forms),
		cmocka_unit_test(test_rollover_names),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_comment_lines),
		cmocka_unit_test(test_unclosed_fixture),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_hosts_optional),
		cmocka_unit_test(test_tlsrpt_domains),
		cmocka_unit_test(test_domains),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
