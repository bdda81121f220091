/*
 * Internals of the descriptor set (core/descset.c, descset_wire.c,
 * descset_http.c, descset_build.c, descset_default.c, descset_init.c);
 * nothing else includes this but the
 * fuzz target (tests/fuzz/fuzz_descset.c, for gw_ds_message_at).
 *
 * descset_wire.c decodes FileDescriptorSet bytes into the plain model below
 * (ds_file_t and friends, every byte in the set's arena); descset_build.c
 * resolves type names over all files and builds the protobuf-c descriptors
 * from the model; descset.c owns the set, its arena and the public calls.
 */
#ifndef GW_DESCSET_INT_H
#define GW_DESCSET_INT_H

#include <stdarg.h>

#include "core/descset.h"

/* descriptor.proto's FieldDescriptorProto.Type and .Label numbers. */
enum {
    DS_TYPE_DOUBLE = 1,
    DS_TYPE_FLOAT = 2,
    DS_TYPE_INT64 = 3,
    DS_TYPE_UINT64 = 4,
    DS_TYPE_INT32 = 5,
    DS_TYPE_FIXED64 = 6,
    DS_TYPE_FIXED32 = 7,
    DS_TYPE_BOOL = 8,
    DS_TYPE_STRING = 9,
    DS_TYPE_GROUP = 10,
    DS_TYPE_MESSAGE = 11,
    DS_TYPE_BYTES = 12,
    DS_TYPE_UINT32 = 13,
    DS_TYPE_ENUM = 14,
    DS_TYPE_SFIXED32 = 15,
    DS_TYPE_SFIXED64 = 16,
    DS_TYPE_SINT32 = 17,
    DS_TYPE_SINT64 = 18,
    DS_LABEL_OPTIONAL = 1,
    DS_LABEL_REQUIRED = 2,
    DS_LABEL_REPEATED = 3,
};

typedef struct ds_file ds_file_t;

typedef struct {
    const char *name;
    int32_t number;
    int label, type;         /* DS_LABEL_*, DS_TYPE_* (0: only type_name given) */
    const char *type_name;   /* ".pkg.Msg" or NULL */
    const char *default_str; /* proto2 [default = ...] as protoc writes it, or NULL */
    int32_t oneof_index;     /* -1: none */
    bool proto3_optional, has_packed, packed, deprecated;
} ds_field_t;

typedef struct ds_msg {
    const char *full_name; /* "pkg.Outer.Inner" */
    const char *short_name;
    const ds_file_t *file;
    ds_field_t *fields; /* declaration order */
    size_t nfields;
    size_t noneofs;
    ProtobufCMessageDescriptor *built; /* allocated by the link */
    struct ds_msg *next;               /* the file's list */
} ds_msg_t;

typedef struct ds_enum {
    const char *full_name, *short_name;
    const ds_file_t *file;
    ProtobufCEnumValue *values; /* declaration order (name, number; c_name filled by the link) */
    size_t nvalues;
    ProtobufCEnumDescriptor *built;
    struct ds_enum *next; /* the file's list */
} ds_enum_t;

typedef struct {
    const char *name, *input_type, *output_type; /* types as written (".pkg.Msg") */
    bool client_streaming, server_streaming;
    gw_http_rule_t *rules;
    size_t nrules;
} ds_method_t;

typedef struct {
    const char *name;
    ds_method_t *methods;
    size_t nmethods;
} ds_service_t;

struct ds_file {
    const char *name, *package; /* package "" when none */
    bool proto3;
    const uint8_t *bytes; /* the FileDescriptorProto as read, to compare duplicates */
    size_t len;
    const char **deps;
    size_t ndeps;
    ds_msg_t *msgs, **msgs_tail; /* every message, nested ones too, parents first */
    size_t nmsgs;
    ds_enum_t *enums, **enums_tail; /* every enum, nested ones too */
    size_t nenums;
    ds_service_t *services;
    size_t nservices;
    ds_file_t *next;
};

/* Arena of the set: zeroed memory that lives until gw_descset_free. NULL
 * when out of memory. */
