/*
 * The link of the descriptor set (gw_descset_link in core/descset.c): every
 * import present, every type name resolved over all files, then protobuf-c
 * 1.4.1 descriptors built as protoc-c 1.4.1 generates them, so that
 * protobuf-c's pack, unpack and free_unpacked treat a runtime message exactly
 * like a generated one:
 *   - fields sorted by number, fields_sorted_by_name, number ranges with the
 *     trailing {0, n_fields} entry; enum values sorted by number without
 *     duplicates, values_by_name over every name, value ranges likewise;
 *   - the struct layout of protoc-c: the non-oneof fields in declaration
 *     order (has_ before the value of a proto2 optional scalar, n_ before the
 *     pointer of a repeated field), then each oneof's uint32 case and its
 *     union; x86-64 C alignment rules;
 *   - labels: proto3 singular NONE, proto2 OPTIONAL/REQUIRED, REPEATED;
 *     proto3 packed by default, [packed] honoured; ONEOF and DEPRECATED flags;
 *     proto3 strings default to protobuf_c_empty_string.
 * protoc-c 1.4.1 refuses proto3 `optional`; here such a field is a proto2
 * optional (LABEL_OPTIONAL, has_ for scalars, NULL = unset for strings and
 * messages), which gives the presence the .proto asked for. proto2 defaults
 * are taken for scalars, strings, bytes (C escapes) and enums (by name).
 */
#include <stdlib.h>
#include <string.h>

#include "core/descset_int.h"

static int oom(ds_err_t *err)
{
    return gw_ds_fail(err, "descriptor set: out of memory");
}

static int cmp_msgs(const void *a, const void *b)
{
    return strcmp((*(ds_msg_t *const *)a)->full_name, (*(ds_msg_t *const *)b)->full_name);
}

static int cmp_enums(const void *a, const void *b)
{
    return strcmp((*(ds_enum_t *const *)a)->full_name, (*(ds_enum_t *const *)b)->full_name);
}

ds_msg_t *gw_ds_find_msg(const ds_index_t *ix, const char *name)
{
    ds_msg_t key = {.full_name = name}, *kp = &key, **m;
    m = bsearch(&kp, ix->msgs, ix->nmsgs, sizeof(*m), cmp_msgs);
    return m != NULL ? *m : NULL;
}

ds_enum_t *gw_ds_find_enum(const ds_index_t *ix, const char *name)
{
    ds_enum_t key = {.full_name = name}, *kp = &key, **e;
    e = bsearch(&kp, ix->enums, ix->nenums, sizeof(*e), cmp_enums);
    return e != NULL ? *e : NULL;
}

/* protoc-c's FullNameToC ("grpc.health.v1.Foo_bar" -> "Grpc__Health__V1__FooBar")
 * and FullNameToUpper ("user.HealthCheck" -> "USER__HEALTH_CHECK"). */
static char *c_name(gw_descset_t *set, const char *full, bool upper)
{
    char *out = gw_ds_alloc(set, strlen(full) * 3 + 1), *o = out;
    if (out == NULL)
        return NULL;
    bool start = true, was_upper = true;
    for (const char *s = full; *s != '\0'; s++) {
        if (*s == '.') {
            *o++ = '_', *o++ = '_';
            start = was_upper = true;
            continue;
        }
        if (upper) {
            bool is_upper = *s >= 'A' && *s <= 'Z';
            if (is_upper && !was_upper)
                *o++ = '_';
            *o++ = (*s >= 'a' && *s <= 'z') ? (char)(*s - 32) : *s;
            was_upper = is_upper;
        } else if (*s == '_') {
            start = true;
        } else {
            *o++ = start && *s >= 'a' && *s <= 'z' ? (char)(*s - 32) : *s;
            start = false;
        }
    }
    return out;
}

/* Ranges of consecutive numbers in the sorted `v`, then {0, n}; as protoc-c. */
static ProtobufCIntRange *int_ranges(gw_descset_t *set, const int32_t *v, size_t n, unsigned *nranges)
{
    ProtobufCIntRange *r = gw_ds_alloc(set, (n + 1) * sizeof(*r));
    if (r == NULL)
        return NULL;
    unsigned k = 0;
    size_t start = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i == n || v[i] != v[i - 1] + 1) {
            r[k++] = (ProtobufCIntRange){v[start], (int)start};
            start = i;
        }
    }
    r[k] = (ProtobufCIntRange){0, (int)n};
    *nranges = k;
    return r;
}

