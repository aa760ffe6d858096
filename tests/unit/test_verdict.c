/*
 * test_verdict - lib/verdict.c (G3, G4, G5) and lib/cover.c over the
 * vectors of tests/data/verdict.in, in the style of OpenSSL's
 * test/danetest.in: each vector is the files on disk, a captured chain,
 * a published TLSA set and the verdicts a DANE sender's view implies.
 * Records are computed from the certificates of gen-certs.sh at test
 * time (they are signed afresh on every run), or given in hex.
 *
 * Usage: test_verdict [VECTORS] (default $top_srcdir/tests/data/verdict.in),
 * with CERTDIR set. Prints one line per expectation; exit 1 on any
 * failure, 77 (skip) without CERTDIR.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certkey.h"
#include "conf.h"
#include "cover.h"
#include "dns.h"
#include "expect.h"
#include "tlsa.h"
#include "verdict.h"
#include "xalloc.h"

#define MAXTOK	16

static const char *certdir;
static int failures, checks;

struct vector {
	char name[128];
	int line;
	struct conf_host host;
	struct tlsa_set pub;
	struct certkey_chain *served;
	char served_alg[32];
	struct expect *e;
	char experr[ERRBUF_SIZE];
	int computed;
	time_t now;
	/* What to probe: the host's CNAME expansion, where tlsa lines put
	 * their records, the server's SNI map, the probe list and the A and
	 * AAAA answers. */
	char cname[256];
	int cname_failed;
	char at[256];
	struct {
		char name[256];
		struct certkey_chain *chain;
	} sni[4];
	size_t nsni;
	char *probe[8], *local[8];
	size_t nprobe;
	struct dns_answer a4, a6;
	int has_a4, has_a6;		/* looked up (published lines) */
	int tlsa_file;
};

static char *
path_of(const char *name)
{
	return xasprintf("%s/%s", certdir, name);
}

/* Split line into tokens; a "quoted string" is one token. */
static int
tokens(char *line, char **tok)
{
	int n = 0;
	char *p = line;

	while (*p != '\0' && n < MAXTOK) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '#')
			break;
		if (*p == '"') {
			tok[n++] = ++p;
			while (*p != '\0' && *p != '"')
				p++;
		} else {
			tok[n++] = p;
			while (*p != '\0' && !isspace((unsigned char)*p))
				p++;
		}
		if (*p != '\0')
			*p++ = '\0';
	}
	return n;
}

/* Files joined by '+' (e.g. "rsa.pem+int.pem") as one chain. */
static struct certkey_chain *
load_chain(const char *spec, struct vector *v)
{
	struct certkey_chain *chain = NULL;
	struct errbuf err;
	char *copy = xstrdup(spec), *f, *save = NULL, *path;
	unsigned char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	long n;

	for (f = strtok_r(copy, "+", &save); f != NULL;
	    f = strtok_r(NULL, "+", &save)) {
		path = path_of(f);
		if ((fp = fopen(path, "rb")) == NULL) {
			fprintf(stderr, "verdict.in:%d: cannot read %s\n",
			    v->line, path);
			exit(2);
		}
		fseek(fp, 0, SEEK_END);
		n = ftell(fp);
		rewind(fp);
		buf = xrealloc(buf, len + (size_t)n + 1);
		if (fread(buf + len, 1, (size_t)n, fp) != (size_t)n)
			exit(2);
		len += (size_t)n;
		fclose(fp);
		free(path);
	}
	free(copy);
	if (certkey_chain_parse(buf, len, spec, 0, &chain, &err) < 0) {
		fprintf(stderr, "verdict.in:%d: %s\n", v->line, err.msg);
		exit(2);
	}
	free(buf);
	return chain;
}

