/*
 * The transcoder's front: the public request entry points
 * (gw_transcode_request with the route's body rule,
 * gw_transcode_fill_string_if_empty), query parameters and path variables,
 * field lookup by proto or JSON name, map and wrapper detection, and the
 * client-facing error texts. Called by
 * worker/upstream_grpc.c; the other transcode_*.c files use the lookups and
 * error texts.
 *
 * Memory: the request message is malloc'd here and owned by this file until
 * it is handed to the caller in *out; every pointer put into it is malloc'd
 * too (transcode_value.c), so protobuf_c_message_free_unpacked(msg, NULL)
 * releases it however far it got to being built.
 */
#include "worker/transcode/transcode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/transcode/transcode_int.h"

/* ---- descriptors ---------------------------------------------------------- */

/* strcmp of key[0..len) against the NUL-terminated s, same order. The key
 * may hold NUL bytes (URL text): it then sorts after s and never equals it. */
int gw_tc_name_cmp(const char *key, size_t len, const char *s)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char a = (unsigned char)key[i], b = (unsigned char)s[i];
        if (b == '\0')
            return 1;
        if (a != b)
            return a < b ? -1 : 1;
    }
    return s[len] == '\0' ? 0 : -1;
}

/* Does `key` (len bytes) start with the camelCase form of the snake_case
 * `name` (UpperCamelCase if `upper`)? *used gets the matched length.
 * camelCase as protoc derives JSON names: drop each '_' and upper-case what
 * follows it (page_size -> pageSize, require_2fa -> require2fa). */
static bool camel_prefix(const char *key, size_t len, const char *name, bool upper, size_t *used)
{
    size_t i = 0;
    for (; *name != '\0'; name++) {
        char c = *name;
        if (c == '_') {
            upper = true;
            continue;
        }
        if (upper && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        upper = false;
        if (i >= len || key[i] != c)
            return false;
        i++;
    }
    *used = i;
    return true;
}

/* Whether key[0..len) is the lowerCamelCase form of proto name `name`. */
static bool camel_eq(const char *key, size_t len, const char *name)
{
    size_t used;
    return camel_prefix(key, len, name, false, &used) && used == len;
}

const ProtobufCFieldDescriptor *gw_tc_field(const ProtobufCMessageDescriptor *d, const char *name, size_t len)
{
    /* The proto name first, by binary search over the generated name index. */
    size_t lo = 0, hi = d->n_fields;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const ProtobufCFieldDescriptor *f = &d->fields[d->fields_sorted_by_name[mid]];
        int c = gw_tc_name_cmp(name, len, f->name);
        if (c == 0)
            return f;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    /* Then the camelCase names; messages are small enough for a scan. */
    for (unsigned i = 0; i < d->n_fields; i++)
        if (strchr(d->fields[i].name, '_') != NULL && camel_eq(name, len, d->fields[i].name))
            return &d->fields[i];
    return NULL;
}

/* Whether `entry` is the name protoc gives the entry type of map field
 * `field`: UpperCamelCase of the field name + "Entry". */
static bool is_entry_name(const char *entry, const char *field)
{
    size_t used;
    return camel_prefix(entry, strlen(entry), field, true, &used) && strcmp(entry + used, "Entry") == 0;
}

bool gw_tc_is_map(const ProtobufCMessageDescriptor *parent, const ProtobufCFieldDescriptor *f)
{
    if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return false;
    const ProtobufCMessageDescriptor *e = f->descriptor;
    if (e->n_fields != 2 || e->fields[0].id != 1 || e->fields[1].id != 2 ||
        strcmp(e->fields[0].name, "key") != 0 || strcmp(e->fields[1].name, "value") != 0 ||
        !is_entry_name(e->short_name, f->name))
        return false;
    /* protobuf-c has no map_entry flag; protoc nests the entry type in the
     * message holding the map, so its full name is "<parent>.<short>". */
    size_t pl = strlen(parent->name);
    return strncmp(e->name, parent->name, pl) == 0 && e->name[pl] == '.' &&
           strcmp(e->name + pl + 1, e->short_name) == 0;
}

bool gw_tc_is_wrapper(const ProtobufCMessageDescriptor *d)
{
    static const char *const names[] = {"DoubleValue", "FloatValue",  "Int64Value",
                                        "UInt64Value", "Int32Value",  "UInt32Value",
                                        "BoolValue",   "StringValue", "BytesValue"};
    static const char pkg[] = "google.protobuf.";
    if (d->n_fields != 1 || d->fields[0].id != 1 || d->fields[0].label == PROTOBUF_C_LABEL_REPEATED ||
        strncmp(d->name, pkg, sizeof(pkg) - 1) != 0)
        return false;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(d->name + sizeof(pkg) - 1, names[i]) == 0)
            return true;
    return false;
}

