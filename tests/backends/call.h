/*
 * demo-backend: the per-call state of the gRPC server (private to
 * grpc_server.c and call.c). A call of a known method arrives with its
 * request message (registered method, payload read by gRPC), is answered,
 * and ends when the reply batch completes. A call of an unknown method
 * (generic request, no payload read) is answered UNIMPLEMENTED at once.
 */
#ifndef DEMO_CALL_H
#define DEMO_CALL_H

#include <stdbool.h>

#include <grpc/grpc.h>
#include <grpc/support/time.h>
#include <jansson.h>

#include "tests/backends/arena.h"
#include "tests/backends/backend.h"

enum call_stage { CALL_REQUESTED, CALL_REPLYING };

struct route; /* grpc_server.c */

struct call {
    enum call_stage stage;
    grpc_call *gcall;
    const struct route *route; /* NULL for unregistered (unknown) methods */
    const char *path;          /* the route's method path, or NULL */
    gpr_timespec deadline;
    grpc_call_details details; /* unregistered calls only */
    grpc_metadata_array md;
    grpc_byte_buffer *req_bb;  /* received request (owned) */
    grpc_byte_buffer *resp_bb; /* packed reply (owned) */
    grpc_status_code status;
    const char *status_msg; /* arena or static; NULL for OK */
    int cancelled;
    arena_t arena;
    ProtobufCAllocator pb_alloc;
};

struct call *call_new(void);
void call_free(struct call *c);

/* The method path, NUL-terminated, in the call's arena. */
const char *call_method(struct call *c);
/* Remaining deadline in ms, or -1 when the client set none. */
long call_deadline_ms(const struct call *c);
/* The received metadata as a JSON object (lowercase keys, -bin values base64). */
json_t *call_metadata_json(const struct call *c);

#endif