/* tlsa U S M cert FILE [DEPTH] | key FILE | hex HEX */
static void
add_record(struct vector *v, char **tok, int n)
{
	struct tlsa_record rec = { NULL, -1, { 0, 0, 0 }, 0, NULL };
	struct tlsa_type t;
	struct errbuf err;
	char *text;
	int ok = -1;

	if (n < 6) {
		fprintf(stderr, "verdict.in:%d: tlsa U S M cert|key|hex X\n",
		    v->line);
		exit(2);
	}
	t.usage = (uint8_t)atoi(tok[1]);
	t.selector = (uint8_t)atoi(tok[2]);
	t.mtype = (uint8_t)atoi(tok[3]);
	if (strcmp(tok[4], "cert") == 0) {
		struct certkey_chain *c = load_chain(tok[5], v);
		int depth = n > 6 ? atoi(tok[6]) : 0;

		ok = tlsa_record_from_cert(&rec, t,
		    sk_X509_value(c->certs, depth), &err);
		certkey_chain_free(c);
	} else if (strcmp(tok[4], "key") == 0) {
		struct certkey_key *k;
		char *path = path_of(tok[5]);

		if (certkey_key_load(path, NULL, &k, &err) == 0) {
			ok = tlsa_record_from_pubkey(&rec, t, k->pkey, &err);
			certkey_key_free(k);
		}
		free(path);
	} else if (strcmp(tok[4], "hex") == 0) {
		/* Raw: any numbers and any length, as DNS may carry. */
		text = xasprintf("%s %s %s %s", tok[1], tok[2], tok[3],
		    tok[5]);
		rec.type = t;
		rec.len = strlen(tok[5]) / 2;
		rec.data = xmalloc(rec.len ? rec.len : 1);
		for (size_t i = 0; i < rec.len; i++)
			sscanf(tok[5] + 2 * i, "%2hhx", &rec.data[i]);
		free(text);
		ok = 0;
	}
	if (ok < 0) {
		fprintf(stderr, "verdict.in:%d: %s\n", v->line, err.msg);
		exit(2);
	}
	if (v->at[0] != '\0') {
		text = tlsa_owner_name(v->at, 25);
		tlsa_record_set_owner(&rec, text);
		free(text);
	} else
		tlsa_record_set_owner(&rec, v->e != NULL ? v->e->owner :
		    "_25._tcp.mx1.example.test.");
	rec.ttl = 3600;
	tlsa_set_take(&v->pub, &rec);
}

static void
judge(struct vector *v, const char *what, const struct verdict *got,
    const char *state, const char *substr)
{
	checks++;
	if (strcmp(verdict_state_name(got->state), state) == 0 &&
	    strstr(got->reason, substr) != NULL) {
		printf("ok    %s: %s %s\n", v->name, what, state);
		return;
	}
	failures++;
	printf("FAIL  %s (verdict.in:%d): %s is %s \"%s\", want %s \"%s\"\n",
	    v->name, v->line, what, verdict_state_name(got->state),
	    got->reason, state, substr);
}

static void
compute(struct vector *v)
{
	struct errbuf err;

	if (v->computed++)
		return;
	if (expect_compute(v->e, v->now, &err) < 0) {
		fprintf(stderr, "verdict.in:%d: %s\n", v->line, err.msg);
		exit(2);
	}
}

static void
vector_free(struct vector *v)
{
	size_t i;

	expect_free(v->e);
	tlsa_set_free(&v->pub);
	certkey_chain_free(v->served);
	free(v->host.name);
	for (i = 0; i < v->nsni; i++)
		certkey_chain_free(v->sni[i].chain);
	for (i = 0; i < v->nprobe; i++) {
		free(v->probe[i]);
		free(v->local[i]);
	}
	dns_answer_clear(&v->a4);
	dns_answer_clear(&v->a6);
	memset(v, 0, sizeof(*v));
}

/*
 * The TLSA base domain of the vector's host, as the guard finds it: the
 * expansion counts as having no records when the set holds none at its
 * owner (unless its lookup failed).
 */
static void
base_of(const struct vector *v, struct verdict_base *b)
{
	char *owner;
	size_t i;
	int none = 1;

	if (v->cname[0] != '\0') {
		owner = tlsa_owner_name(v->cname, 25);
		for (i = 0; i < v->pub.n; i++)
			if (tlsa_name_equal(v->pub.v[i].owner, owner))
				none = 0;
		free(owner);
	}
	verdict_base_domain(v->host.name, v->cname, none && !v->cname_failed,
	    b);
}

/* The chain the server gives a probe that sends the base domain as SNI:
 * its SNI map's, else the default (served). */
static STACK_OF(X509) *
served_chain(const struct vector *v, char *alg, size_t len)
{
	struct verdict_base b;
	struct certkey_chain *c = v->served;
	size_t i;

	base_of(v, &b);
	for (i = 0; i < v->nsni; i++)
		if (tlsa_name_equal(v->sni[i].name, b.name))
			c = v->sni[i].chain;
	if (c == NULL) {
		fprintf(stderr, "verdict.in:%d: nothing served\n", v->line);
		exit(2);
	}
	if (alg != NULL)
		certkey_cert_alg_name(certkey_chain_leaf(c), alg, len);
	return c->certs;
}