/* ---- errors --------------------------------------------------------------- */

static const char *type_name(ProtobufCType t)
{
    static const char *const names[] = {
        [PROTOBUF_C_TYPE_INT32] = "int32",       [PROTOBUF_C_TYPE_SINT32] = "sint32",
        [PROTOBUF_C_TYPE_SFIXED32] = "sfixed32", [PROTOBUF_C_TYPE_INT64] = "int64",
        [PROTOBUF_C_TYPE_SINT64] = "sint64",     [PROTOBUF_C_TYPE_SFIXED64] = "sfixed64",
        [PROTOBUF_C_TYPE_UINT32] = "uint32",     [PROTOBUF_C_TYPE_FIXED32] = "fixed32",
        [PROTOBUF_C_TYPE_UINT64] = "uint64",     [PROTOBUF_C_TYPE_FIXED64] = "fixed64",
        [PROTOBUF_C_TYPE_FLOAT] = "float",       [PROTOBUF_C_TYPE_DOUBLE] = "double",
        [PROTOBUF_C_TYPE_BOOL] = "bool",         [PROTOBUF_C_TYPE_ENUM] = "enum",
        [PROTOBUF_C_TYPE_STRING] = "string",     [PROTOBUF_C_TYPE_BYTES] = "bytes",
        [PROTOBUF_C_TYPE_MESSAGE] = "message",
    };
    return (unsigned)t < sizeof(names) / sizeof(names[0]) && names[t] != NULL ? names[t] : "value";
}

/* What a value for `f` must look like, for "expected ..." (into buf). */
static const char *expected_name(const ProtobufCFieldDescriptor *f, char *buf, size_t cap)
{
    if (gw_tc_is_integer(f->type))
        return "integer";
    switch (f->type) {
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return "number";
    case PROTOBUF_C_TYPE_BOOL:
        return "boolean";
    case PROTOBUF_C_TYPE_STRING:
        return "string";
    case PROTOBUF_C_TYPE_BYTES:
        return "base64 string";
    case PROTOBUF_C_TYPE_ENUM:
        snprintf(buf, cap, "enum %s", ((const ProtobufCEnumDescriptor *)f->descriptor)->short_name);
        return buf;
    default:
        return "object";
    }
}

/* `<kind> "text"` (quotes if got->quote), the text cut at 64 bytes on a
 * UTF-8 boundary. */
static void format_got(const tc_got_t *got, char *buf, size_t cap)
{
    enum { MAX_SHOWN = 64 };
    size_t n = got->len;
    const char *more = "";
    if (n > MAX_SHOWN) {
        n = MAX_SHOWN;
        while (n > 0 && ((unsigned char)got->text[n] & 0xC0) == 0x80)
            n--;
        more = "...";
    }
    const char *q = got->quote ? "\"" : "";
    const char *sp = got->kind[0] != '\0' && got->text != NULL ? " " : "";
    if (got->text == NULL)
        snprintf(buf, cap, "%s", got->kind);
    else
        snprintf(buf, cap, "%s%s%s%.*s%s%s", got->kind, sp, q, (int)n, got->text, more, q);
}

void gw_tc_value_error(char *err, size_t errlen, const char *prefix, const ProtobufCFieldDescriptor *f,
                       tc_status_t st, const char *expected, const tc_got_t *got)
{
    char what[160], exp_buf[96];
    if (st == TC_NOMEM) {
        snprintf(err, errlen, "out of memory");
        return;
    }
    if (st == TC_ONEOF) {
        snprintf(err, errlen, "%s: another field of its oneof is already set", prefix);
        return;
    }
    format_got(got, what, sizeof(what));
    if (st == TC_RANGE)
        snprintf(err, errlen, "%s: value out of range for %s, got %s", prefix, type_name(f->type), what);
    else
        snprintf(err, errlen, "%s: expected %s, got %s", prefix,
                 expected != NULL ? expected : expected_name(f, exp_buf, sizeof(exp_buf)), what);
}