void *gw_ds_alloc(gw_descset_t *set, size_t size);
char *gw_ds_strndup(gw_descset_t *set, const char *s, size_t len);
char *gw_ds_printf(gw_descset_t *set, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Where errors go: the caller's buffer. */
typedef struct {
    char *buf;
    size_t len;
} ds_err_t;
int gw_ds_fail(ds_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Every message of a linked set, by index (sorted by full name); NULL past
 * the end. For tests that walk them all. */
const ProtobufCMessageDescriptor *gw_ds_message_at(const gw_descset_t *set, size_t i);

/* The files decoded so far (descset.c). */
ds_file_t *gw_ds_files(const gw_descset_t *set);

/* A file named `name` is already in the set: 1 when its bytes are the same
 * (skip it), -1 with an error when they differ, 0 when it is new. */
int gw_ds_check_dup(gw_descset_t *set, const char *name, const uint8_t *bytes, size_t len, const char *origin,
                    ds_err_t *err);
void gw_ds_append(gw_descset_t *set, ds_file_t *file);

/* ---- the wire reader (descset_wire.c; descset_http.c uses it too) ---- */
typedef struct {
    const uint8_t *p, *end;
} ds_wire_t;

typedef struct {
    uint32_t num;
    int wt;
    uint64_t v;          /* wire types 0, 1, 5 */
    const uint8_t *data; /* wire type 2 */
    size_t len;
} ds_wfield_t;

/* One decoding: the input's start (error offsets count from it), the set,
 * where errors go, and the file being decoded (for semantic errors). */
typedef struct {
    gw_descset_t *set;
    const uint8_t *base;
    const char *origin;
    ds_err_t *err;
    ds_file_t *file;
} ds_dec_t;

/* Next field of w: 1, 0 at the end, or -1 having written the error. */
int gw_ds_next(ds_dec_t *d, ds_wire_t *w, ds_wfield_t *f);
/* f has wire type wt, else -1 with "bad wire data". */
int gw_ds_want(ds_dec_t *d, const ds_wire_t *w, const ds_wfield_t *f, int wt);
/* A length-delimited field as an arena string (NUL bytes refused). */
int gw_ds_get_str(ds_dec_t *d, const ds_wire_t *w, const ds_wfield_t *f, const char **out);
int gw_ds_bad_wire(ds_dec_t *d, const uint8_t *at);
int gw_ds_oom(ds_dec_t *d);
/* How many length-delimited fields `num` in the bytes (sizes arrays). */
size_t gw_ds_count(const uint8_t *data, size_t len, uint32_t num);
/* Field 1 (the name of a message or service), checked as an identifier. */
int gw_ds_first_name(ds_dec_t *d, const ds_wfield_t *mf, const char *kind, const char **name);
bool gw_ds_good_ident(const char *s, bool dots, bool lead_dot);
bool gw_ds_good_text(const char *s);
const char *gw_ds_join(ds_dec_t *d, const char *scope, const char *name);

/* descset_http.c: one ServiceDescriptorProto, its methods and their rules. */
int gw_ds_decode_service(ds_dec_t *d, const ds_wfield_t *sf, ds_service_t *s);

/* descset_wire.c: decode one FileDescriptorSet, appending each new file.
 * Returns 0 or -1 with the error (starting with origin) in err. */
int gw_ds_decode_set(gw_descset_t *set, const uint8_t *data, size_t len, const char *origin, ds_err_t *err);

/* descset_build.c: resolve, check and build; fills the lookup tables. */
typedef struct {
    ds_msg_t **msgs; /* sorted by full_name */
    size_t nmsgs;
    ds_enum_t **enums; /* sorted by full_name */
    size_t nenums;
    gw_desc_service_t *services;
    size_t nservices;
} ds_index_t;
/* The message or enum of full name `name` in a built index, or NULL
 * (descset_build.c). */
ds_msg_t *gw_ds_find_msg(const ds_index_t *ix, const char *name);
ds_enum_t *gw_ds_find_enum(const ds_index_t *ix, const char *name);
int gw_ds_link(gw_descset_t *set, ds_index_t *index, ds_err_t *err);

/* descset_init.c: one of the precompiled message_init functions, copying
 * `tmpl` (size bytes); NULL when all are taken. Released by the set's free. */
ProtobufCMessageInit gw_ds_init_slot(const gw_descset_t *set, const void *tmpl, size_t size);
void gw_ds_init_release(const gw_descset_t *set);

/* descset_default.c: f->default_value of one field whose type, label and
 * sub-descriptor are set (enums already built), as protoc-c would have it. */
int gw_ds_field_default(gw_descset_t *set, const ds_msg_t *m, const ds_field_t *fd,
                        ProtobufCFieldDescriptor *f, ds_err_t *err);

#endif
