/*
 * tlsrpt - detection, gunzip and the JSON of an RFC 8460 report (see
 * tlsrpt.h). Validation follows RFC 8460 section 4.4: organization-name,
 * date-range, report-id and policies are required; in each policy,
 * policy-type and policy-domain, and the summary's two counts; in each
 * failure detail, result-type and failed-session-count. contact-info is
 * required by the RFC but some senders leave it out: it is optional here,
 * and a string when present. Unknown members are ignored (the format is
 * extensible); a known member of the wrong type is an error.
 */
#include "config.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include "tlsrpt.h"
#include "xalloc.h"

#define MAX_NAME	253
#define MAX_TEXT	1024

const char *
tlsrpt_policy_type_name(enum tlsrpt_policy_type type)
{
	switch (type) {
	case TLSRPT_POLICY_TLSA:
		return "tlsa";
	case TLSRPT_POLICY_STS:
		return "sts";
	case TLSRPT_POLICY_NONE:
		break;
	}
	return "no-policy-found";
}

int
tlsrpt_result_is_dane(const char *t)
{
	static const char *const dane[] = {
		"starttls-not-supported", "certificate-host-mismatch",
		"certificate-expired", "certificate-not-trusted",
		"validation-failure", "tlsa-invalid", "dnssec-invalid",
		"dane-required", NULL
	};
	size_t i;

	for (i = 0; dane[i] != NULL; i++)
		if (strcmp(t, dane[i]) == 0)
			return 1;
	return 0;
}

/* ---------------------------------------------------------------- gzip */

int
tlsrpt_gunzip(const void *in, size_t len, size_t max, char **out,
    size_t *outlen, struct errbuf *err)
{
	z_stream z;
	char *buf;
	size_t size, used = 0;
	int rc;

	*out = NULL;
	*outlen = 0;
	memset(&z, 0, sizeof(z));
	/* 16 + MAX_WBITS: gzip only, no zlib or raw deflate. */
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		errbuf_set(err, "gzip: cannot start zlib");
		return -1;
	}
	size = len < max / 4 ? len * 4 + 4096 : max + 1;
	if (size > max + 1)
		size = max + 1;
	buf = xmalloc(size + 1);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	for (;;) {
		if (used == size) {
			if (size > max) {
				errbuf_set(err, "gzip: expands past %zu bytes "
				    "(a report is never that large)", max);
				goto fail;
			}
			size = size * 2 > max + 1 ? max + 1 : size * 2;
			buf = xrealloc(buf, size + 1);
		}
		z.next_out = (Bytef *)buf + used;
		z.avail_out = (uInt)(size - used);
		rc = inflate(&z, Z_NO_FLUSH);
		used = size - z.avail_out;
		if (rc == Z_STREAM_END)
			break;
		if (rc == Z_BUF_ERROR && z.avail_in == 0) {
			errbuf_set(err, "gzip: truncated (the stream ends "
			    "early)");
			goto fail;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			errbuf_set(err, "gzip: corrupt (%s)",
			    z.msg != NULL ? z.msg : "zlib error");
			goto fail;
		}
	}
	if (used > max) {
		errbuf_set(err, "gzip: expands past %zu bytes (a report is "
		    "never that large)", max);
		goto fail;
	}
	if (z.avail_in != 0) {
		errbuf_set(err, "gzip: %u bytes of trailing data after the "
		    "stream", (unsigned)z.avail_in);
		goto fail;
	}
	inflateEnd(&z);
	buf[used] = '\0';
	*out = buf;
	*outlen = used;
	return 0;
fail:
	inflateEnd(&z);
	free(buf);
	return -1;
}

/* ---------------------------------------------------------------- dates */

