/*
 * Internals shared by the transcoder's files. Nothing else includes this
 * header (but the transcoder's tests and fuzzer): the public API is
 * worker/transcode/transcode.h.
 *
 *   transcode.c        public request API, field lookup, parameters, error texts
 *   transcode_value.c  value conversion and storage into messages
 *   transcode_lex.c    JSON tokens (jansson's grammar), number and UTF-8 text
 *   transcode_in.c     the body parser: JSON straight into a message
 *   transcode_out.c    the writer: message to JSON, and the reply fast path
 *
 * Values travel in two steps: a gw_tc_from_* function converts JSON or URL
 * text into a tc_value_t for one field, then gw_tc_store puts it into the
 * message (setting, replacing or appending). Heap pointers inside a
 * tc_value_t (str, bytes.data, msg) belong to the value until gw_tc_store
 * takes them; gw_tc_store takes them on every path, success or not.
 */
#ifndef GW_TRANSCODE_INT_H
#define GW_TRANSCODE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Why a conversion or a store failed. */
typedef enum {
    TC_OK = 0,
    TC_BAD_VALUE, /* wrong JSON type or unparsable text for the field */
    TC_RANGE,     /* the right kind of number, but it does not fit the field */
    TC_ONEOF,     /* another member of the field's oneof is already set */
    TC_NOMEM,
} tc_status_t;

/* One field's value, laid out exactly as protobuf-c stores it in a message. */
typedef union {
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    float f;
    double d;
    protobuf_c_boolean b;
    char *str;                 /* malloc'd, NUL-terminated */
    ProtobufCBinaryData bytes; /* data malloc'd (NULL when len == 0) */
    ProtobufCMessage *msg;     /* from gw_tc_new_message */
} tc_value_t;

/* What the client sent, for error messages: `kind` ("string", "number", ""
 * for URL text...) and the text of the value, shown in quotes if `quote`. */
typedef struct {
    const char *kind;
    const char *text;
    size_t len;
    bool quote;
} tc_got_t;

/* ---- descriptors (transcode.c, transcode_value.c) ---- */

/* Where field f lives in message m. */
static inline void *gw_tc_member(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    return (char *)m + f->offset;
}

/* Whether f holds a value that is its own: not a oneof member whose oneof
 * currently holds another member (their storage is shared). */
static inline bool gw_tc_is_live(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    return !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
           *(const uint32_t *)((const char *)m + f->quantifier_offset) == f->id;
}

static inline bool gw_tc_is_integer(ProtobufCType t)
{
    return t == PROTOBUF_C_TYPE_INT32 || t == PROTOBUF_C_TYPE_SINT32 || t == PROTOBUF_C_TYPE_SFIXED32 ||
           t == PROTOBUF_C_TYPE_UINT32 || t == PROTOBUF_C_TYPE_FIXED32 || t == PROTOBUF_C_TYPE_INT64 ||
           t == PROTOBUF_C_TYPE_SINT64 || t == PROTOBUF_C_TYPE_SFIXED64 || t == PROTOBUF_C_TYPE_UINT64 ||
           t == PROTOBUF_C_TYPE_FIXED64;
}

/* strcmp of key[0..len) (not NUL-terminated) against the NUL-terminated s. */
int gw_tc_name_cmp(const char *key, size_t len, const char *s);
/* The field of `d` called `name` (not NUL-terminated): its proto name or its
 * lowerCamelCase JSON name. NULL if none. */
const ProtobufCFieldDescriptor *gw_tc_field(const ProtobufCMessageDescriptor *d, const char *name,
                                            size_t len);
/* Whether `f` of message `parent` is a map (a repeated XxxEntry{key=1,value=2}
 * nested in `parent`, named after the field as protoc names map entries). */
bool gw_tc_is_map(const ProtobufCMessageDescriptor *parent, const ProtobufCFieldDescriptor *f);
/* Whether `d` is one of google/protobuf/wrappers.proto's messages
 * (DoubleValue ... BytesValue, by full name), which JSON shows as the bare
 * value of its one field (the proto3 JSON mapping). */
bool gw_tc_is_wrapper(const ProtobufCMessageDescriptor *d);
/* A new message with the descriptor's defaults, made without the generated
 * message_init (runtime descriptors have none); free with
 * protobuf_c_message_free_unpacked. NULL on OOM. (transcode_value.c) */
ProtobufCMessage *gw_tc_new_message(const ProtobufCMessageDescriptor *d);

/* ---- conversion and storage (transcode_value.c) ---- */

tc_status_t gw_tc_from_text(const ProtobufCFieldDescriptor *f, const char *s, size_t n, tc_value_t *v);
tc_status_t gw_tc_from_int(const ProtobufCFieldDescriptor *f, int64_t i, tc_value_t *v);
tc_status_t gw_tc_from_real(const ProtobufCFieldDescriptor *f, double d, tc_value_t *v);
tc_status_t gw_tc_from_bool(const ProtobufCFieldDescriptor *f, bool b, tc_value_t *v);
/* Set a singular field (replacing and freeing an old value) or append to a
 * repeated one. Takes ownership of `v` whatever it returns. */