/* ---- enums ---------------------------------------------------------------- */

/* By number, then declaration order (qsort_r over indexes into `values`). */
static int cmp_value_idx(const void *a, const void *b, void *values)
{
    const ProtobufCEnumValue *v = values;
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    int32_t vx = v[x].value, vy = v[y].value;
    return vx != vy ? (vx < vy ? -1 : 1) : (x < y ? -1 : x > y);
}

static int cmp_value_name(const void *a, const void *b)
{
    return strcmp(((const ProtobufCEnumValueIndex *)a)->name, ((const ProtobufCEnumValueIndex *)b)->name);
}

static int build_enum(gw_descset_t *set, ds_enum_t *e, ds_err_t *err)
{
    size_t n = e->nvalues, nu = 0;
    ProtobufCEnumDescriptor *ed = e->built;
    unsigned *order = gw_ds_alloc(set, n * sizeof(*order));
    int32_t *numbers = gw_ds_alloc(set, n * sizeof(*numbers));
    ProtobufCEnumValue *vals = gw_ds_alloc(set, n * sizeof(*vals));
    ProtobufCEnumValueIndex *by_name = gw_ds_alloc(set, n * sizeof(*by_name));
    char *prefix = c_name(set, e->full_name, true);
    if (order == NULL || numbers == NULL || vals == NULL || by_name == NULL || prefix == NULL)
        return oom(err);
    for (unsigned i = 0; i < n; i++)
        order[i] = i;
    qsort_r(order, n, sizeof(*order), cmp_value_idx, e->values);
    for (size_t j = 0; j < n; j++) {
        const ProtobufCEnumValue *v = &e->values[order[j]];
        if (j == 0 || v->value != vals[nu - 1].value) {
            char *cn = gw_ds_printf(set, "%s__%s", prefix, v->name);
            if (cn == NULL)
                return oom(err);
            vals[nu] = (ProtobufCEnumValue){v->name, cn, v->value};
            numbers[nu++] = v->value;
        }
        by_name[j] = (ProtobufCEnumValueIndex){v->name, (unsigned)(nu - 1)};
    }
    qsort(by_name, n, sizeof(*by_name), cmp_value_name);
    ed->magic = PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC;
    ed->name = e->full_name;
    ed->short_name = e->short_name;
    ed->package_name = e->file->package;
    if ((ed->c_name = c_name(set, e->full_name, false)) == NULL)
        return oom(err);
    ed->n_values = (unsigned)nu;
    ed->values = vals;
    ed->n_value_names = (unsigned)n;
    ed->values_by_name = by_name;
    if ((ed->value_ranges = int_ranges(set, numbers, nu, &ed->n_value_ranges)) == NULL)
        return oom(err);
    return 0;
}

/* ---- messages ------------------------------------------------------------- */

size_t gw_descset_value_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(int64_t);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default: /* 32-bit integers, enums, float */
        return sizeof(int32_t);
    }
}

/* Every value is aligned to its size, but bytes (a length and a pointer). */
static size_t value_align(ProtobufCType t)
{
    return t == PROTOBUF_C_TYPE_BYTES ? _Alignof(ProtobufCBinaryData) : gw_descset_value_size(t);
}

static size_t place(size_t *off, size_t size, size_t align)
{
    size_t at = (*off + align - 1) & ~(align - 1);
    *off = at + size;
    return at;
}

