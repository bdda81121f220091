/*
 * The request body parser: reads JSON straight into a protobuf-c message,
 * guided by its descriptor, with no intermediate tree (no allocation besides
 * the message's own strings, arrays and sub-messages). Called through
 * gw_tc_parse_body by gw_transcode_request (transcode.c).
 *
 * Errors: parsing stops at the first problem. The token grammar is exactly
 * jansson's (transcode_lex.c) and duplicate keys are caught here, so a body
 * that fails is then handed to jansson: if jansson rejects it, the client
 * gets jansson's message ("'[' or '{' expected near 'xyz' (line 1, column
 * 3)") whatever we tripped on first; otherwise the body is well-formed JSON
 * and the client gets our message about the field (unknown field, wrong
 * type, ...). jansson only runs on this error path.
 *
 * Memory: the parser owns nothing but a scratch copy while decoding an
 * escaped string; everything it allocates goes into the message at once.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/transcode/transcode.h"
#include "core/descset.h"
#include "worker/transcode/transcode_int.h"

typedef enum { JP_OK = 0, JP_SYNTAX, JP_INVALID, JP_TOO_DEEP, JP_NOMEM } jp_status_t;

/* One step of the path to the value being parsed, for error messages. */
typedef struct {
    const char *name; /* raw key text (escapes kept), NULL for an array element */
    size_t len;
    size_t index; /* array index */
    bool map_key; /* name is a map key: shown as [key] */
} jp_frame_t;

typedef struct {
    tc_lex_t lx; /* cursor in the body (the caller's memory) */
    int depth;   /* messages open around the cursor (the body's object is 1) */
    jp_status_t status;
    char *err; /* the caller's buffer for our own messages */
    size_t errlen;
    int npath;
    jp_frame_t path[2 * GW_TRANSCODE_MAX_DEPTH]; /* a member and an element or map key per message */
} jp_t;

/* ---- tokens --------------------------------------------------------------- */

static int fail(jp_t *jp, jp_status_t st)
{
    if (jp->status == JP_OK)
        jp->status = st;
    return -1;
}

static void skip_ws(jp_t *jp)
{
    gw_tc_skip_ws(&jp->lx);
}

static int peek(const jp_t *jp)
{
    return gw_tc_peek(&jp->lx);
}

/* Consume `c` (after optional whitespace), or fail with a syntax error. */
static int expect(jp_t *jp, char c)
{
    skip_ws(jp);
    if (peek(jp) != c)
        return fail(jp, JP_SYNTAX);
    gw_tc_lex_step(&jp->lx);
    return 0;
}

/* A token from the lexer (transcode_lex.c), its failure recorded. */
static int lexed(jp_t *jp, tc_lex_status_t st)
{
    return st == TC_LEX_OK ? 0 : fail(jp, st == TC_LEX_NOMEM ? JP_NOMEM : JP_SYNTAX);
}

static int scan_string(jp_t *jp, tc_str_t *s)
{
    return lexed(jp, gw_tc_lex_string(&jp->lx, s));
}

static int scan_number(jp_t *jp, bool *is_int, int64_t *i, double *d)
{
    return lexed(jp, gw_tc_lex_number(&jp->lx, is_int, i, d));
}

static int scan_literal(jp_t *jp, const char *lit, size_t n)
{
    return lexed(jp, gw_tc_lex_literal(&jp->lx, lit, n));
}

/* ---- errors --------------------------------------------------------------- */

/* `invalid JSON body: <what> "a.b[2].c"` for the current path. */
static void format_path(const jp_t *jp, const char *what, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "invalid JSON body: %s \"", what);
    for (int i = 0; i < jp->npath && n < cap; i++) {
        const jp_frame_t *fr = &jp->path[i];
        int len = fr->len > 64 ? 64 : (int)fr->len;
        if (fr->name == NULL)
            n += (size_t)snprintf(buf + n, cap - n, "[%zu]", fr->index);
        else if (fr->map_key)
            n += (size_t)snprintf(buf + n, cap - n, "[%.*s]", len, fr->name);
        else
            n += (size_t)snprintf(buf + n, cap - n, "%s%.*s", i > 0 ? "." : "", len, fr->name);
    }
    if (n < cap)
        snprintf(buf + n, cap - n, "\"");
}

