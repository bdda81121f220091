/*
 * demo-backend: --record call log and generic protobuf → JSON rendering.
 */
#include "tests/backends/record.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/backends/util.h"

static int record_fd = -1;
static pthread_mutex_t record_lock = PTHREAD_MUTEX_INITIALIZER;

int record_open(const char *path)
{
    record_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    return record_fd < 0 ? -1 : 0;
}

void record_close(void)
{
    if (record_fd >= 0)
        close(record_fd);
    record_fd = -1;
}

bool record_enabled(void)
{
    return record_fd >= 0;
}

json_t *record_entry_new(const char *method)
{
    return json_pack("{s:f, s:s}", "ts", now_unix(), "method", method);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            perror("demo-backend: record write");
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

void record_write(json_t *entry)
{
    char *line;
    size_t len;
    if (entry == NULL)
        return;
    line = json_dumps(entry, JSON_COMPACT);
    json_decref(entry);
    if (line == NULL)
        return;
    len = strlen(line);
    line[len] = '\n'; /* replaces the NUL; the buffer is len + 1 bytes */
    pthread_mutex_lock(&record_lock);
    if (record_fd >= 0)
        write_all(record_fd, line, len + 1);
    pthread_mutex_unlock(&record_lock);
    free(line);
}

json_t *json_str_safe(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j != NULL)
        return j;
    char *copy = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        copy[i] = (unsigned char)s[i] < 0x80 && s[i] != '\0' ? s[i] : '?';
    copy[n] = '\0';
    j = json_stringn(copy, n);
    free(copy);
    return j;
}

json_t *json_base64(const unsigned char *data, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t olen = 4 * ((n + 2) / 3), o = 0;
    char *out = xmalloc(olen + 1);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)data[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)data[i + 1] << 8;
        if (i + 2 < n)
            v |= data[i + 2];
        out[o++] = tbl[(v >> 18) & 63];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    json_t *j = json_stringn(out, o);
    free(out);
    return j;
}

static size_t scalar_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return 4;
    }
}

static json_t *enum_to_json(const ProtobufCEnumDescriptor *d, int v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
    return ev ? json_string(ev->name) : json_integer(v);
}

/* One value of field f stored at p. */
static json_t *value_to_json(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return json_integer(*(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return json_integer((json_int_t) * (const uint64_t *)p);
    case PROTOBUF_C_TYPE_FLOAT:
        return json_real(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return json_real(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM:
        return enum_to_json(f->descriptor, *(const int *)p);
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return s ? json_str_safe(s, strlen(s)) : json_string("");
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        return json_base64(b->data, b->len);
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
        return m ? pb_to_json(m) : json_null();
    }
    }
    return json_null();
}

static bool is_map_entry(const ProtobufCFieldDescriptor *f)
{
    const ProtobufCMessageDescriptor *d = f->descriptor;
    size_t n;
    if (f->type != PROTOBUF_C_TYPE_MESSAGE || d == NULL || d->n_fields != 2)
        return false;
    n = strlen(d->short_name);
    return n > 5 && strcmp(d->short_name + n - 5, "Entry") == 0;
}

static json_t *map_to_json(const ProtobufCFieldDescriptor *f, ProtobufCMessage *const *items, size_t n)
{
    const ProtobufCMessageDescriptor *d = f->descriptor;
    json_t *obj = json_object();
    for (size_t i = 0; i < n; i++) {
        const char *base = (const char *)items[i];
        json_t *key = value_to_json(&d->fields[0], base + d->fields[0].offset);
        json_t *val = value_to_json(&d->fields[1], base + d->fields[1].offset);
        if (json_is_string(key))
            json_object_set_new(obj, json_string_value(key), val);
        else
            json_decref(val);
        json_decref(key);
    }
    return obj;
}

static json_t *repeated_to_json(const ProtobufCFieldDescriptor *f, const char *base)
{
    size_t n = *(const size_t *)(base + f->quantifier_offset);
    const char *arr = *(char *const *)(base + f->offset);
    size_t sz = scalar_size(f->type);
    json_t *out;
    if (is_map_entry(f))
        return map_to_json(f, (ProtobufCMessage *const *)arr, n);
    out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, value_to_json(f, arr + i * sz));
    return out;
}

json_t *pb_to_json(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    json_t *obj = json_object();
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        json_t *v;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
                continue;
        } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0 &&
                   f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING &&
                   !*(const protobuf_c_boolean *)(base + f->quantifier_offset)) {
            continue;
        }
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
            v = repeated_to_json(f, base);
        else
            v = value_to_json(f, base + f->offset);
        json_object_set_new(obj, f->name, v);
    }
    return obj;
}
