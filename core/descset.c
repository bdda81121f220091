/*
 * The descriptor set (core/descset.h): its arena, the files added so far,
 * the lookups after the link, and the bundled set (the .proto files of proto/, compiled by
 * protoc at build time and linked in by core/bundled.S). The wire decoding is
 * core/descset_wire.c, the descriptor building core/descset_build.c.
 *
 * Called by core/api.c in the master; the built set is read-only afterwards
 * and shared with the workers by fork().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/descset_int.h"

#define CHUNK_SIZE    (64 * 1024)
#define MAX_FILE_SIZE (64u << 20)
/* Far above any real set (a few hundred files); keeps the duplicate check,
 * which compares names one by one, cheap on a hostile file. */
#define MAX_FILES 4096

/* core/bundled.S */
extern const uint8_t gw_bundled_pb[];
extern const uint64_t gw_bundled_pb_len;

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    max_align_t data[];
} chunk_t;

struct gw_descset {
    chunk_t *chunks;
    ds_file_t *files, **files_tail;
    size_t nfiles;
    bool linked, failed;
    ds_index_t index;
};

void *gw_ds_alloc(gw_descset_t *set, size_t size)
{
    size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    if (size == 0)
        size = sizeof(max_align_t);
    chunk_t *c = set->chunks;
    if (c == NULL || c->cap - c->used < size) {
        size_t cap = size > CHUNK_SIZE / 2 ? size : CHUNK_SIZE;
        if ((c = calloc(1, sizeof(*c) + cap)) == NULL)
            return NULL;
        c->cap = cap;
        /* A big block gets its own chunk behind the current one, so the
         * current one's free space stays usable. */
        if (set->chunks != NULL && cap != CHUNK_SIZE) {
            c->next = set->chunks->next;
            set->chunks->next = c;
        } else {
            c->next = set->chunks;
            set->chunks = c;
        }
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    return p;
}

char *gw_ds_strndup(gw_descset_t *set, const char *s, size_t len)
{
    char *d = gw_ds_alloc(set, len + 1);
    if (d != NULL)
        memcpy(d, s, len);
    return d;
}

char *gw_ds_printf(gw_descset_t *set, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *d = gw_ds_alloc(set, (size_t)n + 1);
    if (d == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}

int gw_ds_fail(ds_err_t *err, const char *fmt, ...)
{
    if (err->buf != NULL && err->len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->buf, err->len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

ds_file_t *gw_ds_files(const gw_descset_t *set)
{
    return set->files;
}

gw_descset_t *gw_descset_new(void)
{
    gw_descset_t *set = calloc(1, sizeof(*set));
    if (set != NULL)
        set->files_tail = &set->files;
    return set;
}

int gw_ds_check_dup(gw_descset_t *set, const char *name, const uint8_t *bytes, size_t len, const char *origin,
                    ds_err_t *err)
{
    for (const ds_file_t *f = set->files; f != NULL; f = f->next) {
        if (strcmp(f->name, name) != 0)
            continue;
        if (f->len == len && memcmp(f->bytes, bytes, len) == 0)
            return 1;
        return gw_ds_fail(err, "%s: %s: already loaded with different content (the same file from two sets)",
                          origin, name);
    }
    if (set->nfiles >= MAX_FILES)
        return gw_ds_fail(err, "%s: more than %d files in the descriptor sets", origin, MAX_FILES);
    return 0;
}

void gw_ds_append(gw_descset_t *set, ds_file_t *file)
{
    *set->files_tail = file;
    set->files_tail = &file->next;
    set->nfiles++;
}

int gw_descset_add(gw_descset_t *set, const uint8_t *data, size_t len, const char *origin, char *err,
                   size_t errlen)
{
    ds_err_t e = {err, errlen};
    if (set->failed || set->linked) {
        set->failed = true;
        return gw_ds_fail(&e, "%s: descriptor set already linked or failed", origin);
    }
    if (gw_ds_decode_set(set, data, len, origin, &e) < 0) {
        set->failed = true;
        return -1;
    }
    return 0;
}

int gw_descset_add_file(gw_descset_t *set, const char *path, char *err, size_t errlen)
{
    ds_err_t e = {err, errlen};
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        set->failed = true;
        return gw_ds_fail(&e, "%s: %s", path, strerror(errno));
    }
    size_t cap = 64 * 1024, len = 0;
    uint8_t *buf = malloc(cap);
    int rc = buf == NULL ? gw_ds_fail(&e, "%s: out of memory", path) : 0;
    while (rc == 0) {
        if (len == cap) {
            uint8_t *nb = cap < MAX_FILE_SIZE ? realloc(buf, cap * 2) : NULL;
            if (nb == NULL) {
                rc = gw_ds_fail(&e, "%s: larger than %u MiB or out of memory", path, MAX_FILE_SIZE >> 20);
                break;
            }
            buf = nb, cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if (n == 0) {
            if (ferror(fp))
                rc = gw_ds_fail(&e, "%s: %s", path, strerror(errno ? errno : EIO));
            break;
        }
    }
    fclose(fp);
    if (rc == 0)
        rc = gw_descset_add(set, buf, len, path, err, errlen);
    else
        set->failed = true;
    free(buf);
    return rc;
}

int gw_descset_add_bundled(gw_descset_t *set, char *err, size_t errlen)
{
    return gw_descset_add(set, gw_bundled_pb, (size_t)gw_bundled_pb_len, "bundled", err, errlen);
}

int gw_descset_link(gw_descset_t *set, char *err, size_t errlen)
{
    ds_err_t e = {err, errlen};
    if (set->failed || set->linked) {
        set->failed = true;
        return gw_ds_fail(&e, "descriptor set already linked or failed");
    }
    if (gw_ds_link(set, &set->index, &e) < 0) {
        set->failed = true;
        return -1;
    }
    set->linked = true;
    return 0;
}

const ProtobufCMessageDescriptor *gw_descset_message(const gw_descset_t *set, const char *full_name)
{
    ds_msg_t *m = set->linked ? gw_ds_find_msg(&set->index, full_name) : NULL;
    return m != NULL ? m->built : NULL;
}

const ProtobufCEnumDescriptor *gw_descset_enum(const gw_descset_t *set, const char *full_name)
{
    ds_enum_t *e = set->linked ? gw_ds_find_enum(&set->index, full_name) : NULL;
    return e != NULL ? e->built : NULL;
}

const ProtobufCMessageDescriptor *gw_ds_message_at(const gw_descset_t *set, size_t i)
{
    return set->linked && i < set->index.nmsgs ? set->index.msgs[i]->built : NULL;
}

size_t gw_descset_nservices(const gw_descset_t *set)
{
    return set->linked ? set->index.nservices : 0;
}

const gw_desc_service_t *gw_descset_service(const gw_descset_t *set, size_t i)
{
    return set->linked && i < set->index.nservices ? &set->index.services[i] : NULL;
}

void gw_descset_free(gw_descset_t *set)
{
    if (set == NULL)
        return;
    gw_ds_init_release(set);
    for (chunk_t *c = set->chunks, *next; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    free(set);
}
