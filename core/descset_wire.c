/*
 * The protobuf wire reader of the descriptor set and the decoder of the parts
 * of descriptor.proto the gateway needs (files, messages, fields, oneofs,
 * enums; services, methods and google.api.http are core/descset_http.c) into
 * the model of core/descset_int.h. Called by gw_descset_add (core/descset.c).
 *
 * Hostile input is expected (PROTO_DESCRIPTOR_SET is an operator's file, and
 * the fuzzer feeds this directly): every read is bounds-checked, varints are
 * at most 10 bytes, lengths never pass the enclosing message, nesting is
 * bounded, unknown fields of any wire type are skipped, and a field of a
 * known number with the wrong wire type is bad wire data. Arrays are sized by
 * a counting pass over the same bytes before the filling pass. Every string
 * kept is copied into the set's arena.
 */
#include <stdio.h>
#include <string.h>

#include "core/descset_int.h"

#define MAX_DEPTH 32

static int read_varint(ds_wire_t *w, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (w->p >= w->end)
            return -1;
        uint8_t b = *w->p++;
        if (shift == 63 && b > 1)
            return -1;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

static int wire_next_depth(ds_wire_t *w, ds_wfield_t *f, int depth);

/* Skip a (deprecated) group up to its end tag; groups nest. */
static int skip_group(ds_wire_t *w, uint32_t num, int depth)
{
    if (depth > MAX_DEPTH)
        return -1;
    ds_wfield_t f;
    int rc;
    while ((rc = wire_next_depth(w, &f, depth + 1)) == 1)
        if (f.wt == 4)
            return f.num == num ? 0 : -1;
    return -1;
}

/* 1: a field in *f; 0: end of the message; -1: bad wire data at w->p. A
 * group is skipped whole and reported as a field of wire type 3; an end-group
 * tag comes back as wire type 4 (only skip_group accepts it). */
static int wire_next_depth(ds_wire_t *w, ds_wfield_t *f, int depth)
{
    if (w->p >= w->end)
        return 0;
    uint64_t key;
    if (read_varint(w, &key) < 0 || (key >> 3) == 0 || (key >> 3) > 0x1fffffff)
        return -1;
    f->num = (uint32_t)(key >> 3);
    f->wt = (int)(key & 7);
    switch (f->wt) {
    case 0:
        return read_varint(w, &f->v) < 0 ? -1 : 1;
    case 1:
    case 5: {
        size_t n = f->wt == 1 ? 8 : 4;
        if ((size_t)(w->end - w->p) < n)
            return -1;
        f->v = 0;
        for (size_t i = 0; i < n; i++)
            f->v |= (uint64_t)w->p[i] << (8 * i);
        w->p += n;
        return 1;
    }
    case 2: {
        uint64_t len;
        if (read_varint(w, &len) < 0 || len > (uint64_t)(w->end - w->p))
            return -1;
        f->data = w->p;
        f->len = (size_t)len;
        w->p += len;
        return 1;
    }
    case 3:
        return skip_group(w, f->num, depth) < 0 ? -1 : 1;
    case 4:
        return depth > 0 ? 1 : -1;
    default:
        return -1;
    }
}

static int wire_next(ds_wire_t *w, ds_wfield_t *f)
{
    return wire_next_depth(w, f, 0);
}

int gw_ds_bad_wire(ds_dec_t *d, const uint8_t *at)
{
    return gw_ds_fail(d->err, "%s: not a FileDescriptorSet (bad wire data at byte %zu)", d->origin,
                      (size_t)(at - d->base));
}

/* Next field, or -1 having written the error. */
int gw_ds_next(ds_dec_t *d, ds_wire_t *w, ds_wfield_t *f)
{
    int rc = wire_next(w, f);
    if (rc < 0)
        return gw_ds_bad_wire(d, w->p);
    return rc;
}

/* How many times field `num` occurs (a length-delimited one); stops quietly
 * at bad data, which the filling pass then reports. */
size_t gw_ds_count(const uint8_t *data, size_t len, uint32_t num)
{
    ds_wire_t w = {data, data + len};
    ds_wfield_t f;
    size_t n = 0;
    while (wire_next(&w, &f) == 1)
        n += f.num == num && f.wt == 2;
    return n;
}

/* The field must have wire type `wt`, else bad wire data at its tag's end. */
int gw_ds_want(ds_dec_t *d, const ds_wire_t *w, const ds_wfield_t *f, int wt)
{
    return f->wt == wt ? 0 : gw_ds_bad_wire(d, w->p);
}

/* A length-delimited field as a NUL-terminated arena string; NUL bytes
 * inside are refused (they would cut the name short). */
int gw_ds_get_str(ds_dec_t *d, const ds_wire_t *w, const ds_wfield_t *f, const char **out)
{
    if (gw_ds_want(d, w, f, 2) < 0)
        return -1;
    if (memchr(f->data, 0, f->len) != NULL)
        return gw_ds_bad_wire(d, f->data);
    char *s = gw_ds_strndup(d->set, (const char *)f->data, f->len);
    if (s == NULL)
        return gw_ds_fail(d->err, "%s: out of memory", d->origin);
    *out = s;
    return 0;
}

/* Identifiers ("GetUser"), dotted ("user.v1"), or type references (".user.User"). */
bool gw_descset_is_name(const char *s, size_t n, bool dots)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            char c = s[i];
            bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (i > start && c >= '0' && c <= '9');
            if (!ok)
                return false;
            continue;
        }
        if (i == start || (i < n && !dots)) /* an empty part, or a dot where none may be */
            return false;
        start = i + 1;
    }
    return true;
}

