/*
 * conf - see conf.h.
 *
 * conf_load works in four steps:
 *
 *  1. The file is read whole, so an unreadable file is one clean line.
 *  2. conf_scan makes one pass with a small lexer that mirrors
 *     libconfuse's. It finds where each section starts (libconfuse
 *     forgets this, and "cert \"rsa\": chain is required" should point at
 *     the cert, not at its closing brace), duplicate titles (libconfuse
 *     silently lets the second host "x" replace the first), and sections
 *     left open at the end of the file (libconfuse accepts them). It also
 *     blanks every comment: libconfuse 3.3 counts one line too many at the
 *     end of each comment, which would shift every later line number.
 *  3. libconfuse parses the blanked text. The parse and validation
 *     callbacks record a problem and return 0, so one run reports every
 *     bad value; only syntax errors stop the parse.
 *  4. What libconfuse cannot check per value (a host without a cert, a
 *     cert without a chain, no host at all) is checked on the tree, and
 *     the tree is copied into a struct conf.
 *
 * Problems are collected with their line and sorted, so the caller gets
 * them in file order whichever step found them.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <confuse.h>

#include "conf.h"
#include "xalloc.h"

#define CONF_FILE_MAX		(1024 * 1024)
#define CONF_DEFAULT_SOCKET	"unix:/run/daneguard/daneguard.sock"
#define CONF_DEFAULT_USER	"daneguard"
#define CONF_DEFAULT_STATE_DIR	"/var/lib/daneguard"
#define CONF_DEFAULT_ANCHOR	"/usr/share/dns/root.key"

/* A parse callback stores this for a number it could not read. */
#define CONF_BAD_NUMBER		LONG_MIN

/* A section as conf_scan saw it. */
struct conf_sect {
	char *name;		/* "host", "cert", "dns", or an unknown word */
	char *title;		/* decoded title, or NULL */
	int line;		/* line of the section's name */
	int end;		/* line of its closing brace; 0 while open */
	long parent;		/* index into the table, -1 at top level */
};

/* An option assignment as conf_scan saw it. */
struct conf_set {
	char *name;
	long sect;		/* enclosing section, -1 at top level */
	int line;
};

struct conf_problem {
	int line;		/* 0: the problem has no line */
	size_t seq;		/* keeps problems on one line in order */
	char *text;
};

/* Everything one conf_load needs while libconfuse calls back. */
struct conf_load {
	const char *path;
	int nlines;
	struct conf_sect *sect;
	size_t nsect, asect;
	struct conf_set *set;
	size_t nset, aset;
	struct conf_problem *prob;
	size_t nprob, aprob;
};

/*
 * libconfuse hands its callbacks no user pointer, so they find the
 * current load here. Its lexer is global state too, so conf_load is not
 * reentrant either way.
 */
static struct conf_load *conf_current;