/* "A|AAAA [secure|insecure] ADDR... | none | servfail" */
static void
set_answer(struct dns_answer *a, char **tok, int n)
{
	int i = 2;

	dns_answer_clear(a);
	dns_answer_init(a);
	a->status = DNS_SECURE;
	a->ttl = 3600;
	if (n > 2 && strcmp(tok[2], "none") == 0) {
		a->status = DNS_NODATA;
		return;
	}
	if (n > 2 && strcmp(tok[2], "servfail") == 0) {
		a->status = DNS_SERVFAIL;
		return;
	}
	if (n > 2 && strcmp(tok[2], "insecure") == 0) {
		a->status = DNS_INSECURE;
		i++;
	} else if (n > 2 && strcmp(tok[2], "secure") == 0)
		i++;
	for (; i < n; i++) {
		a->addr = xreallocarray(a->addr, a->naddr + 1,
		    sizeof(*a->addr));
		a->addr[a->naddr++] = xstrdup(tok[i]);
	}
	a->havedata = a->naddr > 0;
}

/* targets "LIST" | unpublished "LIST": the probe targets ("ADDR" or
 * "ADDR via LOCAL", joined by ", ") or the listed addresses reported as no
 * longer published, exactly. */
static void
expect_targets(struct vector *v, char **tok)
{
	struct verdict_target t[32];
	const char *unpub[8];
	char got[1024] = "";
	size_t i, nt, nu, len = 0;

	nt = verdict_targets(v->probe, v->local, v->nprobe, !v->tlsa_file ||
	    v->nprobe == 0, v->has_a4 ? &v->a4 : NULL,
	    v->has_a6 ? &v->a6 : NULL, t, unpub, &nu);
	if (strcmp(tok[0], "targets") == 0) {
		for (i = 0; i < nt; i++)
			len += (size_t)snprintf(got + len, sizeof(got) - len,
			    "%s%s%s%s", i ? ", " : "", t[i].addr,
			    t[i].dial ? " via " : "",
			    t[i].dial ? t[i].dial : "");
	} else
		for (i = 0; i < nu; i++)
			len += (size_t)snprintf(got + len, sizeof(got) - len,
			    "%s%s", i ? ", " : "", unpub[i]);
	checks++;
	if (strcmp(got, tok[1]) == 0) {
		printf("ok    %s: %s\n", v->name, tok[0]);
		return;
	}
	failures++;
	printf("FAIL  %s (verdict.in:%d): %s \"%s\", want \"%s\"\n",
	    v->name, v->line, tok[0], got, tok[1]);
}

/* The section name of the vector that did not load (disk ... fails). */
static const struct expect_failed *
failed_of(const struct vector *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->e->nfailed; i++)
		if (strcmp(v->e->failed[i].name, name) == 0)
			return &v->e->failed[i];
	fprintf(stderr, "verdict.in:%d: no disk %s\n", v->line, name);
	exit(2);
}

/*
 * g2 FAMILY STATE SUBSTR [answered|alone]: a probe forcing FAMILY at
 * 127.0.0.1:25. When the chain served (as SNI picks it) is of FAMILY,
 * the probe gets it; else the handshake ends in a handshake alert, as
 * OpenSSL servers answer a client whose signature algorithms no chain
 * can meet - unless "answered": the server answers with that chain
 * anyway. The served chain is another family's completed handshake,
 * unless "alone": no family completes one.
 */
static void
expect_g2(struct vector *v, char **tok, int n)
{
	struct verdict got;
	char alg[32];
	const char *mode = n > 4 ? tok[4] : "";
	int served;

	served_chain(v, alg, sizeof(alg));
	if (verdict_family_is(alg, tok[1]) || strcmp(mode, "answered") == 0)
		served = verdict_g2_forced("127.0.0.1:25", tok[1], alg, "",
		    1, "smtpd_tls_chain_files", &got);
	else
		served = verdict_g2_forced("127.0.0.1:25", tok[1], NULL,
		    "error:0A000410:SSL routines::sslv3 alert handshake "
		    "failure", strcmp(mode, "alone") != 0,
		    "smtpd_tls_chain_files", &got);
	if (!served) {
		/* The guard then reports the handshake (version, cipher). */
		got.state = VERDICT_OK;
		snprintf(got.reason, sizeof(got.reason), "served %s", alg);
	}
	judge(v, "G2", &got, tok[2], tok[3]);
}

