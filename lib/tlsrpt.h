/*
 * tlsrpt - SMTP TLS reports (RFC 8460) as senders mail them: a message
 * with an application/tlsrpt+gzip or application/tlsrpt+json part, or the
 * bare JSON or gzip'd JSON of one report.
 *
 * Everything here expects hostile input. The input is at most
 * TLSRPT_MAX_INPUT bytes, gzip expands to at most TLSRPT_MAX_JSON bytes
 * (decompression stops there: a zip bomb costs that much and no more),
 * JSON goes through jansson (duplicate keys refused) and the report is
 * validated field by field against RFC 8460 section 4: a report that does
 * not validate is refused whole, with one line saying which field is
 * wrong, and nothing of it is kept. Names are lower-cased without a
 * trailing dot, addresses normalised (inet_ntop), so the store and the
 * guard compare them as strings.
 *
 * MIME goes through GMime (tlsrpt_mime.c); gzip through zlib; this file
 * does the detection, the gzip and the JSON.
 */
#ifndef DG_TLSRPT_H
#define DG_TLSRPT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "errbuf.h"

#define TLSRPT_MAX_INPUT	(16u << 20)	/* a mail or file */
#define TLSRPT_MAX_JSON		(16u << 20)	/* JSON after gunzip */
#define TLSRPT_MAX_POLICIES	1000
#define TLSRPT_MAX_DETAILS	10000		/* failure-details per policy */
#define TLSRPT_MAX_COUNT	1000000000000LL	/* sessions in one count */
/* A date-range longer than this is not a report a sender makes. */
#define TLSRPT_MAX_RANGE	(31 * 86400)
/* Clock skew allowed for an end-datetime in the future. */
#define TLSRPT_MAX_SKEW		86400

enum tlsrpt_policy_type {
	TLSRPT_POLICY_TLSA,
	TLSRPT_POLICY_STS,
	TLSRPT_POLICY_NONE		/* "no-policy-found" */
};

/* One entry of failure-details. Strings are never NULL ("" if absent). */
struct tlsrpt_failure {
	char *result_type;	/* "tlsa-invalid", ... (a token, lower case) */
	char *receiving_mx;	/* receiving-mx-hostname, normalised, or "" */
	char *receiving_ip;	/* receiving-ip, normalised, or "" */
	char *sending_ip;	/* sending-mta-ip, normalised, or "" */
	long long count;	/* failed-session-count */
};

struct tlsrpt_policy {
	enum tlsrpt_policy_type type;
	char *domain;		/* policy-domain, normalised */
	char **mx_hosts;	/* mx-host (sts patterns such as *.example) */
	size_t nmx_hosts;
	long long success;	/* total-successful-session-count */
	long long failure;	/* total-failure-session-count */
	struct tlsrpt_failure *failures;
	size_t nfailures;
};

struct tlsrpt_report {
	char *organization;	/* organization-name (any UTF-8 text) */
	char *contact;		/* contact-info, or "" */
	char *report_id;	/* report-id */
	time_t start, end;	/* date-range */
	struct tlsrpt_policy *policies;
	size_t npolicies;
};

/* Where a report came from (tlsrpt_read). */
enum tlsrpt_form {
	TLSRPT_FORM_JSON,	/* bare JSON */
	TLSRPT_FORM_GZIP,	/* bare gzip'd JSON */
	TLSRPT_FORM_MIME	/* a mail message */
};

/*
 * Parse one report from data[0..len): a gzip stream (by its magic), JSON
 * (first non-blank byte '{') or else a mail message. now judges the
 * dates (an end-datetime more than TLSRPT_MAX_SKEW ahead is refused).
 * Returns 0 with *out (free with tlsrpt_free) and *form (may be NULL)
 * set, or -1 with a one-line err and *out NULL.
 */
int tlsrpt_read(const void *data, size_t len, time_t now,
    struct tlsrpt_report **out, enum tlsrpt_form *form, struct errbuf *err);

/* The report in JSON text json[0..len) (no NUL needed). As tlsrpt_read. */
int tlsrpt_parse_json(const void *json, size_t len, time_t now,
    struct tlsrpt_report **out, struct errbuf *err);

/*
 * Expand the gzip stream in[0..len) into *out (malloc'd, NUL-terminated,
 * *outlen without the NUL). More than max bytes, a truncated or corrupt
 * stream, or trailing data is an error. Returns 0 or -1 with err set.
 */
int tlsrpt_gunzip(const void *in, size_t len, size_t max, char **out,
    size_t *outlen, struct errbuf *err);

/*
 * The first application/tlsrpt+gzip or application/tlsrpt+json part of
 * the message msg[0..len), transfer-decoded, into *out (malloc'd) and
 * *outlen; *gzipped says which of the two. Returns 0 or -1 with err set
 * (no such part, or not a message). tlsrpt_mime.c.
 */
int tlsrpt_mime_extract(const void *msg, size_t len, char **out,
    size_t *outlen, int *gzipped, struct errbuf *err);

/*
 * RFC 3339 date-time ("2016-04-01T00:00:00Z", fraction and numeric
 * offset allowed) into seconds since 1970. Returns 0 or -1.
 */
int tlsrpt_parse_datetime(const char *s, time_t *out);

/* "tlsa", "sts", "no-policy-found". */
const char *tlsrpt_policy_type_name(enum tlsrpt_policy_type type);

/*
 * 1 when result_type is a failure that a DANE-validating sender hits at
 * this server (STARTTLS, certificate, TLSA, DNSSEC): what G10 counts.
 */
int tlsrpt_result_is_dane(const char *result_type);

/*
 * A domain's TLSRPT policy record (RFC 8460 section 3) from the n TXT
 * records at _smtp._tls.DOMAIN (each one's strings joined), as senders
 * judge it: records that do not begin with "v=TLSRPTv1" do not count;
 * exactly one must remain, well-formed, with one rua= field holding at
 * least one mailto:LOCAL@DOMAIN or https://HOST URI. Returns 0 with the
 * usable URIs, comma-separated, in rua[0..rualen); or -1 with a one-line
 * err (senders send no reports), *none set when no record begins with
 * "v=TLSRPTv1". tlsrpt_txt.c.
 */
int tlsrpt_txt_check(char *const *txt, size_t n, char *rua, size_t rualen,
    int *none, struct errbuf *err);

void tlsrpt_free(struct tlsrpt_report *r);

#endif
