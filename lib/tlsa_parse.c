/*
 * tlsa_parse - TLSA records from text: the three numbers, bare rdata
 * (presentation or RFC 3597 generic form) and zone files. See tlsa.h.
 *
 * The input is untrusted (a published zone, a file from another team) and
 * is fuzzed: every read is bounded by the end pointer, every number is
 * checked before it is used, and tokens point into the input instead of
 * being copied, so a large signed zone costs one pass and no allocation
 * per skipped record beyond its owner.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "duration.h"
#include "errbuf.h"
#include "fileio.h"
#include "tlsa.h"
#include "xalloc.h"

/* RFC 2181 section 8: TTLs are 31-bit. */
#define TLSA_TTL_MAX 2147483647L

/* Zone files beyond this are refused rather than read into memory. */
#define TLSA_ZONE_MAX ((size_t)256 * 1024 * 1024)

struct token {
	const char *p;
	size_t len;
	int quoted;
};

/* Splits text into entries: one logical line of tokens each. */
struct lexer {
	const char *p, *end;
	const char *line_start;	/* first byte of the current physical line */
	unsigned line;		/* current physical line, from 1 */
	unsigned entry_line;	/* line of the entry's first token */
	unsigned err_line;	/* line an error refers to */
	int blank_owner;	/* the entry's line began with a blank */
	struct token *tok;
	size_t ntok, alloc;
};

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static void
lex_add(struct lexer *lx, const char *p, size_t len, int quoted)
{
	if (lx->ntok == 0) {
		lx->entry_line = lx->line;
		lx->blank_owner = is_blank((unsigned char)*lx->line_start);
	}
	if (lx->ntok == lx->alloc) {
		lx->alloc = lx->alloc ? 2 * lx->alloc : 16;
		lx->tok = xreallocarray(lx->tok, lx->alloc, sizeof(*lx->tok));
	}
	lx->tok[lx->ntok].p = p;
	lx->tok[lx->ntok].len = len;
	lx->tok[lx->ntok].quoted = quoted;
	lx->ntok++;
}

/*
 * A quoted string, lx->p at its opening quote, as one token without the
 * quotes (a backslash keeps the next character in it). Returns 0, or -1
 * with err set when the line ends first.
 */
static int
lex_quoted(struct lexer *lx, struct errbuf *err)
{
	const char *start = ++lx->p;

	while (lx->p < lx->end && *lx->p != '"') {
		if (*lx->p == '\n' || *lx->p == '\0')
			break;
		if (*lx->p == '\\' && lx->p + 1 < lx->end &&
		    lx->p[1] != '\n' && lx->p[1] != '\0')
			lx->p++;
		lx->p++;
	}
	if (lx->p >= lx->end || *lx->p != '"') {
		lx->err_line = lx->line;
		errbuf_set(err, "quoted string not closed on its line");
		return -1;
	}
	lex_add(lx, start, lx->p - start, 1);
	lx->p++;
	return 0;
}

/*
 * An unquoted word at lx->p, up to a blank, a line end or one of ;()"
 * (a backslash escapes the next character). Returns 0, or -1 with err
 * set for a backslash at the end of a line.
 */
static int
lex_word(struct lexer *lx, struct errbuf *err)
{
	const char *start = lx->p;
	unsigned char c;

	while (lx->p < lx->end) {
		c = *lx->p;
		if (c == '\n' || c == '\0' || is_blank(c) || c == ';' ||
		    c == '(' || c == ')' || c == '"')
			break;
		if (c == '\\') {
			if (lx->p + 1 >= lx->end || lx->p[1] == '\n' ||
			    lx->p[1] == '\0') {
				lx->err_line = lx->line;
				errbuf_set(err, "backslash at the end of a line");
				return -1;
			}
			lx->p++;
		}
		lx->p++;
	}
	lex_add(lx, start, lx->p - start, 0);
	return 0;
}

/*
 * Read the next entry into lx->tok. With one_entry, newlines separate
 * tokens like blanks and the whole text is one entry (bare rdata).
 * Returns 1 with an entry, 0 at the end, -1 with err set (lx->err_line).
 */
