/*
 * Authentication and authorization stages and the logout blacklist
 * (worker/auth.c).
 */
#ifndef GW_AUTH_H
#define GW_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "worker/request.h"

int gw_auth_init(gw_worker_t *w, char *err, size_t errlen);
void gw_auth_shutdown(gw_worker_t *w);

gw_stage_result_t gw_stage_authenticate(gw_request_t *r);
gw_stage_result_t gw_stage_authorize(gw_request_t *r);

/* After a successful Logout call: record the token's jti in the segment's
 * revocation table (shm/revoke.h), blacklist it in Redis, then send `body`.
 * Returns false (caller responds itself) when there is no jti, or no Redis
 * (the segment record is made all the same). */
bool gw_auth_logout_reply(gw_request_t *r, const char *body, size_t len);

#endif