/* ---- query parameters and path variables ---------------------------------- */

typedef enum { PARAM_OK, PARAM_UNKNOWN, PARAM_TOO_DEEP, PARAM_NOT_SCALAR, PARAM_BAD_VALUE } param_status_t;

/* The message and field a parameter name (or a route's body field) leads
 * to: "a", or "a.b" through singular sub-messages (created as needed). A
 * wrapper field (google.protobuf.StringValue...) counts as a scalar. On
 * PARAM_BAD_VALUE, *st says why a sub-message could not be made. */
static param_status_t resolve(ProtobufCMessage **m, const char *name, size_t len,
                              const ProtobufCFieldDescriptor **f, tc_status_t *st)
{
    const char *end = name + len;
    for (int level = 1;; level++) {
        const char *dot = memchr(name, '.', (size_t)(end - name));
        *f = gw_tc_field((*m)->descriptor, name, (size_t)((dot != NULL ? dot : end) - name));
        if (*f == NULL)
            return PARAM_UNKNOWN;
        if (dot == NULL)
            return (*f)->type == PROTOBUF_C_TYPE_MESSAGE && !gw_tc_is_wrapper((*f)->descriptor)
                       ? PARAM_NOT_SCALAR
                       : PARAM_OK;
        if ((*f)->type != PROTOBUF_C_TYPE_MESSAGE || (*f)->label == PROTOBUF_C_LABEL_REPEATED)
            return PARAM_UNKNOWN;
        if (level == GW_TRANSCODE_MAX_DEPTH)
            return PARAM_TOO_DEEP;
        if ((*st = gw_tc_sub_message(*m, *f, m)) != TC_OK)
            return PARAM_BAD_VALUE;
        name = dot + 1;
    }
}

static int param_error(const gw_transcode_param_t *p, bool is_var, param_status_t ps,
                       const ProtobufCFieldDescriptor *f, tc_status_t st, char *err, size_t errlen)
{
    char prefix[128];
    snprintf(prefix, sizeof(prefix), "%s \"%.*s\"",
             is_var ? "invalid path variable" : "invalid query parameter",
             p->name_len > 64 ? 64 : (int)p->name_len, p->name);
    if (ps == PARAM_BAD_VALUE) {
        tc_got_t got = {"", p->value, p->value_len, true};
        gw_tc_value_error(err, errlen, prefix, f, st, NULL, &got);
        return st == TC_NOMEM ? GW_TRANSCODE_NOMEM : GW_TRANSCODE_INVALID;
    }
    const char *problem = ps == PARAM_UNKNOWN    ? "unknown field"
                          : ps == PARAM_TOO_DEEP ? "nesting too deep"
                                                 : "not a scalar field";
    snprintf(err, errlen, "%s: %s", prefix, problem);
    return GW_TRANSCODE_INVALID;
}

/* Store text into wrapper field f of m: into the "value" of its message
 * (created if unset; a new element if repeated). */
static tc_status_t store_wrapped(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const char *s,
                                 size_t n)
{
    const ProtobufCFieldDescriptor *vf = &((const ProtobufCMessageDescriptor *)f->descriptor)->fields[0];
    ProtobufCMessage *w;
    tc_value_t v;
    tc_status_t st = gw_tc_from_text(vf, s, n, &v);
    if (st != TC_OK)
        return st;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        tc_value_t e = {.msg = gw_tc_new_message(f->descriptor)};
        w = e.msg;
        st = w == NULL ? TC_NOMEM : gw_tc_store(m, f, &e);
    } else {
        st = gw_tc_sub_message(m, f, &w);
    }
    if (st != TC_OK) {
        gw_tc_value_free(vf, &v);
        return st;
    }
    return gw_tc_store(w, vf, &v);
}

/* Set the field a parameter names. Unknown names are errors for query
 * parameters and ignored for path variables (the route table, not the
 * client, chose those). */
