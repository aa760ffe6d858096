/*
 * tlsagen - TLSA records for the certificates and keys an MTA serves.
 *
 *	tlsagen [options] FILE...
 *	tlsagen -c CONF [options]
 *	tlsagen --check --zone ZONEFILE [-c CONF | FILE...]
 *	tlsagen --check --dns [--min-age DURATION] [-c CONF | FILE...]
 *	tlsagen --new-key rsa|ecdsa -o FILE [-H HOST...]
 *	tlsagen --sync [-f nsupdate|json] [-c CONF | FILE...]
 *
 * This file holds the modes and the exit statuses (0 done, 1 check
 * failed, 2 usage or input error); the command line is in options.c, the
 * loading of inputs in inputs.c, the policy in lib/expect.c, the
 * rendering in output.c, the pre-deploy check in check.c (a zone file)
 * and gate.c (every nameserver). See tlsagen(1).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "atomicfile.h"
#include "certkey.h"
#include "check.h"
#include "conf.h"
#include "errbuf.h"
#include "expect.h"
#include "gate.h"
#include "inputs.h"
#include "keygen.h"
#include "log.h"
#include "options.h"
#include "output.h"
#include "sync.h"
#include "tlsa.h"
#include "xalloc.h"

struct indexed {
	const char *s;
	size_t i;
};

static int
indexed_cmp(const void *a, const void *b)
{
	const struct indexed *x = a, *y = b;
	int c = strcmp(x->s, y->s);

	/* Ties by position, so the first of equal strings is kept. */
	if (c == 0)
		c = (x->i > y->i) - (x->i < y->i);
	return c;
}

/*
 * Mark in dup[] every string equal to an earlier one, in n log n: the
 * same warning for ten thousand certificates is said once.
 */
static void
find_duplicates(char *const *v, size_t n, char *dup)
{
	struct indexed *t;
	size_t i;

	memset(dup, 0, n);
	if (n < 2)
		return;
	t = xreallocarray(NULL, n, sizeof(*t));
	for (i = 0; i < n; i++) {
		t[i].s = v[i];
		t[i].i = i;
	}
	qsort(t, n, sizeof(*t), indexed_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(t[i].s, t[i - 1].s) == 0)
			dup[t[i].i] = 1;
	free(t);
}

/* Warnings of every set, and the notes (expiry), each said once. */
static void
print_warnings(const struct options *o, const struct run *r)
{
	char **v = NULL, *dup;
	size_t n = 0, i, k;

	if (o->quiet)
		return;
	for (k = 0; k < r->nexpects; k++) {
		const struct expect *e = r->expects[k];

		for (i = 0; i < e->nwarnings; i++)
			add_string(&v, &n, xstrdup(e->warnings[i]));
		for (i = 0; i < e->nentries; i++)
			if (e->entries[i].note != NULL)
				add_string(&v, &n, xasprintf("%s: %s",
				    e->entries[i].source ? e->entries[i].source
				    : "-", e->entries[i].note));
	}
	dup = xmalloc(n + 1);
	find_duplicates(v, n, dup);
	for (i = 0; i < n; i++) {
		if (!dup[i])
			log_warnx("warning: %s", v[i]);
		free(v[i]);
	}
	free(dup);
	free(v);
}

/* A file name as a make word: blanks, '#' and '$' escaped. */
static void
depfile_word(struct strbuf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t' || *s == '#' || *s == '\\')
			strbuf_printf(out, "\\%c", *s);
		else if (*s == '$')
			strbuf_printf(out, "$$");
		else
			strbuf_printf(out, "%c", *s);
	}
}

/* "OUTPUT: input1 input2 ...", every input once, in the order read. */
static void
depfile_render(const char *target, const struct run *r, struct strbuf *out)
{
	char *dup;
	size_t i;

	dup = xmalloc(r->ninputs + 1);
	find_duplicates(r->inputs, r->ninputs, dup);
	depfile_word(out, target);
	strbuf_printf(out, ":");
	for (i = 0; i < r->ninputs; i++) {
		if (dup[i])
			continue;
		strbuf_printf(out, " ");
		depfile_word(out, r->inputs[i]);
	}
	strbuf_printf(out, "\n");
	free(dup);
}

static int
write_stdout(const struct strbuf *out)
{
	if (out->len > 0)
		fwrite(out->buf, 1, out->len, stdout);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_warn("standard output");
		return -1;
	}
	return 0;
}

static int
run_generate(const struct options *o, const struct run *r)
{
	struct output out;
	struct strbuf dep;
	struct errbuf err;
	size_t i;
	int ret = EXIT_ERROR;

	memset(&out, 0, sizeof(out));
	memset(&dep, 0, sizeof(dep));
	output_begin(&out, o->form, 1);
	for (i = 0; i < r->nexpects; i++)
		output_expect(&out, r->expects[i]);
	output_end(&out);

	if (o->output == NULL) {
		if (write_stdout(&out.text) == 0)
			ret = 0;
		goto done;
	}
	/* Both are rendered before either is written. */
	if (o->depfile != NULL)
		depfile_render(o->output, r, &dep);
	if (atomicfile_replace(o->output, out.text.buf ? out.text.buf : "", out.text.len,
	    0644, NULL, &err) < 0) {
		log_warnx("%s", err.msg);
		goto done;
	}
	if (o->depfile != NULL && atomicfile_replace(o->depfile, dep.buf,
	    dep.len, 0644, NULL, &err) < 0) {
		log_warnx("%s", err.msg);
		goto done;
	}
	ret = 0;
done:
	output_free(&out);
	strbuf_free(&dep);
	return ret;
}

