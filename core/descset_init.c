/*
 * message_init for the runtime message descriptors (core/descset_build.c).
 *
 * protobuf-c calls a descriptor's message_init with the message alone, not
 * its descriptor, so a runtime descriptor cannot share one init function.
 * Without one, protobuf-c's unpack falls back to its generic init, which
 * walks every field's default and makes unpacking a small message up to 15%
 * slower than with protoc-c's generated init (make bench-transcode). So each
 * runtime message takes one of GW_DS_INIT_SLOTS precompiled functions, a
 * slot, whose template (the message as protoc-c's init leaves it, built by
 * the link in the set's arena) it copies in. When the slots run out, a
 * message keeps message_init NULL: correct, only slower.
 *
 * The slots are process-global: taken by gw_descset_link, given back by
 * gw_descset_free. Used by the master alone (one thread; at start and on
 * SIGHUP, where the old and the new set are alive together); the workers
 * inherit the table with the set by fork() and only read it.
 */
#include <string.h>

#include "core/descset_int.h"

#define GW_DS_INIT_SLOTS 1000

typedef struct {
    const void *tmpl;
    size_t size;
    const gw_descset_t *owner; /* NULL: free */
} slot_t;

static slot_t slots[GW_DS_INIT_SLOTS];

/* init_000 ... init_999: each copies its slot's template. */
#define INIT_FN(a, b, c)                                                                                     \
    static void init_##a##b##c(ProtobufCMessage *m)                                                          \
    {                                                                                                        \
        const slot_t *s = &slots[a * 100 + b * 10 + c];                                                      \
        memcpy(m, s->tmpl, s->size);                                                                         \
    }
#define INIT_PTR(a, b, c) init_##a##b##c,
/* The generator macros are laid out by hand. */
/* clang-format off */
#define TEN(X, a, b) \
    X(a, b, 0) X(a, b, 1) X(a, b, 2) X(a, b, 3) X(a, b, 4) \
    X(a, b, 5) X(a, b, 6) X(a, b, 7) X(a, b, 8) X(a, b, 9)
#define HUNDRED(X, a) \
    TEN(X, a, 0) TEN(X, a, 1) TEN(X, a, 2) TEN(X, a, 3) TEN(X, a, 4) \
    TEN(X, a, 5) TEN(X, a, 6) TEN(X, a, 7) TEN(X, a, 8) TEN(X, a, 9)
#define THOUSAND(X) \
    HUNDRED(X, 0) HUNDRED(X, 1) HUNDRED(X, 2) HUNDRED(X, 3) HUNDRED(X, 4) \
    HUNDRED(X, 5) HUNDRED(X, 6) HUNDRED(X, 7) HUNDRED(X, 8) HUNDRED(X, 9)
/* clang-format on */

THOUSAND(INIT_FN)

static const ProtobufCMessageInit init_fns[GW_DS_INIT_SLOTS] = {THOUSAND(INIT_PTR)};

ProtobufCMessageInit gw_ds_init_slot(const gw_descset_t *set, const void *tmpl, size_t size)
{
    for (size_t i = 0; i < GW_DS_INIT_SLOTS; i++) {
        if (slots[i].owner == NULL) {
            slots[i] = (slot_t){tmpl, size, set};
            return init_fns[i];
        }
    }
    return NULL;
}

void gw_ds_init_release(const gw_descset_t *set)
{
    for (size_t i = 0; i < GW_DS_INIT_SLOTS; i++)
        if (slots[i].owner == set)
            slots[i] = (slot_t){NULL, 0, NULL};
}
