/*
 * conf_schema - private to conf.c and conf_schema.c: libconfuse set up
 * with the configuration's options and the per-value checks.
 */
#ifndef DG_CONF_SCHEMA_H
#define DG_CONF_SCHEMA_H

#include <stddef.h>

#include <confuse.h>

#include "conf_scan.h"

#define CONF_DEFAULT_ANCHOR	"/usr/share/dns/root.key"

/*
 * A libconfuse parser for the configuration, whose callbacks record the
 * problems they find in load until conf_schema_free; NULL (errno set)
 * when libconfuse cannot set one up. One at a time: libconfuse's lexer is
 * global state, and its callbacks get no user pointer.
 */
cfg_t *conf_schema_init(struct conf_load *load);
void conf_schema_free(cfg_t *cfg);

/*
 * One probe entry, "ADDR" or "ADDR = LOCAL" (a published address and the
 * local listener it reaches, for NAT), into malloc'd *addr and *local
 * (NULL without "="). Returns 0, or -1 with what is wrong in why.
 */
int conf_probe_split(const char *value, char **addr, char **local,
    char *why, size_t len);

#endif