static int
run_check(const struct options *o, const struct run *r,
    const struct tlsa_set *zone)
{
	struct output out;
	struct errbuf err;
	size_t i, missing = 0;
	int ret = EXIT_ERROR;

	memset(&out, 0, sizeof(out));
	for (i = 0; i < r->nexpects; i++) {
		if (check_expect(r->expects[i], zone, &out, &missing,
		    &err) < 0) {
			log_warnx("%s", err.msg);
			goto done;
		}
	}
	if (write_stdout(&out.text) < 0)
		goto done;
	if (missing > 0) {
		log_warnx("%s does not publish what %zu item%s above need%s: "
		    "publish the records, wait 2 x TTL, check again, then "
		    "deploy", o->zone, missing, missing == 1 ? "" : "s",
		    missing == 1 ? "s" : "");
		ret = EXIT_CHECK_FAILED;
	} else
		ret = 0;
done:
	output_free(&out);
	return ret;
}

/*
 * --new-key: write the key (never over an existing file), then print its
 * records, built like any next key's so -p, -t and -r apply.
 */
static int
run_new_key(const struct options *o, struct run *r, time_t now)
{
	struct certkey_key *key;
	struct conf_host h;
	struct output out;
	struct expect *e;
	struct errbuf err;
	EVP_PKEY *pkey;
	enum tlsa_form form;
	size_t k, nhosts;
	int ret = EXIT_ERROR;

	form = o->form_set ? o->form :
	    o->nhosts > 0 ? TLSA_FORM_ZONE : TLSA_FORM_RDATA;
	if (o->nhosts == 0 && form != TLSA_FORM_RDATA &&
	    form != TLSA_FORM_JSON) {
		log_warnx("no host: give -H HOST (the MX host name) for the "
		    "owner name, or use -f rdata or -f json");
		return EXIT_ERROR;
	}
	if (keygen_new(o->new_key, o->output, &pkey, &err) < 0) {
		log_warnx("%s", err.msg);
		return EXIT_ERROR;
	}
	key = xcalloc(1, sizeof(*key));
	key->path = xstrdup(o->output);
	key->pkey = pkey;
	key->is_private = 1;

	nhosts = o->nhosts > 0 ? o->nhosts : 1;
	r->expects = xcalloc(nhosts, sizeof(*r->expects));
	for (k = 0; k < nhosts; k++) {
		options_host(o, o->nhosts > 0 ? o->hosts[k] : NULL, &h);
		h.rollover = CONF_ROLLOVER_CURRENT_NEXT;
		e = r->expects[r->nexpects++] = expect_new(&h);
		expect_add_cert(e, NULL, NULL, NULL,
		    k == nhosts - 1 ? key : certkey_key_ref(key));
		if (expect_compute(e, now, &err) < 0) {
			log_warnx("%s", err.msg);
			if (k < nhosts - 1)
				certkey_key_free(key);
			return EXIT_ERROR;
		}
	}
	print_warnings(o, r);

	memset(&out, 0, sizeof(out));
	output_begin(&out, form, 0);
	for (k = 0; k < r->nexpects; k++)
		output_expect(&out, r->expects[k]);
	output_end(&out);
	if (write_stdout(&out.text) == 0)
		ret = 0;
	output_free(&out);
	return ret;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct run r;
	struct tlsa_set zone;
	struct errbuf err;
	time_t now = time(NULL);
	size_t i;
	int status = EXIT_ERROR, rc;

	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	tlsa_set_init(&zone);
	log_init("tlsagen", 1, 0);

	if ((rc = parse_options(argc, argv, &o)) != 0) {
		status = rc > 0 ? 0 : EXIT_ERROR;
		goto out;
	}
	if (check_options(&o) < 0)
		goto out;
	if (o.new_key != NULL) {
		status = run_new_key(&o, &r, now);
		goto out;
	}
	if (o.passphrase_file != NULL && certkey_passphrase_read(
	    o.passphrase_file, &r.passphrase, &err) < 0) {
		log_warnx("%s", err.msg);
		goto out;
	}
	/* A bad zone is an error before any certificate is looked at. */
	if (o.check && !o.dns && tlsa_zone_load(o.zone, o.origin, -1, &zone,
	    &err) < 0) {
		log_warnx("%s", err.msg);
		goto out;
	}
	if (o.config != NULL) {
		if (build_from_config(&o, &r, now) < 0)
			goto out;
	} else if (build_from_files(&o, &r, now) < 0)
		goto out;
	if (o.passphrase_file != NULL)
		add_string(&r.inputs, &r.ninputs, (char *)o.passphrase_file);
	print_warnings(&o, &r);
	if (o.sync)
		status = sync_run(&o, &r, now);
	else if (o.check && o.dns)
		status = gate_run(&o, &r, now);
	else if (o.check)
		status = run_check(&o, &r, &zone);
	else
		status = run_generate(&o, &r);
out:
	for (i = 0; i < r.nexpects; i++)
		expect_free(r.expects[i]);
	free(r.expects);
	free(r.inputs);
	if (r.passphrase != NULL) {
		OPENSSL_cleanse(r.passphrase, strlen(r.passphrase));
		free(r.passphrase);
	}
	if (r.conf != NULL)
		conf_free(r.conf);
	tlsa_set_free(&zone);
	free(o.hosts);
	free(o.types);
	free(o.next);
	free(o.files);
	return status;
}
