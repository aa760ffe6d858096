/*
 * output - render expected TLSA sets in tlsagen's output forms.
 *
 * Everything is rendered into memory first, so that a failed run never
 * leaves half an output behind: main() writes the buffer once, to stdout
 * or with atomicfile_replace. Output is deterministic (no timestamps), so
 * an unchanged input gives a byte-identical output and make sees nothing
 * to do.
 */
#ifndef TLSAGEN_OUTPUT_H
#define TLSAGEN_OUTPUT_H

#include <stddef.h>

#include "expect.h"
#include "strbuf.h"
#include "tlsa.h"

/* Rendered text and the state of rendering; zero-initialised is empty. */
struct output {
	struct strbuf text;
	/* rendering state, used by output_begin/output_expect/output_end */
	enum tlsa_form form;
	int comments;		/* zone and generic forms: "; ..." lines */
	size_t nitems;		/* json: objects written so far */
	size_t nexpect;		/* expect sets rendered so far */
	struct tlsa_set seen;	/* rdata: records already printed (sorted) */
};

/*
 * Start rendering record sets in form. comments: 1 for the comment lines
 * of the zone and generic forms (host, cert, algorithm, role, source,
 * notes), 0 for bare records.
 */
void output_begin(struct output *out, enum tlsa_form form, int comments);

/*
 * Render the computed entries of e. Zone-type forms need e->owner (the
 * caller checks that a host was given). In the rdata form, which shows no
 * owner, a record already printed for an earlier set is not repeated.
 */
void output_expect(struct output *out, const struct expect *e);

/* Finish (the JSON array's closing bracket). */
void output_end(struct output *out);

void output_free(struct output *out);

#endif
