/*
 * Service definitions loaded at run time: FileDescriptorSets as written by
 * `protoc --include_imports --descriptor_set_out=FILE` (PROTO_DESCRIPTOR_SET,
 * or the bundled set built from proto/ and linked into the binary).
 *
 * core/descset.c decodes the protobuf wire format of descriptor.proto itself
 * (the parts it needs: files, messages, fields, oneofs, enums, services,
 * methods and the google.api.http option, extension 72295728 of
 * MethodOptions) and builds protobuf-c message and enum descriptors at run
 * time, laid out exactly as protoc-c would generate them, so that
 * worker/transcode/ and protobuf-c's pack/unpack serve any message.
 *
 * Called by core/api.c (the route table) in the master at start and on every
 * SIGHUP; workers inherit the built set by fork() and only read it. The set
 * owns every byte it hands out (descriptors, names, rules); all of it lives
 * until gw_descset_free. A runtime message descriptor's message_init may be
 * NULL (each takes one of 1000 precompiled ones, so that unpack is as fast as
 * with generated code, while those last): create messages with protobuf-c's
 * unpack or worker/transcode's gw_tc_new_message, never
 * protobuf_c_message_init.
 */
#ifndef GW_DESCSET_H
#define GW_DESCSET_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One google.api.http binding of a method: the primary rule, then each of
 * its additional_bindings (flattened, in order). */
typedef struct {
    const char *verb;          /* "GET", "PUT", "POST", "DELETE", "PATCH", or custom.kind as written */
    const char *path;          /* the path template as written */
    const char *body;          /* NULL (no body), "*", or a field path ("item", "a.b") */
    const char *response_body; /* NULL, or a field path of the response message */
} gw_http_rule_t;

typedef struct {
    const char *name;      /* "GetUser" */
    const char *full_name; /* "user.UserService/GetUser" (the form policy keys use) */
    const char *rpc;       /* "/user.UserService/GetUser" (the gRPC :path) */
    const ProtobufCMessageDescriptor *input;
    const ProtobufCMessageDescriptor *output;
    bool client_streaming, server_streaming;
    const gw_http_rule_t *rules; /* none when the method has no google.api.http option */
    size_t nrules;
} gw_desc_method_t;

typedef struct {
    const char *full_name; /* "user.UserService" */
    const char *file;      /* the .proto it was declared in ("user.proto") */
    const gw_desc_method_t *methods;
    size_t nmethods;
} gw_desc_service_t;

typedef struct gw_descset gw_descset_t;

/* An empty set; NULL when out of memory. */
gw_descset_t *gw_descset_new(void);

/*
 * Decode one serialized FileDescriptorSet (`len` bytes at `data`, which the
 * set copies what it keeps from: the caller may free data afterwards) and add
 * its files. A file name already in the set is skipped when its content is
 * identical and an error otherwise. `origin` names the source in errors
 * ("/etc/api-gateway/billing.pb", "bundled"). Returns 0, or -1 with a
 * one-line message in err, e.g.
 *   /x.pb: not a FileDescriptorSet (bad wire data at byte 17)
 *   /x.pb: billing.proto: message billing.v1.Invoice: groups are not supported
 * After an error the set must only be freed.
 */
int gw_descset_add(gw_descset_t *set, const uint8_t *data, size_t len, const char *origin, char *err,
                   size_t errlen);

/* gw_descset_add on the contents of file `path` (origin = path); a file that
 * cannot be read is "<path>: <strerror>". */
int gw_descset_add_file(gw_descset_t *set, const char *path, char *err, size_t errlen);

/* The set linked into the binary (the .proto files of proto/, compiled by
 * protoc at build time). */
int gw_descset_add_bundled(gw_descset_t *set, char *err, size_t errlen);

/*
 * Resolve every type name (fully qualified, ".pkg.Msg"), check it, and build
 * the protobuf-c descriptors. Call once after the last gw_descset_add; the set
 * is read-only afterwards. Errors name the file and the element:
 *   billing.proto: field billing.v1.Invoice.item: unknown type .billing.v1.Item
 * Returns 0 or -1 (the set must then only be freed).
 */
int gw_descset_link(gw_descset_t *set, char *err, size_t errlen);

/* Lookups by full name without a leading dot ("user.GetUserRequest");
 * NULL when absent. Valid after gw_descset_link. */
const ProtobufCMessageDescriptor *gw_descset_message(const gw_descset_t *set, const char *full_name);
const ProtobufCEnumDescriptor *gw_descset_enum(const gw_descset_t *set, const char *full_name);

/* Services in file order, then declaration order. */
size_t gw_descset_nservices(const gw_descset_t *set);
const gw_desc_service_t *gw_descset_service(const gw_descset_t *set, size_t i);

void gw_descset_free(gw_descset_t *set);

/* The bytes one value of a field of type `t` takes in a protobuf-c message
 * (a repeated field's element; a pointer for strings and messages), as
 * protoc-c lays messages out. Used by the descriptor builder and by
 * worker/transcode to copy values. */
size_t gw_descset_value_size(ProtobufCType t);

/* Whether the n bytes at s are a protobuf identifier ([A-Za-z_][A-Za-z0-9_]*)
 * or, with `dots`, a dotted name of identifiers ("billing.v1", "a.b"): the
 * one check for names in descriptor sets, path-template field paths
 * (core/router.c) and TENANT_FIELD (core/api.c). */
bool gw_descset_is_name(const char *s, size_t n, bool dots);

#endif