static int value_error(jp_t *jp, const ProtobufCFieldDescriptor *f, tc_status_t st, const char *expected,
                       const tc_got_t *got)
{
    char prefix[256];
    format_path(jp, "field", prefix, sizeof(prefix));
    gw_tc_value_error(jp->err, jp->errlen, prefix, f, st, expected, got);
    return fail(jp, st == TC_NOMEM ? JP_NOMEM : JP_INVALID);
}

static int status_error(jp_t *jp, const ProtobufCFieldDescriptor *f, tc_status_t st)
{
    return value_error(jp, f, st, NULL, &(tc_got_t){"", NULL, 0, false});
}

/* "expected <x>, got <what is at the cursor>" for a value of the wrong kind. */
static int type_error(jp_t *jp, const ProtobufCFieldDescriptor *f, const char *expected)
{
    const char *start = jp->lx.p;
    tc_str_t s;
    bool is_int;
    int64_t i;
    double d;
    tc_got_t got = {"", NULL, 0, false};
    switch (peek(jp)) {
    case '{':
        got.kind = "object";
        break;
    case '[':
        got.kind = "array";
        break;
    case 'n':
        got.kind = "null";
        break;
    case '"':
        if (scan_string(jp, &s) != 0)
            return -1;
        got = (tc_got_t){"string", start, (size_t)(jp->lx.p - start), false};
        break;
    case 't':
    case 'f':
        if (scan_literal(jp, peek(jp) == 't' ? "true" : "false", peek(jp) == 't' ? 4 : 5) != 0)
            return -1;
        got = (tc_got_t){"boolean", start, (size_t)(jp->lx.p - start), false};
        break;
    default:
        if (scan_number(jp, &is_int, &i, &d) != 0)
            return -1;
        got = (tc_got_t){"number", start, (size_t)(jp->lx.p - start), false};
    }
    return value_error(jp, f, TC_BAD_VALUE, expected, &got);
}

static void push(jp_t *jp, const char *name, size_t len, size_t index, bool map_key)
{
    jp->path[jp->npath++] = (jp_frame_t){name, len, index, map_key};
}

/* Step past the '{' or '[' at the cursor. */
static void enter(jp_t *jp)
{
    gw_tc_lex_step(&jp->lx);
}

/* After a member or element: 1 if another follows, 0 at the closing
 * bracket (consumed), -1 on a syntax error. */
static int next_member(jp_t *jp, char close)
{
    skip_ws(jp);
    if (peek(jp) == ',') {
        gw_tc_lex_step(&jp->lx);
        return 1;
    }
    if (peek(jp) != close)
        return fail(jp, JP_SYNTAX);
    jp->lx.p++;
    return 0;
}

/* ---- values --------------------------------------------------------------- */

static int parse_message(jp_t *jp, ProtobufCMessage *m);

/* A string token converted for `f`: copied for string fields, else parsed. */
static tc_status_t string_value(const tc_str_t *s, const ProtobufCFieldDescriptor *f, tc_value_t *v)
{
    if (!s->escaped && f->type != PROTOBUF_C_TYPE_STRING)
        return gw_tc_from_text(f, s->raw, s->len, v);
    char *buf = malloc(s->len + 1); /* the decoded text, ours until stored */
    if (buf == NULL)
        return TC_NOMEM;
    size_t n = gw_tc_decode_string(s, buf);
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        v->str = buf;
        return TC_OK;
    }
    tc_status_t st = gw_tc_from_text(f, buf, n, v);
    free(buf);
    return st;
}

