/*
 * The reply side of the transcoder: protobuf-c message -> compact JSON, by
 * descriptor (gw_transcode_response), and wire bytes -> JSON through a
 * scratch arena (gw_transcode_response_packed), leaving out the fields named
 * in RESPONSE_REDACT_FIELDS at any depth (gw_transcode_response_redacted),
 * and rendering only the route's response_body field when it has one.
 * Called by worker/upstream_grpc.c for every backend reply; the mapping
 * rules are in worker/transcode/transcode.h.
 *
 * Memory: the JSON text is built in one growable core/buf.h buffer (doubles as
 * needed) handed to the caller; nothing else is allocated except the
 * arena chunks of the packed path (a 16 KiB stack block, then malloc'd
 * chunks) and, for a response_body below an unset message, one empty
 * message standing in for it, all released before returning.
 */
#include <math.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "worker/transcode/transcode.h"
#include "core/descset.h"
#include "worker/transcode/transcode_int.h"

/* ---- output buffer -------------------------------------------------------- */

typedef struct {
    gw_buf_t b;         /* owns the JSON text; handed to the caller at the end */
    const char *redact; /* comma-separated field names never written, or NULL */
} out_t;

/* Make room for n more bytes. Once a grow has failed (b.truncated) nothing
 * more is written and gw_tc_write reports NULL. */
static inline bool reserve(out_t *o, size_t n)
{
    return o->b.cap - o->b.len >= n || (!o->b.truncated && gw_buf_reserve(&o->b, n));
}

static void put(out_t *o, const char *s, size_t n)
{
    if (reserve(o, n)) {
        memcpy(o->b.data + o->b.len, s, n);
        o->b.len += n;
    }
}

static void putc_(out_t *o, char c)
{
    if (reserve(o, 1))
        o->b.data[o->b.len++] = c;
}

#define PUT_LIT(o, lit) put((o), (lit), sizeof(lit) - 1)

/* The shortest "%.*g" that reads back as the same value ("0.1", not
 * "0.10000000000000001"); NaN and infinities as JSON strings. */
static void put_real(out_t *o, double d, bool is_float)
{
    char tmp[32];
    if (isnan(d)) {
        PUT_LIT(o, "\"NaN\"");
        return;
    }
    if (isinf(d)) {
        if (d < 0)
            PUT_LIT(o, "\"-Infinity\"");
        else
            PUT_LIT(o, "\"Infinity\"");
        return;
    }
    int prec = is_float ? 6 : 15, max = is_float ? 9 : 17, n = 0;
    for (; prec <= max; prec++) {
        n = snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        double back = strtod(tmp, NULL);
        if (is_float ? (float)back == (float)d : back == d)
            break;
    }
    put(o, tmp, (size_t)n);
}

/* The escape for an ASCII character that needs one: \n and friends, \u00XX
 * for other control characters. Returns its length. */
static size_t escape(unsigned char c, char esc[6])
{
    static const char hex[] = "0123456789abcdef";
    esc[0] = '\\';
    switch (c) {
    case '"':
    case '\\':
        esc[1] = (char)c;
        return 2;
    case '\n':
        esc[1] = 'n';
        return 2;
    case '\r':
        esc[1] = 'r';
        return 2;
    case '\t':
        esc[1] = 't';
        return 2;
    case '\b':
        esc[1] = 'b';
        return 2;
    case '\f':
        esc[1] = 'f';
        return 2;
    default:
        memcpy(esc + 1, "u00", 3);
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 15];
        return 6;
    }
}

/* Length of the prefix of s[0..n) that goes into a JSON string as it is:
 * printable ASCII other than '"' and '\\'. Checks 8 bytes at a time with the
 * "word has a byte below k" trick, (w - k*ones) & ~w & highs, applied to
 * w (controls), w ^ '"' and w ^ '\\' (zero where those are), plus the high
 * bits (non-ASCII); a flagged word is then looked at byte by byte. */
static size_t plain_prefix(const unsigned char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w, q, b;
        memcpy(&w, s + i, 8);
        q = w ^ (ones * '"');
        b = w ^ (ones * '\\');
        if ((((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b) | w) & highs)
            break;
    }
    while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
        i++;
    return i;
}

/* A NUL-terminated string as a JSON string: quotes, backslash and control
 * characters escaped; bytes that are not UTF-8 become U+FFFD, so the output
 * is always valid JSON. */
