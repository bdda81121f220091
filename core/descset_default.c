/*
 * Field default values of the runtime descriptors (gw_descset_link, via
 * core/descset_build.c): proto3 strings get protobuf_c_empty_string as
 * protoc-c generates; proto2 [default = ...] is parsed for scalars, bool,
 * strings, bytes (protoc writes them C-escaped) and enums (by value name).
 * Oneof members get none (see gw_ds_field_default). The value lives in the
 * set's arena; default_value points at it the way
 * protobuf-c's generic message init reads it (the char * itself for strings,
 * a ProtobufCBinaryData for bytes, the number for the rest).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/descset_int.h"
#include "core/digits.h"

/* protoc's CEscape undone: \n \r \t \\ \' \" \? \a \b \f \v, \ooo and \xHH.
 * 0 ok, -1 bad escape, -2 out of memory. */
static int unescape(gw_descset_t *set, const char *s, ProtobufCBinaryData *out)
{
    static const char simple[] = "n\nr\rt\t\\\\''\"\"??a\ab\bf\fv\v";
    uint8_t *d = gw_ds_alloc(set, strlen(s) + 1), *o = d;
    if (d == NULL)
        return -2;
    while (*s != '\0') {
        if (*s != '\\') {
            *o++ = (uint8_t)*s++;
            continue;
        }
        s++;
        int v = 0, k = 0;
        if (*s >= '0' && *s <= '7') {
            for (; k < 3 && *s >= '0' && *s <= '7'; k++)
                v = v * 8 + (*s++ - '0');
        } else if (*s == 'x') {
            for (s++; k < 2 && gw_hex_value(*s) >= 0; k++)
                v = v * 16 + gw_hex_value(*s++);
        } else {
            const char *p = *s != '\0' ? strchr(simple, *s) : NULL;
            while (p != NULL && (p - simple) % 2 != 0)
                p = strchr(p + 1, *s);
            if (p == NULL)
                return -1;
            v = (unsigned char)p[1], k = 1, s++;
        }
        if (k == 0 || v > 255)
            return -1;
        *o++ = (uint8_t)v;
    }
    out->data = d;
    out->len = (size_t)(o - d);
    return 0;
}

/* The number in s, whole and in range; false otherwise. */
static bool parse_int(const char *s, bool is_signed, int64_t lo, int64_t hi, uint64_t uhi, void *out,
                      size_t size)
{
    char *end;
    errno = 0;
    if (is_signed) {
        long long v = strtoll(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
            return false;
        if (size == 4)
            *(int32_t *)out = (int32_t)v;
        else
            *(int64_t *)out = (int64_t)v;
        return true;
    }
    if (*s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > uhi)
        return false;
    if (size == 4)
        *(uint32_t *)out = (uint32_t)v;
    else
        *(uint64_t *)out = (uint64_t)v;
    return true;
}

static bool parse_enum(const ProtobufCEnumDescriptor *ed, const char *s, int32_t *out)
{
    for (unsigned i = 0; i < ed->n_value_names; i++) {
        if (strcmp(ed->values_by_name[i].name, s) == 0) {
            *out = ed->values[ed->values_by_name[i].index].value;
            return true;
        }
    }
    return false;
}

static bool parse_value(gw_descset_t *set, const ProtobufCFieldDescriptor *f, const char *s, void *v)
{
    char *end;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return parse_int(s, true, INT32_MIN, INT32_MAX, 0, v, 4);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return parse_int(s, true, INT64_MIN, INT64_MAX, 0, v, 8);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return parse_int(s, false, 0, 0, UINT32_MAX, v, 4);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return parse_int(s, false, 0, 0, UINT64_MAX, v, 8);
    case PROTOBUF_C_TYPE_FLOAT:
        *(float *)v = strtof(s, &end);
        return end != s && *end == '\0';
    case PROTOBUF_C_TYPE_DOUBLE:
        *(double *)v = strtod(s, &end);
        return end != s && *end == '\0';
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)v = strcmp(s, "true") == 0;
        return strcmp(s, "true") == 0 || strcmp(s, "false") == 0;
    case PROTOBUF_C_TYPE_ENUM:
        return parse_enum(f->descriptor, s, v);
    case PROTOBUF_C_TYPE_BYTES:
        return unescape(set, s, v) == 0;
    default:
        return false;
    }
}

int gw_ds_field_default(gw_descset_t *set, const ds_msg_t *m, const ds_field_t *fd,
                        ProtobufCFieldDescriptor *f, ds_err_t *err)
{
    /* protoc-c gives oneof members defaults too, but its generated init
     * zeroes the union; with message_init NULL, protobuf-c's generic init
     * writes every default into the shared union, and unpacking another
     * member then frees that default pointer as its own. So none here. */
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return 0;
    if (fd->default_str == NULL) {
        if (m->file->proto3 && f->type == PROTOBUF_C_TYPE_STRING && !fd->proto3_optional)
            f->default_value = &protobuf_c_empty_string;
        return 0;
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED || f->type == PROTOBUF_C_TYPE_MESSAGE)
        return gw_ds_fail(err, "%s: field %s.%s: a default value on a repeated or message field",
                          m->file->name, m->full_name, fd->name);
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        f->default_value = gw_ds_strndup(set, fd->default_str, strlen(fd->default_str));
        return f->default_value != NULL ? 0 : gw_ds_fail(err, "descriptor set: out of memory");
    }
    void *v = gw_ds_alloc(set, sizeof(ProtobufCBinaryData));
    if (v == NULL)
        return gw_ds_fail(err, "descriptor set: out of memory");
    if (!parse_value(set, f, fd->default_str, v))
        return gw_ds_fail(err, "%s: field %s.%s: default value not understood", m->file->name, m->full_name,
                          fd->name);
    f->default_value = v;
    return 0;
}