/* The scalar at the cursor, converted for `f` and stored into `m`. */
static int parse_scalar(jp_t *jp, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    const char *start = jp->lx.p;
    tc_value_t v;
    tc_status_t st;
    tc_got_t got;
    tc_str_t s;
    bool is_int;
    int64_t i;
    double d;
    int c = peek(jp);
    if (c == '"') {
        if (scan_string(jp, &s) != 0)
            return -1;
        st = string_value(&s, f, &v);
        got = (tc_got_t){"string", start, (size_t)(jp->lx.p - start), false};
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        if (scan_number(jp, &is_int, &i, &d) != 0)
            return -1;
        st = is_int ? gw_tc_from_int(f, i, &v) : gw_tc_from_real(f, d, &v);
        got = (tc_got_t){"number", start, (size_t)(jp->lx.p - start), false};
    } else if (c == 't' || c == 'f') {
        if (scan_literal(jp, c == 't' ? "true" : "false", c == 't' ? 4 : 5) != 0)
            return -1;
        st = gw_tc_from_bool(f, c == 't', &v);
        got = (tc_got_t){"boolean", start, (size_t)(jp->lx.p - start), false};
    } else if (c == '{' || c == '[' || c == 'n') {
        return type_error(jp, f, NULL);
    } else {
        return fail(jp, JP_SYNTAX);
    }
    if (st == TC_OK)
        st = gw_tc_store(m, f, &v);
    return st == TC_OK ? 0 : value_error(jp, f, st, NULL, &got);
}

/* A '{' for message field `f` of `m`: a new element if repeated. A
 * wrapper (google.protobuf.Int32Value...) takes the bare value instead,
 * stored into its one field. */
static int parse_sub_message(jp_t *jp, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    ProtobufCMessage *sub;
    tc_status_t st;
    bool wrapper = gw_tc_is_wrapper(f->descriptor);
    if (!wrapper && peek(jp) != '{')
        return type_error(jp, f, "object");
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        tc_value_t v = {.msg = gw_tc_new_message(f->descriptor)};
        sub = v.msg;
        st = v.msg == NULL ? TC_NOMEM : gw_tc_store(m, f, &v);
    } else {
        st = gw_tc_sub_message(m, f, &sub);
    }
    if (st != TC_OK)
        return status_error(jp, f, st);
    return wrapper ? parse_scalar(jp, sub, &sub->descriptor->fields[0]) : parse_message(jp, sub);
}

static int parse_array(jp_t *jp, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    enter(jp);
    if (peek(jp) == ']')
        return next_member(jp, ']');
    int more = 1;
    for (size_t i = 0; more > 0; i++) {
        push(jp, NULL, 0, i, false);
        int rc = f->type == PROTOBUF_C_TYPE_MESSAGE ? parse_sub_message(jp, m, f) : parse_scalar(jp, m, f);
        if (rc != 0)
            return -1;
        jp->npath--;
        more = next_member(jp, ']');
    }
    return more;
}

/* Compare two map keys of field kf (qsort_r order). */
static int key_cmp(const void *a, const void *b, void *arg)
{
    const ProtobufCFieldDescriptor *kf = arg;
    const void *ka = (const char *)*(const ProtobufCMessage *const *)a + kf->offset;
    const void *kb = (const char *)*(const ProtobufCMessage *const *)b + kf->offset;
    if (kf->type == PROTOBUF_C_TYPE_STRING)
        return strcmp(*(const char *const *)ka, *(const char *const *)kb);
    return memcmp(ka, kb, gw_descset_value_size(kf->type));
}

/* Whether two entries share a key (textually different keys can parse to
 * the same number: "1" and "01"). Returns -1 when out of memory. */
static int has_duplicate_key(ProtobufCMessage **e, size_t n, const ProtobufCFieldDescriptor *kf)
{
    if (n <= 16) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (key_cmp(&e[i], &e[j], (void *)kf) == 0)
                    return 1;
        return 0;
    }
    ProtobufCMessage **sorted = malloc(n * sizeof(*sorted)); /* a copy: entries keep the client's order */
    if (sorted == NULL)
        return -1;
    memcpy(sorted, e, n * sizeof(*sorted));
    qsort_r(sorted, n, sizeof(*sorted), key_cmp, (void *)kf);
    int dup = 0;
    for (size_t i = 1; i < n && !dup; i++)
        dup = key_cmp(&sorted[i - 1], &sorted[i], (void *)kf) == 0;
    free(sorted);
    return dup;
}