static void conf_problem(struct conf_load *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
conf_problem(struct conf_load *load, int line, const char *fmt, ...)
{
	struct conf_problem *p;
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = xstrdup("out of memory formatting a message");
	va_end(ap);
	if (load->nprob == load->aprob) {
		load->aprob = load->aprob ? 2 * load->aprob : 8;
		load->prob = xreallocarray(load->prob, load->aprob,
		    sizeof(*load->prob));
	}
	p = &load->prob[load->nprob];
	p->line = line;
	p->seq = load->nprob++;
	p->text = text;
}

/* ------------------------------------------------------------ the scan */

enum conf_tok {
	TOK_EOF, TOK_WORD, TOK_LBRACE, TOK_RBRACE, TOK_LPAREN, TOK_RPAREN,
	TOK_EQUAL, TOK_APPEND, TOK_COMMA
};

struct conf_lexer {
	char *p;		/* next character; the text is NUL-terminated */
	int line;
	int tokline;		/* line where the last token started */
	char *word;		/* decoded TOK_WORD, owned */
	size_t wlen, walloc;
	int bad;		/* an unterminated comment or string was seen */
};

static void
conf_wput(struct conf_lexer *lx, char c)
{
	if (lx->wlen + 1 >= lx->walloc) {
		lx->walloc = lx->walloc ? 2 * lx->walloc : 64;
		lx->word = xrealloc(lx->word, lx->walloc);
	}
	lx->word[lx->wlen++] = c;
	lx->word[lx->wlen] = '\0';
}

/* The characters libconfuse's lexer allows in an unquoted word. */
static int
conf_wordchar(char c)
{
	return c != '\0' && strchr(" #\"'\t\n\r={}()+,*", c) == NULL;
}

/* Length of the unquoted word at p, 0 if none. */
static size_t
conf_wordlen(const char *p)
{
	size_t n = 0;

	while (conf_wordchar(p[n]))
		n++;
	return n;
}

/*
 * A quoted string, lx->p just past the opening quote. libconfuse
 * decodes C escapes in "..." and only \\ and \' in '...'; titles are
 * compared decoded, so this follows it.
 */
static void
conf_lex_quoted(struct conf_load *load, struct conf_lexer *lx, char quote)
{
	int start = lx->line;
	unsigned long v;
	int n;

	for (;;) {
		char c = *lx->p;

		if (c == '\0') {
			conf_problem(load, start,
			    "string not closed: the %c opened here has no "
			    "matching %c", quote, quote);
			lx->bad = 1;
			return;
		}
		lx->p++;
		if (c == quote)
			return;
		if (c == '\n') {
			lx->line++;
			conf_wput(lx, c);
			continue;
		}
		if (c != '\\' || *lx->p == '\0') {
			conf_wput(lx, c);
			continue;
		}
		c = *lx->p++;
		if (c == '\n') {		/* continuation */
			lx->line++;
			continue;
		}
		if (quote == '\'') {
			if (c != '\\' && c != '\'')
				conf_wput(lx, '\\');
			conf_wput(lx, c);
			continue;
		}
		switch (c) {
		case 'n': conf_wput(lx, '\n'); break;
		case 'r': conf_wput(lx, '\r'); break;
		case 't': conf_wput(lx, '\t'); break;
		case 'b': conf_wput(lx, '\b'); break;
		case 'f': conf_wput(lx, '\f'); break;
		case 'a': conf_wput(lx, '\a'); break;
		case 'e': conf_wput(lx, '\033'); break;
		case 'v': conf_wput(lx, '\v'); break;
		case 'x':		/* one or two hex digits */
			for (v = 0, n = 0; n < 2 &&
			    isxdigit((unsigned char)*lx->p); n++, lx->p++)
				v = v * 16 + (unsigned long)(isdigit(
				    (unsigned char)*lx->p) ? *lx->p - '0' :
				    tolower((unsigned char)*lx->p) - 'a' + 10);
			if (n == 0)
				conf_wput(lx, 'x');
			else
				conf_wput(lx, (char)v);
			break;
		default:
			if (c >= '0' && c <= '7') {
				v = (unsigned long)(c - '0');
				if (*lx->p >= '0' && *lx->p <= '7')
					v = v * 8 + (unsigned long)(*lx->p++ - '0');
				if (*lx->p >= '0' && *lx->p <= '7')
					v = v * 8 + (unsigned long)(*lx->p++ - '0');
				conf_wput(lx, (char)v);
			} else
				conf_wput(lx, c);
			break;
		}
	}
}

/* Blank a one-line comment, up to its newline. */
static void
conf_blank_line(struct conf_lexer *lx)
{
	while (*lx->p != '\0' && *lx->p != '\n')
		*lx->p++ = ' ';
}

/* Next token; comments are blanked in place (see the top of the file). */
static enum conf_tok
conf_lex(struct conf_load *load, struct conf_lexer *lx)
{
	size_t n, slashes;

	lx->wlen = 0;
	if (lx->word != NULL)
		lx->word[0] = '\0';
	for (;;) {
		char c = *lx->p;

		lx->tokline = lx->line;
		switch (c) {
		case '\0':
			return TOK_EOF;
		case '\n':
			lx->line++;
			lx->p++;
			continue;
		case '#':
			conf_blank_line(lx);
			continue;
		case '{': lx->p++; return TOK_LBRACE;
		case '}': lx->p++; return TOK_RBRACE;
		case '(': lx->p++; return TOK_LPAREN;
		case ')': lx->p++; return TOK_RPAREN;
		case '=': lx->p++; return TOK_EQUAL;
		case ',': lx->p++; return TOK_COMMA;
		case '+':
			lx->p++;
			if (*lx->p == '=') {
				lx->p++;
				return TOK_APPEND;
			}
			continue;		/* libconfuse drops a lone + */
		case '"':
		case '\'':
			lx->p++;
			conf_lex_quoted(load, lx, c);
			return TOK_WORD;
		case '/':
			if (lx->p[1] == '*') {
				char *open = lx->p;
				int start = lx->line;

				while (*lx->p != '\0' &&
				    !(lx->p[0] == '*' && lx->p[1] == '/')) {
					if (*lx->p == '\n')
						lx->line++;
					lx->p++;
				}
				if (*lx->p == '\0') {
					conf_problem(load, start,
					    "comment not closed: the /* opened "
					    "here has no matching */");
					lx->bad = 1;
					return TOK_EOF;
				}
				lx->p += 2;
				for (; open < lx->p; open++)
					if (*open != '\n')
						*open = ' ';
				continue;
			}
			/* "//" starts a comment unless a longer word does. */
			for (slashes = 0; lx->p[slashes] == '/'; slashes++)
				;
			if (slashes >= 2 && conf_wordlen(lx->p) == slashes) {
				conf_blank_line(lx);
				continue;
			}
			break;
		case '$':
			if (lx->p[1] == '{' && strchr(lx->p, '}') != NULL) {
				/* ${VAR}: libconfuse substitutes it. */
				while (*lx->p != '}')
					conf_wput(lx, *lx->p++);
				conf_wput(lx, *lx->p++);
				return TOK_WORD;
			}
			break;
		default:
			break;
		}
		n = conf_wordlen(lx->p);
		if (n == 0) {
			lx->p++;		/* white space, or dropped */
			continue;
		}
		while (n-- > 0)
			conf_wput(lx, *lx->p++);
		return TOK_WORD;
	}
}

/* "host \"mx1\": cert \"rsa\": " for scanned section i, "" for -1. */
static char *
conf_sect_path(const struct conf_load *load, long i)
{
	char *path = xstrdup(""), *next;

	for (; i >= 0; i = load->sect[i].parent) {
		const struct conf_sect *s = &load->sect[i];

		if (s->title != NULL)
			next = xasprintf("%s \"%s\": %s", s->name, s->title,
			    path);
		else
			next = xasprintf("%s: %s", s->name, path);
		free(path);
		path = next;
	}
	return path;
}

/* Host names are case-insensitive and may end in a dot. */
static int
conf_title_eq(const char *name, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (strcmp(name, "host") == 0) {
		if (la > 1 && a[la - 1] == '.')
			la--;
		if (lb > 1 && b[lb - 1] == '.')
			lb--;
	}
	return la == lb && strncasecmp(a, b, la) == 0;
}

static void
conf_sect_open(struct conf_load *load, long *cur, const char *name,
    const char *title, int line)
{
	struct conf_sect *s;
	size_t i;

	if (title != NULL) {
		for (i = 0; i < load->nsect; i++) {
			s = &load->sect[i];
			if (s->parent == *cur && s->title != NULL &&
			    strcmp(s->name, name) == 0 &&
			    conf_title_eq(name, s->title, title)) {
				char *ctx = conf_sect_path(load, *cur);

				conf_problem(load, line, "%s%s \"%s\" is "
				    "defined twice (first at line %d); give "
				    "each %s a different name", ctx, name,
				    title, s->line, name);
				free(ctx);
				break;
			}
		}
	}
	if (load->nsect == load->asect) {
		load->asect = load->asect ? 2 * load->asect : 16;
		load->sect = xreallocarray(load->sect, load->asect,
		    sizeof(*load->sect));
	}
	s = &load->sect[load->nsect];
	s->name = xstrdup(name);
	s->title = title ? xstrdup(title) : NULL;
	s->line = line;
	s->end = 0;
	s->parent = *cur;
	*cur = (long)load->nsect++;
}

/*
 * libconfuse lets a second "port = ..." silently replace the first; in a
 * file describing certificates that is more likely a mistake.
 */
static void
conf_set_seen(struct conf_load *load, long cur, const char *name, int line)
{
	struct conf_set *v;
	size_t i;

	for (i = 0; i < load->nset; i++) {
		v = &load->set[i];
		if (v->sect == cur && strcmp(v->name, name) == 0) {
			char *ctx = conf_sect_path(load, cur);

			conf_problem(load, line, "%s%s is set twice (first at "
			    "line %d); keep one", ctx, name, v->line);
			free(ctx);
			return;
		}
	}
	if (load->nset == load->aset) {
		load->aset = load->aset ? 2 * load->aset : 16;
		load->set = xreallocarray(load->set, load->aset,
		    sizeof(*load->set));
	}
	v = &load->set[load->nset++];
	v->name = xstrdup(name);
	v->sect = cur;
	v->line = line;
}

/*
 * Walk the statements as libconfuse's parser does, only far enough to
 * see sections: NAME [TITLE] { ... }. Values, lists and function calls
 * are skipped; anything malformed is left for libconfuse to report.
 * Returns -1 after an unclosed comment or string, else 0.
 */
static int
conf_scan(struct conf_load *load, char *text)
{
	enum { S_STMT, S_NAME, S_TITLE, S_VALUE, S_LIST, S_FUNC } state = S_STMT;
	struct conf_lexer lx;
	enum conf_tok tok;
	char *name = NULL, *title = NULL;
	int nameline = 0;
	long cur = -1;

	memset(&lx, 0, sizeof(lx));
	lx.p = text;
	lx.line = 1;
	while ((tok = conf_lex(load, &lx)) != TOK_EOF) {
		switch (state) {
		case S_STMT:
			if (tok == TOK_WORD) {
				free(name);
				name = xstrdup(lx.word);
				nameline = lx.tokline;
				state = S_NAME;
				continue;
			}
			break;
		case S_NAME:
			if (tok == TOK_EQUAL || tok == TOK_APPEND) {
				if (tok == TOK_EQUAL)
					conf_set_seen(load, cur, name, nameline);
				state = S_VALUE;
				continue;
			}
			if (tok == TOK_LBRACE) {
				conf_sect_open(load, &cur, name, NULL, nameline);
				state = S_STMT;
				continue;
			}
			if (tok == TOK_WORD) {
				free(title);
				title = xstrdup(lx.word);
				state = S_TITLE;
				continue;
			}
			if (tok == TOK_LPAREN) {
				state = S_FUNC;
				continue;
			}
			break;
		case S_TITLE:
			if (tok == TOK_LBRACE) {
				conf_sect_open(load, &cur, name, title, nameline);
				state = S_STMT;
				continue;
			}
			break;
		case S_VALUE:
			if (tok == TOK_LBRACE) {
				state = S_LIST;
				continue;
			}
			if (tok == TOK_WORD) {
				state = S_STMT;
				continue;
			}
			break;
		case S_LIST:
			if (tok == TOK_RBRACE)
				state = S_STMT;
			continue;
		case S_FUNC:
			if (tok == TOK_RPAREN)
				state = S_STMT;
			continue;
		}
		/* Statement start, or a token out of place. */
		state = S_STMT;
		if (tok == TOK_RBRACE && cur >= 0) {
			load->sect[cur].end = lx.tokline;
			cur = load->sect[cur].parent;
		}
	}
	load->nlines = lx.line;
	/* After a lexical error the structure is a guess: say nothing. */
	for (; cur >= 0 && !lx.bad; cur = load->sect[cur].parent) {
		struct conf_sect *s = &load->sect[cur];

		if (s->title != NULL)
			conf_problem(load, s->line, "section %s \"%s\" is not "
			    "closed; add a \"}\" where it ends", s->name,
			    s->title);
		else
			conf_problem(load, s->line, "section %s is not closed; "
			    "add a \"}\" where it ends", s->name);
	}
	free(name);
	free(title);
	free(lx.word);
	return lx.bad ? -1 : 0;
}

/* Index of the section called name/title under parent, or -1. */
static long
conf_sect_find(const struct conf_load *load, long parent, const char *name,
    const char *title)
{
	size_t i;

	for (i = 0; i < load->nsect; i++) {
		const struct conf_sect *s = &load->sect[i];

		if (s->parent == parent && strcmp(s->name, name) == 0 &&
		    s->title != NULL && title != NULL &&
		    strcmp(s->title, title) == 0)
			return (long)i;
	}
	return -1;
}

/*
 * Where a libconfuse section cfg sits, for messages: the innermost
 * scanned section of its name and title around line.
 */
static long
conf_sect_at(const struct conf_load *load, cfg_t *cfg, int line)
{
	long best = -1;
	size_t i;

	for (i = 0; i < load->nsect; i++) {
		const struct conf_sect *s = &load->sect[i];

		if (strcmp(s->name, cfg->name) != 0 || s->line > line ||
		    (s->end != 0 && s->end < line))
			continue;
		if (cfg->title != NULL &&
		    (s->title == NULL || strcmp(s->title, cfg->title) != 0))
			continue;
		best = (long)i;
	}
	return best;
}

/* "host \"mx1\": cert \"rsa\": " for the section cfg, "" at top level. */
static char *
conf_context(const struct conf_load *load, cfg_t *cfg)
{
	long i;

	if (cfg == NULL || cfg->name == NULL || strcmp(cfg->name, "root") == 0)
		return xstrdup("");
	if ((i = conf_sect_at(load, cfg, cfg->line)) >= 0)
		return conf_sect_path(load, i);
	if (cfg->title != NULL)
		return xasprintf("%s \"%s\": ", cfg->name, cfg->title);
	return xasprintf("%s: ", cfg->name);
}

/* ------------------------------------------------ libconfuse callbacks */

static void conf_report(cfg_t *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* A problem at cfg's current line, with the section path in front. */
static void
conf_report(cfg_t *cfg, const char *fmt, ...)
{
	struct conf_load *load = conf_current;
	char msg[512], *ctx;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctx = conf_context(load, cfg);
	conf_problem(load, cfg->line, "%s%s", ctx, msg);
	free(ctx);
}

/* libconfuse's own messages (syntax, unknown options) end up here. */
static void
conf_errfunc(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (conf_current == NULL)
		return;
	conf_report(cfg, "%s", msg);
}

/* Numbers are decimal: libconfuse's strtol(..., 0) reads 025 as 21. */
static int
conf_parse_number(cfg_t *cfg, cfg_opt_t *opt, const char *value,
    void *result)
{
	const char *p = value;
	char *end;
	long v;

	if (*p == '-' || *p == '+')
		p++;
	if (!isdigit((unsigned char)*p) || strspn(p, "0123456789") != strlen(p)) {
		conf_report(cfg, "%s \"%s\" is not a decimal number",
		    opt->name, value);
		*(long *)result = CONF_BAD_NUMBER;
		return 0;
	}
	errno = 0;
	v = strtol(value, &end, 10);
	if (errno == ERANGE) {
		conf_report(cfg, "%s %s is out of range", opt->name, value);
		v = CONF_BAD_NUMBER;
	}
	*(long *)result = v;
	return 0;
}

static const struct conf_range {
	const char *name;
	long min;
	long max;
	const char *unit;
} conf_ranges[] = {
	{ "port", 1, 65535, "" },
	{ "ttl", 0, 2147483647L, " seconds" },
	{ "issuer_depth", 1, 16, "" },
	{ "probe_interval", 10, 86400, " seconds" },
	{ "probe_timeout", 1, 300, " seconds" },
};

static int
conf_check_range(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, 0);
	size_t i;

	if (v == CONF_BAD_NUMBER)
		return 0;		/* already reported */
	for (i = 0; i < sizeof(conf_ranges) / sizeof(conf_ranges[0]); i++) {
		const struct conf_range *r = &conf_ranges[i];

		if (strcmp(r->name, opt->name) != 0)
			continue;
		if (v < r->min || v > r->max)
			conf_report(cfg, "%s %ld is out of range (%ld-%ld%s)",
			    opt->name, v, r->min, r->max, r->unit);
	}
	return 0;
}

static int
conf_check_nonempty(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (v == NULL || *v == '\0')
		conf_report(cfg, "%s is empty; give a value or leave the "
		    "option out", opt->name);
	return 0;
}

static int
conf_check_rollover(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	enum conf_rollover r;

	if (conf_rollover_parse(v ? v : "", &r) < 0)
		conf_report(cfg, "rollover \"%s\" is not known; use "
		    "\"current+next\" or \"current+issuer\"", v ? v : "");
	return 0;
}

/* A port number, 1-65535, all digits. */
static int
conf_port_ok(const char *p, size_t len)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return 0;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)p[i]))
			return 0;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/*
 * The milter socket, as libmilter's smfi_setconn() takes it:
 * {unix|local}:/path, inet:PORT[@HOST], inet6:PORT[@HOST], or /path.
 */