static void put_string(out_t *o, const char *str)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + strlen(str);
    if (!reserve(o, (size_t)(end - s) + 2)) /* enough unless something needs escaping */
        return;
    o->b.data[o->b.len++] = '"';
    while (s < end) {
        /* the longest run that needs nothing: plain ASCII and well-formed UTF-8 */
        const unsigned char *run = s;
        size_t k;
        for (;;) {
            s += plain_prefix(s, (size_t)(end - s));
            if (s == end || *s < 0x80 || (k = gw_tc_utf8_len(s, end)) == 0)
                break;
            s += k;
        }
        put(o, (const char *)run, (size_t)(s - run));
        if (s == end)
            break;
        if (*s >= 0x80) {
            PUT_LIT(o, "\xEF\xBF\xBD"); /* U+FFFD for a byte that is not UTF-8 */
        } else {
            char esc[6];
            put(o, esc, escape(*s, esc));
        }
        s++;
    }
    putc_(o, '"');
}

static void put_base64(out_t *o, const ProtobufCBinaryData *b)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (!reserve(o, 2 + (b->len + 2) / 3 * 4))
        return;
    char *d = o->b.data + o->b.len;
    const uint8_t *s = b->data;
    size_t i = 0;
    *d++ = '"';
    for (; i + 3 <= b->len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *d++ = abc[v >> 18];
        *d++ = abc[v >> 12 & 63];
        *d++ = abc[v >> 6 & 63];
        *d++ = abc[v & 63];
    }
    if (i < b->len) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < b->len ? (uint32_t)s[i + 1] << 8 : 0);
        *d++ = abc[v >> 18];
        *d++ = abc[v >> 12 & 63];
        *d++ = i + 1 < b->len ? abc[v >> 6 & 63] : '=';
        *d++ = '=';
    }
    *d++ = '"';
    o->b.len = (size_t)(d - o->b.data);
}

/* ---- values --------------------------------------------------------------- */

static void put_message(out_t *o, const ProtobufCMessage *m);

/* One value of field f stored at p (an element, for repeated fields). */
static void put_value(out_t *o, const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        gw_buf_i64(&o->b, *(const int32_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        gw_buf_u64(&o->b, *(const uint32_t *)p);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        gw_buf_i64(&o->b, *(const int64_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        gw_buf_u64(&o->b, *(const uint64_t *)p);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        put_real(o, *(const float *)p, true);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        put_real(o, *(const double *)p, false);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        if (*(const protobuf_c_boolean *)p)
            PUT_LIT(o, "true");
        else
            PUT_LIT(o, "false");
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int32_t *)p);
        if (ev != NULL)
            put_string(o, ev->name);
        else
            gw_buf_i64(&o->b, *(const int32_t *)p);
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)p;
        put_string(o, s != NULL ? s : "");
        break;
    }
    case PROTOBUF_C_TYPE_BYTES:
        put_base64(o, p);
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        if (*(const ProtobufCMessage *const *)p != NULL)
            put_message(o, *(const ProtobufCMessage *const *)p);
        else
            PUT_LIT(o, "null");
        break;
    }
}

/* A map key as a JSON string: strings as they are, numbers and bools as text. */
static void put_map_key(out_t *o, const ProtobufCFieldDescriptor *kf, const void *p)
{
    if (kf->type == PROTOBUF_C_TYPE_STRING) {
        put_value(o, kf, p);
        return;
    }
    putc_(o, '"');
    put_value(o, kf, p);
    putc_(o, '"');
}

static void put_map(out_t *o, const ProtobufCFieldDescriptor *f, const ProtobufCMessage *const *entries,
                    size_t n)
{
    const ProtobufCFieldDescriptor *kf = &((const ProtobufCMessageDescriptor *)f->descriptor)->fields[0];
    const ProtobufCFieldDescriptor *vf = kf + 1;
    putc_(o, '{');
    for (size_t i = 0; i < n; i++) {
        const char *e = (const char *)entries[i];
        if (i > 0)
            putc_(o, ',');
        put_map_key(o, kf, e + kf->offset);
        putc_(o, ':');
        put_value(o, vf, e + vf->offset);
    }
    putc_(o, '}');
}

static void put_repeated(out_t *o, const ProtobufCFieldDescriptor *f, const char *arr, size_t n)
{
    size_t size = gw_descset_value_size(f->type);
    putc_(o, '[');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            putc_(o, ',');
        put_value(o, f, arr + i * size);
    }
    putc_(o, ']');
}

/* Whether proto field `name` is in the comma-separated list (spaces around
 * names ignored). Lists are a few names long, so a scan per field is cheap. */