tc_status_t gw_tc_store(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, tc_value_t *v);
/* Free what a value for `f` owns (when it is not to be stored). */
void gw_tc_value_free(const ProtobufCFieldDescriptor *f, tc_value_t *v);
/* The sub-message in singular message field `f` of `m`, created if unset. */
tc_status_t gw_tc_sub_message(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, ProtobufCMessage **out);

/* ---- text (transcode_lex.c) ---- */

/* Length of the JSON number at s (RFC 8259 grammar), 0 if there is none;
 * *is_int tells whether it has neither fraction nor exponent. */
size_t gw_tc_number_len(const char *s, const char *end, bool *is_int);
/* Parse an optional '-' and decimal digits (the whole of s[0..n)) into sign
 * and magnitude. False if malformed or above UINT64_MAX. */
bool gw_tc_parse_digits(const char *s, size_t n, bool *neg, uint64_t *mag);
/* strtod over s[0..n) (not NUL-terminated). False when out of memory;
 * *overflow is set when the value is too large for a double. */
bool gw_tc_strtod(const char *s, size_t n, double *out, bool *overflow);
/* Length of the valid UTF-8 sequence at s (1-4), 0 if the bytes there are
 * not one (overlong, surrogate, above U+10FFFF, truncated...). */
size_t gw_tc_utf8_len(const unsigned char *s, const unsigned char *end);

/* ---- JSON tokens (transcode_lex.c) ---- */

/* A cursor over JSON text (the caller's memory). */
typedef struct {
    const char *p, *end;
} tc_lex_t;

typedef enum { TC_LEX_OK = 0, TC_LEX_SYNTAX, TC_LEX_NOMEM } tc_lex_status_t;

/* A string token: the text between the quotes, still escaped. */
typedef struct {
    const char *raw;
    size_t len;
    bool escaped; /* has a backslash: must go through gw_tc_decode_string */
} tc_str_t;

static inline void gw_tc_skip_ws(tc_lex_t *lx)
{
    while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\n' || *lx->p == '\r' || *lx->p == '\t'))
        lx->p++;
}

/* The byte at the cursor, -1 at the end. */
static inline int gw_tc_peek(const tc_lex_t *lx)
{
    return lx->p < lx->end ? (unsigned char)*lx->p : -1;
}

/* Past the punctuation at the cursor and any whitespace after it. */
static inline void gw_tc_lex_step(tc_lex_t *lx)
{
    lx->p++;
    gw_tc_skip_ws(lx);
}

/* The token at the cursor (a '"' for strings), validated and consumed. */
tc_lex_status_t gw_tc_lex_string(tc_lex_t *lx, tc_str_t *s);
tc_lex_status_t gw_tc_lex_number(tc_lex_t *lx, bool *is_int, int64_t *i, double *d);
tc_lex_status_t gw_tc_lex_literal(tc_lex_t *lx, const char *lit, size_t n);
/* Decode a string token into dst, which has room for s->len + 1 bytes
 * (decoding never lengthens); NUL-terminates, returns the length. */
size_t gw_tc_decode_string(const tc_str_t *s, char *dst);

/* ---- errors (transcode.c) ---- */

/* "<prefix>: expected <what>, got <got>" and friends, for a failed
 * conversion or store. `expected` overrides the field's own type name. */
void gw_tc_value_error(char *err, size_t errlen, const char *prefix, const ProtobufCFieldDescriptor *f,
                       tc_status_t st, const char *expected, const tc_got_t *got);

/* ---- the body parser (transcode_in.c) ---- */

/* Fill `m` from a JSON body: the whole message (f NULL: a JSON object, or
 * the bare value of a wrapper message), or only its field `f` (any JSON
 * value that fits the field; errors show the field as `name`, its path from
 * the request). Returns GW_TRANSCODE_OK / _INVALID / _NOMEM with err written
 * on failure; `m` stays valid for free_unpacked either way. */
int gw_tc_parse_body(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const char *name,
                     const char *body, size_t len, char *err, size_t errlen);
/* Whether jansson (flags 0) would accept this text (transcode_lex.c): used
 * by the tests and the fuzzer to check the grammar is exactly jansson's. */
bool gw_tc_json_valid(const char *s, size_t len);

/* ---- the writer (transcode_out.c) ---- */

/* Render `msg` (or, if `field` is not NULL, only the value of that field of
 * msg: null when it is absent or redacted), starting with a buffer of
 * `size_hint` bytes, leaving out the fields named in the comma-separated
 * `redact` (NULL: none). */
char *gw_tc_write(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field, size_t size_hint,
                  const char *redact, size_t *len_out);

#endif