/* One "key": value of a map: a new entry appended to field f of m. */
static int parse_map_entry(jp_t *jp, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    const ProtobufCMessageDescriptor *ed = f->descriptor;
    const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
    const char *start = jp->lx.p;
    tc_str_t key;
    if (peek(jp) != '"')
        return fail(jp, JP_SYNTAX);
    if (scan_string(jp, &key) != 0 || expect(jp, ':') != 0)
        return -1;
    push(jp, key.raw, key.len, 0, true);
    tc_value_t v = {.msg = gw_tc_new_message(ed)};
    ProtobufCMessage *entry = v.msg;
    tc_status_t st = entry == NULL ? TC_NOMEM : gw_tc_store(m, f, &v);
    if (st != TC_OK)
        return status_error(jp, f, st);
    if ((st = string_value(&key, kf, &v)) == TC_OK)
        st = gw_tc_store(entry, kf, &v);
    if (st != TC_OK)
        return value_error(jp, kf, st, NULL, &(tc_got_t){"string", start, key.len + 2, false});
    int rc =
        vf->type == PROTOBUF_C_TYPE_MESSAGE ? parse_sub_message(jp, entry, vf) : parse_scalar(jp, entry, vf);
    if (rc != 0)
        return -1;
    jp->npath--;
    return 0;
}

static int parse_map(jp_t *jp, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    enter(jp);
    int more = peek(jp) == '}' ? next_member(jp, '}') : 1;
    while (more > 0) {
        if (parse_map_entry(jp, m, f) != 0)
            return -1;
        more = next_member(jp, '}');
    }
    if (more < 0)
        return -1;
    size_t n = *(size_t *)((char *)m + f->quantifier_offset);
    const ProtobufCMessageDescriptor *ed = f->descriptor;
    int dup = has_duplicate_key(*(ProtobufCMessage ***)((char *)m + f->offset), n, &ed->fields[0]);
    if (dup == 0)
        return 0;
    if (dup < 0)
        return status_error(jp, f, TC_NOMEM);
    char prefix[256];
    format_path(jp, "field", prefix, sizeof(prefix));
    snprintf(jp->err, jp->errlen, "%s: duplicate map key", prefix);
    return fail(jp, JP_INVALID);
}

/* The value of field f of m, whatever its kind. */
static int parse_field(jp_t *jp, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    int c = peek(jp);
    if (c == 'n') /* null: leave the field at its default */
        return scan_literal(jp, "null", 4);
    if (gw_tc_is_map(m->descriptor, f))
        return c == '{' ? parse_map(jp, m, f) : type_error(jp, f, "object");
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return c == '[' ? parse_array(jp, m, f) : type_error(jp, f, "array");
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return parse_sub_message(jp, m, f);
    return parse_scalar(jp, m, f);
}

/* Which fields an object has named already (a field may be named twice as
 * "page_size" and "pageSize": not a JSON duplicate, still an error). */
typedef struct {
    uint64_t small[4];
    uint64_t *bits;
} jp_seen_t;

static bool seen_init(jp_seen_t *s, unsigned n_fields)
{
    memset(s->small, 0, sizeof(s->small));
    s->bits = n_fields <= 64 * 4 ? s->small : calloc((n_fields + 63) / 64, sizeof(uint64_t));
    return s->bits != NULL;
}

static bool seen_test_and_set(jp_seen_t *s, size_t i)
{
    uint64_t bit = (uint64_t)1 << (i % 64);
    bool was = (s->bits[i / 64] & bit) != 0;
    s->bits[i / 64] |= bit;
    return was;
}

/* One "name": value member of message m. */
static int parse_member(jp_t *jp, ProtobufCMessage *m, jp_seen_t *seen)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    tc_str_t key;
    char name[128];
    if (peek(jp) != '"')
        return fail(jp, JP_SYNTAX);
    if (scan_string(jp, &key) != 0 || expect(jp, ':') != 0)
        return -1;
    push(jp, key.raw, key.len, 0, false);
    const ProtobufCFieldDescriptor *f = NULL;
    if (!key.escaped)
        f = gw_tc_field(d, key.raw, key.len);
    else if (key.len < sizeof(name)) /* longer names match no field */
        f = gw_tc_field(d, name, gw_tc_decode_string(&key, name));
    if (f == NULL || seen_test_and_set(seen, (size_t)(f - d->fields))) {
        format_path(jp, f == NULL ? "unknown field" : "duplicate field", jp->err, jp->errlen);
        return fail(jp, JP_INVALID);
    }
    if (parse_field(jp, m, f) != 0)
        return -1;
    jp->npath--;
    return 0;
}

