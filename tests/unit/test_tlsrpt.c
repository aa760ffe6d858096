/*
 * test_tlsrpt - lib/tlsrpt.c and tlsrpt_mime.c: RFC 8460 reports as
 * senders send them (tests/data/tlsrpt: the RFC's own example, a DANE
 * report with three policies, both as bare JSON, gzip'd, and in a
 * multipart/report mail) and as attackers send them (truncated gzip, a
 * gzip that expands to 1 GiB, deep JSON, wrong types, wrong dates,
 * mails without a report part). Every refusal is one line naming the
 * field. tlsrpt_txt.c: the _smtp._tls TXT record (RFC 8460 section 3),
 * good, missing, doubled and malformed.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "tlsrpt.h"
#include "xalloc.h"

/* 2026-12-05T12:00:00Z: a day after the DANE fixture's range. */
#define NOW 1796472000

static char *
fixture(const char *name, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char *path, *buf;
	FILE *fp;
	long n;

	path = xasprintf("%s/tests/data/tlsrpt/%s", top ? top : ".", name);
	fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("%s: cannot open", path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	buf = xmalloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	free(path);
	*len = (size_t)n;
	return buf;
}

/* gzip (with header) of data; or of zeros repeated times when data NULL. */
static unsigned char *
gz(const void *data, size_t len, size_t repeat, size_t *outlen)
{
	static unsigned char zeros[1 << 16];
	size_t cap = 1 << 16, i;
	unsigned char *out = xmalloc(cap);
	z_stream z;

	memset(&z, 0, sizeof(z));
	/* Z_RLE: the 1 GiB of zeros compresses in a second, not ten. */
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9,
	    data ? Z_DEFAULT_STRATEGY : Z_RLE), Z_OK);
	for (i = 0; i < repeat; i++) {
		z.next_in = data ? (Bytef *)(uintptr_t)data : zeros;
		z.avail_in = data ? (uInt)len : sizeof(zeros);
		do {
			if (cap - z.total_out < 65536) {
				cap *= 2;
				out = xrealloc(out, cap);
			}
			z.next_out = out + z.total_out;
			z.avail_out = (uInt)(cap - z.total_out);
			assert_int_not_equal(deflate(&z, i + 1 == repeat ?
			    Z_FINISH : Z_NO_FLUSH), Z_STREAM_ERROR);
		} while (z.avail_in != 0 || (i + 1 == repeat &&
		    z.avail_out == 0));
	}
	while (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		cap *= 2;
		out = xrealloc(out, cap);
		z.next_out = out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
	}
	*outlen = z.total_out;
	deflateEnd(&z);
	return out;
}

static void
check_dane_multi(const struct tlsrpt_report *r)
{
	const struct tlsrpt_policy *p;

	assert_string_equal(r->organization, "Mail Provider Inc.");
	assert_string_equal(r->report_id, "2026-12-04T00:00:00Z_example.test");
	assert_string_equal(r->contact,
	    "smtp-tls-reporting@mailprovider.example");
	assert_int_equal(r->start, 1796342400);
	assert_int_equal(r->end, 1796342400 + 86399);
	assert_int_equal(r->npolicies, 3);
	p = &r->policies[0];
	assert_int_equal(p->type, TLSRPT_POLICY_TLSA);
	assert_string_equal(p->domain, "mx1.example.test");	/* normalised */
	assert_int_equal(p->nmx_hosts, 1);
	assert_string_equal(p->mx_hosts[0], "mx1.example.test");
	assert_int_equal(p->success, 1200);
	assert_int_equal(p->failure, 42);
	assert_int_equal(p->nfailures, 2);
	assert_string_equal(p->failures[0].result_type, "tlsa-invalid");
	assert_string_equal(p->failures[0].receiving_ip, "2001:db8::10");
	assert_string_equal(p->failures[0].receiving_mx, "mx1.example.test");
	assert_string_equal(p->failures[0].sending_ip, "198.51.100.7");
	assert_int_equal(p->failures[0].count, 30);
	assert_string_equal(p->failures[1].result_type,
	    "starttls-not-supported");
	assert_string_equal(p->failures[1].receiving_ip, "192.0.2.10");
	assert_int_equal(p->failures[1].count, 12);
	p = &r->policies[1];
	assert_int_equal(p->type, TLSRPT_POLICY_STS);
	assert_string_equal(p->domain, "example.test");
	assert_int_equal(p->nfailures, 0);
	assert_int_equal(p->success, 800);
	p = &r->policies[2];
	assert_int_equal(p->type, TLSRPT_POLICY_NONE);
	assert_string_equal(p->domain, "other.example");
	assert_int_equal(p->nmx_hosts, 0);
}