static const ProtobufCType type_map[] = {
    [DS_TYPE_DOUBLE] = PROTOBUF_C_TYPE_DOUBLE,     [DS_TYPE_FLOAT] = PROTOBUF_C_TYPE_FLOAT,
    [DS_TYPE_INT64] = PROTOBUF_C_TYPE_INT64,       [DS_TYPE_UINT64] = PROTOBUF_C_TYPE_UINT64,
    [DS_TYPE_INT32] = PROTOBUF_C_TYPE_INT32,       [DS_TYPE_FIXED64] = PROTOBUF_C_TYPE_FIXED64,
    [DS_TYPE_FIXED32] = PROTOBUF_C_TYPE_FIXED32,   [DS_TYPE_BOOL] = PROTOBUF_C_TYPE_BOOL,
    [DS_TYPE_STRING] = PROTOBUF_C_TYPE_STRING,     [DS_TYPE_MESSAGE] = PROTOBUF_C_TYPE_MESSAGE,
    [DS_TYPE_BYTES] = PROTOBUF_C_TYPE_BYTES,       [DS_TYPE_UINT32] = PROTOBUF_C_TYPE_UINT32,
    [DS_TYPE_ENUM] = PROTOBUF_C_TYPE_ENUM,         [DS_TYPE_SFIXED32] = PROTOBUF_C_TYPE_SFIXED32,
    [DS_TYPE_SFIXED64] = PROTOBUF_C_TYPE_SFIXED64, [DS_TYPE_SINT32] = PROTOBUF_C_TYPE_SINT32,
    [DS_TYPE_SINT64] = PROTOBUF_C_TYPE_SINT64,
};

static bool packable(ProtobufCType t)
{
    return t != PROTOBUF_C_TYPE_STRING && t != PROTOBUF_C_TYPE_BYTES && t != PROTOBUF_C_TYPE_MESSAGE;
}

/* Type, sub-descriptor, label and flags of one field (not yet its offsets). */
static int field_kind(const ds_index_t *ix, const ds_msg_t *m, const ds_field_t *fd,
                      ProtobufCFieldDescriptor *f, ds_err_t *err)
{
    const char *fn = m->file->name;
    f->name = fd->name;
    f->id = (uint32_t)fd->number;
    if (fd->type_name != NULL && fd->type != 0 && fd->type != DS_TYPE_MESSAGE && fd->type != DS_TYPE_ENUM)
        return gw_ds_fail(err, "%s: field %s.%s: a type name on a scalar field", fn, m->full_name, fd->name);
    if (fd->type_name != NULL) {
        ds_msg_t *sm = fd->type != DS_TYPE_ENUM ? gw_ds_find_msg(ix, fd->type_name + 1) : NULL;
        ds_enum_t *se =
            fd->type != DS_TYPE_MESSAGE && sm == NULL ? gw_ds_find_enum(ix, fd->type_name + 1) : NULL;
        if (sm == NULL && se == NULL)
            return gw_ds_fail(err, "%s: field %s.%s: unknown type %s", fn, m->full_name, fd->name,
                              fd->type_name);
        f->type = sm != NULL ? PROTOBUF_C_TYPE_MESSAGE : PROTOBUF_C_TYPE_ENUM;
        f->descriptor = sm != NULL ? (const void *)sm->built : (const void *)se->built;
    } else {
        f->type = type_map[fd->type];
    }
    bool in_oneof = fd->oneof_index >= 0 && !fd->proto3_optional;
    if (fd->label == DS_LABEL_REPEATED)
        f->label = PROTOBUF_C_LABEL_REPEATED;
    else if (fd->label == DS_LABEL_REQUIRED)
        f->label = PROTOBUF_C_LABEL_REQUIRED;
    else
        f->label =
            m->file->proto3 && !fd->proto3_optional ? PROTOBUF_C_LABEL_NONE : PROTOBUF_C_LABEL_OPTIONAL;
    if (f->label == PROTOBUF_C_LABEL_REPEATED && packable(f->type) &&
        (fd->has_packed ? fd->packed : m->file->proto3))
        f->flags |= PROTOBUF_C_FIELD_FLAG_PACKED;
    if (fd->deprecated)
        f->flags |= PROTOBUF_C_FIELD_FLAG_DEPRECATED;
    if (in_oneof) {
        if (f->label == PROTOBUF_C_LABEL_REPEATED || f->label == PROTOBUF_C_LABEL_REQUIRED)
            return gw_ds_fail(err, "%s: field %s.%s: a oneof member must be singular", fn, m->full_name,
                              fd->name);
        f->flags |= PROTOBUF_C_FIELD_FLAG_ONEOF;
    }
    return 0;
}

