/*
 * dnssig - see dnssig.h.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dnssig.h"
#include "dnswire.h"
#include "xalloc.h"

/*
 * The name at *pos of the message as uncompressed wire form into wire
 * (256 bytes), following compression pointers (only backwards, at most
 * 128 of them: no loops). *pos moves past the name as it is stored at
 * *pos; *wlen gets the wire length.
 */
static int
msg_wire(const unsigned char *pkt, size_t len, size_t *pos,
    unsigned char *wire, size_t *wlen)
{
	size_t at = *pos, w = 0, end = 0, lab;
	int jumps = 0, jumped = 0;

	for (;;) {
		if (at >= len)
			return -1;
		lab = pkt[at];
		if ((lab & 0xc0) == 0xc0) {
			size_t to;

			if (at + 1 >= len || ++jumps > 128)
				return -1;
			to = (lab & 0x3f) << 8 | pkt[at + 1];
			if (!jumped)
				end = at + 2;
			jumped = 1;
			if (to >= at)
				return -1;
			at = to;
			continue;
		}
		if (lab > 63 || at + 1 + lab > len || w + 1 + lab > 255)
			return -1;
		memcpy(wire + w, pkt + at, lab + 1);
		w += lab + 1;
		at += lab + 1;
		if (lab == 0)
			break;
	}
	*pos = jumped ? end : at;
	*wlen = w;
	return 0;
}

/* The name at *pos in presentation form (dnswire_name's). */
static int
msg_name(const unsigned char *pkt, size_t len, size_t *pos, char *out,
    size_t outlen)
{
	unsigned char wire[256];
	size_t w, used;

	if (msg_wire(pkt, len, pos, wire, &w) < 0)
		return -1;
	return dnswire_name(wire, w, &used, out, outlen);
}

/*
 * The rdata of an SOA (names compressed in the message) as uncompressed
 * rdata in out (at least 2 x 255 + 20 bytes); others are copied as they
 * are. Returns its length, or -1.
 */
static long
rdata_copy(const unsigned char *pkt, size_t len, size_t pos, size_t rdlen,
    int type, unsigned char *out)
{
	size_t at = pos, w, o = 0;
	int k;

	if (type != DNSSIG_TYPE_SOA) {
		memcpy(out, pkt + pos, rdlen);
		return (long)rdlen;
	}
	for (k = 0; k < 2; k++) {
		if (msg_wire(pkt, pos + rdlen, &at, out + o, &w) < 0)
			return -1;
		o += w;
	}
	(void)len;
	if (pos + rdlen - at != 20)
		return -1;
	memcpy(out + o, pkt + at, 20);
	return (long)(o + 20);
}

static unsigned long
get32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 |
	    (unsigned long)p[2] << 8 | p[3];
}

/* A 32-bit serial time as the absolute time nearest to now. */
static time_t
serial_time(unsigned long v, time_t now)
{
	uint32_t diff = (uint32_t)v - (uint32_t)(unsigned long long)now;

	return now + (time_t)(int32_t)diff;
}

void
dnssig_msg_free(struct dnssig_msg *m)
{
	size_t i;

	for (i = 0; i < m->nrrs; i++)
		free(m->rrs[i].rdata);
	free(m->rrs);
	free(m->sigs);
	memset(m, 0, sizeof(*m));
}

/* RRSIG rdata (RFC 4034 3.1) into s; the signer name is not compressed. */
static int
parse_rrsig(const unsigned char *rd, size_t len, time_t now,
    struct dnssig_sig *s)
{
	size_t used;

	if (len < 18 || dnswire_name(rd + 18, len - 18, &used, s->signer,
	    sizeof(s->signer)) < 0)
		return -1;
	s->covered = rd[0] << 8 | rd[1];
	s->algorithm = rd[2];
	s->orig_ttl = (long)get32(rd + 4);
	s->expiration = serial_time(get32(rd + 8), now);
	s->inception = serial_time(get32(rd + 12), now);
	s->keytag = (unsigned)(rd[16] << 8 | rd[17]);
	return 0;
}

int
dnssig_parse(const unsigned char *pkt, size_t len, time_t now,
    struct dnssig_msg *out)
{
	char owner[1025];
	size_t pos = 12, i, qd, an, rdlen;
	int type;
	long ttl;