static int
lex_entry(struct lexer *lx, int one_entry, struct errbuf *err)
{
	unsigned open_line = 0;
	int depth = 0;

	lx->ntok = 0;
	while (lx->p < lx->end) {
		unsigned char c = *lx->p;

		if (c == '\0') {
			lx->err_line = lx->line;
			errbuf_set(err, "NUL byte in text; is this a zone file?");
			return -1;
		}
		if (c == '\n') {
			lx->p++;
			lx->line++;
			lx->line_start = lx->p;
			if (depth == 0 && !one_entry && lx->ntok > 0)
				return 1;
			continue;
		}
		if (is_blank(c)) {
			lx->p++;
			continue;
		}
		if (c == ';') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
			continue;
		}
		if (c == '(') {
			if (depth++ == 0)
				open_line = lx->line;
			lx->p++;
			continue;
		}
		if (c == ')') {
			if (depth == 0) {
				lx->err_line = lx->line;
				errbuf_set(err, "')' without '('");
				return -1;
			}
			depth--;
			lx->p++;
			continue;
		}
		if ((c == '"' ? lex_quoted(lx, err) : lex_word(lx, err)) < 0)
			return -1;
	}
	if (depth > 0) {
		lx->err_line = open_line;
		errbuf_set(err, "'(' not closed before the end of the text");
		return -1;
	}
	return lx->ntok > 0;
}

/* Case-insensitive comparison of a token with a word. */
static int
tok_is(const struct token *t, const char *word)
{
	return !t->quoted && strlen(word) == t->len &&
	    strncasecmp(t->p, word, t->len) == 0;
}

/*
 * Decimal number of at most max in token t. Returns 0, or -1 for
 * anything else (no digits, other characters, too large).
 */