static int
digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
tlsrpt_parse_datetime(const char *s, time_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, mo, d, h, mi, sec, oh, om, sign;
	long long days, t;
	const char *p;

	if (strlen(s) < 20 || digits(s, 4, &y) < 0 || s[4] != '-' ||
	    digits(s + 5, 2, &mo) < 0 || s[7] != '-' ||
	    digits(s + 8, 2, &d) < 0 || (s[10] != 'T' && s[10] != 't') ||
	    digits(s + 11, 2, &h) < 0 || s[13] != ':' ||
	    digits(s + 14, 2, &mi) < 0 || s[16] != ':' ||
	    digits(s + 17, 2, &sec) < 0)
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0))) || h > 23 || mi > 59 || sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		if (!isdigit((unsigned char)p[1]))
			return -1;
		for (p++; isdigit((unsigned char)*p); p++)
			;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		oh = om = 0;
		sign = 1;
	} else if ((*p == '+' || *p == '-') && digits(p + 1, 2, &oh) == 0 &&
	    p[3] == ':' && digits(p + 4, 2, &om) == 0 && p[6] == '\0' &&
	    oh < 24 && om < 60) {
		sign = *p == '-' ? -1 : 1;
	} else
		return -1;
	if (sec == 60)
		sec = 59;	/* a leap second is the second before */
	/* Days from 1970-01-01 (civil calendar, Howard Hinnant's method). */
	{
		int yy = mo <= 2 ? y - 1 : y;
		int era = yy / 400;
		int yoe = yy - era * 400;
		int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
		int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

		days = (long long)era * 146097 + doe - 719468;
	}
	t = days * 86400 + h * 3600 + mi * 60 + sec -
	    sign * (oh * 3600 + om * 60);
	*out = (time_t)t;
	return 0;
}

/* ---------------------------------------------------------------- JSON */

struct ctx {
	struct errbuf *err;
	char path[256];		/* "policies[2].failure-details[0]" */
};

static int
bad(struct ctx *c, const char *member, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bad(struct ctx *c, const char *member, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	errbuf_set(c->err, "report: %s%s%s: %s", c->path,
	    c->path[0] != '\0' ? "." : "", member, why);
	return -1;
}

static const char *
type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		break;
	}
	return "null";
}

/* Member of obj that must be of type; NULL (err set) when missing/wrong,
 * or NULL with *missing=1 when optional and absent. */
static json_t *
member(struct ctx *c, json_t *obj, const char *name, json_type type,
    int required, int *failed)
{
	static const char *const want[] = {
		[JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
		[JSON_STRING] = "a string", [JSON_INTEGER] = "an integer",
	};
	json_t *v = json_object_get(obj, name);

	if (v == NULL) {
		if (required)
			*failed = bad(c, name, "missing");
		return NULL;
	}
	if (json_typeof(v) != type) {
		*failed = bad(c, name, "is %s, not %s", type_name(v),
		    want[type]);
		return NULL;
	}
	return v;
}

/* A text member: at most MAX_TEXT bytes, no control characters. */
static int
text(struct ctx *c, json_t *obj, const char *name, int required, char **out)
{
	int failed = 0;
	json_t *v = member(c, obj, name, JSON_STRING, required, &failed);
	const char *s;
	size_t i, n;

	*out = NULL;
	if (v == NULL) {
		if (failed)
			return -1;
		*out = xstrdup("");
		return 0;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 && required)
		return bad(c, name, "is empty");
	if (n > MAX_TEXT)
		return bad(c, name, "longer than %d bytes", MAX_TEXT);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return bad(c, name, "holds a control character");
	*out = xstrndup(s, n);
	return 0;
}

/*
 * A host or domain name: lower-cased, one trailing dot dropped; labels of
 * letters, digits, '-', '_' (and '*' when wild: sts mx patterns).
 */
static int
name(struct ctx *c, const char *member_name, const char *s, size_t n,
    int wild, char **out)
{
	char *v;
	size_t i, label = 0;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0)
		return bad(c, member_name, "is empty");
	if (n > MAX_NAME)
		return bad(c, member_name, "longer than %d bytes", MAX_NAME);
	v = xstrndup(s, n);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch == '.') {
			if (label == 0)
				goto badname;
			label = 0;
			continue;
		}
		if (++label > 63 || !(isalnum(ch) || ch == '-' || ch == '_' ||
		    (wild && ch == '*')))
			goto badname;
		v[i] = (char)tolower(ch);
	}
	*out = v;
	return 0;
badname:
	free(v);
	return bad(c, member_name, "is not a host name");
}

static int
name_member(struct ctx *c, json_t *obj, const char *mname, int required,
    char **out)
{
	int failed = 0;
	json_t *v = member(c, obj, mname, JSON_STRING, required, &failed);

	*out = NULL;
	if (v == NULL) {
		if (failed)
			return -1;
		*out = xstrdup("");
		return 0;
	}
	return name(c, mname, json_string_value(v), json_string_length(v), 0,
	    out);
}