static int
conf_socket_ok(const char *v)
{
	const char *port, *at;

	if (v[0] == '/')
		return 1;
	if (strncmp(v, "unix:", 5) == 0)
		return v[5] == '/';
	if (strncmp(v, "local:", 6) == 0)
		return v[6] == '/';
	if (strncmp(v, "inet:", 5) == 0)
		port = v + 5;
	else if (strncmp(v, "inet6:", 6) == 0)
		port = v + 6;
	else
		return 0;
	if ((at = strchr(port, '@')) == NULL)
		return conf_port_ok(port, strlen(port));
	return conf_port_ok(port, (size_t)(at - port)) && at[1] != '\0' &&
	    strpbrk(at + 1, " \t") == NULL;
}

static int
conf_check_socket(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (v == NULL || !conf_socket_ok(v))
		conf_report(cfg, "socket \"%s\" is not a milter socket "
		    "(unix:/PATH, inet:PORT@HOST or inet6:PORT@HOST)",
		    v ? v : "");
	return 0;
}

/* records = { "3 1 1", ... }: called for each element as it is read. */
static int
conf_parse_record(cfg_t *cfg, cfg_opt_t *opt, const char *value,
    void *result)
{
	struct tlsa_type type;
	struct errbuf err;

	(void)opt;
	err.msg[0] = '\0';
	if (tlsa_type_parse(value, &type, &err) < 0) {
		/* tlsa's message may quote the value already */
		if (err.msg[0] == '"' && strncmp(err.msg + 1, value,
		    strlen(value)) == 0)
			conf_report(cfg, "records %s", err.msg);
		else
			conf_report(cfg, "records \"%s\": %s", value,
			    err.msg[0] ? err.msg : "not a record type such "
			    "as \"3 1 1\"");
	}
	*(const char **)result = value;
	return 0;
}

