/*
 * inputs - from the options (files on the command line, or the hosts of
 * a configuration file) to one expected TLSA set per host.
 *
 * Every file is loaded once, whatever the number of hosts: later hosts
 * share the loaded certificates and keys by reference count. Pairing keys
 * with chains goes through a sorted digest table, so ten thousand chain
 * files cost ten thousand loads and no more.
 */
#ifndef TLSAGEN_INPUTS_H
#define TLSAGEN_INPUTS_H

#include <stddef.h>
#include <time.h>

#include "certkey.h"
#include "conf.h"
#include "expect.h"
#include "options.h"

/* What a run builds: one expected set per host, and its input files. */
struct run {
	struct expect **expects;
	size_t nexpects;
	char **inputs;			/* for --depfile, borrowed */
	size_t ninputs;
	char *passphrase;		/* from --passphrase-file, or NULL */
	struct conf *conf;
};


/*
 * Load the FILE arguments and --next keys, pair keys with chains, and
 * build and compute one expect per -H host (or one without a host) into
 * r. Returns 0, or -1 after an error message.
 */
int build_from_files(const struct options *o, struct run *r, time_t now);

/* The same for the (selected) hosts of the -c configuration file. */
int build_from_config(const struct options *o, struct run *r, time_t now);

#endif