static int apply_param(ProtobufCMessage *m, const gw_transcode_param_t *p, bool is_var, char *err,
                       size_t errlen)
{
    const ProtobufCFieldDescriptor *f = NULL;
    tc_status_t st = TC_OK;
    tc_value_t v;
    param_status_t ps = resolve(&m, p->name, p->name_len, &f, &st);
    if (ps == PARAM_UNKNOWN && is_var)
        return GW_TRANSCODE_OK;
    if (ps == PARAM_OK && f->type == PROTOBUF_C_TYPE_MESSAGE) {
        st = store_wrapped(m, f, p->value, p->value_len);
        f = &((const ProtobufCMessageDescriptor *)f->descriptor)->fields[0]; /* for the error's type name */
    } else if (ps == PARAM_OK && (st = gw_tc_from_text(f, p->value, p->value_len, &v)) == TC_OK) {
        st = gw_tc_store(m, f, &v);
    }
    if (ps == PARAM_OK && st == TC_OK)
        return GW_TRANSCODE_OK;
    return param_error(p, is_var, ps == PARAM_OK ? PARAM_BAD_VALUE : ps, f, st, err, errlen);
}

/* ---- public entry points -------------------------------------------------- */

/* A non-empty body into m as the route's `body` rule says: NULL none, "*"
 * the whole message, else the field at that path (made as needed). */
static int apply_body(ProtobufCMessage *m, const char *body, size_t len, const char *body_field, char *err,
                      size_t errlen)
{
    if (body_field == NULL) {
        snprintf(err, errlen, "invalid JSON body: this route takes no body");
        return GW_TRANSCODE_INVALID;
    }
    if (strcmp(body_field, "*") == 0)
        return gw_tc_parse_body(m, NULL, NULL, body, len, err, errlen);
    const ProtobufCFieldDescriptor *f = NULL;
    tc_status_t st = TC_OK;
    const char *type = m->descriptor->name;
    param_status_t ps = resolve(&m, body_field, strlen(body_field), &f, &st);
    if (ps == PARAM_BAD_VALUE) { /* a fresh message: only memory can run out */
        snprintf(err, errlen, "out of memory");
        return GW_TRANSCODE_NOMEM;
    }
    if (ps != PARAM_OK && ps != PARAM_NOT_SCALAR) {
        snprintf(err, errlen, "route body field \"%.64s\" is not a field path of %s", body_field, type);
        return GW_TRANSCODE_ROUTE;
    }
    return gw_tc_parse_body(m, f, body_field, body, len, err, errlen);
}

int gw_transcode_request(const ProtobufCMessageDescriptor *desc, const char *body, size_t len,
                         const char *body_field, const gw_transcode_param_t *query, size_t nquery,
                         const gw_transcode_param_t *vars, size_t nvars, ProtobufCMessage **out, char *err,
                         size_t errlen)
{
    /* The message is ours until it is handed out in *out. */
    ProtobufCMessage *m = gw_tc_new_message(desc);
    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return GW_TRANSCODE_NOMEM;
    }
    int rc = GW_TRANSCODE_OK;
    if (body != NULL && len > 0)
        rc = apply_body(m, body, len, body_field, err, errlen);
    for (size_t i = 0; rc == GW_TRANSCODE_OK && i < nquery; i++)
        rc = apply_param(m, &query[i], false, err, errlen);
    for (size_t i = 0; rc == GW_TRANSCODE_OK && i < nvars; i++)
        rc = apply_param(m, &vars[i], true, err, errlen);
    if (rc != GW_TRANSCODE_OK) {
        protobuf_c_message_free_unpacked(m, NULL);
        return rc;
    }
    *out = m;
    return GW_TRANSCODE_OK;
}

int gw_transcode_fill_string_if_empty(ProtobufCMessage *msg, const char *field, const char *value)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, field);
    if (f == NULL || f->label == PROTOBUF_C_LABEL_REPEATED)
        return 0;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE && gw_tc_is_wrapper(f->descriptor) &&
        ((const ProtobufCMessageDescriptor *)f->descriptor)->fields[0].type == PROTOBUF_C_TYPE_STRING) {
        /* a google.protobuf.StringValue: its value, the wrapper made if unset */
        if (gw_tc_sub_message(msg, f, &msg) != TC_OK)
            return 0;
        f = &msg->descriptor->fields[0];
    }
    if (f->type != PROTOBUF_C_TYPE_STRING)
        return 0;
    const char *cur = *(char **)gw_tc_member(msg, f);
    if (gw_tc_is_live(msg, f) && cur != NULL && cur[0] != '\0')
        return 0;
    tc_value_t v = {.str = strdup(value)};
    if (v.str == NULL)
        return 0;
    return gw_tc_store(msg, f, &v) == TC_OK;
}
