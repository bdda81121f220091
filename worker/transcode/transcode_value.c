/*
 * Field values for the transcoder: converting JSON values and URL text to a
 * field's type (tc_value_t), and storing them into protobuf-c messages the
 * way protobuf_c_message_free_unpacked expects to free them (every pointer
 * malloc'd; defaults, which live in the descriptors, never freed). Used by
 * the body parser (transcode_in.c) and for query parameters and path
 * variables (transcode.c).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/descset.h"
#include "worker/transcode/transcode_int.h"

#include "core/digits.h"

/* ---- messages ------------------------------------------------------------- */

/* Zeroes, then each singular field's default from the descriptor, as
 * protobuf-c's own unpack does for descriptors without message_init (those
 * built at run time by core/descset.c): generated init functions are never
 * called. Strings and sub-messages point at their defaults (free_unpacked
 * and release_singular never free those); other defaults are copied. A
 * oneof member is skipped: its storage is shared and its case is 0, so its
 * default is never read, and a pointer left in the union would be
 * misread as another member's value. */
ProtobufCMessage *gw_tc_new_message(const ProtobufCMessageDescriptor *d)
{
    ProtobufCMessage *m = calloc(1, d->sizeof_message);
    if (m == NULL)
        return NULL;
    m->descriptor = d;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->default_value == NULL || f->label == PROTOBUF_C_LABEL_REPEATED ||
            (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        void *p = gw_tc_member(m, f);
        if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
            *(const void **)p = f->default_value;
        else
            memcpy(p, f->default_value, gw_descset_value_size(f->type));
    }
    return m;
}

/* ---- base64 --------------------------------------------------------------- */

/* Standard or URL-safe base64, padding optional (but if present, complete). */
static tc_status_t b64_decode(const char *s, size_t n, ProtobufCBinaryData *out)
{
    size_t m = n;
    while (m > 0 && n - m < 2 && s[m - 1] == '=')
        m--;
    if ((m < n && n % 4 != 0) || m % 4 == 1)
        return TC_BAD_VALUE;
    out->len = 0;
    out->data = NULL;
    if (m == 0)
        return TC_OK;
    uint8_t *d = malloc(m / 4 * 3 + 2);
    if (d == NULL)
        return TC_NOMEM;
    uint32_t acc = 0;
    size_t len = 0;
    for (size_t i = 0; i < m; i++) {
        int v = gw_b64_value((unsigned char)s[i], false);
        if (v < 0) {
            free(d);
            return TC_BAD_VALUE;
        }
        acc = acc << 6 | (uint32_t)v;
        if (i % 4 == 3) {
            d[len++] = (uint8_t)(acc >> 16);
            d[len++] = (uint8_t)(acc >> 8);
            d[len++] = (uint8_t)acc;
        }
    }
    if (m % 4 == 2)
        d[len++] = (uint8_t)(acc >> 4);
    else if (m % 4 == 3) {
        d[len++] = (uint8_t)(acc >> 10);
        d[len++] = (uint8_t)(acc >> 2);
    }
    out->data = d;
    out->len = len;
    return TC_OK;
}

/* ---- conversion ----------------------------------------------------------- */

/* An integer given as sign + magnitude, for any numeric or enum field. */
static tc_status_t from_integer(const ProtobufCFieldDescriptor *f, bool neg, uint64_t mag, tc_value_t *v)
{
    const uint64_t i32_lim = neg ? (uint64_t)INT32_MAX + 1 : INT32_MAX;
    const uint64_t i64_lim = neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM: /* open enums: any int32 number is kept */
        if (mag > i32_lim)
            return TC_RANGE;
        v->i32 = neg ? (int32_t)(0 - (int64_t)mag) : (int32_t)mag;
        return TC_OK;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if ((neg && mag != 0) || mag > UINT32_MAX)
            return TC_RANGE;
        v->u32 = (uint32_t)mag;
        return TC_OK;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (mag > i64_lim)
            return TC_RANGE;
        v->i64 = neg ? (int64_t)(0 - mag) : (int64_t)mag; /* two's complement wrap gives INT64_MIN */
        return TC_OK;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (neg && mag != 0)
            return TC_RANGE;
        v->u64 = mag;
        return TC_OK;
    case PROTOBUF_C_TYPE_FLOAT:
        v->f = neg ? -(float)mag : (float)mag;
        return TC_OK;
    case PROTOBUF_C_TYPE_DOUBLE:
        v->d = neg ? -(double)mag : (double)mag;
        return TC_OK;
    default:
        return TC_BAD_VALUE;
    }
}

