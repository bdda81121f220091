/*
 * Test fixture for the transcoder: "test.Kitchen", a protobuf-c message
 * described by hand, with the field kinds our .proto files lack (uint64,
 * sint32, fixed64, float, double, bytes, repeated int64/enum/bytes, a map
 * with int32 keys, a map of messages, a oneof, and recursion for the depth
 * limit). Equivalent .proto:
 *
 *   message Kitchen {
 *     int64 i64 = 1; uint64 u64 = 2; uint32 u32 = 3; sint32 s32 = 4; fixed64 f64 = 5;
 *     float f = 6; double d = 7; bytes by = 8; repeated int64 i64s = 9;
 *     map<int32, string> int_map = 10; Kitchen child = 11; map<string, Kitchen> kids = 12;
 *     oneof choice { string one_s = 13; int32 one_i = 14; }
 *     repeated grpc.health.v1.HealthCheckResponse.ServingStatus statuses = 15;
 *     bool flag = 16; repeated bytes blobs = 17;
 *   }
 *
 * Like the descriptors core/descset.c builds at run time, these have no
 * message_init: the transcoder makes messages from the descriptor alone.
 *
 * Included (static definitions) by tests/unit/test_transcode.c and
 * tests/fuzz/fuzz_transcode.c only. Needs proto/pb.h for the enum.
 */
#ifndef GW_TEST_TRANSCODE_KITCHEN_H
#define GW_TEST_TRANSCODE_KITCHEN_H

#include <stddef.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "proto/pb.h"

typedef struct Kitchen Kitchen;

typedef struct {
    ProtobufCMessage base;
    int32_t key;
    char *value;
} KitchenIntMapEntry;

typedef struct {
    ProtobufCMessage base;
    char *key;
    Kitchen *value;
} KitchenKidsEntry;

struct Kitchen {
    ProtobufCMessage base;
    int64_t i64;
    uint64_t u64;
    uint32_t u32;
    int32_t s32;
    uint64_t f64;
    float f;
    double d;
    ProtobufCBinaryData by;
    size_t n_i64s;
    int64_t *i64s;
    size_t n_int_map;
    KitchenIntMapEntry **int_map;
    Kitchen *child;
    size_t n_kids;
    KitchenKidsEntry **kids;
    uint32_t choice_case;
    union {
        char *one_s;
        int32_t one_i;
    };
    size_t n_statuses;
    int *statuses;
    protobuf_c_boolean flag;
    size_t n_blobs;
    ProtobufCBinaryData *blobs;
};

static const ProtobufCMessageDescriptor kitchen_descriptor;
static const ProtobufCMessageDescriptor kitchen_int_map_entry_descriptor;
static const ProtobufCMessageDescriptor kitchen_kids_entry_descriptor;

#define KF(nm, num, lbl, typ, q, desc, flg)                                                                  \
    {                                                                                                        \
        .name = #nm, .id = num, .label = PROTOBUF_C_LABEL_##lbl, .type = PROTOBUF_C_TYPE_##typ,              \
        .quantifier_offset = q, .offset = offsetof(Kitchen, nm), .descriptor = desc, .flags = flg            \
    }
#define KQ(nm) offsetof(Kitchen, n_##nm)

