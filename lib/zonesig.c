/*
 * zonesig - see zonesig.h.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnssig.h"
#include "dnswire.h"
#include "tlsa.h"
#include "xalloc.h"
#include "zonesig.h"

int
zonesig_in_zone(const char *name, const char *apex)
{
	char *n = tlsa_name_normalise(name), *a = tlsa_name_normalise(apex);
	size_t nl = strlen(n), al = strlen(a);
	int in;

	in = strcmp(a, ".") == 0 || strcmp(n, a) == 0 || (nl > al &&
	    n[nl - al - 1] == '.' && strcmp(n + nl - al, a) == 0);
	free(n);
	free(a);
	return in;
}

void
zonesig_zone_free(struct zonesig_zone *z)
{
	size_t i, k;

	for (i = 0; i < z->nservers; i++) {
		struct zonesig_server *s = &z->servers[i];

		for (k = 0; k < s->nsets; k++) {
			free(s->sets[k].owner);
			free(s->sets[k].sig_owner);
			free(s->sets[k].signer);
		}
		free(s->sets);
		for (k = 0; k < s->nkeys; k++)
			free(s->keys[k].rdata);
		free(s->keys);
		free(s->name);
		free(s->addr);
		free(s->why);
	}
	free(z->servers);
	free(z->apex);
	free(z->ds_why);
	dns_rdata_free(&z->ds);
	memset(z, 0, sizeof(*z));
}

/* The earliest RRSIG of msg into set. */
static void
take_sigs(struct zonesig_rrset *set, const struct dnssig_msg *m)
{
	const struct dnssig_sig *first = NULL;
	size_t i;

	for (i = 0; i < m->nsigs; i++)
		if (first == NULL || m->sigs[i].expiration < first->expiration)
			first = &m->sigs[i];
	set->nsigs = m->nsigs;
	if (first == NULL)
		return;
	set->expiration = first->expiration;
	set->orig_ttl = first->orig_ttl;
	set->covered = first->covered;
	set->sig_owner = xstrdup(first->owner);
	set->signer = xstrdup(first->signer);
	set->keytag = first->keytag;
}

/* The DNSKEY RRset of msg and which of its keys sign it. */
static void
take_keys(struct zonesig_server *s, const struct dnssig_msg *m)
{
	struct zonesig_key *k;
	size_t i, j;

	for (i = 0; i < m->nrrs; i++) {
		if (m->rrs[i].type != DNSSIG_TYPE_DNSKEY || m->rrs[i].len < 4)
			continue;
		s->keys = xreallocarray(s->keys, s->nkeys + 1,
		    sizeof(*s->keys));
		k = &s->keys[s->nkeys++];
		k->len = m->rrs[i].len;
		k->rdata = xmalloc(k->len);
		memcpy(k->rdata, m->rrs[i].rdata, k->len);
		k->keytag = dnssig_keytag(k->rdata, k->len);
		k->signs = 0;
		for (j = 0; j < m->nsigs; j++)
			if (m->sigs[j].covered == DNSSIG_TYPE_DNSKEY &&
			    m->sigs[j].keytag == k->keytag &&
			    m->sigs[j].algorithm == k->rdata[3])
				k->signs = 1;
	}
}

/* SOA REFRESH and EXPIRE from msg. */
static void
take_soa(struct zonesig_server *s, const struct dnssig_msg *m)
{
	char name[1025];
	size_t i, pos, used;
	const unsigned char *rd;

	for (i = 0; i < m->nrrs; i++) {
		if (m->rrs[i].type != DNSSIG_TYPE_SOA)
			continue;
		rd = m->rrs[i].rdata;
		if (dnswire_name(rd, m->rrs[i].len, &used, name,
		    sizeof(name)) < 0)
			continue;
		pos = used;
		if (dnswire_name(rd + pos, m->rrs[i].len - pos, &used, name,
		    sizeof(name)) < 0)
			continue;
		pos += used;
		if (m->rrs[i].len - pos != 20)
			continue;
		rd += pos;
		s->soa_refresh = (long)((unsigned long)rd[4] << 24 |
		    (unsigned long)rd[5] << 16 | (unsigned long)rd[6] << 8 |
		    rd[7]);
		s->soa_expire = (long)((unsigned long)rd[12] << 24 |
		    (unsigned long)rd[13] << 16 | (unsigned long)rd[14] << 8 |
		    rd[15]);
		return;
	}
}

/* The raw answer a, read into m; -1 when there is none. */
static int
parse(const struct dns_answer *a, time_t now, struct dnssig_msg *m)
{
	return a->packet == NULL ||
	    dnssig_parse(a->packet, a->packet_len, now, m) < 0 ? -1 : 0;
}