static bool redacted(const char *list, const char *name)
{
    size_t n = strlen(name);
    while (list != NULL && *list != '\0') {
        while (*list == ' ' || *list == ',')
            list++;
        const char *end = list;
        while (*end != '\0' && *end != ',')
            end++;
        const char *last = end;
        while (last > list && last[-1] == ' ')
            last--;
        if ((size_t)(last - list) == n && memcmp(list, name, n) == 0)
            return true;
        list = end;
    }
    return false;
}

/* `"name":` (proto names are identifiers: nothing to escape). */
static void put_key(out_t *o, const char *name, bool first)
{
    size_t n = strlen(name);
    if (!reserve(o, n + 4))
        return;
    char *d = o->b.data + o->b.len;
    if (!first)
        *d++ = ',';
    *d++ = '"';
    memcpy(d, name, n);
    d += n;
    *d++ = '"';
    *d++ = ':';
    o->b.len = (size_t)(d - o->b.data);
}

/* Whether field f of m has a value to show: of a oneof, only the member
 * that is set; a field with explicit presence (proto2 `optional`, proto3
 * `optional`: LABEL_OPTIONAL) only when present, by the rule protobuf-c's
 * pack uses (has_ flag; a string not NULL and not its default). Optional
 * sub-messages stay as they are: null when unset. */
static bool is_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    const char *base = (const char *)m;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
    if (f->label != PROTOBUF_C_LABEL_OPTIONAL || f->type == PROTOBUF_C_TYPE_MESSAGE)
        return true;
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        const char *s = *(const char *const *)(base + f->offset);
        return s != NULL && s != f->default_value;
    }
    return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
}

/* The value of field f of m (present or not): an array or object for
 * repeated fields and maps. */
static void put_field(out_t *o, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    const char *base = (const char *)m;
    if (f->label != PROTOBUF_C_LABEL_REPEATED) {
        put_value(o, f, base + f->offset);
        return;
    }
    size_t n = *(const size_t *)(base + f->quantifier_offset);
    const void *arr = *(const void *const *)(base + f->offset);
    if (gw_tc_is_map(m->descriptor, f))
        put_map(o, f, arr, n);
    else
        put_repeated(o, f, arr, n);
}

static void put_message(out_t *o, const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    bool first = true;
    if (gw_tc_is_wrapper(d)) { /* google.protobuf.Int32Value...: the bare value */
        put_value(o, &d->fields[0], (const char *)m + d->fields[0].offset);
        return;
    }
    putc_(o, '{');
    for (unsigned i = 0; i < d->n_fields && !o->b.truncated; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!is_present(m, f))
            continue;
        if (o->redact != NULL && redacted(o->redact, f->name))
            continue; /* RESPONSE_REDACT_FIELDS, at any depth */
        put_key(o, f->name, first);
        first = false;
        put_field(o, m, f);
    }
    putc_(o, '}');
}

char *gw_tc_write(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field, size_t size_hint,
                  const char *redact, size_t *len_out)
{
    out_t o = {.redact = redact};
    gw_buf_init(&o.b, size_hint < 64 ? 64 : size_hint);
    if (o.b.data == NULL)
        return NULL;
    if (field == NULL)
        put_message(&o, msg);
    else if (is_present(msg, field) && (redact == NULL || !redacted(redact, field->name)))
        put_field(&o, msg, field);
    else
        PUT_LIT(&o, "null");
    putc_(&o, '\0');
    if (o.b.truncated) {
        gw_buf_free(&o.b);
        return NULL;
    }
    size_t len;
    char *json = gw_buf_steal(&o.b, &len);
    if (len_out != NULL)
        *len_out = len - 1;
    return json;
}

char *gw_transcode_response(const ProtobufCMessage *msg, size_t *len_out)
{
    return gw_tc_write(msg, NULL, 4096, NULL, len_out);
}

/* ---- scratch arena for unpacking ------------------------------------------ */

/* protobuf-c allocates every string and sub-message of an unpacked message
 * separately; for a reply we only read once, so those allocations come from
 * a bump arena instead: a stack block first, then malloc'd chunks, all freed
 * together. protobuf-c's frees are no-ops. */
typedef struct arena_chunk {
    struct arena_chunk *next;
    alignas(max_align_t) unsigned char data[];
} arena_chunk_t;

typedef struct {
    arena_chunk_t *chunks; /* malloc'd chunks, newest first */
    unsigned char *block;  /* the current block (stack or chunk) */
    size_t cap, used;
} arena_t;

