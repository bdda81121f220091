/*
 * demo-backend: per-call state and the call API the service handlers use
 * (arena allocation, error status, request metadata).
 */
#include "tests/backends/call.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>

#include "tests/backends/record.h"
#include "tests/backends/util.h"

static void *pb_arena_alloc(void *data, size_t size)
{
    return arena_alloc(data, size);
}

static void pb_arena_free(void *data, void *ptr)
{
    (void)data; /* released with the arena */
    (void)ptr;
}

struct call *call_new(void)
{
    struct call *c = xcalloc(1, sizeof *c);
    grpc_call_details_init(&c->details);
    grpc_metadata_array_init(&c->md);
    c->status = GRPC_STATUS_OK;
    c->pb_alloc.alloc = pb_arena_alloc;
    c->pb_alloc.free = pb_arena_free;
    c->pb_alloc.allocator_data = &c->arena;
    return c;
}

void call_free(struct call *c)
{
    if (c->gcall != NULL)
        grpc_call_unref(c->gcall);
    if (c->req_bb != NULL)
        grpc_byte_buffer_destroy(c->req_bb);
    if (c->resp_bb != NULL)
        grpc_byte_buffer_destroy(c->resp_bb);
    grpc_call_details_destroy(&c->details);
    grpc_metadata_array_destroy(&c->md);
    arena_free(&c->arena);
    free(c);
}

void *call_alloc(call_t *c, size_t n)
{
    return arena_alloc(&c->arena, n);
}

char *call_strdup(call_t *c, const char *s)
{
    if (s == NULL)
        s = "";
    return arena_strndup(&c->arena, s, strlen(s));
}

void *call_new_msg(call_t *c, const ProtobufCMessageDescriptor *d)
{
    void *m = arena_alloc(&c->arena, d->sizeof_message);
    d->message_init(m);
    return m;
}

void *call_ptrs(call_t *c, size_t n)
{
    return arena_alloc(&c->arena, (n ? n : 1) * sizeof(void *));
}

struct map_entry {
    ProtobufCMessage base;
    char *key;
    char *value;
};

void *call_map_entry(call_t *c, const ProtobufCMessageDescriptor *d, const char *key, const char *value)
{
    struct map_entry *e;
    assert(d->n_fields == 2 && d->fields[0].offset == offsetof(struct map_entry, key) &&
           d->fields[1].offset == offsetof(struct map_entry, value) &&
           d->fields[1].type == PROTOBUF_C_TYPE_STRING);
    e = call_new_msg(c, d);
    e->key = call_strdup(c, key);
    e->value = call_strdup(c, value);
    return e;
}

char **call_strv(call_t *c, char *const *src, size_t n)
{
    char **v = call_ptrs(c, n);
    for (size_t i = 0; i < n; i++)
        v[i] = call_strdup(c, src[i]);
    return v;
}

grpc_status_code call_error(call_t *c, grpc_status_code code, const char *msg)
{
    c->status = code;
    c->status_msg = msg ? call_strdup(c, msg) : NULL;
    return code;
}

grpc_status_code call_status(call_t *c)
{
    return c->status;
}

ProtobufCAllocator *call_pb_allocator(call_t *c)
{
    return &c->pb_alloc;
}

static bool slice_eq(grpc_slice s, const char *str)
{
    size_t n = strlen(str);
    return GRPC_SLICE_LENGTH(s) == n && memcmp(GRPC_SLICE_START_PTR(s), str, n) == 0;
}

const char *call_metadata(call_t *c, const char *key)
{
    for (size_t i = 0; i < c->md.count; i++) {
        const grpc_metadata *m = &c->md.metadata[i];
        if (slice_eq(m->key, key))
            return arena_strndup(&c->arena, (const char *)GRPC_SLICE_START_PTR(m->value),
                                 GRPC_SLICE_LENGTH(m->value));
    }
    return NULL;
}

const char *call_method(struct call *c)
{
    grpc_slice m = c->details.method;
    if (c->path != NULL)
        return c->path;
    return arena_strndup(&c->arena, (const char *)GRPC_SLICE_START_PTR(m), GRPC_SLICE_LENGTH(m));
}

long call_deadline_ms(const struct call *c)
{
    gpr_timespec dl = c->deadline;
    gpr_timespec now;
    if (gpr_time_cmp(dl, gpr_inf_future(dl.clock_type)) == 0)
        return -1;
    dl = gpr_convert_clock_type(dl, GPR_CLOCK_MONOTONIC);
    now = gpr_now(GPR_CLOCK_MONOTONIC);
    if (gpr_time_cmp(dl, now) <= 0)
        return 0;
    return (long)gpr_time_to_millis(gpr_time_sub(dl, now));
}

static json_t *md_value_json(const grpc_metadata *m)
{
    const char *k = (const char *)GRPC_SLICE_START_PTR(m->key);
    size_t kl = GRPC_SLICE_LENGTH(m->key);
    const char *v = (const char *)GRPC_SLICE_START_PTR(m->value);
    size_t vl = GRPC_SLICE_LENGTH(m->value);
    if (kl > 4 && memcmp(k + kl - 4, "-bin", 4) == 0)
        return json_base64((const unsigned char *)v, vl);
    return json_str_safe(v, vl);
}

json_t *call_metadata_json(const struct call *c)
{
    json_t *obj = json_object();
    for (size_t i = 0; i < c->md.count; i++) {
        const grpc_metadata *m = &c->md.metadata[i];
        char *key = strndup((const char *)GRPC_SLICE_START_PTR(m->key), GRPC_SLICE_LENGTH(m->key));
        json_t *val = md_value_json(m);
        json_t *prev = key ? json_object_get(obj, key) : NULL;
        if (key == NULL || val == NULL) {
            json_decref(val);
        } else if (prev != NULL && json_is_string(prev) && json_is_string(val)) {
            /* repeated key: comma-join, as HTTP does */
            json_object_set_new(obj, key,
                                json_sprintf("%s,%s", json_string_value(prev), json_string_value(val)));
            json_decref(val);
        } else {
            json_object_set_new(obj, key, val);
        }
        free(key);
    }
    return obj;
}