static void
read_server(struct zonesig_server *s, const struct dnsauth_server *as,
    const struct dnsauth_question *q, size_t nq, size_t keys, size_t soa,
    time_t now)
{
	struct dnssig_msg m;
	const char *why = NULL;
	size_t k, answered = 0;

	s->name = xstrdup(as->name);
	s->addr = as->addr != NULL ? xstrdup(as->addr) : NULL;
	s->soa_refresh = s->soa_expire = -1;
	s->dnskey_status = DNS_ERROR;
	s->sets = xcalloc(nq + 1, sizeof(*s->sets));
	s->nsets = nq;
	for (k = 0; k < nq; k++) {
		const struct dns_answer *a = k < as->nans ? &as->ans[k] : NULL;

		s->sets[k].owner = xstrdup(q[k].name);
		s->sets[k].type = q[k].rrtype;
		s->sets[k].status = a != NULL ? a->status : DNS_ERROR;
		if (a == NULL || !q[k].want_packet)
			continue;
		if (a->status != DNS_TIMEOUT && a->status != DNS_SERVFAIL &&
		    a->status != DNS_ERROR)
			answered++;
		else if (why == NULL && a->why != NULL)
			why = a->why;
		if (parse(a, now, &m) < 0)
			continue;
		if (k == soa)
			take_soa(s, &m);
		else
			take_sigs(&s->sets[k], &m);
		if (k == keys) {
			s->dnskey_status = a->status;
			take_keys(s, &m);
		}
		dnssig_msg_free(&m);
	}
	if (as->addr == NULL)
		s->why = xstrdup(as->why != NULL ? as->why : "no address");
	else if (answered == 0)
		s->why = xstrdup(why != NULL ? why : as->why != NULL ?
		    as->why : "no answer");
}

void
zonesig_read(const struct dnsauth_zone *az, const struct dnsauth_question *q,
    size_t nq, size_t keys, size_t soa, time_t now, struct zonesig_zone *z)
{
	size_t i;

	memset(z, 0, sizeof(*z));
	z->ds_status = DNS_ERROR;
	z->apex = xstrdup(az->apex);
	z->servers = xcalloc(az->nservers + 1, sizeof(*z->servers));
	z->nservers = az->nservers;
	for (i = 0; i < az->nservers; i++)
		read_server(&z->servers[i], &az->servers[i], q, nq, keys, soa,
		    now);
}

/* The DS rdata of one anchor line's fields after "DS" into ds; -1 when
 * they are not KEYTAG ALGORITHM DIGEST-TYPE HEX. */
static int
anchor_rdata(char *const *f, size_t n, struct dns_rdata *ds)
{
	unsigned char *rd;
	unsigned long v[3];
	size_t i, k, len = 0, hex = 0;
	char *end;

	if (n < 4)
		return -1;
	for (i = 0; i < 3; i++) {
		v[i] = strtoul(f[i], &end, 10);
		if (*end != '\0' || end == f[i] || v[i] > (i ? 255 : 65535))
			return -1;
	}
	for (i = 3; i < n; i++)
		for (k = 0; f[i][k] != '\0'; k++, hex++)
			if (!isxdigit((unsigned char)f[i][k]))
				return -1;
	if (hex == 0 || hex % 2 != 0)
		return -1;
	rd = xmalloc(4 + hex / 2);
	rd[len++] = (unsigned char)(v[0] >> 8);
	rd[len++] = (unsigned char)v[0];
	rd[len++] = (unsigned char)v[1];
	rd[len++] = (unsigned char)v[2];
	for (i = 3, hex = 0; i < n; i++)
		for (k = 0; f[i][k] != '\0'; k++, hex++) {
			int d = isdigit((unsigned char)f[i][k]) ? f[i][k] - '0' :
			    tolower((unsigned char)f[i][k]) - 'a' + 10;

			if (hex % 2 == 0)
				rd[len] = (unsigned char)(d << 4);
			else
				rd[len++] |= (unsigned char)d;
		}
	ds->data = xreallocarray(ds->data, ds->n + 1, sizeof(*ds->data));
	ds->len = xreallocarray(ds->len, ds->n + 1, sizeof(*ds->len));
	ds->data[ds->n] = rd;
	ds->len[ds->n++] = len;
	return 0;
}

int
zonesig_anchor_ds(const char *path, const char *apex, struct dns_rdata *ds)
{
	char *line = NULL, *f[64], *t, *sp;
	size_t cap = 0, n, i;
	int found = 0;
	FILE *fp;

	if (path == NULL || (fp = fopen(path, "r")) == NULL)
		return 0;
	while (getline(&line, &cap, fp) != -1) {
		if ((t = strchr(line, ';')) != NULL)
			*t = '\0';
		n = 0;
		for (t = strtok_r(line, " \t\r\n", &sp); t != NULL && n < 64;
		    t = strtok_r(NULL, " \t\r\n", &sp))
			f[n++] = t;
		if (n < 2 || !tlsa_name_equal(f[0], apex))
			continue;
		/* A TTL and the class may come before the type. */
		for (i = 1; i < n && (strcasecmp(f[i], "IN") == 0 ||
		    strspn(f[i], "0123456789") == strlen(f[i])); i++)
			;
		if (i < n && strcasecmp(f[i], "DS") == 0 &&
		    anchor_rdata(f + i + 1, n - i - 1, ds) == 0)
			found++;
	}
	free(line);
	fclose(fp);
	return found;
}