	memset(out, 0, sizeof(*out));
	if (len < 12)
		return -1;
	out->rcode = pkt[3] & 0x0f;
	qd = (size_t)(pkt[4] << 8 | pkt[5]);
	an = (size_t)(pkt[6] << 8 | pkt[7]);
	for (i = 0; i < qd; i++) {
		if (msg_name(pkt, len, &pos, owner, sizeof(owner)) < 0 ||
		    len - pos < 4)
			goto bad;
		pos += 4;
	}
	for (i = 0; i < an; i++) {
		if (msg_name(pkt, len, &pos, owner, sizeof(owner)) < 0 ||
		    len - pos < 10)
			goto bad;
		type = pkt[pos] << 8 | pkt[pos + 1];
		ttl = (long)(get32(pkt + pos + 4) & 0x7fffffffUL);
		rdlen = (size_t)(pkt[pos + 8] << 8 | pkt[pos + 9]);
		pos += 10;
		if (len - pos < rdlen)
			goto bad;
		if (type == DNSSIG_TYPE_RRSIG) {
			struct dnssig_sig s;

			memset(&s, 0, sizeof(s));
			if (parse_rrsig(pkt + pos, rdlen, now, &s) < 0)
				goto bad;
			memcpy(s.owner, owner, sizeof(s.owner));
			s.ttl = ttl;
			out->sigs = xreallocarray(out->sigs, out->nsigs + 1,
			    sizeof(*out->sigs));
			out->sigs[out->nsigs++] = s;
		} else {
			struct dnssig_rr *r;
			unsigned char *rd = xmalloc(rdlen + 2 * 256 + 20);
			long n = rdata_copy(pkt, len, pos, rdlen, type, rd);

			if (n < 0) {
				free(rd);
				goto bad;
			}
			out->rrs = xreallocarray(out->rrs, out->nrrs + 1,
			    sizeof(*out->rrs));
			r = &out->rrs[out->nrrs++];
			memcpy(r->owner, owner, sizeof(r->owner));
			r->type = type;
			r->ttl = ttl;
			r->len = (size_t)n;
			r->rdata = rd;
		}
		pos += rdlen;
	}
	return 0;
bad:
	dnssig_msg_free(out);
	return -1;
}

unsigned
dnssig_keytag(const unsigned char *key, size_t len)
{
	unsigned long ac = 0;
	size_t i;

	if (len < 4)
		return 0;
	for (i = 0; i < len; i++)
		ac += (i & 1) ? key[i] : (unsigned long)key[i] << 8;
	ac += (ac >> 16) & 0xffff;
	return (unsigned)(ac & 0xffff);
}

/* Presentation name (\DDD and \X escapes) as canonical wire form. */
static int
name_wire(const char *name, unsigned char *out, size_t *outlen)
{
	size_t w = 0, labpos = 0;
	const char *p = name;
	int c;

	if (strcmp(name, ".") == 0) {
		out[0] = 0;
		*outlen = 1;
		return 0;
	}
	out[w++] = 0;
	while (*p != '\0') {
		if (*p == '.') {
			if (w - labpos - 1 == 0)
				return -1;
			labpos = w;
			out[w++] = 0;
			p++;
			continue;
		}
		if (*p == '\\' && isdigit((unsigned char)p[1]) &&
		    isdigit((unsigned char)p[2]) &&
		    isdigit((unsigned char)p[3])) {
			c = (p[1] - '0') * 100 + (p[2] - '0') * 10 +
			    (p[3] - '0');
			if (c > 255)
				return -1;
			p += 4;
		} else if (*p == '\\' && p[1] != '\0') {
			c = (unsigned char)p[1];
			p += 2;
		} else
			c = (unsigned char)*p++;
		if (w >= 255 || w - labpos > 63)
			return -1;
		out[w++] = (unsigned char)tolower(c);
		out[labpos] = (unsigned char)(w - labpos - 1);
	}
	if (out[labpos] != 0) {		/* no final dot */
		if (w >= 255)
			return -1;
		out[w++] = 0;
	}
	*outlen = w;
	return 0;
}

int
dnssig_ds_match(const char *owner, const unsigned char *ds, size_t dslen,
    const unsigned char *key, size_t keylen)
{
	unsigned char buf[255 + 65536], md[EVP_MAX_MD_SIZE];
	const EVP_MD *evp;
	unsigned mdlen;
	size_t n;

	if (dslen < 4 || keylen < 4)
		return -1;
	switch (ds[3]) {
	case 1: evp = EVP_sha1(); break;
	case 2: evp = EVP_sha256(); break;
	case 4: evp = EVP_sha384(); break;
	default: return -1;
	}
	if ((ds[0] << 8 | ds[1]) != (int)dnssig_keytag(key, keylen) ||
	    ds[2] != key[3])
		return 0;
	if (name_wire(owner, buf, &n) < 0 || keylen > sizeof(buf) - n)
		return -1;
	memcpy(buf + n, key, keylen);
	if (EVP_Digest(buf, n + keylen, md, &mdlen, evp, NULL) != 1)
		return -1;
	return dslen - 4 == mdlen && memcmp(ds + 4, md, mdlen) == 0;
}

const char *
dnssig_type_name(int type, char *buf, size_t len)
{
	static const struct { int type; const char *name; } names[] = {
		{ 1, "A" }, { 2, "NS" }, { 5, "CNAME" }, { 6, "SOA" },
		{ 15, "MX" }, { 16, "TXT" }, { 28, "AAAA" }, { 43, "DS" },
		{ 46, "RRSIG" }, { 47, "NSEC" }, { 48, "DNSKEY" },
		{ 50, "NSEC3" }, { 52, "TLSA" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type) {
			snprintf(buf, len, "%s", names[i].name);
			return buf;
		}
	snprintf(buf, len, "TYPE%d", type);
	return buf;
}