static int
addr_member(struct ctx *c, json_t *obj, const char *mname, char **out)
{
	int failed = 0;
	json_t *v = member(c, obj, mname, JSON_STRING, 0, &failed);
	unsigned char bin[16];
	char buf[INET6_ADDRSTRLEN];
	const char *s;

	*out = NULL;
	if (v == NULL) {
		if (failed)
			return -1;
		*out = xstrdup("");
		return 0;
	}
	s = json_string_value(v);
	if (strlen(s) == json_string_length(v)) {
		if (inet_pton(AF_INET, s, bin) == 1 &&
		    inet_ntop(AF_INET, bin, buf, sizeof(buf)) != NULL) {
			*out = xstrdup(buf);
			return 0;
		}
		if (inet_pton(AF_INET6, s, bin) == 1 &&
		    inet_ntop(AF_INET6, bin, buf, sizeof(buf)) != NULL) {
			*out = xstrdup(buf);
			return 0;
		}
	}
	return bad(c, mname, "is not an IPv4 or IPv6 address");
}

static int
count_member(struct ctx *c, json_t *obj, const char *mname, long long *out)
{
	int failed = 0;
	json_t *v = member(c, obj, mname, JSON_INTEGER, 1, &failed);
	json_int_t n;

	if (v == NULL)
		return -1;
	n = json_integer_value(v);
	if (n < 0 || n > TLSRPT_MAX_COUNT)
		return bad(c, mname, "%lld is not a session count",
		    (long long)n);
	*out = (long long)n;
	return 0;
}

static int
result_type(struct ctx *c, json_t *obj, char **out)
{
	int failed = 0;
	json_t *v = member(c, obj, "result-type", JSON_STRING, 1, &failed);
	const char *s;
	size_t i, n;

	*out = NULL;
	if (v == NULL)
		return -1;
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 || n > 64)
		return bad(c, "result-type", "is not a result type");
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) ||
		    isdigit((unsigned char)s[i]) || s[i] == '-'))
			return bad(c, "result-type", "\"%.64s\" is not a "
			    "result type (lower-case letters, digits, '-')",
			    s);
	*out = xstrndup(s, n);
	return 0;
}

static int
parse_failure(struct ctx *c, json_t *o, struct tlsrpt_failure *f)
{
	if (!json_is_object(o))
		return bad(c, "", "is %s, not an object", type_name(o));
	if (result_type(c, o, &f->result_type) < 0 ||
	    name_member(c, o, "receiving-mx-hostname", 0,
	    &f->receiving_mx) < 0 ||
	    addr_member(c, o, "receiving-ip", &f->receiving_ip) < 0 ||
	    addr_member(c, o, "sending-mta-ip", &f->sending_ip) < 0 ||
	    count_member(c, o, "failed-session-count", &f->count) < 0)
		return -1;
	return 0;
}

static int
parse_policy_desc(struct ctx *c, json_t *o, struct tlsrpt_policy *p)
{
	int failed = 0;
	json_t *t, *mx, *v;
	const char *s;
	size_t i;

	if ((t = member(c, o, "policy-type", JSON_STRING, 1, &failed)) ==
	    NULL)
		return -1;
	s = json_string_value(t);
	if (strcmp(s, "tlsa") == 0)
		p->type = TLSRPT_POLICY_TLSA;
	else if (strcmp(s, "sts") == 0)
		p->type = TLSRPT_POLICY_STS;
	else if (strcmp(s, "no-policy-found") == 0)
		p->type = TLSRPT_POLICY_NONE;
	else
		return bad(c, "policy-type", "\"%.64s\" is not tlsa, sts or "
		    "no-policy-found", s);
	if ((v = json_object_get(o, "policy-string")) != NULL) {
		if (!json_is_array(v))
			return bad(c, "policy-string", "is %s, not an array",
			    type_name(v));
		for (i = 0; i < json_array_size(v); i++)
			if (!json_is_string(json_array_get(v, i)))
				return bad(c, "policy-string", "[%zu] is not "
				    "a string", i);
	}
	if (name_member(c, o, "policy-domain", 1, &p->domain) < 0)
		return -1;
	/* RFC 8460's schema says a string, its example an array: take both. */
	if ((mx = json_object_get(o, "mx-host")) == NULL)
		return 0;
	if (json_is_string(mx)) {
		p->mx_hosts = xcalloc(1, sizeof(char *));
		if (name(c, "mx-host", json_string_value(mx),
		    json_string_length(mx), 1, &p->mx_hosts[0]) < 0)
			return -1;
		p->nmx_hosts = 1;
		return 0;
	}
	if (!json_is_array(mx))
		return bad(c, "mx-host", "is %s, not a string or an array",
		    type_name(mx));
	if (json_array_size(mx) > TLSRPT_MAX_POLICIES)
		return bad(c, "mx-host", "more than %d names",
		    TLSRPT_MAX_POLICIES);
	p->mx_hosts = xcalloc(json_array_size(mx) + 1, sizeof(char *));
	for (i = 0; i < json_array_size(mx); i++) {
		v = json_array_get(mx, i);
		if (!json_is_string(v))
			return bad(c, "mx-host", "[%zu] is %s, not a string",
			    i, type_name(v));
		if (name(c, "mx-host", json_string_value(v),
		    json_string_length(v), 1, &p->mx_hosts[i]) < 0)
			return -1;
		p->nmx_hosts = i + 1;
	}
	return 0;
}