/* probe = { "192.0.2.10", "2001:db8::10" } */
static int
conf_parse_probe(cfg_t *cfg, cfg_opt_t *opt, const char *value,
    void *result)
{
	unsigned char addr[sizeof(struct in6_addr)];

	(void)opt;
	if (inet_pton(AF_INET, value, addr) != 1 &&
	    inet_pton(AF_INET6, value, addr) != 1)
		conf_report(cfg, "probe \"%s\" is not an IPv4 or IPv6 "
		    "address", value);
	*(const char **)result = value;
	return 0;
}

/* ------------------------------------------------------------- schema */

static cfg_opt_t conf_cert_opts[] = {
	CFG_STR("chain", NULL, CFGF_NODEFAULT),
	CFG_STR("key", NULL, CFGF_NODEFAULT),
	CFG_STR("next_key", NULL, CFGF_NODEFAULT),
	CFG_STR("passphrase_file", NULL, CFGF_NODEFAULT),
	CFG_END()
};

static cfg_opt_t conf_host_opts[] = {
	CFG_INT_CB("port", 25, CFGF_NONE, conf_parse_number),
	CFG_INT_CB("ttl", 3600, CFGF_NONE, conf_parse_number),
	CFG_STR("rollover", "current+next", CFGF_NONE),
	CFG_INT_CB("issuer_depth", 1, CFGF_NONE, conf_parse_number),
	CFG_STR_LIST_CB("records", "{\"3 1 1\"}", CFGF_NONE, conf_parse_record),
	CFG_STR_LIST_CB("probe", NULL, CFGF_NODEFAULT, conf_parse_probe),
	CFG_SEC("cert", conf_cert_opts, CFGF_MULTI | CFGF_TITLE),
	CFG_END()
};

