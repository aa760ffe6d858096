/*
 * conf_scan - the pass over a configuration file before libconfuse sees
 * it (see conf.c for why), and the problem list both passes report into.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <confuse.h>

#include "conf_scan.h"
#include "tlsa.h"
#include "xalloc.h"


void
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
 * The escape after a backslash inside a quote, lx->p past the backslash:
 * a continuation line, \\ and \' in '...', the C escapes in "...".
 */
static void
conf_lex_escape(struct conf_lexer *lx, char quote)
{
	unsigned long v;
	int n;
	char c = *lx->p++;

	if (c == '\n') {		/* continuation */
		lx->line++;
		return;
	}
	if (quote == '\'') {
		if (c != '\\' && c != '\'')
			conf_wput(lx, '\\');
		conf_wput(lx, c);
		return;
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

/*
 * A quoted string, lx->p just past the opening quote. libconfuse
 * decodes C escapes in "..." and only \\ and \' in '...'; titles are
 * compared decoded, so this follows it.
 */
static void
conf_lex_quoted(struct conf_load *load, struct conf_lexer *lx, char quote)
{
	int start = lx->line;

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
		if (c != '\\' || *lx->p == '\0')
			conf_wput(lx, c);
		else
			conf_lex_escape(lx, quote);
	}
}

/* Blank a one-line comment, up to its newline. */
static void
conf_blank_line(struct conf_lexer *lx)
{
	while (*lx->p != '\0' && *lx->p != '\n')
		*lx->p++ = ' ';
}

/*
 * At a '/': blank a block comment (its newlines kept) or a "//" one and
 * return 1; 0 when the slash starts a word; -1 (lx->bad) when a block
 * comment is not closed.
 */
static int
conf_lex_comment(struct conf_load *load, struct conf_lexer *lx)
{
	char *open = lx->p;
	int start = lx->line;
	size_t slashes;

	if (lx->p[1] != '*') {
		/* "//" starts a comment unless a longer word does. */
		for (slashes = 0; lx->p[slashes] == '/'; slashes++)
			;
		if (slashes < 2 || conf_wordlen(lx->p) != slashes)
			return 0;
		conf_blank_line(lx);
		return 1;
	}
	while (*lx->p != '\0' && !(lx->p[0] == '*' && lx->p[1] == '/')) {
		if (*lx->p == '\n')
			lx->line++;
		lx->p++;
	}
	if (*lx->p == '\0') {
		conf_problem(load, start, "comment not closed: the /* opened "
		    "here has no matching */");
		lx->bad = 1;
		return -1;
	}
	lx->p += 2;
	for (; open < lx->p; open++)
		if (*open != '\n')
			*open = ' ';
	return 1;
}

/* Next token; comments are blanked in place (see the top of the file). */
static enum conf_tok
conf_lex(struct conf_load *load, struct conf_lexer *lx)
{
	size_t n;
	int rc;

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
			if ((rc = conf_lex_comment(load, lx)) < 0)
				return TOK_EOF;
			if (rc > 0)
				continue;
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

/* Titles are case-insensitive; host names may also end in a dot. */
static int
conf_title_eq(const char *name, const char *a, const char *b)
{
	if (strcmp(name, "host") == 0 || strcmp(name, "domain") == 0)
		return tlsa_name_equal(a, b);
	return strcasecmp(a, b) == 0;
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

/* Where conf_scan's walk over the statements is. */
struct conf_walk {
	enum { S_STMT, S_NAME, S_TITLE, S_VALUE, S_LIST, S_FUNC } state;
	char *name, *title;	/* the statement's NAME [TITLE], owned */
	int nameline;
	long cur;		/* the open section, -1 at top level */
};

/*
 * One token of the walk: 1 when it moved the statement on, 0 when it
 * starts a statement or is out of place (conf_scan then starts over).
 */
static int
conf_walk_token(struct conf_load *load, struct conf_walk *w,
    enum conf_tok tok, const struct conf_lexer *lx)
{
	switch (w->state) {
	case S_STMT:
		if (tok == TOK_WORD) {
			free(w->name);
			w->name = xstrdup(lx->word);
			w->nameline = lx->tokline;
			w->state = S_NAME;
			return 1;
		}
		break;
	case S_NAME:
		if (tok == TOK_EQUAL || tok == TOK_APPEND) {
			if (tok == TOK_EQUAL)
				conf_set_seen(load, w->cur, w->name,
				    w->nameline);
			w->state = S_VALUE;
			return 1;
		}
		if (tok == TOK_LBRACE) {
			conf_sect_open(load, &w->cur, w->name, NULL,
			    w->nameline);
			w->state = S_STMT;
			return 1;
		}
		if (tok == TOK_WORD) {
			free(w->title);
			w->title = xstrdup(lx->word);
			w->state = S_TITLE;
			return 1;
		}
		if (tok == TOK_LPAREN) {
			w->state = S_FUNC;
			return 1;
		}
		break;
	case S_TITLE:
		if (tok == TOK_LBRACE) {
			conf_sect_open(load, &w->cur, w->name, w->title,
			    w->nameline);
			w->state = S_STMT;
			return 1;
		}
		break;
	case S_VALUE:
		if (tok == TOK_LBRACE) {
			w->state = S_LIST;
			return 1;
		}
		if (tok == TOK_WORD) {
			w->state = S_STMT;
			return 1;
		}
		break;
	case S_LIST:
		if (tok == TOK_RBRACE)
			w->state = S_STMT;
		return 1;
	case S_FUNC:
		if (tok == TOK_RPAREN)
			w->state = S_STMT;
		return 1;
	}
	return 0;
}

/* A problem for each section still open at the end, innermost first. */
static void
conf_scan_unclosed(struct conf_load *load, long cur)
{
	for (; cur >= 0; cur = load->sect[cur].parent) {
		struct conf_sect *s = &load->sect[cur];

		if (s->title != NULL)
			conf_problem(load, s->line, "section %s \"%s\" is not "
			    "closed; add a \"}\" where it ends", s->name,
			    s->title);
		else
			conf_problem(load, s->line, "section %s is not closed; "
			    "add a \"}\" where it ends", s->name);
	}
}

/*
 * Walk the statements as libconfuse's parser does, only far enough to
 * see sections: NAME [TITLE] { ... }. Values, lists and function calls
 * are skipped; anything malformed is left for libconfuse to report.
 * Returns -1 after an unclosed comment or string, else 0.
 */
int
conf_scan(struct conf_load *load, char *text)
{
	struct conf_lexer lx;
	struct conf_walk w;
	enum conf_tok tok;

	memset(&lx, 0, sizeof(lx));
	lx.p = text;
	lx.line = 1;
	memset(&w, 0, sizeof(w));
	w.state = S_STMT;
	w.cur = -1;
	while ((tok = conf_lex(load, &lx)) != TOK_EOF) {
		if (conf_walk_token(load, &w, tok, &lx))
			continue;
		/* Statement start, or a token out of place. */
		w.state = S_STMT;
		if (tok == TOK_RBRACE && w.cur >= 0) {
			load->sect[w.cur].end = lx.tokline;
			w.cur = load->sect[w.cur].parent;
		}
	}
	load->nlines = lx.line;
	/* After a lexical error the structure is a guess: say nothing. */
	if (!lx.bad)
		conf_scan_unclosed(load, w.cur);
	free(w.name);
	free(w.title);
	free(lx.word);
	return lx.bad ? -1 : 0;
}

/* Index of the section called name/title under parent, or -1. */
long
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
char *
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