static int
parse_policy(struct ctx *c, json_t *o, struct tlsrpt_policy *p)
{
	int failed = 0;
	json_t *desc, *sum, *det;
	size_t len = strlen(c->path), i;

	if (!json_is_object(o))
		return bad(c, "", "is %s, not an object", type_name(o));
	if ((desc = member(c, o, "policy", JSON_OBJECT, 1, &failed)) == NULL)
		return -1;
	snprintf(c->path + len, sizeof(c->path) - len, ".policy");
	if (parse_policy_desc(c, desc, p) < 0)
		return -1;
	c->path[len] = '\0';
	if ((sum = member(c, o, "summary", JSON_OBJECT, 1, &failed)) == NULL)
		return -1;
	snprintf(c->path + len, sizeof(c->path) - len, ".summary");
	if (count_member(c, sum, "total-successful-session-count",
	    &p->success) < 0 ||
	    count_member(c, sum, "total-failure-session-count",
	    &p->failure) < 0)
		return -1;
	c->path[len] = '\0';
	det = member(c, o, "failure-details", JSON_ARRAY, 0, &failed);
	if (failed)
		return -1;
	if (det == NULL)
		return 0;
	if (json_array_size(det) > TLSRPT_MAX_DETAILS)
		return bad(c, "failure-details", "more than %d entries",
		    TLSRPT_MAX_DETAILS);
	p->failures = xcalloc(json_array_size(det) + 1, sizeof(*p->failures));
	for (i = 0; i < json_array_size(det); i++) {
		snprintf(c->path + len, sizeof(c->path) - len,
		    ".failure-details[%zu]", i);
		p->nfailures = i + 1;
		if (parse_failure(c, json_array_get(det, i),
		    &p->failures[i]) < 0)
			return -1;
	}
	c->path[len] = '\0';
	return 0;
}

static int
parse_dates(struct ctx *c, json_t *root, time_t now, struct tlsrpt_report *r)
{
	int failed = 0;
	json_t *range, *v;

	if ((range = member(c, root, "date-range", JSON_OBJECT, 1, &failed)) ==
	    NULL)
		return -1;
	snprintf(c->path, sizeof(c->path), "date-range");
	if ((v = member(c, range, "start-datetime", JSON_STRING, 1,
	    &failed)) == NULL)
		return -1;
	if (tlsrpt_parse_datetime(json_string_value(v), &r->start) < 0)
		return bad(c, "start-datetime", "\"%.40s\" is not an RFC 3339 "
		    "date-time", json_string_value(v));
	if ((v = member(c, range, "end-datetime", JSON_STRING, 1,
	    &failed)) == NULL)
		return -1;
	if (tlsrpt_parse_datetime(json_string_value(v), &r->end) < 0)
		return bad(c, "end-datetime", "\"%.40s\" is not an RFC 3339 "
		    "date-time", json_string_value(v));
	if (r->end <= r->start)
		return bad(c, "end-datetime", "is not after start-datetime");
	if (r->end - r->start > TLSRPT_MAX_RANGE)
		return bad(c, "end-datetime", "the range is longer than %d "
		    "days", TLSRPT_MAX_RANGE / 86400);
	if (r->end > now + TLSRPT_MAX_SKEW)
		return bad(c, "end-datetime", "lies more than a day in the "
		    "future (check the clock)");
	c->path[0] = '\0';
	return 0;
}

int
tlsrpt_parse_json(const void *data, size_t len, time_t now,
    struct tlsrpt_report **out, struct errbuf *err)
{
	struct tlsrpt_report *r;
	struct ctx c;
	json_error_t jerr;
	json_t *root, *pol;
	int failed = 0;
	size_t i;

