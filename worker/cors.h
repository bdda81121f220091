/*
 * CORS (CORS_ALLOWED_ORIGINS; empty = off): the Access-Control-* headers on
 * responses to allowed origins and the answer to preflight requests.
 * Called by worker/respond.c (headers) and worker/pipeline.c (preflight).
 */
#ifndef GW_CORS_H
#define GW_CORS_H

#include <stdbool.h>

#include "worker/request.h"

/* Add Access-Control-Allow-Origin etc. when the request's Origin is allowed. */
void gw_cors_add_headers(gw_request_t *r);

/* If r is a preflight (OPTIONS + Origin + Access-Control-Request-Method) and
 * CORS is on, answer it and return true. `allowed` = the template's methods. */
bool gw_cors_preflight(gw_request_t *r, unsigned allowed);

#endif