/* Struct offsets of every field and the struct's size, as protoc-c lays it out. */
static size_t layout(const ds_msg_t *m, ProtobufCFieldDescriptor *fs)
{
    size_t off = sizeof(ProtobufCMessage);
    for (size_t i = 0; i < m->nfields; i++) {
        ProtobufCFieldDescriptor *f = &fs[i];
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            f->quantifier_offset = (unsigned)place(&off, sizeof(size_t), _Alignof(size_t));
            f->offset = (unsigned)place(&off, sizeof(void *), _Alignof(void *));
            continue;
        }
        if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
            f->type != PROTOBUF_C_TYPE_MESSAGE)
            f->quantifier_offset =
                (unsigned)place(&off, sizeof(protobuf_c_boolean), _Alignof(protobuf_c_boolean));
        f->offset = (unsigned)place(&off, gw_descset_value_size(f->type), value_align(f->type));
    }
    for (size_t k = 0; k < m->noneofs; k++) {
        size_t usize = 0, ualign = 1, ucase = 0, at = 0;
        bool any = false;
        for (size_t i = 0; i < m->nfields; i++) {
            if (!(fs[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || m->fields[i].oneof_index != (int32_t)k)
                continue;
            any = true;
            usize = gw_descset_value_size(fs[i].type) > usize ? gw_descset_value_size(fs[i].type) : usize;
            ualign = value_align(fs[i].type) > ualign ? value_align(fs[i].type) : ualign;
        }
        if (!any) /* a proto3 `optional`'s synthetic oneof: no case, no union */
            continue;
        ucase = place(&off, sizeof(uint32_t), _Alignof(uint32_t));
        at = place(&off, (usize + ualign - 1) & ~(ualign - 1), ualign);
        for (size_t i = 0; i < m->nfields; i++) {
            if ((fs[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && m->fields[i].oneof_index == (int32_t)k) {
                fs[i].quantifier_offset = (unsigned)ucase;
                fs[i].offset = (unsigned)at;
            }
        }
    }
    return (off + _Alignof(ProtobufCMessage) - 1) & ~(_Alignof(ProtobufCMessage) - 1);
}

/* Indexes into a field array, by number (ds_field_t) or by name (built). */
static int cmp_field_number(const void *a, const void *b, void *fields)
{
    const ds_field_t *f = fields;
    int32_t x = f[*(const unsigned *)a].number, y = f[*(const unsigned *)b].number;
    return x < y ? -1 : x > y;
}

static int cmp_field_name(const void *a, const void *b, void *fields)
{
    const ProtobufCFieldDescriptor *f = fields;
    return strcmp(f[*(const unsigned *)a].name, f[*(const unsigned *)b].name);
}

/* The message as protoc-c's generated init leaves it: descriptor, defaults
 * (none for oneof members, see descset_default.c), and for a singular enum
 * without a default its first declared value. For core/descset_init.c. */
static void *init_template(gw_descset_t *set, const ds_index_t *ix, const ds_msg_t *m,
                           const ProtobufCMessageDescriptor *md, const ProtobufCFieldDescriptor *decl)
{
    uint8_t *t = gw_ds_alloc(set, md->sizeof_message);
    if (t == NULL)
        return NULL;
    ((ProtobufCMessage *)t)->descriptor = md;
    for (size_t i = 0; i < m->nfields; i++) {
        const ProtobufCFieldDescriptor *f = &decl[i];
        uint8_t *at = t + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED || (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        if (f->default_value == NULL) {
            if (f->type == PROTOBUF_C_TYPE_ENUM)
                memcpy(at, &gw_ds_find_enum(ix, m->fields[i].type_name + 1)->values[0].value,
                       sizeof(int32_t));
        } else if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) {
            memcpy(at, &f->default_value, sizeof(void *));
        } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
            memcpy(at, f->default_value, sizeof(ProtobufCBinaryData));
        } else {
            memcpy(at, f->default_value,
                   f->type == PROTOBUF_C_TYPE_BOOL ? sizeof(protobuf_c_boolean)
                                                   : gw_descset_value_size(f->type));
        }
    }
    return t;
}

static int build_message(gw_descset_t *set, const ds_index_t *ix, ds_msg_t *m, ds_err_t *err)
{
    size_t n = m->nfields;
    ProtobufCMessageDescriptor *md = m->built;
    ProtobufCFieldDescriptor *decl = gw_ds_alloc(set, (n ? n : 1) * sizeof(*decl));
    ProtobufCFieldDescriptor *fs = gw_ds_alloc(set, (n ? n : 1) * sizeof(*fs));
    unsigned *order = gw_ds_alloc(set, (n ? n : 1) * sizeof(*order));
    unsigned *by_name = gw_ds_alloc(set, (n ? n : 1) * sizeof(*by_name));
    int32_t *numbers = gw_ds_alloc(set, (n ? n : 1) * sizeof(*numbers));
    if (decl == NULL || fs == NULL || order == NULL || by_name == NULL || numbers == NULL)
        return oom(err);
    for (size_t i = 0; i < n; i++) {
        if (field_kind(ix, m, &m->fields[i], &decl[i], err) < 0)
            return -1;
        order[i] = (unsigned)i;
    }
    md->sizeof_message = layout(m, decl);
    for (size_t i = 0; i < n; i++)
        if (gw_ds_field_default(set, m, &m->fields[i], &decl[i], err) < 0)
            return -1;
    qsort_r(order, n, sizeof(*order), cmp_field_number, m->fields);
    for (size_t i = 0; i < n; i++) {
        fs[i] = decl[order[i]];
        numbers[i] = (int32_t)fs[i].id;
        by_name[i] = (unsigned)i;
        if (i > 0 && numbers[i] == numbers[i - 1])
            return gw_ds_fail(err, "%s: message %s: field number %d used twice", m->file->name, m->full_name,
                              (int)numbers[i]);
    }
    qsort_r(by_name, n, sizeof(*by_name), cmp_field_name, fs);
    md->magic = PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC;
    md->name = m->full_name;
    md->short_name = m->short_name;
    md->package_name = m->file->package;
    if ((md->c_name = c_name(set, m->full_name, false)) == NULL)
        return oom(err);
    md->n_fields = (unsigned)n;
    if (n > 0) { /* protoc-c: NULL arrays and no ranges for an empty message */
        md->fields = fs;
        md->fields_sorted_by_name = by_name;
        if ((md->field_ranges = int_ranges(set, numbers, n, &md->n_field_ranges)) == NULL)
            return oom(err);
    }
    const void *tmpl = init_template(set, ix, m, md, decl);
    if (tmpl == NULL)
        return oom(err);
    md->message_init = gw_ds_init_slot(set, tmpl, md->sizeof_message); /* NULL when none is left */
    return 0;
}

/* ---- the link ------------------------------------------------------------- */

static int cmp_files(const void *a, const void *b)
{
    return strcmp((*(ds_file_t *const *)a)->name, (*(ds_file_t *const *)b)->name);
}

/* Every import is a file of the set (looked up in a sorted array). */
static int check_imports(gw_descset_t *set, ds_err_t *err)
{
    size_t n = 0, k = 0;
    for (ds_file_t *f = gw_ds_files(set); f != NULL; f = f->next)
        n++;
    ds_file_t **files = gw_ds_alloc(set, (n ? n : 1) * sizeof(*files));
    if (files == NULL)
        return oom(err);
    for (ds_file_t *f = gw_ds_files(set); f != NULL; f = f->next)
        files[k++] = f;
    qsort(files, n, sizeof(*files), cmp_files);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < files[i]->ndeps; j++) {
            ds_file_t key = {.name = files[i]->deps[j]}, *kp = &key;
            if (bsearch(&kp, files, n, sizeof(*files), cmp_files) == NULL)
                return gw_ds_fail(err,
                                  "%s: imports %s, which is not in the descriptor set (build it with protoc "
                                  "--include_imports)",
                                  files[i]->name, files[i]->deps[j]);
        }
    }
    return 0;
}