static cfg_opt_t conf_dns_opts[] = {
	CFG_STR("trust_anchor_file", CONF_DEFAULT_ANCHOR, CFGF_NONE),
	CFG_STR("resolver", NULL, CFGF_NODEFAULT),
	CFG_STR("resolver_config", NULL, CFGF_NODEFAULT),
	CFG_END()
};

static cfg_opt_t conf_opts[] = {
	CFG_STR("socket", CONF_DEFAULT_SOCKET, CFGF_NONE),
	CFG_STR("user", CONF_DEFAULT_USER, CFGF_NONE),
	CFG_STR("pidfile", NULL, CFGF_NODEFAULT),
	CFG_STR("state_dir", CONF_DEFAULT_STATE_DIR, CFGF_NONE),
	CFG_INT_CB("probe_interval", 300, CFGF_NONE, conf_parse_number),
	CFG_INT_CB("probe_timeout", 10, CFGF_NONE, conf_parse_number),
	CFG_BOOL("xclient", cfg_false, CFGF_NONE),
	CFG_STR("tlsa_file", NULL, CFGF_NODEFAULT),
	CFG_SEC("dns", conf_dns_opts, CFGF_NONE),
	CFG_SEC("host", conf_host_opts, CFGF_MULTI | CFGF_TITLE),
	CFG_END()
};

