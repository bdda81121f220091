/*
 * Checks of tests/unit/test_descset.c (included there only): a runtime
 * descriptor against protoc-c's generated one, recursively through message
 * and enum fields, and pack/unpack round trips between the two.
 */
#ifndef GW_TEST_DESCSET_CHECK_H
#define GW_TEST_DESCSET_CHECK_H

#include <protobuf-c/protobuf-c.h>

#include "core/descset.h"

typedef struct {
    const char *names[128];
    size_t n;
} check_seen_t;

#define SAME_STR(a, b, what)                                                                                 \
    do {                                                                                                     \
        if (strcmp((a), (b)) != 0)                                                                           \
            fail_msg("%s: %s: runtime \"%s\", generated \"%s\"", ctx, what, (a), (b));                       \
    } while (0)
#define SAME_INT(a, b, what)                                                                                 \
    do {                                                                                                     \
        if ((long long)(a) != (long long)(b))                                                                \
            fail_msg("%s: %s: runtime %lld, generated %lld", ctx, what, (long long)(a), (long long)(b));     \
    } while (0)

static void check_enum(const ProtobufCEnumDescriptor *rt, const ProtobufCEnumDescriptor *gen)
{
    const char *ctx = gen->name;
    if (rt == NULL)
        fail_msg("enum %s: missing from the runtime set", gen->name);
    assert_int_equal(rt->magic, PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC);
    SAME_STR(rt->name, gen->name, "name");
    SAME_STR(rt->short_name, gen->short_name, "short_name");
    SAME_STR(rt->c_name, gen->c_name, "c_name");
    SAME_STR(rt->package_name, gen->package_name, "package_name");
    SAME_INT(rt->n_values, gen->n_values, "n_values");
    for (unsigned i = 0; i < gen->n_values; i++) {
        SAME_STR(rt->values[i].name, gen->values[i].name, "value name");
        SAME_STR(rt->values[i].c_name, gen->values[i].c_name, "value c_name");
        SAME_INT(rt->values[i].value, gen->values[i].value, "value");
    }
    SAME_INT(rt->n_value_names, gen->n_value_names, "n_value_names");
    for (unsigned i = 0; i < gen->n_value_names; i++) {
        SAME_STR(rt->values_by_name[i].name, gen->values_by_name[i].name, "values_by_name name");
        SAME_INT(rt->values_by_name[i].index, gen->values_by_name[i].index, "values_by_name index");
    }
    SAME_INT(rt->n_value_ranges, gen->n_value_ranges, "n_value_ranges");
    for (unsigned i = 0; i <= gen->n_value_ranges; i++) {
        SAME_INT(rt->value_ranges[i].start_value, gen->value_ranges[i].start_value, "range start");
        SAME_INT(rt->value_ranges[i].orig_index, gen->value_ranges[i].orig_index, "range index");
    }
}

static size_t default_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    default:
        return 4;
    }
}

static void check_default(const char *ctx, const ProtobufCFieldDescriptor *a,
                          const ProtobufCFieldDescriptor *b)
{
    if (a->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) { /* none at run time (core/descset_default.c) */
        assert_null(a->default_value);
        return;
    }
    if ((a->default_value == NULL) != (b->default_value == NULL))
        fail_msg("%s: default_value %p, generated %p", ctx, a->default_value, b->default_value);
    if (a->default_value == NULL)
        return;
    if (a->type == PROTOBUF_C_TYPE_STRING) {
        SAME_STR((const char *)a->default_value, (const char *)b->default_value, "string default");
        SAME_INT(a->default_value == &protobuf_c_empty_string, b->default_value == &protobuf_c_empty_string,
                 "default is protobuf_c_empty_string");
    } else if (a->type == PROTOBUF_C_TYPE_BYTES) {
        const ProtobufCBinaryData *x = a->default_value, *y = b->default_value;
        SAME_INT(x->len, y->len, "bytes default length");
        if (memcmp(x->data, y->data, x->len) != 0)
            fail_msg("%s: bytes default differs", ctx);
    } else if (a->type != PROTOBUF_C_TYPE_MESSAGE &&
               memcmp(a->default_value, b->default_value, default_size(a->type)))
        fail_msg("%s: default value differs", ctx);
}