static int build_index(gw_descset_t *set, ds_index_t *ix, ds_err_t *err)
{
    size_t nm = 0, ne = 0;
    for (const ds_file_t *f = gw_ds_files(set); f != NULL; f = f->next)
        nm += f->nmsgs, ne += f->nenums;
    ix->msgs = gw_ds_alloc(set, (nm ? nm : 1) * sizeof(*ix->msgs));
    ix->enums = gw_ds_alloc(set, (ne ? ne : 1) * sizeof(*ix->enums));
    if (ix->msgs == NULL || ix->enums == NULL)
        return oom(err);
    for (const ds_file_t *f = gw_ds_files(set); f != NULL; f = f->next) {
        for (ds_msg_t *m = f->msgs; m != NULL; m = m->next)
            if ((ix->msgs[ix->nmsgs++] = m, m->built = gw_ds_alloc(set, sizeof(*m->built))) == NULL)
                return oom(err);
        for (ds_enum_t *e = f->enums; e != NULL; e = e->next)
            if ((ix->enums[ix->nenums++] = e, e->built = gw_ds_alloc(set, sizeof(*e->built))) == NULL)
                return oom(err);
    }
    qsort(ix->msgs, ix->nmsgs, sizeof(*ix->msgs), cmp_msgs);
    qsort(ix->enums, ix->nenums, sizeof(*ix->enums), cmp_enums);
    for (size_t i = 1; i < ix->nmsgs; i++)
        if (strcmp(ix->msgs[i]->full_name, ix->msgs[i - 1]->full_name) == 0)
            return gw_ds_fail(err, "%s: message %s is also defined in %s", ix->msgs[i]->file->name,
                              ix->msgs[i]->full_name, ix->msgs[i - 1]->file->name);
    for (size_t i = 0; i < ix->nenums; i++) {
        const ds_enum_t *e = ix->enums[i], *prev = i > 0 ? ix->enums[i - 1] : NULL;
        const ds_msg_t *same = gw_ds_find_msg(ix, e->full_name);
        if (same != NULL || (prev != NULL && strcmp(prev->full_name, e->full_name) == 0))
            return gw_ds_fail(err, "%s: enum %s is also defined in %s", e->file->name, e->full_name,
                              same != NULL ? same->file->name : prev->file->name);
    }
    return 0;
}