static void
conf_set_validators(cfg_t *cfg)
{
	static const char *const ranges[] = {
		"probe_interval", "probe_timeout", "host|port", "host|ttl",
		"host|issuer_depth"
	};
	static const char *const paths[] = {
		"user", "pidfile", "state_dir", "tlsa_file",
		"dns|trust_anchor_file", "dns|resolver", "dns|resolver_config",
		"host|cert|chain", "host|cert|key", "host|cert|next_key",
		"host|cert|passphrase_file"
	};
	size_t i;

	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		cfg_set_validate_func(cfg, ranges[i], conf_check_range);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		cfg_set_validate_func(cfg, paths[i], conf_check_nonempty);
	cfg_set_validate_func(cfg, "socket", conf_check_socket);
	cfg_set_validate_func(cfg, "host|rollover", conf_check_rollover);
}

/* ------------------------------------------------------ tree -> struct */

/* An MX host name: dot-separated labels of letters, digits and hyphens. */
static int
conf_hostname_ok(const char *name)
{
	const char *p = name, *label;
	size_t len = strlen(name);

	if (len == 0 || len > 254 || (len == 254 && name[253] != '.'))
		return 0;
	while (*p != '\0') {
		label = p;
		while (isalnum((unsigned char)*p) || *p == '-')
			p++;
		if (p == label || p - label > 63 || *label == '-' ||
		    p[-1] == '-')
			return 0;
		if (*p == '\0')
			break;
		if (*p != '.')
			return 0;
		p++;			/* a trailing dot is fine */
	}
	return 1;
}

static char *
conf_strdup_opt(cfg_t *cfg, const char *name)
{
	const char *v = cfg_getstr(cfg, name);

	return v ? xstrdup(v) : NULL;
}

/* Checks on the whole tree, then the copy; problems go to load. */
static void
conf_copy_cert(struct conf_load *load, cfg_t *sec, const char *host,
    long hostidx, struct conf_cert *cert)
{
	long idx = conf_sect_find(load, hostidx, "cert", cfg_title(sec));
	int line = idx >= 0 ? load->sect[idx].line : 0;

	cert->name = xstrdup(cfg_title(sec));
	cert->chain = conf_strdup_opt(sec, "chain");
	cert->key = conf_strdup_opt(sec, "key");
	cert->next_key = conf_strdup_opt(sec, "next_key");
	cert->passphrase_file = conf_strdup_opt(sec, "passphrase_file");
	if (cert->chain == NULL)
		conf_problem(load, line, "host \"%s\": cert \"%s\": chain is "
		    "required (the chain file the MTA serves, leaf first)",
		    host, cert->name);
}