/* g4 CERT STATE SUBSTR, or g4 retire|records STATE SUBSTR */
static void
expect_g4(struct vector *v, char **tok)
{
	struct verdict got, retire, fails;
	struct verdict_base b;
	struct expect eb;
	struct cover cov;
	struct errbuf err;
	char what[64], *owner, *host;
	size_t i;

	compute(v);
	snprintf(what, sizeof(what), "G4 %s", tok[1]);
	if (strcmp(tok[1], "retire") == 0 || strcmp(tok[1], "records") == 0) {
		if (verdict_g4_records(v->e, &v->pub, 3600, &retire, &fails,
		    &err) < 0) {
			fprintf(stderr, "verdict.in:%d: %s\n", v->line,
			    err.msg);
			exit(2);
		}
		judge(v, what, tok[1][0] == 'r' && tok[1][2] == 't' ?
		    &retire : &fails, tok[2], tok[3]);
		return;
	}
	for (i = 0; i < v->e->ncerts; i++)
		if (strcmp(v->e->certs[i].name, tok[1]) == 0)
			break;
	if (i == v->e->ncerts) {
		const struct expect_failed *f = failed_of(v, tok[1]);

		verdict_g4_failed(f, &got);
		judge(v, what, &got, tok[2], tok[3]);
		return;
	}
	/* As the guard: the expected set at the TLSA base domain. */
	base_of(v, &b);
	eb = *v->e;
	eb.owner = owner = tlsa_owner_name(b.name, 25);
	eb.host = host = tlsa_name_normalise(b.name);
	if (cover_check(&eb, &v->pub, &cov, &err) < 0) {
		fprintf(stderr, "verdict.in:%d: %s\n", v->line, err.msg);
		exit(2);
	}
	verdict_g4(&eb, &cov, i, "the DNS", &got);
	cover_free(&cov);
	free(owner);
	free(host);
	judge(v, what, &got, tok[2], tok[3]);
}