	*out = NULL;
	if (len > TLSRPT_MAX_JSON) {
		errbuf_set(err, "report: JSON larger than %u bytes",
		    TLSRPT_MAX_JSON);
		return -1;
	}
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		errbuf_set(err, "report: not JSON (line %d column %d: %s)",
		    jerr.line, jerr.column, jerr.text);
		return -1;
	}
	memset(&c, 0, sizeof(c));
	c.err = err;
	r = xcalloc(1, sizeof(*r));
	if (!json_is_object(root)) {
		bad(&c, "top level", "is %s, not an object", type_name(root));
		goto fail;
	}
	if (text(&c, root, "organization-name", 1, &r->organization) < 0 ||
	    text(&c, root, "contact-info", 0, &r->contact) < 0 ||
	    text(&c, root, "report-id", 1, &r->report_id) < 0 ||
	    parse_dates(&c, root, now, r) < 0)
		goto fail;
	if ((pol = member(&c, root, "policies", JSON_ARRAY, 1, &failed)) ==
	    NULL)
		goto fail;
	if (json_array_size(pol) == 0) {
		bad(&c, "policies", "is empty");
		goto fail;
	}
	if (json_array_size(pol) > TLSRPT_MAX_POLICIES) {
		bad(&c, "policies", "more than %d entries",
		    TLSRPT_MAX_POLICIES);
		goto fail;
	}
	r->policies = xcalloc(json_array_size(pol), sizeof(*r->policies));
	for (i = 0; i < json_array_size(pol); i++) {
		snprintf(c.path, sizeof(c.path), "policies[%zu]", i);
		r->npolicies = i + 1;
		if (parse_policy(&c, json_array_get(pol, i),
		    &r->policies[i]) < 0)
			goto fail;
	}
	json_decref(root);
	*out = r;
	return 0;
fail:
	json_decref(root);
	tlsrpt_free(r);
	return -1;
}

/* ---------------------------------------------------------------- input */

static int
is_gzip(const unsigned char *p, size_t len)
{
	return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

int
tlsrpt_read(const void *data, size_t len, time_t now,
    struct tlsrpt_report **out, enum tlsrpt_form *form, struct errbuf *err)
{
	const unsigned char *p = data;
	enum tlsrpt_form f;
	char *buf = NULL, *json;
	size_t i, n;
	int gz, rc;

	*out = NULL;
	if (len > TLSRPT_MAX_INPUT) {
		errbuf_set(err, "larger than %u bytes: not a report",
		    TLSRPT_MAX_INPUT);
		return -1;
	}
	for (i = 0; i < len && isspace(p[i]); i++)
		;
	if (is_gzip(p, len)) {
		f = TLSRPT_FORM_GZIP;
		if (tlsrpt_gunzip(p, len, TLSRPT_MAX_JSON, &buf, &n, err) < 0)
			return -1;
		json = buf;
	} else if (i < len && p[i] == '{') {
		f = TLSRPT_FORM_JSON;
		json = (char *)(uintptr_t)p;
		n = len;
	} else {
		f = TLSRPT_FORM_MIME;
		if (tlsrpt_mime_extract(p, len, &buf, &n, &gz, err) < 0)
			return -1;
		json = buf;
		if (gz) {
			if (tlsrpt_gunzip(buf, n, TLSRPT_MAX_JSON, &json, &n,
			    err) < 0) {
				free(buf);
				return -1;
			}
			free(buf);
			buf = json;
		}
	}
	rc = tlsrpt_parse_json(json, n, now, out, err);
	free(buf);
	if (rc == 0 && form != NULL)
		*form = f;
	return rc;
}

void
tlsrpt_free(struct tlsrpt_report *r)
{
	size_t i, j;

	if (r == NULL)
		return;
	for (i = 0; i < r->npolicies; i++) {
		struct tlsrpt_policy *p = &r->policies[i];

		free(p->domain);
		for (j = 0; j < p->nmx_hosts; j++)
			free(p->mx_hosts[j]);
		free(p->mx_hosts);
		for (j = 0; j < p->nfailures; j++) {
			free(p->failures[j].result_type);
			free(p->failures[j].receiving_mx);
			free(p->failures[j].receiving_ip);
			free(p->failures[j].sending_ip);
		}
		free(p->failures);
	}
	free(r->policies);
	free(r->organization);
	free(r->contact);
	free(r->report_id);
	free(r);
}