static void
conf_copy_host(struct conf_load *load, cfg_t *sec, struct conf_host *host)
{
	long idx = conf_sect_find(load, -1, "host", cfg_title(sec));
	int line = idx >= 0 ? load->sect[idx].line : 0;
	struct errbuf err;
	const char *v;
	size_t i, n;

	host->name = xstrdup(cfg_title(sec));
	if (!conf_hostname_ok(host->name))
		conf_problem(load, line, "host \"%s\": not a host name "
		    "(letters, digits, hyphens, dots)", host->name);
	host->port = (unsigned)cfg_getint(sec, "port");
	host->ttl = cfg_getint(sec, "ttl");
	host->issuer_depth = (int)cfg_getint(sec, "issuer_depth");
	v = cfg_getstr(sec, "rollover");
	if (conf_rollover_parse(v ? v : "", &host->rollover) < 0)
		host->rollover = CONF_ROLLOVER_CURRENT_NEXT;	/* reported */

	n = cfg_size(sec, "records");
	if (n == 0)
		conf_problem(load, line, "host \"%s\": records is empty; "
		    "list at least one type, e.g. records = { \"3 1 1\" }",
		    host->name);
	host->records = xcalloc(n, sizeof(*host->records));
	for (i = 0; i < n; i++)
		if (tlsa_type_parse(cfg_getnstr(sec, "records", i),
		    &host->records[host->nrecords], &err) == 0)
			host->nrecords++;	/* a bad one is reported */

	n = cfg_size(sec, "probe");
	if (n > 0) {
		host->probe = xcalloc(n, sizeof(*host->probe));
		for (i = 0; i < n; i++)
			host->probe[i] = xstrdup(cfg_getnstr(sec, "probe", i));
		host->nprobe = n;
	}

	n = cfg_size(sec, "cert");
	if (n == 0)
		conf_problem(load, line, "host \"%s\": no cert section; add "
		    "cert \"NAME\" { chain = \"/PATH\" } per algorithm",
		    host->name);
	host->certs = xcalloc(n, sizeof(*host->certs));
	for (i = 0; i < n; i++)
		conf_copy_cert(load, cfg_getnsec(sec, "cert", (unsigned)i),
		    host->name, idx, &host->certs[i]);
	host->ncerts = n;
}

static struct conf *
conf_copy(struct conf_load *load, cfg_t *cfg)
{
	struct conf *conf = xcalloc(1, sizeof(*conf));
	cfg_t *dns = cfg_getsec(cfg, "dns");
	size_t i, n;

	conf->path = xstrdup(load->path);
	conf->socket = conf_strdup_opt(cfg, "socket");
	conf->user = conf_strdup_opt(cfg, "user");
	conf->pidfile = conf_strdup_opt(cfg, "pidfile");
	conf->state_dir = conf_strdup_opt(cfg, "state_dir");
	conf->probe_interval = cfg_getint(cfg, "probe_interval");
	conf->probe_timeout = cfg_getint(cfg, "probe_timeout");
	conf->xclient = cfg_getbool(cfg, "xclient") ? 1 : 0;
	conf->tlsa_file = conf_strdup_opt(cfg, "tlsa_file");
	if (dns != NULL) {
		conf->dns.trust_anchor_file =
		    conf_strdup_opt(dns, "trust_anchor_file");
		conf->dns.resolver = conf_strdup_opt(dns, "resolver");
		conf->dns.resolver_config =
		    conf_strdup_opt(dns, "resolver_config");
	} else
		conf->dns.trust_anchor_file = xstrdup(CONF_DEFAULT_ANCHOR);

	n = cfg_size(cfg, "host");
	if (n == 0)
		conf_problem(load, load->nlines, "no host section; describe "
		    "each MX host this machine serves with host \"NAME\" "
		    "{ cert \"NAME\" { chain = \"/PATH\" } }");
	conf->hosts = xcalloc(n, sizeof(*conf->hosts));
	for (i = 0; i < n; i++)
		conf_copy_host(load, cfg_getnsec(cfg, "host", (unsigned)i),
		    &conf->hosts[i]);
	conf->nhosts = n;
	return conf;
}

/* ------------------------------------------------------------ reporting */

static int
conf_problem_cmp(const void *a, const void *b)
{
	const struct conf_problem *pa = a, *pb = b;

	if (pa->line != pb->line)
		return pa->line < pb->line ? -1 : 1;
	return pa->seq < pb->seq ? -1 : pa->seq > pb->seq;
}

/*
 * Every problem on its own line, in file order. An errbuf holds 1 KiB;
 * when they do not all fit, the last line says how many were left out.
 */
static void
conf_report_all(struct conf_load *load, struct errbuf *err)
{
	char line[ERRBUF_SIZE], tail[80];
	size_t i, used = 0, len;

	if (err == NULL)
		return;
	qsort(load->prob, load->nprob, sizeof(*load->prob), conf_problem_cmp);
	err->msg[0] = '\0';
	for (i = 0; i < load->nprob; i++) {
		const struct conf_problem *p = &load->prob[i];

		if (p->line > 0)
			snprintf(line, sizeof(line), "%s:%d: %s", load->path,
			    p->line, p->text);
		else
			snprintf(line, sizeof(line), "%s: %s", load->path,
			    p->text);
		len = strlen(line) + (used ? 1 : 0);
		/* Keep room for the "more problems" line unless this is the last. */
		if (used + len + (i + 1 < load->nprob ? sizeof(tail) : 0) >=
		    sizeof(err->msg))
			break;
		snprintf(err->msg + used, sizeof(err->msg) - used, "%s%s",
		    used ? "\n" : "", line);
		used += len;
	}
	if (i < load->nprob) {
		snprintf(tail, sizeof(tail), "%zu more problem%s not shown",
		    load->nprob - i, load->nprob - i == 1 ? "" : "s");
		snprintf(err->msg + used, sizeof(err->msg) - used,
		    "%s%s: %s", used ? "\n" : "", load->path, tail);
	}
}