tc_status_t gw_tc_from_int(const ProtobufCFieldDescriptor *f, int64_t i, tc_value_t *v)
{
    uint64_t mag = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
    return from_integer(f, i < 0, mag, v);
}

tc_status_t gw_tc_from_real(const ProtobufCFieldDescriptor *f, double d, tc_value_t *v)
{
    if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
        v->d = d;
        return TC_OK;
    }
    if (f->type == PROTOBUF_C_TYPE_FLOAT) {
        if (isfinite(d) && fabs(d) > FLT_MAX)
            return TC_RANGE;
        v->f = (float)d;
        return TC_OK;
    }
    if (!gw_tc_is_integer(f->type) && f->type != PROTOBUF_C_TYPE_ENUM)
        return TC_BAD_VALUE;
    /* 1.0 and 1e3 are integers written as reals; 1.5 is not. */
    if (!isfinite(d) || d != trunc(d))
        return TC_BAD_VALUE;
    if (fabs(d) >= 18446744073709551616.0)
        return TC_RANGE;
    return from_integer(f, d < 0, (uint64_t)fabs(d), v);
}

tc_status_t gw_tc_from_bool(const ProtobufCFieldDescriptor *f, bool b, tc_value_t *v)
{
    if (f->type != PROTOBUF_C_TYPE_BOOL)
        return TC_BAD_VALUE;
    v->b = b;
    return TC_OK;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* An optional '-' then at least one digit, and nothing else. */
static bool is_decimal(const char *s, size_t n)
{
    size_t i = n > 0 && s[0] == '-';
    if (i == n)
        return false;
    for (; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

static bool text_is(const char *s, size_t n, const char *lit)
{
    return gw_tc_name_cmp(s, n, lit) == 0;
}

static tc_status_t enum_from_text(const ProtobufCEnumDescriptor *e, const char *s, size_t n, tc_value_t *v)
{
    size_t lo = 0, hi = e->n_value_names;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = gw_tc_name_cmp(s, n, e->values_by_name[mid].name);
        if (c == 0) {
            v->i32 = e->values[e->values_by_name[mid].index].value;
            return TC_OK;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return TC_BAD_VALUE;
}

static tc_status_t real_from_text(const ProtobufCFieldDescriptor *f, const char *s, size_t n, tc_value_t *v)
{
    double d;
    bool is_int, overflow;
    if (text_is(s, n, "NaN"))
        d = NAN;
    else if (text_is(s, n, "Infinity"))
        d = INFINITY;
    else if (text_is(s, n, "-Infinity"))
        d = -INFINITY;
    else if (n == 0 || gw_tc_number_len(s, s + n, &is_int) != n)
        return TC_BAD_VALUE;
    else if (!gw_tc_strtod(s, n, &d, &overflow))
        return TC_NOMEM;
    else if (overflow)
        return TC_RANGE;
    return gw_tc_from_real(f, d, v);
}

tc_status_t gw_tc_from_text(const ProtobufCFieldDescriptor *f, const char *s, size_t n, tc_value_t *v)
{
    bool neg;
    uint64_t mag;
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        if ((v->str = malloc(n + 1)) == NULL)
            return TC_NOMEM;
        memcpy(v->str, s, n);
        v->str[n] = '\0';
        return TC_OK;
    case PROTOBUF_C_TYPE_BYTES:
        return b64_decode(s, n, &v->bytes);
    case PROTOBUF_C_TYPE_BOOL:
        if (text_is(s, n, "true") || text_is(s, n, "false"))
            return gw_tc_from_bool(f, n == 4, v);
        return TC_BAD_VALUE;
    case PROTOBUF_C_TYPE_ENUM:
        if (enum_from_text(f->descriptor, s, n, v) == TC_OK)
            return TC_OK;
        return gw_tc_parse_digits(s, n, &neg, &mag) ? from_integer(f, neg, mag, v) : TC_BAD_VALUE;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return real_from_text(f, s, n, v);
    case PROTOBUF_C_TYPE_MESSAGE:
        return TC_BAD_VALUE;
    default: /* integers: exact decimal text, so uint64 beyond INT64_MAX works */
        if (gw_tc_parse_digits(s, n, &neg, &mag))
            return from_integer(f, neg, mag, v);
        return is_decimal(s, n) ? TC_RANGE : TC_BAD_VALUE; /* too many digits for 64 bits */
    }
}

/* ---- storage -------------------------------------------------------------- */

void gw_tc_value_free(const ProtobufCFieldDescriptor *f, tc_value_t *v)
{
    if (f->type == PROTOBUF_C_TYPE_STRING)
        free(v->str);
    else if (f->type == PROTOBUF_C_TYPE_BYTES)
        free(v->bytes.data);
    else if (f->type == PROTOBUF_C_TYPE_MESSAGE && v->msg != NULL)
        protobuf_c_message_free_unpacked(v->msg, NULL);
}

/* Free the current value of a singular field, by the rules free_unpacked
 * uses (defaults live in the descriptor and are never freed). */
static void release_singular(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    void *p = gw_tc_member(m, f);
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        char *s = *(char **)p;
        if (s != NULL && s != f->default_value)
            free(s);
    } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
        const ProtobufCBinaryData *def = f->default_value;
        void *data = ((ProtobufCBinaryData *)p)->data;
        if (data != NULL && (def == NULL || def->data != data))
            free(data);
    } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        ProtobufCMessage *sm = *(ProtobufCMessage **)p;
        if (sm != NULL && sm != f->default_value)
            protobuf_c_message_free_unpacked(sm, NULL);
    }
}

