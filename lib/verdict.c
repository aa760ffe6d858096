/*
 * verdict - see verdict.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "match.h"
#include "verdict.h"
#include "xalloc.h"

static void
verdict_set(struct verdict *v, enum verdict_state state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
verdict_set(struct verdict *v, enum verdict_state state, const char *fmt, ...)
{
	va_list ap;

	v->state = state;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

/* Append "; text" to v's reason and raise its state to state. */
static void
verdict_add(struct verdict *v, enum verdict_state state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
verdict_add(struct verdict *v, enum verdict_state state, const char *fmt, ...)
{
	size_t n = strlen(v->reason);
	va_list ap;

	if (n > 0 && n + 2 < sizeof(v->reason)) {
		memcpy(v->reason + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(v->reason + n, sizeof(v->reason) - n, fmt, ap);
	va_end(ap);
	if (state > v->state)
		v->state = state;
}

void
verdict_g3(const struct tlsa_set *pub, const char *pubname,
    const char *owner, const char *host, STACK_OF(X509) *served,
    const char *served_alg, struct verdict *v)
{
	struct match_result mr;
	struct errbuf err;
	char type[16];
	int m;

	m = match_chain(pub, owner, host, served, &mr, &err);
	if (m < 0) {
		verdict_set(v, VERDICT_UNKNOWN, "cannot match: %s", err.msg);
		return;
	}
	if (m == 1) {
		if (mr.record >= 0 && (size_t)mr.record < pub->n)
			tlsa_type_str(pub->v[mr.record].type, type,
			    sizeof(type));
		else
			snprintf(type, sizeof(type), "a");
		verdict_set(v, VERDICT_OK, "served chain matched by %s record "
		    "of %s at depth %d", type, pubname, mr.depth);
		return;
	}
	if (mr.published > 0 && mr.usable == 0) {
		verdict_set(v, VERDICT_WARNING, "%s: senders deliver without "
		    "authentication (RFC 7672 section 2.2); publish a 3 1 1 "
		    "record for the served %s chain", mr.reason, served_alg);
		return;
	}
	verdict_set(v, VERDICT_CRITICAL, "no record of %s at %s matches the "
	    "served %s chain (%s): DANE senders cannot deliver", pubname,
	    owner != NULL ? owner : "any owner", served_alg, mr.reason);
}

void
verdict_g4(const struct expect *e, const struct cover *cov, size_t ci,
    const char *pubname, struct verdict *v)
{
	const char *owner = e->owner != NULL ? e->owner : "any owner";
	char ok[1024] = "";
	size_t i, n;

	verdict_set(v, VERDICT_OK, "%s", "");
	if (ci < e->ncerts && e->certs[ci].problem != NULL)
		verdict_add(v, VERDICT_CRITICAL, "%s: the MTA cannot use this "
		    "pair (Postfix answers 454 to every STARTTLS once it loads "
		    "them); install the key that belongs to the certificate",
		    e->certs[ci].problem);
	for (i = 0; i < cov->n; i++) {
		const struct cover_item *it = &cov->items[i];

		if (it->cert != ci)
			continue;
		switch (it->state) {
		case COVER_OK:
			n = strlen(ok);
			snprintf(ok + n, sizeof(ok) - n, "%s%s%s", n ?
			    ", " : "", it->role == EXPECT_NEXT ?
			    "next key " : it->ca != NULL ? "issuer " :
			    it->role == EXPECT_ISSUER ?
			    "the issuing CA of " : "", it->file);
			break;
		case COVER_UNUSABLE:
			verdict_add(v, VERDICT_WARNING, "%s: %s: senders "
			    "deliver without authentication (RFC 7672 "
			    "section 2.2)", it->file, it->reason);
			break;
		case COVER_MISSING:
			if (it->role == EXPECT_CURRENT)
				verdict_add(v, VERDICT_CRITICAL, "%s has no "
				    "record in %s at %s (%s): the next reload "
				    "breaks DANE; publish its record first",
				    it->file, pubname, owner, it->reason);
			else if (it->ca != NULL)
				verdict_add(v, VERDICT_WARNING, "issuer %s "
				    "(issuers) has no 2 x x record in %s at %s "
				    "(%s): a renewal from that CA breaks DANE; "
				    "publish its record", it->file, pubname,
				    owner, it->reason);
			else if (it->role == EXPECT_ISSUER)
				verdict_add(v, VERDICT_WARNING, "the issuing "
				    "CA of %s has no 2 x x record in %s at %s "
				    "(%s): publish it before the renewal",
				    it->file, pubname, owner, it->reason);
			else
				verdict_add(v, VERDICT_WARNING, "next key %s "
				    "has no 3 1 x record in %s at %s (%s): "
				    "publish it before the rollover", it->file,
				    pubname, owner, it->reason);
			break;
		}
	}
	if (v->state == VERDICT_OK)
		verdict_set(v, VERDICT_OK, "%s ha%s records in %s", ok,
		    strchr(ok, ',') != NULL ? "ve" : "s", pubname);
}

/* "3 1 1 0123456789abcdef..." into buf. */
static void
verdict_rec(const struct tlsa_record *r, char *buf, size_t len)
{
	char type[16], *hex = tlsa_hex(r->data, r->len);

	if (strlen(hex) > 16)
		hex[16] = '\0';
	snprintf(buf, len, "%s %s...", tlsa_type_str(r->type, type,
	    sizeof(type)), hex);
	free(hex);
}

int
verdict_g4_records(const struct expect *e, const struct tlsa_set *pub,
    long ttl, struct verdict *retire, struct verdict *fails,
    struct errbuf *err)
{
	const char *owner = e->owner != NULL ? e->owner : "the owner";
	struct cover_record *cr;
	char list[1024] = "", rec[64];
	size_t i, n, nstale = 0;

	verdict_set(fails, VERDICT_OK, "every record published at %s that "
	    "matches a file on disk is usable by senders", owner);
	/* A record may belong to the file that did not load. */
	if (e->nfailed > 0) {
		verdict_set(retire, VERDICT_UNKNOWN, "records to retire not "
		    "judged: %s", e->failed[0].error);
		return 0;
	}
	cr = xcalloc(pub->n ? pub->n : 1, sizeof(*cr));
	if (cover_records(e, pub, cr, err) < 0) {
		free(cr);
		return -1;
	}
	for (i = 0; i < pub->n; i++) {
		verdict_rec(&pub->v[i], rec, sizeof(rec));
		if (cr[i].use == COVER_UNUSED) {
			nstale++;
			n = strlen(list);
			snprintf(list + n, sizeof(list) - n, "%s%s",
			    n ? ", " : "", rec);
		} else if (cr[i].use == COVER_FAILS) {
			if (fails->state == VERDICT_OK)
				fails->reason[0] = '\0';
			verdict_add(fails, VERDICT_WARNING, "%s at %s %s",
			    rec, owner, cr[i].reason);
		}
	}
	free(cr);
	if (nstale == 0)
		verdict_set(retire, VERDICT_OK, "every record published at %s "
		    "matches a chain, CA or next key on disk", owner);
	else
		verdict_set(retire, VERDICT_WARNING, "%zu record%s published "
		    "at %s match%s no chain, CA or next key on disk any more "
		    "(%s): candidates to retire 2 x TTL (2 x %ld s) after the "
		    "chains that replaced them were deployed", nstale,
		    nstale == 1 ? "" : "s", owner, nstale == 1 ? "es" : "",
		    list, ttl);
	return 0;
}

/* First 8 bytes of the SHA-256 of cert's DER, in hex, for messages. */
static void
verdict_fp(X509 *cert, char *out, size_t len)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	int n;

	snprintf(out, len, "?");
	if ((n = i2d_X509(cert, &der)) <= 0)
		return;
	if (EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) &&
	    len >= 17)
		for (i = 0; i < 8 && i < mdlen; i++)
			snprintf(out + 2 * i, 3, "%02x", md[i]);
	OPENSSL_free(der);
}

/* Leaf DER comparison: 1 equal, 0 not. */
static int
verdict_same(X509 *a, X509 *b)
{
	unsigned char *da = NULL, *db = NULL;
	int na, nb, eq;

	na = i2d_X509(a, &da);
	nb = i2d_X509(b, &db);
	eq = na > 0 && na == nb && memcmp(da, db, (size_t)na) == 0;
	OPENSSL_free(da);
	OPENSSL_free(db);
	return eq;
}

void
verdict_g5(STACK_OF(X509) *served, const struct certkey_chain *disk,
    struct verdict *v)
{
	char fs[20], fd[20];
	X509 *s, *d;

	s = sk_X509_value(served, 0);
	d = certkey_chain_leaf(disk);
	if (verdict_same(s, d)) {
		verdict_set(v, VERDICT_OK, "served leaf is the one in %s",
		    disk->path);
		return;
	}
	verdict_fp(s, fs, sizeof(fs));
	verdict_fp(d, fd, sizeof(fd));
	verdict_set(v, VERDICT_CRITICAL, "served leaf (sha256 %s...) differs "
	    "from %s (sha256 %s...): deployed but not reloaded, or reloaded "
	    "from a stale path", fs, disk->path, fd);
}

void
verdict_g4_failed(const struct expect_failed *f, struct verdict *v)
{
	verdict_set(v, VERDICT_UNKNOWN, "files on disk not loaded: %s",
	    f->error);
}

void
verdict_g5_failed(const struct expect_failed *f, struct verdict *v)
{
	verdict_set(v, VERDICT_UNKNOWN, "chain on disk not loaded: %s",
	    f->error);
}

int
verdict_family_is(const char *served_alg, const char *family)
{
	size_t n = strlen(family);

	return strncmp(served_alg, family, n) == 0 &&
	    (served_alg[n] == '\0' || served_alg[n] == '-');
}

const char *
verdict_family_title(const char *family)
{
	static const char *const titles[][2] = {
		{ "rsa", "RSA" }, { "ecdsa", "ECDSA" },
		{ "ed25519", "Ed25519" }, { "ed448", "Ed448" },
	};
	size_t i;

	for (i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
		if (strcmp(family, titles[i][0]) == 0)
			return titles[i][1];
	return family;
}

int
verdict_g2_forced(const char *listener, const char *family,
    const char *served_alg, const char *detail, int other_ok,
    const char *chains_option, struct verdict *v)
{
	if (served_alg != NULL && verdict_family_is(served_alg, family))
		return 0;
	if (served_alg != NULL)
		verdict_set(v, VERDICT_CRITICAL, "%s serves no %s chain (is it "
		    "in %s?): asked for %s, it answered with %s", listener,
		    verdict_family_title(family), chains_option, family,
		    served_alg[0] != '\0' ? served_alg : "another algorithm");
	else if (other_ok)
		/* Other algorithms complete: this one is not served. */
		verdict_set(v, VERDICT_CRITICAL, "%s serves no %s chain (is it "
		    "in %s?): the handshake forcing %s ends in: %s", listener,
		    verdict_family_title(family), chains_option, family,
		    detail);
	else
		verdict_set(v, VERDICT_CRITICAL, "no TLS handshake with %s: %s",
		    family, detail);
	return 1;
}

/* Seconds from a to b (b - a), or 0 when OpenSSL cannot tell. */
static long long
verdict_secs(const ASN1_TIME *a, const ASN1_TIME *b)
{
	int days = 0, secs = 0;

	if (!ASN1_TIME_diff(&days, &secs, a, b))
		return 0;
	return (long long)days * 86400 + secs;
}

/* Floor division of seconds into days (negative: in the past). */
static long
verdict_days(long long secs)
{
	return (long)(secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400));
}

/*
 * One leaf's dates: its state under the rule, and a phrase for the
 * reason ("served leaf expires in 23 days (Jan  5 12:00:00 2027 GMT)").
 */
static enum verdict_state
verdict_leaf(X509 *leaf, const char *which, int checked, time_t now,
    char *buf, size_t len, long *days)
{
	const ASN1_TIME *nb = X509_get0_notBefore(leaf);
	const ASN1_TIME *na = X509_get0_notAfter(leaf);
	ASN1_TIME *t = ASN1_TIME_set(NULL, now);
	long long left, life;
	char date[64] = "?";
	BIO *bio;
	int n;

	left = t != NULL ? verdict_secs(t, na) : 0;
	life = verdict_secs(nb, na);
	ASN1_TIME_free(t);
	if ((bio = BIO_new(BIO_s_mem())) != NULL) {
		if (ASN1_TIME_print(bio, na) &&
		    (n = BIO_read(bio, date, sizeof(date) - 1)) > 0)
			date[n] = '\0';
		BIO_free(bio);
	}
	*days = verdict_days(left);
	/*
	 * Under 3 x x senders authenticate the key alone and ignore the
	 * dates (RFC 7672 section 3.1; OpenSSL's DANE-EE match skips the
	 * time check): an expired leaf is a WARNING as an operational note
	 * (senders that check the certificate without DANE refuse it), a
	 * leaf near its end an OK with a note, and neither says that DANE
	 * senders fail.
	 */
	if (left < 0 && checked) {
		snprintf(buf, len, "%s expired %ld day%s ago (%s): senders "
		    "check the dates under 2 x x records and defer", which,
		    -*days, *days == -1 ? "" : "s", date);
		return VERDICT_CRITICAL;
	}
	if (left < 0) {
		snprintf(buf, len, "%s expired %ld day%s ago (%s): DANE "
		    "senders still deliver (they ignore the dates under "
		    "3 x x records, RFC 7672 section 3.1); an operational "
		    "note: renew it, senders that check the certificate "
		    "without DANE refuse it", which, -*days,
		    *days == -1 ? "" : "s", date);
		return VERDICT_WARNING;
	}
	if (left * 3 < life) {
		snprintf(buf, len, "%s expires in %ld day%s (%s), less than a "
		    "third of its lifetime: %s", which, *days,
		    *days == 1 ? "" : "s", date, checked ? "senders check "
		    "the dates under 2 x x records; renew it" : "a note, "
		    "DANE senders ignore the dates under 3 x x records "
		    "(RFC 7672 section 3.1); renew it in time");
		return checked ? VERDICT_WARNING : VERDICT_OK;
	}
	snprintf(buf, len, "%s expires in %ld day%s (%s)", which, *days,
	    *days == 1 ? "" : "s", date);
	return VERDICT_OK;
}

/*
 * The expired CAs of the served chain (depth 1 and up) into buf; the
 * worst state. Under 2 x x (checked), ta is the depth of the CA a 2 x x
 * record matched (-1: none did). OpenSSL does not check a trust anchor's
 * dates (s_client -dane_tlsa_rrdata verifies with it expired): a
 * WARNING; a CA below it fails the chain: CRITICAL; above it nobody
 * looks. Under 3 x x senders ignore the chain: a WARNING, as for the leaf.
 */
static enum verdict_state
verdict_cas(STACK_OF(X509) *chain, int checked, int ta, time_t now,
    char *buf, size_t len)
{
	enum verdict_state st = VERDICT_OK;
	char date[32];
	size_t n;
	int d;

	buf[0] = '\0';
	for (d = 1; chain != NULL && d < sk_X509_num(chain); d++) {
		if (checked && ta >= 0 && d > ta)
			break;
		if (!certkey_is_expired(sk_X509_value(chain, d), now, date,
		    sizeof(date)))
			continue;
		n = strlen(buf);
		if (!checked) {
			snprintf(buf + n, len - n, "; the CA at depth %d of the "
			    "served chain expired %s: fine for 3 x x records "
			    "(RFC 7672 section 3.1), but renew the chain", d,
			    date);
			if (st < VERDICT_WARNING)
				st = VERDICT_WARNING;
		} else if (d == ta) {
			snprintf(buf + n, len - n, "; the CA at depth %d of the "
			    "served chain, the trust anchor of the 2 x x "
			    "record, expired %s: OpenSSL senders (Postfix) do "
			    "not check a trust anchor's dates and still "
			    "verify, other DANE senders may not; renew the "
			    "chain from a current CA", d, date);
			if (st < VERDICT_WARNING)
				st = VERDICT_WARNING;
		} else {
			snprintf(buf + n, len - n, "; the CA at depth %d of the "
			    "served chain expired %s: below the trust anchor "
			    "of the 2 x x records, senders check its dates "
			    "and defer", d, date);
			st = VERDICT_CRITICAL;
		}
	}
	return st;
}

void
verdict_dates(X509 *served, X509 *disk, const struct tlsa_set *pub,
    const char *owner, const char *host, STACK_OF(X509) *chain, time_t now,
    struct verdict *v, long *served_days, long *disk_days)
{
	struct match_result mr;
	struct tlsa_set ee, ta;
	struct errbuf err;
	char a[512], b[512], c[1024];
	enum verdict_state s1, s2 = VERDICT_OK, s3;
	size_t i;
	int checked = 0, tadepth = -1;

	/* Dates count only when no DANE-EE record carries the chain. */
	if (pub != NULL) {
		tlsa_set_init(&ee);
		tlsa_set_init(&ta);
		for (i = 0; i < pub->n; i++)
			if (pub->v[i].type.usage == TLSA_USAGE_DANE_EE)
				tlsa_set_add(&ee, &pub->v[i]);
			else if (pub->v[i].type.usage == TLSA_USAGE_DANE_TA)
				tlsa_set_add(&ta, &pub->v[i]);
		checked = ta.n > 0;
		if (checked && match_chain(&ee, owner, host, chain, &mr,
		    &err) == 1)
			checked = 0;
		if (checked && match_chain(&ta, owner, host, chain, &mr,
		    &err) == 1)
			tadepth = mr.depth;
		tlsa_set_free(&ee);
		tlsa_set_free(&ta);
	}
	s1 = verdict_leaf(served, "served leaf", checked, now, a, sizeof(a),
	    served_days);
	*disk_days = 0;
	b[0] = '\0';
	if (disk != NULL)
		s2 = verdict_leaf(disk, "leaf on disk", checked, now, b,
		    sizeof(b), disk_days);
	s3 = verdict_cas(chain, checked, tadepth, now, c, sizeof(c));
	if (s2 > s1)
		s1 = s2;
	verdict_set(v, s3 > s1 ? s3 : s1, "%s%s%s%s", a, b[0] ? "; " : "", b,
	    c);
}

/* ------------------------------------------------------------ what to probe */

void
verdict_base_domain(const char *host, const char *expanded,
    int expanded_none, struct verdict_base *out)
{
	size_t n;

	memset(out, 0, sizeof(*out));
	/* SNI carries no final dot (RFC 6066). */
	snprintf(out->name, sizeof(out->name), "%s", host);
	n = strlen(out->name);
	if (n > 1 && out->name[n - 1] == '.')
		out->name[n - 1] = '\0';
	if (expanded == NULL || expanded[0] == '\0')
		return;
	snprintf(out->expanded, sizeof(out->expanded), "%s", expanded);
	/* No TLSA records at the expanded name (a denial, or records that
	 * do not count): senders try the original name. A failure is not
	 * an absence: they defer, and so does the verdict. */
	if (expanded_none) {
		out->fallback = 1;
		return;
	}
	snprintf(out->name, sizeof(out->name), "%s", expanded);
}

int
verdict_same_addr(const char *a, const char *b)
{
	unsigned char x[16], y[16];

	if (inet_pton(AF_INET, a, x) == 1)
		return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
	if (inet_pton(AF_INET6, a, x) == 1)
		return inet_pton(AF_INET6, b, y) == 1 &&
		    memcmp(x, y, 16) == 0;
	return strcmp(a, b) == 0;
}

/* An answer that says what is published (records or a denial). */
static int
verdict_answered(const struct dns_answer *a)
{
	return a != NULL && (a->status == DNS_SECURE ||
	    a->status == DNS_INSECURE || a->status == DNS_NXDOMAIN ||
	    a->status == DNS_NODATA);
}

size_t
verdict_targets(char *const *probe, char *const *local, size_t nprobe,
    int from_dns, const struct dns_answer *a4, const struct dns_answer *a6,
    struct verdict_target *t, const char **unpub, size_t *nunpub)
{
	const struct dns_answer *a;
	size_t i, k, n = 0;
	int f;

	*nunpub = 0;
	if (!from_dns || !verdict_answered(a4) || !verdict_answered(a6)) {
		for (k = 0; k < nprobe; k++) {
			t[n].addr = probe[k];
			t[n++].dial = local[k];
		}
		if (nprobe > 0)
			return n;
	}
	for (f = 0; f < 2; f++) {
		a = f == 0 ? a4 : a6;
		if (a == NULL || (a->status != DNS_SECURE &&
		    a->status != DNS_INSECURE))
			continue;
		for (i = 0; i < a->naddr; i++) {
			t[n].addr = a->addr[i];
			t[n].dial = NULL;
			for (k = 0; k < nprobe; k++)
				if (verdict_same_addr(probe[k], a->addr[i])) {
					t[n].dial = local[k];
					break;
				}
			n++;
		}
	}
	for (k = 0; k < nprobe; k++) {
		for (i = 0; i < n; i++)
			if (verdict_same_addr(t[i].addr, probe[k]))
				break;
		if (i == n)
			unpub[(*nunpub)++] = probe[k];
	}
	return n;
}