/* The object at the cursor into message m. */
static int parse_message(jp_t *jp, ProtobufCMessage *m)
{
    jp_seen_t seen;
    /* Only messages count towards the limit: arrays and maps hold scalars or
     * messages, never each other, so JSON nesting stays within twice this,
     * and what we write (where an empty [] or {} may sit below the deepest
     * message) is always acceptable input again. */
    if (++jp->depth > GW_TRANSCODE_MAX_DEPTH)
        return fail(jp, JP_TOO_DEEP);
    enter(jp);
    if (!seen_init(&seen, m->descriptor->n_fields))
        return fail(jp, JP_NOMEM);
    int more = peek(jp) == '}' ? next_member(jp, '}') : 1;
    while (more > 0) {
        if (parse_member(jp, m, &seen) != 0) {
            more = -1;
            break;
        }
        more = next_member(jp, '}');
    }
    if (seen.bits != seen.small)
        free(seen.bits);
    jp->depth--;
    return more;
}

/* ---- entry points --------------------------------------------------------- */

/* The message for a body we could not use: jansson's if it is not JSON
 * (any JSON value when the body is one field's value, else an object or
 * array, as jansson reads by default). */
static int body_error(const jp_t *jp, const char *body, size_t len, bool any, char *err, size_t errlen)
{
    if (jp->status == JP_NOMEM) {
        snprintf(err, errlen, "out of memory");
        return GW_TRANSCODE_NOMEM;
    }
    if (jp->status == JP_TOO_DEEP) {
        snprintf(err, errlen, "invalid JSON body: nesting too deep");
        return GW_TRANSCODE_INVALID;
    }
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES | (any ? JSON_DECODE_ANY : 0), &je);
    if (j == NULL)
        snprintf(err, errlen, "invalid JSON body: %s (line %d, column %d)", je.text, je.line, je.column);
    else if (jp->status == JP_SYNTAX) /* a NUL byte jansson skips (transcode_lex.c) */
        snprintf(err, errlen, "invalid JSON body: unexpected byte at position %zu",
                 (size_t)(jp->lx.p - body));
    json_decref(j);
    return GW_TRANSCODE_INVALID;
}

/* The whole body as the value of field f of m, shown as `name` in errors. */
static void parse_field_body(jp_t *jp, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                             const char *name)
{
    jp->depth = 1; /* m, the request or a message inside it, is open */
    push(jp, name, strlen(name), 0, false);
    if (parse_field(jp, m, f) == 0) {
        skip_ws(jp);
        if (jp->lx.p != jp->lx.end)
            fail(jp, JP_SYNTAX);
    }
}

int gw_tc_parse_body(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const char *name,
                     const char *body, size_t len, char *err, size_t errlen)
{
    jp_t jp = {.lx = {body, body + len}, .err = err, .errlen = errlen};
    skip_ws(&jp);
    if (f == NULL && gw_tc_is_wrapper(m->descriptor)) { /* a wrapper request: its bare value */
        f = &m->descriptor->fields[0];
        name = f->name;
    }
    if (f != NULL) {
        parse_field_body(&jp, m, f, name);
    } else if (peek(&jp) == '{') {
        if (parse_message(&jp, m) == 0) {
            skip_ws(&jp);
            if (jp.lx.p != jp.lx.end)
                fail(&jp, JP_SYNTAX);
        }
    } else if (peek(&jp) == '[') {
        snprintf(err, errlen, "invalid JSON body: expected an object");
        fail(&jp, JP_INVALID);
    } else {
        fail(&jp, JP_SYNTAX);
    }
    return jp.status == JP_OK ? GW_TRANSCODE_OK : body_error(&jp, body, len, f != NULL, err, errlen);
}