/* The runtime init leaves every member as the generated one does (member
 * by member: struct assignment need not copy padding). Oneof unions are
 * compared through their case only. */
static void check_init(const ProtobufCMessageDescriptor *rt, const ProtobufCMessageDescriptor *gen)
{
    if (rt->message_init == NULL)
        fail_msg("%s: no message_init", gen->name);
    uint8_t *a = malloc(gen->sizeof_message), *b = malloc(gen->sizeof_message);
    assert_true(a != NULL && b != NULL);
    memset(a, 0xa5, gen->sizeof_message); /* not zero: the init must write every member */
    memset(b, 0xa5, gen->sizeof_message);
    gen->message_init((ProtobufCMessage *)a);
    rt->message_init((ProtobufCMessage *)b);
    const ProtobufCMessage *ma = (const ProtobufCMessage *)a, *mb = (const ProtobufCMessage *)b;
    assert_ptr_equal(mb->descriptor, rt);
    assert_true(mb->n_unknown_fields == 0 && mb->unknown_fields == NULL && ma->n_unknown_fields == 0);
    for (unsigned i = 0; i < gen->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &gen->fields[i];
        size_t q = 0, v = default_size(f->type);
        if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
            v = sizeof(void *);
        else if (f->type == PROTOBUF_C_TYPE_BYTES)
            v = sizeof(ProtobufCBinaryData);
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
            q = sizeof(size_t), v = sizeof(void *);
        else if (f->quantifier_offset != 0)
            q = sizeof(uint32_t); /* has_ or the oneof case */
        if (q && memcmp(a + f->quantifier_offset, b + f->quantifier_offset, q) != 0)
            fail_msg("%s.%s: runtime init differs in the quantifier", gen->name, f->name);
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || f->label == PROTOBUF_C_LABEL_REPEATED) {
            if (f->label == PROTOBUF_C_LABEL_REPEATED && memcmp(a + f->offset, b + f->offset, v) != 0)
                fail_msg("%s.%s: runtime init differs", gen->name, f->name);
        } else if (f->type == PROTOBUF_C_TYPE_STRING && f->default_value != NULL) { /* same text, own copy */
            const char *x = *(char **)(a + f->offset), *y = *(char **)(b + f->offset);
            if (strcmp(x, y) != 0 || (x == protobuf_c_empty_string) != (y == protobuf_c_empty_string))
                fail_msg("%s.%s: runtime init differs", gen->name, f->name);
        } else if (f->type == PROTOBUF_C_TYPE_BYTES && f->default_value != NULL) {
            const ProtobufCBinaryData *x = (void *)(a + f->offset), *y = (void *)(b + f->offset);
            if (x->len != y->len || memcmp(x->data, y->data, x->len) != 0)
                fail_msg("%s.%s: runtime init differs", gen->name, f->name);
        } else if (memcmp(a + f->offset, b + f->offset, v) != 0) {
            fail_msg("%s.%s: runtime init differs", gen->name, f->name);
        }
    }
    free(a);
    free(b);
}

