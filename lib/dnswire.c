/*
 * dnswire - see dnswire.h.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>

#include "dnswire.h"

int
dnswire_name(const unsigned char *p, size_t len, size_t *used,
    char *out, size_t outlen)
{
	size_t pos = 0, o = 0, i;
	unsigned lab;
	int n;

	if (outlen < 2)
		return -1;
	for (;;) {
		if (pos >= len)
			return -1;
		lab = p[pos++];
		if (lab == 0)
			break;
		if (lab > 63 || pos + lab > len || pos + lab > 255)
			return -1;	/* compression, or truncated */
		for (i = 0; i < lab; i++, pos++) {
			unsigned char c = p[pos];

			if (isalnum(c) || c == '-' || c == '_') {
				if (o + 1 >= outlen)
					return -1;
				out[o++] = (char)tolower(c);
			} else {
				n = snprintf(out + o, outlen - o, "\\%03u", c);
				if (n < 0 || (size_t)n >= outlen - o)
					return -1;
				o += (size_t)n;
			}
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = '.';
	}
	if (pos > 255)
		return -1;
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	*used = pos;
	return 0;
}

static unsigned long
u32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 |
	    (unsigned long)p[2] << 8 | p[3];
}

int
dnswire_soa(const unsigned char *rdata, size_t len, struct dnswire_soa *out)
{
	char name[1025];
	size_t pos = 0, used;

	if (dnswire_name(rdata, len, &used, name, sizeof(name)) < 0)
		return -1;
	pos += used;
	if (dnswire_name(rdata + pos, len - pos, &used, name,
	    sizeof(name)) < 0)
		return -1;
	pos += used;
	/* SERIAL REFRESH RETRY EXPIRE MINIMUM: five 32-bit numbers. */
	if (len - pos != 20)
		return -1;
	out->serial = u32(rdata + pos);
	out->refresh = u32(rdata + pos + 4);
	out->retry = u32(rdata + pos + 8);
	out->expire = u32(rdata + pos + 12);
	out->minimum = u32(rdata + pos + 16);
	return 0;
}

int
dnswire_soa_serial(const unsigned char *rdata, size_t len,
    unsigned long *serial)
{
	struct dnswire_soa soa;

	if (dnswire_soa(rdata, len, &soa) < 0)
		return -1;
	*serial = soa.serial;
	return 0;
}