int
main(int argc, char **argv)
{
	const char *file, *top = getenv("top_srcdir");
	char line[4096], *tok[MAXTOK], *vf = NULL;
	struct vector v;
	struct verdict got;
	struct errbuf err;
	FILE *fp;
	int n, lineno = 0;

	if ((certdir = getenv("CERTDIR")) == NULL) {
		printf("SKIP: CERTDIR not set (run through make check)\n");
		return 77;
	}
	if (argc > 1)
		file = argv[1];
	else
		file = vf = xasprintf("%s/tests/data/verdict.in",
		    top != NULL ? top : ".");
	if ((fp = fopen(file, "r")) == NULL) {
		perror(file);
		return 2;
	}
	memset(&v, 0, sizeof(v));
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if ((n = tokens(line, tok)) == 0)
			continue;
		v.line = lineno;
		if (strcmp(tok[0], "vector") == 0 && n == 2) {
			vector_free(&v);
			v.line = lineno;
			snprintf(v.name, sizeof(v.name), "%s", tok[1]);
			v.host.name = xstrdup("mx1.example.test");
			v.host.port = 25;
			v.host.ttl = 3600;
			v.host.issuer_depth = 1;
			v.now = time(NULL);
			v.e = expect_new(&v.host);
			v.e->keep_mismatch = 1;	/* as the guard loads */
		} else if (strcmp(tok[0], "host") == 0 && n == 2) {
			free(v.host.name);
			v.host.name = xstrdup(tok[1]);
			expect_free(v.e);
			v.e = expect_new(&v.host);
			v.e->keep_mismatch = 1;
		} else if (strcmp(tok[0], "rollover") == 0 && n == 2) {
			conf_rollover_parse(tok[1], &v.host.rollover);
			v.e->rollover = v.host.rollover;
		} else if (strcmp(tok[0], "disk") == 0 && n >= 3) {
			struct conf_cert cc = { tok[1], NULL, NULL, NULL,
			    NULL, NULL, 0 };
			char *key = NULL, *next = NULL, *issuer = NULL;
			int fails = 0;

			for (int i = 3; i < n; i++) {
				if (strcmp(tok[i], "fails") == 0)
					fails = 1;
				else if (strncmp(tok[i], "key=", 4) == 0)
					key = cc.key = path_of(tok[i] + 4);
				else if (strncmp(tok[i], "issuer=", 7) == 0) {
					issuer = path_of(tok[i] + 7);
					cc.issuers = &issuer;
					cc.nissuers = 1;
				}
				else if (strncmp(tok[i], "next=", 5) == 0)
					next = cc.next_key =
					    path_of(tok[i] + 5);
			}
			cc.chain = path_of(tok[2]);
			if (strchr(tok[2], '+') != NULL) {
				expect_add_cert(v.e, tok[1],
				    load_chain(tok[2], &v), NULL, NULL);
			} else if (fails) {
				/* As expect_load_each: listed as failed, the
				 * other sections loaded as usual. */
				checks++;
				if (expect_add_files(v.e, &cc, NULL,
				    &err) == 0) {
					failures++;
					printf("FAIL  %s (verdict.in:%d): disk "
					    "%s loaded\n", v.name, lineno,
					    tok[1]);
				} else {
					expect_add_failed(v.e, &cc, err.msg);
					printf("ok    %s: disk %s fails\n",
					    v.name, tok[1]);
				}
			} else if (expect_add_files(v.e, &cc, NULL,
			    &err) < 0) {
				fprintf(stderr, "verdict.in:%d: %s\n", lineno,
				    err.msg);
				return 2;
			}
			free(cc.chain);
			free(key);
			free(next);
			free(issuer);
		} else if (strcmp(tok[0], "served") == 0 && n >= 2) {
			v.served = load_chain(tok[1], &v);
			certkey_cert_alg_name(certkey_chain_leaf(v.served),
			    v.served_alg, sizeof(v.served_alg));
		} else if (strcmp(tok[0], "tlsa") == 0) {
			add_record(&v, tok, n);
		} else if (strcmp(tok[0], "compute-error") == 0 && n == 2) {
			checks++;
			v.computed = 1;
			if (expect_compute(v.e, v.now, &err) == 0 ||
			    strstr(err.msg, tok[1]) == NULL) {
				failures++;
				printf("FAIL  %s (verdict.in:%d): expected set "
				    "computed, or not with \"%s\": %s\n",
				    v.name, lineno, tok[1], err.msg);
			} else
				printf("ok    %s: expected set refused\n",
				    v.name);
		} else if (strcmp(tok[0], "warning") == 0 && n == 2) {
			size_t i;

			compute(&v);
			checks++;
			for (i = 0; i < v.e->nwarnings; i++)
				if (strstr(v.e->warnings[i], tok[1]) != NULL)
					break;
			if (i == v.e->nwarnings) {
				failures++;
				printf("FAIL  %s (verdict.in:%d): no warning "
				    "with \"%s\"\n", v.name, lineno, tok[1]);
				for (i = 0; i < v.e->nwarnings; i++)
					printf("      | %s\n", v.e->warnings[i]);
			} else
				printf("ok    %s: warning\n", v.name);
		} else if (strcmp(tok[0], "nowarning") == 0 && n == 2) {
			size_t i;

			compute(&v);
			checks++;
			for (i = 0; i < v.e->nwarnings; i++)
				if (strstr(v.e->warnings[i], tok[1]) != NULL)
					break;
			if (i < v.e->nwarnings) {
				failures++;
				printf("FAIL  %s (verdict.in:%d): warning %s\n",
				    v.name, lineno, v.e->warnings[i]);
			} else
				printf("ok    %s: no such warning\n", v.name);
		} else if (strcmp(tok[0], "now") == 0 && n == 2) {
			/* "+21d": the clock moved on (dates only). */
			v.now = time(NULL) + 86400L * atol(tok[1]);
		} else if (strcmp(tok[0], "g11") == 0 && n == 4) {
			long sd, dd;
			size_t i;

			for (i = 0; i < v.e->ncerts; i++)
				if (strcmp(v.e->certs[i].name, tok[1]) == 0)
					break;
			if (i == v.e->ncerts || v.served == NULL) {
				fprintf(stderr, "verdict.in:%d: g11 needs "
				    "served and disk %s\n", lineno, tok[1]);
				return 2;
			}
			verdict_dates(certkey_chain_leaf(v.served),
			    certkey_chain_leaf(v.e->certs[i].chain), &v.pub,
			    v.e->owner, v.host.name, v.served->certs, v.now,
			    &got, &sd, &dd);
			judge(&v, "G11", &got, tok[2], tok[3]);
		} else if (strcmp(tok[0], "g3") == 0 && n == 3) {
			struct verdict_base b;
			STACK_OF(X509) *sc;
			char *owner;

			sc = served_chain(&v, v.served_alg,
			    sizeof(v.served_alg));
			base_of(&v, &b);
			owner = tlsa_owner_name(b.name, 25);
			verdict_g3(&v.pub, "the DNS", owner, b.name, sc,
			    v.served_alg, &got);
			free(owner);
			judge(&v, "G3", &got, tok[1], tok[2]);
		} else if (strcmp(tok[0], "cname") == 0 && n >= 2) {
			snprintf(v.cname, sizeof(v.cname), "%s", tok[1]);
			v.cname_failed = n > 2 && strcmp(tok[2], "failed") == 0;
		} else if (strcmp(tok[0], "at") == 0 && n == 2) {
			snprintf(v.at, sizeof(v.at), "%s", tok[1]);
		} else if (strcmp(tok[0], "sni") == 0 && n == 3 &&
		    v.nsni < 4) {
			snprintf(v.sni[v.nsni].name, sizeof(v.sni[0].name),
			    "%s", tok[1]);
			v.sni[v.nsni++].chain = load_chain(tok[2], &v);
		} else if (strcmp(tok[0], "base") == 0 && n >= 2) {
			struct verdict_base b;
			int fb = n > 2 && strcmp(tok[2], "fallback") == 0;

			base_of(&v, &b);
			checks++;
			if (strcmp(b.name, tok[1]) == 0 && b.fallback == fb)
				printf("ok    %s: base %s\n", v.name, b.name);
			else {
				failures++;
				printf("FAIL  %s (verdict.in:%d): base %s%s, "
				    "want %s%s\n", v.name, lineno, b.name,
				    b.fallback ? " (fallback)" : "", tok[1],
				    fb ? " (fallback)" : "");
			}
		} else if (strcmp(tok[0], "probe") == 0 && n >= 2) {
			for (int i = 1; i < n && v.nprobe < 8; i++) {
				char *eq = strchr(tok[i], '=');

				v.local[v.nprobe] = eq != NULL ?
				    xstrdup(eq + 1) : NULL;
				if (eq != NULL)
					*eq = '\0';
				v.probe[v.nprobe++] = xstrdup(tok[i]);
			}
		} else if (strcmp(tok[0], "mode") == 0 && n == 2) {
			v.tlsa_file = strcmp(tok[1], "tlsa_file") == 0;
		} else if (strcmp(tok[0], "published") == 0 && n >= 3) {
			int four = strcmp(tok[1], "A") == 0;

			set_answer(four ? &v.a4 : &v.a6, tok, n);
			*(four ? &v.has_a4 : &v.has_a6) = 1;
		} else if ((strcmp(tok[0], "targets") == 0 ||
		    strcmp(tok[0], "unpublished") == 0) && n == 2) {
			expect_targets(&v, tok);
		} else if (strcmp(tok[0], "g4") == 0 && n == 4) {
			expect_g4(&v, tok);
		} else if (strcmp(tok[0], "g2") == 0 && (n == 4 || n == 5)) {
			expect_g2(&v, tok, n);
		} else if (strcmp(tok[0], "g5") == 0 && n == 4) {
			size_t i;

			for (i = 0; i < v.e->ncerts; i++)
				if (strcmp(v.e->certs[i].name, tok[1]) == 0)
					break;
			if (i == v.e->ncerts)
				verdict_g5_failed(failed_of(&v, tok[1]),
				    &got);
			else
				verdict_g5(served_chain(&v, NULL, 0),
				    v.e->certs[i].chain, &got);
			judge(&v, "G5", &got, tok[2], tok[3]);
		} else {
			fprintf(stderr, "%s:%d: cannot parse this line\n",
			    file, lineno);
			return 2;
		}
	}
	vector_free(&v);
	fclose(fp);
	free(vf);
	printf("%d checks, %d failed\n", checks, failures);
	return failures > 0 ? 1 : 0;
}
