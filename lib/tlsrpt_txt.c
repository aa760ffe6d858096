/*
 * tlsrpt_txt - a domain's TLSRPT policy record (RFC 8460 section 3), the
 * TXT record at _smtp._tls.DOMAIN that tells senders where to send their
 * reports:
 *
 *	tlsrpt-record    = tlsrpt-version 1*(field-delim tlsrpt-field)
 *	                   [field-delim]
 *	field-delim      = *WSP ";" *WSP
 *	tlsrpt-field     = tlsrpt-rua / tlsrpt-extension
 *	tlsrpt-version   = %s"v=TLSRPTv1"
 *	tlsrpt-rua       = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
 *	tlsrpt-extension = tlsrpt-ext-name "=" tlsrpt-ext-value
 *	tlsrpt-ext-name  = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *	tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)
 *
 * Records that do not begin with "v=TLSRPTv1" are not TLSRPT records;
 * unless exactly one remains, and it parses, senders take the domain as
 * not implementing TLSRPT and send nothing.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tlsrpt.h"

#define TXT_VERSION		"v=TLSRPTv1"

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* A URI character that may stand in a rua list (no WSP, "," or ";"). */
static int
uri_char(int c)
{
	return c >= 0x21 && c <= 0x7e && c != ',' && c != ';';
}

/*
 * Judge one rua URI uri[0..len): 1 usable (mailto:LOCAL@DOMAIN, or
 * https://HOST...), 0 a scheme senders do not use, -1 malformed (why).
 */
static int
rua_uri(const char *uri, size_t len, char *why, size_t whylen)
{
	const char *at, *p;
	size_t i;

	for (i = 0; i < len; i++)
		if (!uri_char((unsigned char)uri[i])) {
			snprintf(why, whylen, "rua URI \"%.*s\" has a character "
			    "a URI cannot hold", (int)len, uri);
			return -1;
		}
	if (len > 7 && strncasecmp(uri, "mailto:", 7) == 0) {
		p = uri + 7;
		at = memchr(p, '@', len - 7);
		if (at == NULL || at == p || at == uri + len - 1 ||
		    memchr(at + 1, '@', (size_t)(uri + len - at - 1)) != NULL) {
			snprintf(why, whylen, "rua URI \"%.*s\" is not "
			    "mailto:LOCAL@DOMAIN", (int)len, uri);
			return -1;
		}
		return 1;
	}
	if (len > 8 && strncasecmp(uri, "https://", 8) == 0 &&
	    uri[8] != '/')
		return 1;
	if (len >= 6 && strncasecmp(uri, "https:", 6) == 0) {
		snprintf(why, whylen, "rua URI \"%.*s\" names no host",
		    (int)len, uri);
		return -1;
	}
	for (i = 0; i < len && (isalnum((unsigned char)uri[i]) ||
	    uri[i] == '+' || uri[i] == '-' || uri[i] == '.'); i++)
		;
	if (i == 0 || i == len || uri[i] != ':' ||
	    !isalpha((unsigned char)uri[0])) {
		snprintf(why, whylen, "rua \"%.*s\" is not a URI (mailto:... "
		    "or https://...)", (int)len, uri);
		return -1;
	}
	return 0;
}

/* The rua value at *pp (up to ";" or the end); usable URIs to rua. */
static int
rua_field(const char **pp, char *rua, size_t rualen, int *usable,
    char *why, size_t whylen)
{
	const char *p = *pp, *u;
	int rc;

	for (;;) {
		u = p;
		while (uri_char((unsigned char)*p))
			p++;
		if (p == u) {
			snprintf(why, whylen, "rua= has an empty URI");
			return -1;
		}
		if ((rc = rua_uri(u, (size_t)(p - u), why, whylen)) < 0)
			return -1;
		if (rc > 0) {
			snprintf(rua + strlen(rua), rualen - strlen(rua),
			    "%s%.*s", *usable ? "," : "", (int)(p - u), u);
			(*usable)++;
		}
		while (is_wsp(*p))
			p++;
		if (*p != ',')
			break;
		p++;
		while (is_wsp(*p))
			p++;
	}
	*pp = p;
	return 0;
}

/* One record that begins with TXT_VERSION: 0, or -1 with why. */
static int
record_parse(const char *rec, char *rua, size_t rualen, char *why,
    size_t whylen)
{
	const char *p = rec + strlen(TXT_VERSION), *name, *v;
	int nrua = 0, usable = 0, fields = 0;
	size_t n;

	rua[0] = '\0';
	for (;;) {
		/* field-delim, or the end */
		while (is_wsp(*p))
			p++;
		if (*p == '\0')
			break;
		if (*p != ';') {
			snprintf(why, whylen, "\"%.20s\" where a \";\" should "
			    "separate the fields", p);
			return -1;
		}
		p++;
		while (is_wsp(*p))
			p++;
		if (*p == '\0')
			break;		/* a final field-delim */
		name = p;
		while (isalnum((unsigned char)*p) || *p == '_' || *p == '-' ||
		    *p == '.')
			p++;
		n = (size_t)(p - name);
		if (n == 0 || n > 32 || !isalnum((unsigned char)*name) ||
		    *p != '=') {
			snprintf(why, whylen, "\"%.20s\" is not a NAME=VALUE "
			    "field", name);
			return -1;
		}
		p++;
		fields++;
		if (n == 3 && strncmp(name, "rua", 3) == 0) {
			nrua++;
			if (rua_field(&p, rua, rualen, &usable, why,
			    whylen) < 0)
				return -1;
			continue;
		}
		v = p;
		while (*p >= 0x21 && *p <= 0x7e && *p != ';' && *p != '=')
			p++;
		if (p == v) {
			snprintf(why, whylen, "field %.*s= has no value",
			    (int)n, name);
			return -1;
		}
	}
	if (fields == 0 || nrua == 0) {
		snprintf(why, whylen, "no rua= field (where reports go)");
		return -1;
	}
	if (nrua > 1) {
		snprintf(why, whylen, "rua= given %d times", nrua);
		return -1;
	}
	if (usable == 0) {
		snprintf(why, whylen, "rua= has no mailto: or https: URI");
		return -1;
	}
	return 0;
}

int
tlsrpt_txt_check(char *const *txt, size_t n, char *rua, size_t rualen,
    int *none, struct errbuf *err)
{
	char why[300];
	size_t i, found = 0, which = 0;

	*none = 0;
	rua[0] = '\0';
	for (i = 0; i < n; i++)
		if (strncmp(txt[i], TXT_VERSION, strlen(TXT_VERSION)) == 0) {
			found++;
			which = i;
		}
	if (found == 0) {
		*none = 1;
		errbuf_set(err, "no TXT record beginning with \"" TXT_VERSION
		    "\"");
		return -1;
	}
	if (found > 1) {
		errbuf_set(err, "%zu records beginning with \"" TXT_VERSION
		    "\" (senders need exactly one)", found);
		return -1;
	}
	if (record_parse(txt[which], rua, rualen, why, sizeof(why)) < 0) {
		rua[0] = '\0';
		errbuf_set(err, "\"%.80s%s\": %s", txt[which],
		    strlen(txt[which]) > 80 ? "..." : "", why);
		/* DNS data may hold anything: one printable line */
		for (i = 0; err->msg[i] != '\0'; i++)
			if ((unsigned char)err->msg[i] < 0x20 ||
			    (unsigned char)err->msg[i] >= 0x7f)
				err->msg[i] = '?';
		return -1;
	}
	return 0;
}