bool gw_ds_good_ident(const char *s, bool dots, bool lead_dot)
{
    if (lead_dot && *s++ != '.')
        return false;
    return gw_descset_is_name(s, strlen(s), dots);
}

/* Text that ends up in routes and errors: printable, one line. */
bool gw_ds_good_text(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

const char *gw_ds_join(ds_dec_t *d, const char *scope, const char *name)
{
    return *scope ? gw_ds_printf(d->set, "%s.%s", scope, name) : gw_ds_strndup(d->set, name, strlen(name));
}

int gw_ds_oom(ds_dec_t *d)
{
    return gw_ds_fail(d->err, "%s: out of memory", d->origin);
}

static int decode_field_options(ds_dec_t *d, const ds_wfield_t *of, ds_field_t *fd)
{
    ds_wire_t w = {of->data, of->data + of->len};
    ds_wfield_t f;
    int rc;
    while ((rc = gw_ds_next(d, &w, &f)) == 1) {
        if (f.num == 2 || f.num == 3) {
            if (gw_ds_want(d, &w, &f, 0) < 0)
                return -1;
            if (f.num == 2)
                fd->has_packed = true, fd->packed = f.v != 0;
            else
                fd->deprecated = f.v != 0;
        }
    }
    return rc;
}

static int decode_field(ds_dec_t *d, const ds_msg_t *m, const ds_wfield_t *ff, ds_field_t *fd)
{
    ds_wire_t w = {ff->data, ff->data + ff->len};
    ds_wfield_t f;
    int rc;
    fd->oneof_index = -1;
    fd->label = DS_LABEL_OPTIONAL;
    while ((rc = gw_ds_next(d, &w, &f)) == 1) {
        const char **str = f.num == 1   ? &fd->name
                           : f.num == 6 ? &fd->type_name
                           : f.num == 7 ? &fd->default_str
                                        : NULL;
        if (str != NULL) {
            if (gw_ds_get_str(d, &w, &f, str) < 0)
                return -1;
        } else if (f.num == 8) {
            if (gw_ds_want(d, &w, &f, 2) < 0 || decode_field_options(d, &f, fd) < 0)
                return -1;
        } else if (f.num == 3 || f.num == 4 || f.num == 5 || f.num == 9 || f.num == 17) {
            if (gw_ds_want(d, &w, &f, 0) < 0)
                return -1;
            int32_t v = (int32_t)f.v;
            if (f.num == 3)
                fd->number = v;
            else if (f.num == 4)
                fd->label = v;
            else if (f.num == 5)
                fd->type = v;
            else if (f.num == 9)
                fd->oneof_index = v;
            else
                fd->proto3_optional = f.v != 0;
        }
    }
    if (rc < 0)
        return -1;
    const char *fn = d->file->name, *mn = m->full_name;
    if (fd->name == NULL || !gw_ds_good_ident(fd->name, false, false))
        return gw_ds_fail(d->err, "%s: %s: message %s: a field has no name or a bad one", d->origin, fn, mn);
    if (fd->type == DS_TYPE_GROUP)
        return gw_ds_fail(d->err, "%s: %s: message %s: groups are not supported", d->origin, fn, mn);
    if (fd->number < 1 || fd->number > 0x1fffffff)
        return gw_ds_fail(d->err, "%s: %s: field %s.%s: bad field number %d", d->origin, fn, mn, fd->name,
                          (int)fd->number);
    if (fd->label < DS_LABEL_OPTIONAL || fd->label > DS_LABEL_REPEATED || fd->type < 0 ||
        fd->type > DS_TYPE_SINT64)
        return gw_ds_fail(d->err, "%s: %s: field %s.%s: bad label or type", d->origin, fn, mn, fd->name);
    bool needs_name = fd->type == 0 || fd->type == DS_TYPE_MESSAGE || fd->type == DS_TYPE_ENUM;
    if (needs_name && (fd->type_name == NULL || !gw_ds_good_ident(fd->type_name, true, true)))
        return gw_ds_fail(d->err, "%s: %s: field %s.%s: missing or unqualified type name", d->origin, fn, mn,
                          fd->name);
    if (fd->oneof_index >= (int32_t)m->noneofs || fd->oneof_index < -1)
        return gw_ds_fail(d->err, "%s: %s: field %s.%s: bad oneof index", d->origin, fn, mn, fd->name);
    return 0;
}

static int decode_enum(ds_dec_t *d, const ds_wfield_t *ef, const char *scope)
{
    size_t n = gw_ds_count(ef->data, ef->len, 2), i = 0;
    ds_enum_t *e = gw_ds_alloc(d->set, sizeof(*e));
    e->values = gw_ds_alloc(d->set, (n ? n : 1) * sizeof(*e->values));
    if (e == NULL || e->values == NULL)
        return gw_ds_oom(d);
    ds_wire_t w = {ef->data, ef->data + ef->len};
    ds_wfield_t f;
    int rc;
    while ((rc = gw_ds_next(d, &w, &f)) == 1) {
        if (f.num == 1 && gw_ds_get_str(d, &w, &f, &e->short_name) < 0)
            return -1;
        if (f.num != 2)
            continue;
        if (gw_ds_want(d, &w, &f, 2) < 0 || i >= n)
            return gw_ds_bad_wire(d, w.p);
        ProtobufCEnumValue *v = &e->values[i++];
        ds_wire_t vw = {f.data, f.data + f.len};
        ds_wfield_t vf;
        while ((rc = gw_ds_next(d, &vw, &vf)) == 1) {
            if (vf.num == 1 && gw_ds_get_str(d, &vw, &vf, (const char **)&v->name) < 0)
                return -1;
            if (vf.num == 2) {
                if (gw_ds_want(d, &vw, &vf, 0) < 0)
                    return -1;
                v->value = (int32_t)vf.v;
            }
        }
        if (rc < 0)
            return -1;
        if (v->name == NULL || !gw_ds_good_ident(v->name, false, false))
            return gw_ds_fail(d->err, "%s: %s: an enum value has no name or a bad one", d->origin,
                              d->file->name);
    }
    if (rc < 0)
        return -1;
    if (e->short_name == NULL || !gw_ds_good_ident(e->short_name, false, false))
        return gw_ds_fail(d->err, "%s: %s: an enum has no name or a bad one", d->origin, d->file->name);
    if ((e->full_name = gw_ds_join(d, scope, e->short_name)) == NULL)
        return gw_ds_oom(d);
    if (i == 0)
        return gw_ds_fail(d->err, "%s: %s: enum %s has no values", d->origin, d->file->name, e->full_name);
    e->nvalues = i;
    e->file = d->file;
    *d->file->enums_tail = e;
    d->file->enums_tail = &e->next;
    d->file->nenums++;
    return 0;
}

/* The message's name (field 1) before anything else, for its children's scope. */
int gw_ds_first_name(ds_dec_t *d, const ds_wfield_t *mf, const char *kind, const char **name)
{
    ds_wire_t w = {mf->data, mf->data + mf->len};
    ds_wfield_t f;
    int rc;
    *name = NULL;
    while ((rc = gw_ds_next(d, &w, &f)) == 1)
        if (f.num == 1 && gw_ds_get_str(d, &w, &f, name) < 0)
            return -1;
    if (rc < 0)
        return -1;
    if (*name == NULL || !gw_ds_good_ident(*name, false, false))
        return gw_ds_fail(d->err, "%s: %s: a %s has no name or a bad one", d->origin, d->file->name, kind);
    return 0;
}

static int decode_message(ds_dec_t *d, const ds_wfield_t *mf, const char *scope, int depth)
{
    ds_msg_t *m = gw_ds_alloc(d->set, sizeof(*m));
    if (m == NULL)
        return gw_ds_oom(d);
    if (gw_ds_first_name(d, mf, "message", &m->short_name) < 0)
        return -1;
    if ((m->full_name = gw_ds_join(d, scope, m->short_name)) == NULL)
        return gw_ds_oom(d);
    if (depth > MAX_DEPTH)
        return gw_ds_fail(d->err, "%s: %s: message %s: nested too deep", d->origin, d->file->name,
                          m->full_name);
    size_t n = gw_ds_count(mf->data, mf->len, 2), i = 0;
    m->noneofs = gw_ds_count(mf->data, mf->len, 8);
    m->file = d->file;
    if ((m->fields = gw_ds_alloc(d->set, (n ? n : 1) * sizeof(*m->fields))) == NULL)
        return gw_ds_oom(d);
    *d->file->msgs_tail = m; /* parents before their nested types */
    d->file->msgs_tail = &m->next;
    d->file->nmsgs++;
    ds_wire_t w = {mf->data, mf->data + mf->len};
    ds_wfield_t f;
    int rc;
    while ((rc = gw_ds_next(d, &w, &f)) == 1) {
        if (f.num != 2 && f.num != 3 && f.num != 4)
            continue;
        if (gw_ds_want(d, &w, &f, 2) < 0)
            return -1;
        if (f.num == 2 && (i >= n ? gw_ds_bad_wire(d, w.p) : decode_field(d, m, &f, &m->fields[i++])) < 0)
            return -1;
        if (f.num == 3 && decode_message(d, &f, m->full_name, depth + 1) < 0)
            return -1;
        if (f.num == 4 && decode_enum(d, &f, m->full_name) < 0)
            return -1;
    }
    m->nfields = i;
    return rc;
}

/* First pass over a file: name, package, syntax, dependencies. */
static int decode_file_header(ds_dec_t *d, const ds_wfield_t *ff, ds_file_t *file)
{
    size_t ndeps = gw_ds_count(ff->data, ff->len, 3);
    if ((file->deps = gw_ds_alloc(d->set, (ndeps ? ndeps : 1) * sizeof(*file->deps))) == NULL)
        return gw_ds_oom(d);
    const char *syntax = NULL;
    file->package = "";
    ds_wire_t w = {ff->data, ff->data + ff->len};
    ds_wfield_t f;
    int rc;
    while ((rc = gw_ds_next(d, &w, &f)) == 1) {
        const char **str = f.num == 1                          ? &file->name
                           : f.num == 2                        ? &file->package
                           : f.num == 12                       ? &syntax
                           : f.num == 3 && file->ndeps < ndeps ? &file->deps[file->ndeps++]
                                                               : NULL;
        if (str != NULL && gw_ds_get_str(d, &w, &f, str) < 0)
            return -1;
    }
    if (rc < 0)
        return -1;
    if (file->name == NULL || file->name[0] == '\0' || !gw_ds_good_text(file->name))
        return gw_ds_fail(d->err, "%s: a file has no name or a bad one", d->origin);
    if (*file->package && !gw_ds_good_ident(file->package, true, false))
        return gw_ds_fail(d->err, "%s: %s: bad package name", d->origin, file->name);
    for (size_t i = 0; i < file->ndeps; i++)
        if (!gw_ds_good_text(file->deps[i]))
            return gw_ds_fail(d->err, "%s: %s: bad import name", d->origin, file->name);
    if (syntax != NULL && strcmp(syntax, "proto2") != 0 && strcmp(syntax, "proto3") != 0)
        return gw_ds_fail(d->err, "%s: %s: syntax \"%s\" is not supported (proto2 and proto3 are)", d->origin,
                          file->name, gw_ds_good_text(syntax) && strlen(syntax) < 32 ? syntax : "?");
    file->proto3 = syntax != NULL && strcmp(syntax, "proto3") == 0;
    return 0;
}

static int decode_file(ds_dec_t *d, const ds_wfield_t *ff)
{
    ds_file_t *file = gw_ds_alloc(d->set, sizeof(*file));
    if (file == NULL)
        return gw_ds_oom(d);
    file->msgs_tail = &file->msgs;
    file->enums_tail = &file->enums;
    d->file = file;
    if (decode_file_header(d, ff, file) < 0)
        return -1;
    int dup = gw_ds_check_dup(d->set, file->name, ff->data, ff->len, d->origin, d->err);
    if (dup != 0)
        return dup < 0 ? -1 : 0;
    size_t nsvc = gw_ds_count(ff->data, ff->len, 6);
    file->services = gw_ds_alloc(d->set, (nsvc ? nsvc : 1) * sizeof(*file->services));
    uint8_t *copy = gw_ds_alloc(d->set, ff->len ? ff->len : 1);
    if (file->services == NULL || copy == NULL)
        return gw_ds_oom(d);
    memcpy(copy, ff->data, ff->len);
    file->bytes = copy;
    file->len = ff->len;
    ds_wire_t w = {ff->data, ff->data + ff->len};
    ds_wfield_t f;
    int rc;
    while ((rc = gw_ds_next(d, &w, &f)) == 1) {
        if (f.num != 4 && f.num != 5 && f.num != 6)
            continue;
        if (gw_ds_want(d, &w, &f, 2) < 0)
            return -1;
        if (f.num == 4 && decode_message(d, &f, file->package, 0) < 0)
            return -1;
        if (f.num == 5 && decode_enum(d, &f, file->package) < 0)
            return -1;
        if (f.num == 6 &&
            (file->nservices >= nsvc ? gw_ds_bad_wire(d, w.p)
                                     : gw_ds_decode_service(d, &f, &file->services[file->nservices++])) < 0)
            return -1;
    }
    if (rc < 0)
        return -1;
    gw_ds_append(d->set, file);
    return 0;
}

int gw_ds_decode_set(gw_descset_t *set, const uint8_t *data, size_t len, const char *origin, ds_err_t *err)
{
    ds_dec_t d = {.set = set, .base = data, .origin = origin, .err = err};
    ds_wire_t w = {data, data + len};
    ds_wfield_t f;
    int rc;
    size_t nfiles = 0;
    while ((rc = gw_ds_next(&d, &w, &f)) == 1) {
        if (f.num != 1)
            continue;
        if (gw_ds_want(&d, &w, &f, 2) < 0 || decode_file(&d, &f) < 0)
            return -1;
        nfiles++;
    }
    if (rc < 0)
        return -1;
    if (nfiles == 0)
        return gw_ds_fail(err, "%s: not a FileDescriptorSet (no files)", origin);
    return 0;
}