/* Repeated arrays grow by doubling; their capacity is implied by the count
 * (4, 8, 16... elements), so nothing extra is kept in the message. */
static tc_status_t append(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, tc_value_t *v)
{
    size_t *np = (size_t *)((char *)m + f->quantifier_offset);
    void **arr = gw_tc_member(m, f);
    size_t n = *np, size = gw_descset_value_size(f->type);
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
        size_t cap = n == 0 ? 4 : 2 * n;
        void *grown = cap <= SIZE_MAX / size ? realloc(*arr, cap * size) : NULL;
        if (grown == NULL) {
            gw_tc_value_free(f, v);
            return TC_NOMEM;
        }
        *arr = grown;
    }
    memcpy((char *)*arr + n * size, v, size);
    *np = n + 1;
    return TC_OK;
}

tc_status_t gw_tc_store(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, tc_value_t *v)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return append(m, f, v);
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        /* The members share storage; only the one named by the case holds a value. */
        uint32_t *which = (uint32_t *)((char *)m + f->quantifier_offset);
        if (*which != 0 && *which != f->id) {
            gw_tc_value_free(f, v);
            return TC_ONEOF;
        }
        if (*which == f->id)
            release_singular(m, f);
        *which = f->id;
    } else {
        release_singular(m, f);
        /* proto2 optional scalars say "present" through a has_ flag */
        if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
            f->type != PROTOBUF_C_TYPE_MESSAGE)
            *(protobuf_c_boolean *)((char *)m + f->quantifier_offset) = 1;
    }
    memcpy(gw_tc_member(m, f), v, gw_descset_value_size(f->type));
    return TC_OK;
}

tc_status_t gw_tc_sub_message(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, ProtobufCMessage **out)
{
    ProtobufCMessage *cur = *(ProtobufCMessage **)gw_tc_member(m, f);
    if (gw_tc_is_live(m, f) && cur != NULL && cur != f->default_value) {
        *out = cur;
        return TC_OK;
    }
    tc_value_t v = {.msg = gw_tc_new_message(f->descriptor)};
    if (v.msg == NULL)
        return TC_NOMEM;
    tc_status_t st = gw_tc_store(m, f, &v);
    if (st == TC_OK)
        *out = *(ProtobufCMessage **)gw_tc_member(m, f);
    return st;
}
