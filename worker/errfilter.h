/*
 * The early-error filter (worker/errfilter.c): h2o's own error responses
 * rewritten into the envelope of docs/API.md, Envelope, counted and logged.
 */
#ifndef GW_ERRFILTER_H
#define GW_ERRFILTER_H

#define H2O_USE_LIBUV 0
#include <h2o.h>

void gw_errfilter_register(h2o_pathconf_t *fallback);

#endif