static int build_services(gw_descset_t *set, ds_index_t *ix, ds_err_t *err)
{
    size_t n = 0;
    for (const ds_file_t *f = gw_ds_files(set); f != NULL; f = f->next)
        n += f->nservices;
    if ((ix->services = gw_ds_alloc(set, (n ? n : 1) * sizeof(*ix->services))) == NULL)
        return oom(err);
    for (const ds_file_t *f = gw_ds_files(set); f != NULL; f = f->next) {
        for (size_t i = 0; i < f->nservices; i++) {
            const ds_service_t *s = &f->services[i];
            gw_desc_service_t *out = &ix->services[ix->nservices++];
            gw_desc_method_t *ms = gw_ds_alloc(set, (s->nmethods ? s->nmethods : 1) * sizeof(*ms));
            out->full_name = *f->package ? gw_ds_printf(set, "%s.%s", f->package, s->name) : s->name;
            if (ms == NULL || out->full_name == NULL)
                return oom(err);
            out->file = f->name;
            out->methods = ms;
            out->nmethods = s->nmethods;
            for (size_t j = 0; j < s->nmethods; j++) {
                const ds_method_t *dm = &s->methods[j];
                const ds_msg_t *in = gw_ds_find_msg(ix, dm->input_type + 1),
                               *outm = gw_ds_find_msg(ix, dm->output_type + 1);
                if (in == NULL || outm == NULL)
                    return gw_ds_fail(err, "%s: method %s/%s: unknown message type %s", f->name,
                                      out->full_name, dm->name,
                                      in == NULL ? dm->input_type : dm->output_type);
                ms[j] = (gw_desc_method_t){
                    .name = dm->name,
                    .full_name = gw_ds_printf(set, "%s/%s", out->full_name, dm->name),
                    .rpc = gw_ds_printf(set, "/%s/%s", out->full_name, dm->name),
                    .input = in->built,
                    .output = outm->built,
                    .client_streaming = dm->client_streaming,
                    .server_streaming = dm->server_streaming,
                    .rules = dm->rules,
                    .nrules = dm->nrules,
                };
                if (ms[j].full_name == NULL || ms[j].rpc == NULL)
                    return oom(err);
            }
        }
    }
    return 0;
}

int gw_ds_link(gw_descset_t *set, ds_index_t *ix, ds_err_t *err)
{
    if (check_imports(set, err) < 0 || build_index(set, ix, err) < 0)
        return -1;
    for (size_t i = 0; i < ix->nenums; i++)
        if (build_enum(set, ix->enums[i], err) < 0)
            return -1;
    for (size_t i = 0; i < ix->nmsgs; i++)
        if (build_message(set, ix, ix->msgs[i], err) < 0)
            return -1;
    return build_services(set, ix, err);
}