/* ------------------------------------------------------------- public */

/* The whole file, NUL-terminated; NULL with err set. */
static char *
conf_read(const char *path, size_t *lenp, struct errbuf *err)
{
	FILE *fp;
	char *buf;
	size_t len;

	if ((fp = fopen(path, "r")) == NULL) {
		errbuf_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(CONF_FILE_MAX + 1);
	len = fread(buf, 1, CONF_FILE_MAX + 1, fp);
	if (ferror(fp)) {
		errbuf_set(err, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (len > CONF_FILE_MAX) {
		errbuf_set(err, "%s: larger than %d bytes; is this the "
		    "configuration file?", path, CONF_FILE_MAX);
		goto fail;
	}
	fclose(fp);
	buf[len] = '\0';
	*lenp = len;
	return buf;
fail:
	fclose(fp);
	free(buf);
	return NULL;
}

int
conf_load(const char *path, struct conf **out, struct errbuf *err)
{
	struct conf_load load;
	struct conf *conf = NULL;
	cfg_t *cfg;
	char *text, *nul;
	size_t len, i;
	int rc;

	*out = NULL;
	if ((text = conf_read(path, &len, err)) == NULL)
		return -1;
	memset(&load, 0, sizeof(load));
	load.path = path;
	if ((nul = memchr(text, '\0', len)) != NULL) {
		int line = 1;
		char *p;

		for (p = text; p < nul; p++)
			line += *p == '\n';
		errbuf_set(err, "%s:%d: NUL byte; is this the configuration "
		    "file?", path, line);
		free(text);
		return -1;
	}

	/* After an unclosed comment or string the rest is one token. */
	if (conf_scan(&load, text) < 0) {
		conf_report_all(&load, err);
		rc = -1;
		goto done;
	}
	conf_current = &load;
	cfg = cfg_init(conf_opts, CFGF_NONE);
	if (cfg == NULL) {
		conf_current = NULL;
		errbuf_set(err, "%s: cannot set up the parser: %s", path,
		    strerror(errno));
		rc = -1;
		goto done;
	}
	cfg_set_error_function(cfg, conf_errfunc);
	conf_set_validators(cfg);
	rc = cfg_parse_buf(cfg, text);
	if (rc == CFG_SUCCESS)
		conf = conf_copy(&load, cfg);
	else if (load.nprob == 0)
		conf_problem(&load, 0, "syntax error");	/* libconfuse was silent */
	cfg_free(cfg);
	conf_current = NULL;

	if (load.nprob > 0) {
		conf_report_all(&load, err);
		conf_free(conf);
		rc = -1;
	} else {
		*out = conf;
		rc = 0;
	}
done:
	for (i = 0; i < load.nprob; i++)
		free(load.prob[i].text);
	free(load.prob);
	for (i = 0; i < load.nsect; i++) {
		free(load.sect[i].name);
		free(load.sect[i].title);
	}
	free(load.sect);
	for (i = 0; i < load.nset; i++)
		free(load.set[i].name);
	free(load.set);
	free(text);
	return rc;
}

void
conf_free(struct conf *conf)
{
	size_t i, j;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->nhosts; i++) {
		struct conf_host *h = &conf->hosts[i];

		for (j = 0; j < h->ncerts; j++) {
			free(h->certs[j].name);
			free(h->certs[j].chain);
			free(h->certs[j].key);
			free(h->certs[j].next_key);
			free(h->certs[j].passphrase_file);
		}
		free(h->certs);
		for (j = 0; j < h->nprobe; j++)
			free(h->probe[j]);
		free(h->probe);
		free(h->records);
		free(h->name);
	}
	free(conf->hosts);
	free(conf->dns.trust_anchor_file);
	free(conf->dns.resolver);
	free(conf->dns.resolver_config);
	free(conf->path);
	free(conf->socket);
	free(conf->user);
	free(conf->pidfile);
	free(conf->state_dir);
	free(conf->tlsa_file);
	free(conf);
}

int
conf_rollover_parse(const char *name, enum conf_rollover *out)
{
	if (strcmp(name, "current+next") == 0)
		*out = CONF_ROLLOVER_CURRENT_NEXT;
	else if (strcmp(name, "current+issuer") == 0)
		*out = CONF_ROLLOVER_CURRENT_ISSUER;
	else
		return -1;
	return 0;
}

const char *
conf_rollover_name(enum conf_rollover rollover)
{
	switch (rollover) {
	case CONF_ROLLOVER_CURRENT_NEXT:
		return "current+next";
	case CONF_ROLLOVER_CURRENT_ISSUER:
		return "current+issuer";
	}
	return "unknown";
}