static int
tok_number(const struct token *t, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (t->quoted || t->len == 0)
		return -1;
	for (i = 0; i < t->len; i++) {
		if (t->p[i] < '0' || t->p[i] > '9')
			return -1;
		v = v * 10 + (t->p[i] - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

/* Is the token "WORDnnn" with nnn == value (TYPE52, CLASS1)? */
static int
tok_is_numbered(const struct token *t, const char *word, unsigned long value)
{
	size_t wl = strlen(word);
	struct token rest;
	unsigned long v;

	if (t->quoted || t->len <= wl || strncasecmp(t->p, word, wl) != 0)
		return 0;
	rest.p = t->p + wl;
	rest.len = t->len - wl;
	rest.quoted = 0;
	return tok_number(&rest, 65535, &v) == 0 && v == value;
}

/* A token shown in a message: at most 40 bytes of it. */
#define TOKFMT "\"%.*s%s\""
#define TOKARG(t) (int)((t)->len > 40 ? 40 : (t)->len), (t)->p, \
	((t)->len > 40 ? "..." : "")

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Count the hex digits in tokens t[0..n), refusing anything else.
 * Returns the count, or -1 with err set.
 */
static long
hex_count(const struct token *t, size_t n, struct errbuf *err)
{
	size_t i, j;
	long count = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < t[i].len && !t[i].quoted; j++)
			if (hexval(t[i].p[j]) < 0)
				break;
		if (t[i].quoted || j < t[i].len) {
			errbuf_set(err, "association data " TOKFMT
			    " is not hex", TOKARG(&t[i]));
			return -1;
		}
		count += t[i].len;
		/* Bounded well below LONG_MAX; stop before it matters. */
		if (count > 4L * TLSA_DATA_MAX + 16) {
			errbuf_set(err, "association data is longer than "
			    "%d bytes", TLSA_DATA_MAX);
			return -1;
		}
	}
	return count;
}

/* Decode hex digits (already checked) from t[0..n) into out. */
static void
hex_decode(const struct token *t, size_t n, unsigned char *out)
{
	size_t i, j;
	int half = 0, hi = 0;

	for (i = 0; i < n; i++)
		for (j = 0; j < t[i].len; j++) {
			int v = hexval(t[i].p[j]);

			if (half)
				*out++ = (unsigned char)(hi << 4 | v);
			else
				hi = v;
			half = !half;
		}
}

static int
check_data_len(uint8_t mtype, size_t len, struct errbuf *err)
{
	if (len == 0) {
		errbuf_set(err, "no association data");
		return -1;
	}
	if (len > TLSA_DATA_MAX) {
		errbuf_set(err, "association data of %zu bytes is longer than "
		    "%d", len, TLSA_DATA_MAX);
		return -1;
	}
	if (mtype == TLSA_MATCH_SHA256 && len != 32) {
		errbuf_set(err, "matching type 1 (SHA-256) needs 32 bytes of "
		    "data, not %zu", len);
		return -1;
	}
	if (mtype == TLSA_MATCH_SHA512 && len != 64) {
		errbuf_set(err, "matching type 2 (SHA-512) needs 64 bytes of "
		    "data, not %zu", len);
		return -1;
	}
	return 0;
}

/* RFC 3597: "\# LEN HEX", t[0] being the "\#". */
static int
rdata_generic(const struct token *t, size_t n, struct tlsa_record *out,
    struct errbuf *err)
{
	unsigned char head[3];
	unsigned long len;
	long digits;
	unsigned char *buf;

	/* The type octets count in LEN, so allow them on top of the data. */
	if (n < 2 || tok_number(&t[1], TLSA_DATA_MAX + 3, &len) < 0) {
		errbuf_set(err, "generic rdata \\# needs a length 0-%d",
		    TLSA_DATA_MAX + 3);
		return -1;
	}
	if ((digits = hex_count(t + 2, n - 2, err)) < 0)
		return -1;
	if ((unsigned long)digits != 2 * len) {
		errbuf_set(err, "generic rdata says %lu bytes but has %ld hex "
		    "digits%s", len, digits, digits % 2 ? " (odd)" : "");
		return -1;
	}
	if (len < 4) {
		errbuf_set(err, "generic rdata of %lu bytes is too short for "
		    "TLSA (usage, selector, matching type and data)", len);
		return -1;
	}
	buf = xmalloc(len);
	hex_decode(t + 2, n - 2, buf);
	memcpy(head, buf, 3);
	if (check_data_len(head[2], len - 3, err) < 0) {
		free(buf);
		return -1;
	}
	/* Keep the one buffer: shift the data down over the type octets. */
	memmove(buf, buf + 3, len - 3);
	out->type.usage = head[0];
	out->type.selector = head[1];
	out->type.mtype = head[2];
	out->len = len - 3;
	out->data = buf;
	return 0;
}

/* Rdata from tokens: "U S M HEX..." or "\# LEN HEX...". out is cleared. */
static int
rdata_tokens(const struct token *t, size_t n, struct tlsa_record *out,
    struct errbuf *err)
{
	static const char *what[] = { "usage", "selector", "matching type" };
	unsigned long v[3];
	long digits;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->ttl = -1;
	if (n > 0 && tok_is(&t[0], "\\#"))
		return rdata_generic(t, n, out, err);
	for (i = 0; i < 3; i++) {
		if (i >= n) {
			errbuf_set(err, "TLSA data ends before the %s; "
			    "expected \"USAGE SELECTOR MTYPE HEX\"", what[i]);
			return -1;
		}
		if (tok_number(&t[i], 255, &v[i]) < 0) {
			errbuf_set(err, "%s " TOKFMT " is not a number 0-255",
			    what[i], TOKARG(&t[i]));
			return -1;
		}
	}
	if ((digits = hex_count(t + 3, n - 3, err)) < 0)
		return -1;
	if (digits % 2) {
		errbuf_set(err, "association data has an odd number of hex "
		    "digits (%ld)", digits);
		return -1;
	}
	if (check_data_len(v[2], digits / 2, err) < 0)
		return -1;
	out->type.usage = v[0];
	out->type.selector = v[1];
	out->type.mtype = v[2];
	out->len = digits / 2;
	out->data = xmalloc(out->len);
	hex_decode(t + 3, n - 3, out->data);
	return 0;
}

int
tlsa_type_parse(const char *text, struct tlsa_type *out, struct errbuf *err)
{
	static const char *what[] = { "usage", "selector", "matching type" };
	static const unsigned long max[] = { 3, 1, 2 };
	unsigned long v[3];
	const char *p = text;
	size_t i;

	while (is_blank((unsigned char)*p))
		p++;
	for (i = 0; i < 3; i++) {
		unsigned long n = 0;
		const char *start = p;

		if (i > 0) {
			while (is_blank((unsigned char)*p))
				p++;
			if (*p == ',')
				p++;
			while (is_blank((unsigned char)*p))
				p++;
			if (p == start)
				goto syntax;
			start = p;
		}
		while (*p >= '0' && *p <= '9') {
			n = n * 10 + (*p++ - '0');
			if (n > 255)
				goto syntax;
		}
		if (p == start)
			goto syntax;
		v[i] = n;
	}
	while (is_blank((unsigned char)*p))
		p++;
	if (*p != '\0')
		goto syntax;
	for (i = 0; i < 3; i++)
		if (v[i] > max[i]) {
			errbuf_set(err, "\"%s\": %s %lu is not one of 0-%lu "
			    "(usage 0-3, selector 0-1, matching type 0-2)",
			    text, what[i], v[i], max[i]);
			return -1;
		}
	out->usage = v[0];
	out->selector = v[1];
	out->mtype = v[2];
	return 0;
syntax:
	errbuf_set(err, "\"%s\": expected a record type as three numbers "
	    "USAGE SELECTOR MTYPE, e.g. \"3 1 1\"", text);
	return -1;
}

int
tlsa_rdata_parse(const char *text, struct tlsa_record *out,
    struct errbuf *err)
{
	struct lexer lx;
	int rc;

	memset(&lx, 0, sizeof(lx));
	lx.p = lx.line_start = text;
	lx.end = text + strlen(text);
	lx.line = 1;
	memset(out, 0, sizeof(*out));
	out->ttl = -1;
	if ((rc = lex_entry(&lx, 1, err)) >= 0)
		rc = rdata_tokens(lx.tok, lx.ntok, out, err);
	free(lx.tok);
	return rc < 0 ? -1 : 0;
}

/* TTL: seconds, or numbers with units ("1h30m", "1d"): lib/duration. */
static int
ttl_parse(const struct token *t, long *out)
{
	if (t->quoted)
		return -1;
	return duration_span(t->p, t->len, TLSA_TTL_MAX, out) == 0 ? 0 : -1;
}

/* Is the token a class? Sets *in to whether it is IN. */
static int
tok_class(const struct token *t, int *in)
{
	static const char *other[] = { "CH", "HS", "CS", "NONE", "ANY" };
	size_t i;

	if (tok_is(t, "IN") || tok_is_numbered(t, "CLASS", 1)) {
		*in = 1;
		return 1;
	}
	*in = 0;
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (tok_is(t, other[i]))
			return 1;
	return !t->quoted && t->len > 5 && strncasecmp(t->p, "CLASS", 5) == 0 &&
	    t->p[5] >= '0' && t->p[5] <= '9';
}

/*
 * Make the absolute, normalised name for token t: "@" is the origin, a
 * name without an unescaped trailing dot is relative to it.
 * Returns a malloc'd name, or NULL with err set.
 */
static char *
zone_name(const struct token *t, const char *origin, struct errbuf *err)
{
	char *raw, *name;
	size_t bs = 0;
	int absolute;

	if (t->quoted) {
		errbuf_set(err, "a name cannot be a quoted string");
		return NULL;
	}
	if (t->len == 1 && t->p[0] == '@') {
		if (origin == NULL) {
			errbuf_set(err, "'@' used with no origin; add $ORIGIN "
			    "or give the origin");
			return NULL;
		}
		return xstrdup(origin);
	}
	/*
	 * An owner "$x." would be read back as a directive; such a name
	 * can only come from "$ORIGIN $x." and must be written "\$x.".
	 */
	if (t->p[0] == '$') {
		errbuf_set(err, "name " TOKFMT " starts with '$'; write it as "
		    "\\$", TOKARG(t));
		return NULL;
	}
	while (bs < t->len - 1 && t->p[t->len - 2 - bs] == '\\')
		bs++;
	absolute = t->p[t->len - 1] == '.' && bs % 2 == 0;
	if (absolute)
		raw = xstrndup(t->p, t->len);
	else if (origin == NULL) {
		errbuf_set(err, "relative name " TOKFMT " with no origin; add "
		    "$ORIGIN, give the origin, or end the name with a dot",
		    TOKARG(t));
		return NULL;
	} else if (strcmp(origin, ".") == 0)
		raw = xasprintf("%.*s.", (int)t->len, t->p);
	else
		raw = xasprintf("%.*s.%s", (int)t->len, t->p, origin);
	name = tlsa_name_normalise(raw);
	free(raw);
	return name;
}

/* State of a zone parse between entries. */
struct zone {
	char *origin;		/* normalised, or NULL */
	char *owner;		/* previous owner, or NULL */
	long ttl;		/* $TTL, or -1 */
	long default_ttl;
};

static int
zone_directive(struct zone *z, const struct token *t, size_t n,
    struct errbuf *err)
{
	char *name;

	if (tok_is(&t[0], "$INCLUDE")) {
		errbuf_set(err, "$INCLUDE is not supported; give the included "
		    "file on its own");
		return -1;
	}
	if (tok_is(&t[0], "$ORIGIN")) {
		if (n != 2) {
			errbuf_set(err, "$ORIGIN needs exactly one name");
			return -1;
		}
		if ((name = zone_name(&t[1], z->origin, err)) == NULL)
			return -1;
		free(z->origin);
		z->origin = name;
		return 0;
	}
	if (tok_is(&t[0], "$TTL")) {
		if (n != 2 || ttl_parse(&t[1], &z->ttl) < 0) {
			errbuf_set(err, "$TTL needs one TTL (seconds, or units "
			    "such as 1h30m)");
			return -1;
		}
		return 0;
	}
	errbuf_set(err, "unknown directive " TOKFMT, TOKARG(&t[0]));
	return -1;
}

/* One entry of a zone file. */
static int
zone_entry(struct zone *z, const struct lexer *lx, struct tlsa_set *out,
    struct errbuf *err)
{
	const struct token *t = lx->tok;
	size_t n = lx->ntok, i = 0;
	struct tlsa_record rec;
	int have_ttl = 0, have_class = 0, in = 1, is_in;
	long ttl = -1;
	char *name;

	if (!lx->blank_owner && !t[0].quoted && t[0].p[0] == '$')
		return zone_directive(z, t, n, err);
	if (!lx->blank_owner) {
		if ((name = zone_name(&t[0], z->origin, err)) == NULL)
			return -1;
		free(z->owner);
		z->owner = name;
		i = 1;
	} else if (z->owner == NULL) {
		errbuf_set(err, "record with a blank owner and no previous "
		    "owner");
		return -1;
	}
	for (; i < n; i++) {
		if (!have_class && tok_class(&t[i], &is_in)) {
			have_class = 1;
			in = is_in;
		} else if (!have_ttl && !t[i].quoted &&
		    t[i].p[0] >= '0' && t[i].p[0] <= '9') {
			if (ttl_parse(&t[i], &ttl) < 0) {
				errbuf_set(err, "bad TTL " TOKFMT, TOKARG(&t[i]));
				return -1;
			}
			have_ttl = 1;
		} else
			break;
	}
	if (i >= n) {
		errbuf_set(err, "record without a type");
		return -1;
	}
	if (!tok_is(&t[i], "TLSA") && !tok_is_numbered(&t[i], "TYPE", 52))
		return 0;
	if (!in) {
		errbuf_set(err, "TLSA record in a class other than IN");
		return -1;
	}
	if (rdata_tokens(t + i + 1, n - i - 1, &rec, err) < 0)
		return -1;
	rec.owner = xstrdup(z->owner);
	rec.ttl = have_ttl ? ttl : z->ttl >= 0 ? z->ttl : z->default_ttl;
	tlsa_set_take(out, &rec);
	return 0;
}

int
tlsa_zone_parse(const char *text, size_t len, const char *name,
    const char *origin, long default_ttl, struct tlsa_set *out,
    struct errbuf *err)
{
	struct lexer lx;
	struct zone z;
	int rc;

	if (name == NULL)
		name = "zone";
	memset(&lx, 0, sizeof(lx));
	lx.p = lx.line_start = text;
	lx.end = text + len;
	lx.line = 1;
	memset(&z, 0, sizeof(z));
	z.origin = origin != NULL ? tlsa_name_normalise(origin) : NULL;
	z.ttl = -1;
	z.default_ttl = default_ttl;
	while ((rc = lex_entry(&lx, 0, err)) > 0)
		if ((rc = zone_entry(&z, &lx, out, err)) < 0) {
			lx.err_line = lx.entry_line;
			break;
		}
	if (rc < 0)
		errbuf_prefix(err, "%s:%u", name, lx.err_line);
	free(lx.tok);
	free(z.origin);
	free(z.owner);
	return rc < 0 ? -1 : 0;
}

int
tlsa_zone_load(const char *path, const char *origin, long default_ttl,
    struct tlsa_set *out, struct errbuf *err)
{
	size_t len;
	char *buf;
	int rc;

	if (fileio_read(path, TLSA_ZONE_MAX, 0, &buf, &len, err) < 0)
		return -1;
	rc = tlsa_zone_parse(buf, len, path, origin, default_ttl, out, err);
	free(buf);
	return rc;
}