static const ProtobufCFieldDescriptor kitchen_fields[17] = {
    KF(i64, 1, NONE, INT64, 0, NULL, 0),
    KF(u64, 2, NONE, UINT64, 0, NULL, 0),
    KF(u32, 3, NONE, UINT32, 0, NULL, 0),
    KF(s32, 4, NONE, SINT32, 0, NULL, 0),
    KF(f64, 5, NONE, FIXED64, 0, NULL, 0),
    KF(f, 6, NONE, FLOAT, 0, NULL, 0),
    KF(d, 7, NONE, DOUBLE, 0, NULL, 0),
    KF(by, 8, NONE, BYTES, 0, NULL, 0),
    KF(i64s, 9, REPEATED, INT64, KQ(i64s), NULL, PROTOBUF_C_FIELD_FLAG_PACKED),
    KF(int_map, 10, REPEATED, MESSAGE, KQ(int_map), &kitchen_int_map_entry_descriptor, 0),
    KF(child, 11, NONE, MESSAGE, 0, &kitchen_descriptor, 0),
    KF(kids, 12, REPEATED, MESSAGE, KQ(kids), &kitchen_kids_entry_descriptor, 0),
    KF(one_s, 13, NONE, STRING, offsetof(Kitchen, choice_case), NULL, PROTOBUF_C_FIELD_FLAG_ONEOF),
    KF(one_i, 14, NONE, INT32, offsetof(Kitchen, choice_case), NULL, PROTOBUF_C_FIELD_FLAG_ONEOF),
    KF(statuses, 15, REPEATED, ENUM, KQ(statuses),
       &grpc__health__v1__health_check_response__serving_status__descriptor, PROTOBUF_C_FIELD_FLAG_PACKED),
    KF(flag, 16, NONE, BOOL, 0, NULL, 0),
    KF(blobs, 17, REPEATED, BYTES, KQ(blobs), NULL, 0),
};
static const unsigned kitchen_by_name[17] = {16, 7, 10, 6, 5, 4, 15, 0, 8, 9, 11, 13, 12, 3, 14, 2, 1};
static const ProtobufCIntRange kitchen_ranges[2] = {{1, 0}, {0, 17}};

static const ProtobufCFieldDescriptor kitchen_int_map_entry_fields[2] = {
    {.name = "key",
     .id = 1,
     .label = PROTOBUF_C_LABEL_NONE,
     .type = PROTOBUF_C_TYPE_INT32,
     .offset = offsetof(KitchenIntMapEntry, key)},
    {.name = "value",
     .id = 2,
     .label = PROTOBUF_C_LABEL_NONE,
     .type = PROTOBUF_C_TYPE_STRING,
     .offset = offsetof(KitchenIntMapEntry, value),
     .default_value = protobuf_c_empty_string},
};
static const ProtobufCFieldDescriptor kitchen_kids_entry_fields[2] = {
    {.name = "key",
     .id = 1,
     .label = PROTOBUF_C_LABEL_NONE,
     .type = PROTOBUF_C_TYPE_STRING,
     .offset = offsetof(KitchenKidsEntry, key),
     .default_value = protobuf_c_empty_string},
    {.name = "value",
     .id = 2,
     .label = PROTOBUF_C_LABEL_NONE,
     .type = PROTOBUF_C_TYPE_MESSAGE,
     .offset = offsetof(KitchenKidsEntry, value),
     .descriptor = &kitchen_descriptor},
};
static const unsigned kitchen_entry_by_name[2] = {0, 1};
static const ProtobufCIntRange kitchen_entry_ranges[2] = {{1, 0}, {0, 2}};

static const ProtobufCMessageDescriptor kitchen_descriptor = {PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
                                                              "test.Kitchen",
                                                              "Kitchen",
                                                              "Kitchen",
                                                              "test",
                                                              sizeof(Kitchen),
                                                              17,
                                                              kitchen_fields,
                                                              kitchen_by_name,
                                                              1,
                                                              kitchen_ranges,
                                                              NULL};
static const ProtobufCMessageDescriptor kitchen_int_map_entry_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    "test.Kitchen.IntMapEntry",
    "IntMapEntry",
    "Kitchen__IntMapEntry",
    "test",
    sizeof(KitchenIntMapEntry),
    2,
    kitchen_int_map_entry_fields,
    kitchen_entry_by_name,
    1,
    kitchen_entry_ranges,
    NULL};
static const ProtobufCMessageDescriptor kitchen_kids_entry_descriptor = {PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
                                                                         "test.Kitchen.KidsEntry",
                                                                         "KidsEntry",
                                                                         "Kitchen__KidsEntry",
                                                                         "test",
                                                                         sizeof(KitchenKidsEntry),
                                                                         2,
                                                                         kitchen_kids_entry_fields,
                                                                         kitchen_entry_by_name,
                                                                         1,
                                                                         kitchen_entry_ranges,
                                                                         NULL};

#undef KF
#undef KQ

#endif
