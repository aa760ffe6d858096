/*
 * dnswire - DNS wire-format data that libunbound hands over raw (NS
 * names, SOA rdata): small parsers for what the gate needs, kept apart
 * so they can be fuzzed alone (tests/fuzz/fuzz_dns.c).
 */
#ifndef DG_DNSWIRE_H
#define DG_DNSWIRE_H

#include <stddef.h>

/*
 * Decode the uncompressed wire-format domain name at the start of
 * p[0..len) into presentation form in out (lower case, trailing dot,
 * "." for the root, \DDD for bytes other than letters, digits, '-' and
 * '_'). *used gets the name's length in p. Returns 0, or -1 for a name
 * that is truncated, longer than 255 octets, uses compression, or does
 * not fit outlen (1025 always fits).
 */
int dnswire_name(const unsigned char *p, size_t len, size_t *used,
    char *out, size_t outlen);

/* The serial of SOA rdata (MNAME RNAME SERIAL ...). 0, or -1 if malformed. */
int dnswire_soa_serial(const unsigned char *rdata, size_t len,
    unsigned long *serial);

/* The five numbers of SOA rdata (G8 uses serial and refresh, G9 expire). */
struct dnswire_soa {
	unsigned long serial, refresh, retry, expire, minimum;
};

/* SOA rdata into out. 0, or -1 if malformed. */
int dnswire_soa(const unsigned char *rdata, size_t len,
    struct dnswire_soa *out);

#endif
