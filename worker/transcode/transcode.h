/*
 * JSON <-> protobuf-c transcoding for the REST -> gRPC path (docs/API.md, Envelope).
 *
 * Driven only by protobuf-c descriptors: no per-message code. Called by the
 * gRPC upstream (worker/upstream_grpc.c) to build a route's input message from
 * the JSON body, query parameters and path variables, and to render the
 * backend's reply as JSON.
 *
 * Descriptors may be protoc-c's or built at run time (core/descset.c, with
 * no message_init): messages are made from the descriptor alone (its
 * defaults), never with protobuf_c_message_init.
 *
 * Mapping (the contract, see docs/API.md, Envelope):
 *   output  proto field names, every field emitted at its default (sub-messages
 *           as null when unset; of a oneof only the member that is set; a field
 *           with explicit presence - proto2/proto3 `optional` scalar, string or
 *           bytes - only when set), fields in field-number order (= declaration
 *           order in our protos), 64-bit integers as JSON numbers, enums by name
 *           (unknown numbers as numbers), bytes as standard base64, maps as
 *           objects, NaN/Infinity as strings, the well-known wrappers
 *           (google.protobuf.Int32Value... by full name) as their bare value
 *           (null when unset), compact.
 *   input   snake_case or lowerCamelCase names, numbers or numeric strings,
 *           true/false or "true"/"false", enums by name or number, bytes as
 *           standard or URL-safe base64 with or without padding, wrappers as
 *           the bare value, null = default (unset). Unknown fields, duplicate
 *           keys (also "page_size" next to "pageSize"), a second member of a
 *           oneof, out-of-range numbers and nesting deeper than
 *           GW_TRANSCODE_MAX_DEPTH are errors.
 *
 * Files: transcode.c (entry points, parameters, lookup, error texts),
 * transcode_value.c (conversion and storage), transcode_lex.c (JSON tokens),
 * transcode_in.c (the body parser), transcode_out.c (the writer); their
 * shared internals are in transcode_int.h. No global state: safe to call
 * from any thread. Numbers are read and written in the C locale's format:
 * the process must not setlocale(LC_NUMERIC) to anything else.
 */
#ifndef GW_TRANSCODE_H
#define GW_TRANSCODE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Messages may nest this deep in a request (the request itself is level 1;
 * arrays and maps do not count). */
#define GW_TRANSCODE_MAX_DEPTH 32

/* Return codes of gw_transcode_request / gw_transcode_response_packed. */
#define GW_TRANSCODE_OK      0
#define GW_TRANSCODE_INVALID (-1) /* the client's input is wrong (answer 400) */
#define GW_TRANSCODE_NOMEM   (-2) /* out of memory (answer 500) */
/* The route's body or response field is not a field path of the message:
 * the route table should have refused it (answer 500). */
#define GW_TRANSCODE_ROUTE (-3)

/* One name/value pair from a URL path variable or query parameter (not
 * NUL-terminated, already percent-decoded). The strings stay the caller's. */
typedef struct {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} gw_transcode_param_t;

/*
 * Build a message of type `desc` from an optional JSON body (body == NULL or
 * len == 0 means no body), then apply the query parameters, then the path
 * variables (so path variables win over both).
 *
 * `body_field` is the route's google.api.http `body`: "*" = the body is the
 * whole message (a JSON object); a field path ("item", "a.b", through
 * singular sub-messages made as needed) = the body is that field's value
 * (an object for a message field, a bare value for a wrapper, an array for
 * a repeated field, an object for a map, a scalar for a scalar; null leaves
 * it unset); NULL = the route takes no body, and a non-empty one is an error.
 *
 * Query parameters: a repeated field gets one element appended per parameter,
 * a singular field takes the last value; `a.b` names a field of the
 * sub-message `a`; a wrapper field takes the value into its `value`; an
 * unknown name is an error. Path variables use the same rules, except that
 * a variable naming no field is ignored (the route table, not the client,
 * chooses variable names).
 *
 * Returns GW_TRANSCODE_OK with *out set to a message the caller frees with
 * protobuf_c_message_free_unpacked(*out, NULL). On failure returns
 * GW_TRANSCODE_INVALID, GW_TRANSCODE_NOMEM or GW_TRANSCODE_ROUTE, leaves *out
 * untouched and writes a NUL-terminated message into err (errlen > 0),
 * client-facing for GW_TRANSCODE_INVALID, e.g.
 *   invalid JSON body: unknown field "x"
 *   invalid JSON body: field "page": expected integer, got string "abc"
 *   invalid JSON body: '[' or '{' expected near 'xyz' (line 1, column 3)
 *   invalid JSON body: expected an object
 *   invalid JSON body: this route takes no body
 *   invalid query parameter "page": expected integer, got "abc"
 *   invalid query parameter "x": unknown field
 * (the full list is in tests/unit/test_transcode_errors.c).
 */
int gw_transcode_request(const ProtobufCMessageDescriptor *desc, const char *body, size_t len,
                         const char *body_field, const gw_transcode_param_t *query, size_t nquery,
                         const gw_transcode_param_t *vars, size_t nvars, ProtobufCMessage **out, char *err,
                         size_t errlen);

/* Set the top-level singular string field named `field` (proto name) to a
 * copy of `value` if the message has such a field and it is currently empty
 * (fills an empty tenant_id from the JWT); a google.protobuf.StringValue
 * field counts as its value (made if unset). Returns 1 if set, 0 otherwise
 * (no such field, not empty, another member of its oneof set, or out of
 * memory). */
int gw_transcode_fill_string_if_empty(ProtobufCMessage *msg, const char *field, const char *value);

/* Render a message as compact JSON into a malloc'd, NUL-terminated buffer the
 * caller frees; *len_out (if not NULL) gets its length without the NUL.
 * Returns NULL only when out of memory. */
char *gw_transcode_response(const ProtobufCMessage *msg, size_t *len_out);

/*
 * The reply path in one call: unpack `len` bytes of protobuf wire data as a
 * `desc` message and render it as JSON. Faster than protobuf_c_message_unpack
 * + gw_transcode_response + free: the unpacked message lives in a scratch
 * arena (mostly on the stack), so a reply costs a handful of mallocs instead
 * of one per string. On success returns GW_TRANSCODE_OK and *json_out is a
 * malloc'd buffer as from gw_transcode_response. Returns GW_TRANSCODE_INVALID
 * when the data is not a valid `desc` message (or memory ran out while
 * unpacking: protobuf-c does not tell the two apart), GW_TRANSCODE_NOMEM when
 * memory ran out while writing JSON.
 */
int gw_transcode_response_packed(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                                 char **json_out, size_t *len_out);

/* gw_transcode_response_packed, but every field (of any message, at any
 * depth) whose proto name is in the comma-separated `redact` list is left
 * out of the JSON, key and value (RESPONSE_REDACT_FIELDS: "password_hash").
 * `redact` NULL or "" leaves nothing out. Map entries are values, not
 * fields: their keys are never redacted.
 *
 * `response_field` is the route's google.api.http `response_body`: NULL =
 * the whole message; a field path ("user", "a.b") = only that field's value
 * (a message as an object, a wrapper as its bare value, a repeated field as
 * an array, a map as an object, a scalar as its value; null when the field
 * is an unset message, wrapper, oneof member or optional field, or when a
 * name on its path is redacted). A path that names no field gives
 * GW_TRANSCODE_ROUTE. */
int gw_transcode_response_redacted(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                                   const char *redact, const char *response_field, char **json_out,
                                   size_t *len_out);

#endif
