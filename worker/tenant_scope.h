/*
 * Tenant isolation (docs/API.md, Routes), called by the authorize stage
 * (worker/auth.c) once roles have passed; worker/tenant_scope.c.
 *
 * The tenant a request acts on is the token's. Admins (role admin or
 * super_admin) may name another one.
 */
#ifndef GW_TENANT_SCOPE_H
#define GW_TENANT_SCOPE_H

#include <stdbool.h>

#include "worker/request.h"

/* Check and fix the tenant of an authenticated request: answers 403
 * "tenant mismatch" (GW_DONE) when the request names a tenant other than
 * the token's and `admin` is false, or when a token without tenant_id
 * reaches a tenant-scoped route; answers 400 for input the transcoder
 * refuses. Otherwise sets r->tenant and, for gRPC routes, keeps the built
 * (and tenant-filled) input message for the dispatch stage. */
gw_stage_result_t gw_tenant_scope(gw_request_t *r, bool admin);

/* The input message the authorize stage built, now the caller's (free it
 * with protobuf_c_message_free_unpacked), or NULL if there is none. */
ProtobufCMessage *gw_tenant_scope_take_message(gw_request_t *r);

#endif