enum { ARENA_STACK = 16384, ARENA_ALIGN = alignof(max_align_t) };

static void *arena_alloc(void *data, size_t size)
{
    arena_t *a = data;
    if (size > SIZE_MAX / 4) /* (sizes come from the wire data, far below) */
        return NULL;
    size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (a->cap - a->used < size) {
        size_t cap = a->cap * 2 > size ? a->cap * 2 : size;
        arena_chunk_t *c = malloc(sizeof(*c) + cap);
        if (c == NULL)
            return NULL;
        c->next = a->chunks;
        a->chunks = c;
        a->block = c->data;
        a->cap = cap;
        a->used = 0;
    }
    void *p = a->block + a->used;
    a->used += size;
    return p;
}

static void arena_free_one(void *data, void *p)
{
    (void)data;
    (void)p;
}

static void arena_release(arena_t *a)
{
    while (a->chunks != NULL) {
        arena_chunk_t *next = a->chunks->next;
        free(a->chunks);
        a->chunks = next;
    }
}

int gw_transcode_response_packed(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                                 char **json_out, size_t *len_out)
{
    return gw_transcode_response_redacted(desc, data, len, NULL, NULL, json_out, len_out);
}

/* ---- response_body: one field of the reply -------------------------------- */

/* The field `path` ("a", "a.b" through singular sub-messages) names inside
 * *m: *m becomes the message holding it, or NULL when a message on the way
 * is unset (its fields are then all at their defaults; *holder gets the
 * type that holds the field). *hidden is set when a name on the way is
 * redacted. NULL when the path names no field. */
static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessage **m, const char *path,
                                                  const char *redact,
                                                  const ProtobufCMessageDescriptor **holder, bool *hidden)
{
    const ProtobufCMessageDescriptor *d = (*m)->descriptor;
    for (;;) {
        const char *dot = strchr(path, '.');
        size_t n = dot != NULL ? (size_t)(dot - path) : strlen(path);
        const ProtobufCFieldDescriptor *f = gw_tc_field(d, path, n);
        if (f == NULL)
            return NULL;
        *hidden = *hidden || (redact != NULL && redacted(redact, f->name));
        *holder = d;
        if (dot == NULL)
            return f;
        if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
            return NULL;
        if (*m != NULL)
            *m = is_present(*m, f) ? *(const ProtobufCMessage *const *)((const char *)*m + f->offset) : NULL;
        d = f->descriptor;
        path = dot + 1;
    }
}

/* Render field `path` of msg (or the whole of it, path NULL). */
static int write_reply(const ProtobufCMessage *msg, const char *path, size_t size_hint, const char *redact,
                       char **json_out, size_t *len_out)
{
    const ProtobufCFieldDescriptor *f = NULL;
    ProtobufCMessage *empty = NULL; /* ours: stands in for an unset message on the path */
    bool hidden = false;
    if (path != NULL) {
        const ProtobufCMessageDescriptor *holder = NULL;
        if ((f = find_field(&msg, path, redact, &holder, &hidden)) == NULL)
            return GW_TRANSCODE_ROUTE;
        if (msg == NULL && (msg = empty = gw_tc_new_message(holder)) == NULL)
            return GW_TRANSCODE_NOMEM;
    }
    char *json = hidden ? strdup("null") : gw_tc_write(msg, f, size_hint, redact, len_out);
    if (hidden && json != NULL && len_out != NULL)
        *len_out = 4;
    protobuf_c_message_free_unpacked(empty, NULL);
    if (json == NULL)
        return GW_TRANSCODE_NOMEM;
    *json_out = json;
    return GW_TRANSCODE_OK;
}

int gw_transcode_response_redacted(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                                   const char *redact, const char *response_field, char **json_out,
                                   size_t *len_out)
{
    alignas(max_align_t) unsigned char stack[ARENA_STACK];
    arena_t arena = {.block = stack, .cap = sizeof(stack)};
    ProtobufCAllocator alloc = {arena_alloc, arena_free_one, &arena};
    ProtobufCMessage *msg = protobuf_c_message_unpack(desc, &alloc, len, data);
    if (msg == NULL) {
        arena_release(&arena);
        return GW_TRANSCODE_INVALID;
    }
    /* JSON repeats every field name, so it runs about 2-3x the wire size. */
    int rc = write_reply(msg, response_field, len * 3 + 256, redact, json_out, len_out);
    arena_release(&arena);
    return rc;
}