static void
test_rfc_example(void **state)
{
	struct tlsrpt_report *r;
	struct errbuf err;
	enum tlsrpt_form form;
	size_t len;
	char *json = fixture("rfc8460.json", &len);
	const struct tlsrpt_policy *p;

	(void)state;
	err.msg[0] = '\0';
	assert_int_equal(tlsrpt_read(json, len, NOW, &r, &form, &err), 0);
	assert_int_equal(form, TLSRPT_FORM_JSON);
	assert_string_equal(r->organization, "Company-X");
	assert_string_equal(r->report_id,
	    "5065427c-23d3-47ca-b6e0-946ea0e8c4be");
	assert_int_equal(r->npolicies, 1);
	p = &r->policies[0];
	assert_int_equal(p->type, TLSRPT_POLICY_STS);
	assert_string_equal(p->mx_hosts[0], "*.mail.company-y.example");
	assert_int_equal(p->success, 5326);
	assert_int_equal(p->failure, 303);
	assert_int_equal(p->nfailures, 3);
	assert_string_equal(p->failures[0].result_type, "certificate-expired");
	assert_string_equal(p->failures[0].sending_ip, "2001:db8:abcd:12::1");
	assert_string_equal(p->failures[0].receiving_ip, "");
	assert_string_equal(p->failures[2].receiving_mx, "");
	assert_string_equal(p->failures[2].receiving_ip, "203.0.113.58");
	assert_true(tlsrpt_result_is_dane(p->failures[1].result_type));
	assert_false(tlsrpt_result_is_dane("sts-policy-fetch-error"));
	tlsrpt_free(r);
	free(json);
}