static void check_message(const gw_descset_t *set, const ProtobufCMessageDescriptor *gen, check_seen_t *seen)
{
    for (size_t i = 0; i < seen->n; i++)
        if (strcmp(seen->names[i], gen->name) == 0)
            return;
    assert_true(seen->n < N(seen->names));
    seen->names[seen->n++] = gen->name;
    const char *ctx = gen->name;
    const ProtobufCMessageDescriptor *rt = gw_descset_message(set, gen->name);
    if (rt == NULL)
        fail_msg("message %s: missing from the runtime set", gen->name);
    assert_int_equal(rt->magic, PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    SAME_STR(rt->name, gen->name, "name");
    SAME_STR(rt->short_name, gen->short_name, "short_name");
    SAME_STR(rt->c_name, gen->c_name, "c_name");
    SAME_STR(rt->package_name, gen->package_name, "package_name");
    SAME_INT(rt->sizeof_message, gen->sizeof_message, "sizeof_message");
    SAME_INT(rt->n_fields, gen->n_fields, "n_fields");
    SAME_INT(rt->n_field_ranges, gen->n_field_ranges, "n_field_ranges");
    check_init(rt, gen);
    if (gen->n_fields == 0) {
        assert_null(rt->fields);
        return;
    }
    for (unsigned i = 0; i <= gen->n_field_ranges; i++) {
        SAME_INT(rt->field_ranges[i].start_value, gen->field_ranges[i].start_value, "range start");
        SAME_INT(rt->field_ranges[i].orig_index, gen->field_ranges[i].orig_index, "range index");
    }
    for (unsigned i = 0; i < gen->n_fields; i++) {
        SAME_INT(rt->fields_sorted_by_name[i], gen->fields_sorted_by_name[i], "fields_sorted_by_name");
        const ProtobufCFieldDescriptor *a = &rt->fields[i], *b = &gen->fields[i];
        char fctx[256];
        snprintf(fctx, sizeof(fctx), "%s.%s", gen->name, b->name);
        ctx = fctx;
        SAME_STR(a->name, b->name, "field name");
        SAME_INT(a->id, b->id, "number");
        SAME_INT(a->label, b->label, "label");
        SAME_INT(a->type, b->type, "type");
        SAME_INT(a->quantifier_offset, b->quantifier_offset, "quantifier_offset");
        SAME_INT(a->offset, b->offset, "offset");
        SAME_INT(a->flags, b->flags, "flags");
        check_default(fctx, a, b);
        if (b->type == PROTOBUF_C_TYPE_MESSAGE) {
            const ProtobufCMessageDescriptor *sub = b->descriptor;
            assert_ptr_equal(a->descriptor, gw_descset_message(set, sub->name));
            check_message(set, sub, seen);
        } else if (b->type == PROTOBUF_C_TYPE_ENUM) {
            check_enum(a->descriptor, b->descriptor);
        } else {
            assert_null(a->descriptor);
        }
        ctx = gen->name;
    }
}

static uint8_t *pack_alloc(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(*len ? *len : 1);
    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(m, buf), *len);
    return buf;
}

/* gen packed -> runtime unpack -> pack: the same bytes; and those bytes
 * unpacked by the generated descriptor pack the same again. */
static void check_roundtrip(const ProtobufCMessage *m, const ProtobufCMessageDescriptor *rt)
{
    size_t n1, n2, n3;
    uint8_t *b1 = pack_alloc(m, &n1);
    ProtobufCMessage *u = protobuf_c_message_unpack(rt, NULL, n1, b1);
    if (u == NULL)
        fail_msg("%s: the runtime descriptor cannot unpack %zu bytes", rt->name, n1);
    assert_ptr_equal(u->descriptor, rt);
    uint8_t *b2 = pack_alloc(u, &n2);
    assert_int_equal(n2, n1);
    assert_memory_equal(b2, b1, n1);
    ProtobufCMessage *g = protobuf_c_message_unpack(m->descriptor, NULL, n2, b2);
    assert_non_null(g);
    uint8_t *b3 = pack_alloc(g, &n3);
    assert_int_equal(n3, n1);
    assert_memory_equal(b3, b1, n1);
    protobuf_c_message_free_unpacked(u, NULL);
    protobuf_c_message_free_unpacked(g, NULL);
    free(b1);
    free(b2);
    free(b3);
}

#undef SAME_STR
#undef SAME_INT

#endif