static void
test_forms(void **state)
{
	struct tlsrpt_report *r;
	struct errbuf err;
	enum tlsrpt_form form;
	unsigned char *z;
	size_t len, zlen;
	char *json = fixture("dane-multi.json", &len), *mail;

	(void)state;
	assert_int_equal(tlsrpt_read(json, len, NOW, &r, &form, &err), 0);
	assert_int_equal(form, TLSRPT_FORM_JSON);
	check_dane_multi(r);
	tlsrpt_free(r);

	z = gz(json, len, 1, &zlen);
	assert_int_equal(tlsrpt_read(z, zlen, NOW, &r, &form, &err), 0);
	assert_int_equal(form, TLSRPT_FORM_GZIP);
	check_dane_multi(r);
	tlsrpt_free(r);
	free(z);

	mail = fixture("dane-multi-gzip.eml", &len);
	err.msg[0] = '\0';
	if (tlsrpt_read(mail, len, NOW, &r, &form, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(form, TLSRPT_FORM_MIME);
	check_dane_multi(r);
	tlsrpt_free(r);
	free(mail);

	mail = fixture("rfc8460-json.eml", &len);
	assert_int_equal(tlsrpt_read(mail, len, NOW, &r, &form, &err), 0);
	assert_int_equal(form, TLSRPT_FORM_MIME);
	assert_string_equal(r->organization, "Company-X");
	tlsrpt_free(r);
	free(mail);
	free(json);
}

/* tlsrpt_read must refuse data with a message containing want. */
static void
refused(const void *data, size_t len, const char *want)
{
	struct tlsrpt_report *r = (void *)1;
	struct errbuf err;

	err.msg[0] = '\0';
	assert_int_equal(tlsrpt_read(data, len, NOW, &r, NULL, &err), -1);
	assert_null(r);
	if (strstr(err.msg, want) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", err.msg, want);
	if (strchr(err.msg, '\n') != NULL)
		fail_msg("\"%s\" is not one line", err.msg);
}

static void
test_gzip_hostile(void **state)
{
	unsigned char *z, *mail;
	size_t len, zlen, n;
	char *json = fixture("dane-multi.json", &len), *b64;

	(void)state;
	z = gz(json, len, 1, &zlen);
	refused(z, zlen - 10, "truncated");
	refused(z, zlen / 2, "truncated");
	refused(z, 3, "truncated");
	z[zlen / 2] ^= 0x55;
	refused(z, zlen, "gzip");
	free(z);

	/* 16384 x 64 KiB of zeros: 1 GiB expanded, about 1 MB compressed. */
	z = gz(NULL, 0, 16384, &zlen);
	assert_true(zlen < 2u << 20);
	refused(z, zlen, "expands past");

	/* The same bomb as a mail attachment. */
	b64 = xmalloc(4 * (zlen / 3 + 1) + 1);
	n = (size_t)EVP_EncodeBlock((unsigned char *)b64, z, (int)zlen);
	assert_true(n > zlen);
	mail = (unsigned char *)xasprintf("From: a@b.example\n"
	    "Content-Type: application/tlsrpt+gzip\n"
	    "Content-Transfer-Encoding: base64\n\n%s\n", b64);
	refused(mail, strlen((char *)mail), "expands past");
	free(mail);
	free(b64);
	free(z);
	free(json);
}

/* The DANE fixture with one substitution made (text must occur). */
static char *
variant(const char *from, const char *to)
{
	size_t len;
	char *json = fixture("dane-multi.json", &len), *at, *out;

	at = strstr(json, from);
	if (at == NULL)
		fail_msg("fixture lacks \"%s\"", from);
	*at = '\0';
	out = xasprintf("%s%s%s", json, to, at + strlen(from));
	free(json);
	return out;
}

static void
refused_variant(const char *from, const char *to, const char *want)
{
	char *json = variant(from, to);

	refused(json, strlen(json), want);
	free(json);
}

static void
test_json_hostile(void **state)
{
	char *deep;
	size_t i, n = 100000;

	(void)state;
	refused("{", 1, "not JSON");
	refused("{\"a\":1}x", 8, "not JSON");
	refused("[]", 2, "neither");	/* not '{': taken for a mail */
	refused(" {\"a\": 1, \"a\": 2}", 18, "not JSON");	/* duplicate */
	refused("{}", 2, "organization-name: missing");

	/* Deep nesting, bare and inside an otherwise good report. */
	deep = xmalloc(2 * n + 64);
	for (i = 0; i < n; i++)
		deep[i] = '[';
	for (i = 0; i < n; i++)
		deep[n + i] = ']';
	deep[2 * n] = '\0';
	{
		char *doc = xasprintf("{\"x\": %s}", deep);

		refused(doc, strlen(doc), "not JSON");
		free(doc);
	}
	{
		char *with = xasprintf("\"deep\": %s, \"policies\"", deep);

		refused_variant("\"policies\"", with, "not JSON");
		free(with);
	}
	free(deep);

	/* Wrong types and values, each named by its path. */
	refused_variant("\"failed-session-count\": 30",
	    "\"failed-session-count\": \"30\"",
	    "policies[0].failure-details[0].failed-session-count: is a "
	    "string, not an integer");
	refused_variant("\"failed-session-count\": 30",
	    "\"failed-session-count\": -1", "-1 is not a session count");
	refused_variant("\"failed-session-count\": 30",
	    "\"failed-session-count\": 3.5", "is a number, not an integer");
	refused_variant("\"failed-session-count\": 30",
	    "\"failed-session-count\": 99999999999999999999", "not JSON");
	refused_variant("\"total-failure-session-count\": 42",
	    "\"x-total\": 42",
	    "policies[0].summary.total-failure-session-count: missing");
	refused_variant("\"policy-type\": \"tlsa\"",
	    "\"policy-type\": \"dane\"", "policies[0].policy.policy-type");
	refused_variant("\"policy-domain\": \"other.example\"",
	    "\"policy-domain\": \"bad domain\"", "is not a host name");
	refused_variant("\"policy-domain\": \"other.example\"",
	    "\"policy-domain\": [\"other.example\"]", "is an array");
	refused_variant("\"receiving-ip\": \"192.0.2.10\"",
	    "\"receiving-ip\": \"192.0.2.300\"",
	    "failure-details[1].receiving-ip: is not an IPv4 or IPv6");
	refused_variant("\"result-type\": \"tlsa-invalid\"",
	    "\"result-type\": \"TLSA invalid\"", "is not a result type");
	refused_variant("\"result-type\": \"tlsa-invalid\"",
	    "\"result-type\": null", "is null, not a string");
	refused_variant("\"organization-name\": \"Mail Provider Inc.\"",
	    "\"organization-name\": \"Mail\\u0000Provider\"", "not JSON");
	refused_variant("\"organization-name\": \"Mail Provider Inc.\"",
	    "\"organization-name\": \"Mail\\nProvider\"",
	    "control character");
	refused_variant("\"report-id\": \"2026-12-04T00:00:00Z_example.test\"",
	    "\"report-id\": \"\"", "report-id: is empty");
	refused_variant("\"mx-host\": \"mx1.example.test\"",
	    "\"mx-host\": 7", "mx-host: is an integer");
	{
		static const char empty[] = "{\"organization-name\": \"x\", "
		    "\"report-id\": \"1\", \"date-range\": "
		    "{\"start-datetime\": \"2026-12-04T00:00:00Z\", "
		    "\"end-datetime\": \"2026-12-04T23:59:59Z\"}, "
		    "\"policies\": []}";

		refused(empty, strlen(empty), "policies: is empty");
	}
}

static void
test_dates(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(tlsrpt_parse_datetime("2016-04-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 1459468800);
	assert_int_equal(tlsrpt_parse_datetime("2016-04-01T02:00:00.123+02:00",
	    &t), 0);
	assert_int_equal(t, 1459468800);
	assert_int_equal(tlsrpt_parse_datetime("2024-02-29T00:00:00Z", &t), 0);
	assert_int_equal(tlsrpt_parse_datetime("2023-02-29T00:00:00Z", &t), -1);
	assert_int_equal(tlsrpt_parse_datetime("2016-13-01T00:00:00Z", &t), -1);
	assert_int_equal(tlsrpt_parse_datetime("2016-04-31T00:00:00Z", &t), -1);
	assert_int_equal(tlsrpt_parse_datetime("2016-04-01 00:00:00Z", &t), -1);
	assert_int_equal(tlsrpt_parse_datetime("2016-04-01T00:00:00", &t), -1);
	assert_int_equal(tlsrpt_parse_datetime("2016-04-01T24:00:00Z", &t), -1);
	assert_int_equal(tlsrpt_parse_datetime("2016-04-01T00:00:00Zjunk",
	    &t), -1);
	assert_int_equal(tlsrpt_parse_datetime("1969-12-31T23:59:59Z", &t), -1);
	assert_int_equal(tlsrpt_parse_datetime("", &t), -1);

	refused_variant("\"end-datetime\": \"2026-12-04T23:59:59Z\"",
	    "\"end-datetime\": \"2026-12-03T23:59:59Z\"",
	    "date-range.end-datetime: is not after start-datetime");
	refused_variant("\"end-datetime\": \"2026-12-04T23:59:59Z\"",
	    "\"end-datetime\": \"2026-12-31T23:59:59Z\"",
	    "more than a day in the future");
	refused_variant("\"start-datetime\": \"2026-12-04T00:00:00Z\"",
	    "\"start-datetime\": \"2025-12-04T00:00:00Z\"",
	    "range is longer than 31 days");
	refused_variant("\"start-datetime\": \"2026-12-04T00:00:00Z\"",
	    "\"start-datetime\": \"04/12/2026\"",
	    "date-range.start-datetime: \"04/12/2026\" is not an RFC 3339");
	refused_variant("\"start-datetime\": \"2026-12-04T00:00:00Z\"",
	    "\"start-datetime\": 1796342400", "is an integer, not a string");
}

static void
test_mime_hostile(void **state)
{
	static const char plain[] = "From: a@b.example\nSubject: hi\n\nhello\n";
	static const char wrong[] = "From: a@b.example\n"
	    "Content-Type: application/json\n\n{\"a\": 1}\n";
	static const char badb64[] = "From: a@b.example\n"
	    "Content-Type: application/tlsrpt+gzip\n"
	    "Content-Transfer-Encoding: base64\n\n!!!!not base64!!!!\n";
	static const char json7bit[] = "From: a@b.example\n"
	    "Content-Type: application/tlsrpt+json\n\n{\"a\": 1}\n";

	(void)state;
	refused(plain, sizeof(plain) - 1, "without an application/tlsrpt");
	refused(wrong, sizeof(wrong) - 1, "without an application/tlsrpt");
	refused(badb64, sizeof(badb64) - 1, "gzip");
	refused(json7bit, sizeof(json7bit) - 1, "organization-name: missing");
	refused("", 0, "neither");
	refused("\x1f", 1, "neither");
}

/* txt[0..n) must be a usable TLSRPT record with these rua URIs. */
static void
txt_ok(const char *const *txt, size_t n, const char *want)
{
	struct errbuf err;
	char rua[512];
	int none = -1;

	err.msg[0] = '\0';
	if (tlsrpt_txt_check((char *const *)txt, n, rua, sizeof(rua), &none,
	    &err) != 0)
		fail_msg("\"%s\": %s", n ? txt[0] : "", err.msg);
	assert_string_equal(rua, want);
	assert_int_equal(none, 0);
}

/* txt[0..n) must be refused with why in the message; none as said. */
static void
txt_refused(const char *const *txt, size_t n, const char *why, int none)
{
	struct errbuf err;
	char rua[512];
	int got = -1;

	err.msg[0] = '\0';
	assert_int_equal(tlsrpt_txt_check((char *const *)txt, n, rua,
	    sizeof(rua), &got, &err), -1);
	if (strstr(err.msg, why) == NULL)
		fail_msg("\"%s\": \"%s\" lacks \"%s\"", n ? txt[0] : "",
		    err.msg, why);
	assert_int_equal(got, none);
	assert_string_equal(rua, "");
}

#define OK1(rec, want)	do { const char *t[] = { rec }; \
	txt_ok(t, 1, want); } while (0)
#define BAD1(rec, why)	do { const char *t[] = { rec }; \
	txt_refused(t, 1, why, 0); } while (0)

static void
test_txt_record(void **state)
{
	const char *spf_and_rpt[] = { "v=spf1 -all",
	    "v=TLSRPTv1; rua=mailto:tlsrpt@example.com" };
	const char *two[] = { "v=TLSRPTv1; rua=mailto:a@example.com",
	    "v=TLSRPTv1; rua=mailto:b@example.com" };
	const char *spf[] = { "v=spf1 -all" };

	(void)state;
	/* RFC 8460 section 3's examples, and their variations. */
	OK1("v=TLSRPTv1; rua=mailto:reports@example.com",
	    "mailto:reports@example.com");
	OK1("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt",
	    "https://reporting.example.com/v1/tlsrpt");
	OK1("v=TLSRPTv1;rua=mailto:a@example.com , https://r.example/x ;",
	    "mailto:a@example.com,https://r.example/x");
	OK1("v=TLSRPTv1; ext-1.x=val:ue; rua=mailto:a@example.com",
	    "mailto:a@example.com");
	/* another scheme is left out, not an error, if one URI is usable */
	OK1("v=TLSRPTv1; rua=ftp://x.example/r,mailto:a@example.com",
	    "mailto:a@example.com");
	txt_ok(spf_and_rpt, 2, "mailto:tlsrpt@example.com");

	/* none at all: no record, or no record beginning with v=TLSRPTv1 */
	txt_refused(NULL, 0, "no TXT record beginning", 1);
	txt_refused(spf, 1, "no TXT record beginning", 1);
	{
		const char *t[] = { " v=TLSRPTv1; rua=mailto:a@example.com",
		    "v=tlsrptv1; rua=mailto:a@example.com" };

		txt_refused(t, 2, "no TXT record beginning", 1);
	}
	txt_refused(two, 2, "2 records beginning", 0);

	/* malformed */
	BAD1("v=TLSRPTv1", "no rua= field");
	BAD1("v=TLSRPTv1;", "no rua= field");
	BAD1("v=TLSRPTv1; ruf=mailto:a@example.com", "no rua= field");
	BAD1("v=TLSRPTv1 rua=mailto:a@example.com", "should separate");
	BAD1("v=TLSRPTv1x; rua=mailto:a@example.com", "should separate");
	BAD1("v=TLSRPTv1; rua=", "empty URI");
	BAD1("v=TLSRPTv1; rua=mailto:a@example.com,", "empty URI");
	BAD1("v=TLSRPTv1; rua=mailto:example.com", "mailto:LOCAL@DOMAIN");
	BAD1("v=TLSRPTv1; rua=mailto:@example.com", "mailto:LOCAL@DOMAIN");
	BAD1("v=TLSRPTv1; rua=mailto:a@", "mailto:LOCAL@DOMAIN");
	BAD1("v=TLSRPTv1; rua=https:///path", "names no host");
	BAD1("v=TLSRPTv1; rua=reports@example.com", "is not a URI");
	BAD1("v=TLSRPTv1; rua=ftp://x.example/r", "no mailto: or https:");
	BAD1("v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com",
	    "given 2 times");
	BAD1("v=TLSRPTv1; =x; rua=mailto:a@example.com", "not a NAME=VALUE");
	BAD1("v=TLSRPTv1; -x=1; rua=mailto:a@example.com", "not a NAME=VALUE");
	BAD1("v=TLSRPTv1; x=; rua=mailto:a@example.com", "has no value");
	BAD1("v=TLSRPTv1; rua=mailto:a@example.com; x=a=b", "should separate");
	/* a control character is shown as "?" */
	BAD1("v=TLSRPTv1; rua=mailto:a\x01@example.com",
	    "\"v=TLSRPTv1; rua=mailto:a?@example.com\": rua URI \"mailto:a\" "
	    "is not mailto:LOCAL@DOMAIN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_example),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_gzip_hostile),
		cmocka_unit_test(test_json_hostile),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_mime_hostile),
		cmocka_unit_test(test_txt_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
