/*
 * Services, methods and their google.api.http rules (HttpRule, extension
 * 72295728 of MethodOptions) from FileDescriptorProto bytes, with the wire
 * reader of core/descset_wire.c; called by it for each service of a file.
 * A rule needs a pattern (get, put, post, delete, patch or custom); its
 * additional_bindings are flattened after it, in order, and may not have
 * their own. Verbs, paths and bodies are copied into the set's arena.
 */
#include <string.h>

#include "core/descset_int.h"

#define HTTP_RULE_EXT 72295728u /* google.api.http */

/* One google.api.http HttpRule into md->rules[md->nrules++], then (for the
 * primary rule only) its additional_bindings after it, in order. */
static int decode_rule(ds_dec_t *d, const ds_wfield_t *rf, const char *mname, ds_method_t *md, size_t cap,
                       bool top)
{
    static const char *const verbs[] = {"GET", "PUT", "POST", "DELETE", "PATCH"};
    const char *fn = d->file->name;
    if (md->nrules >= cap)
        return gw_ds_bad_wire(d, rf->data);
    gw_http_rule_t *r = &md->rules[md->nrules++];
    ds_wire_t w = {rf->data, rf->data + rf->len};
    ds_wfield_t f;
    int rc;
    while ((rc = gw_ds_next(d, &w, &f)) == 1) {
        if (f.num >= 2 && f.num <= 6) {
            if (gw_ds_get_str(d, &w, &f, &r->path) < 0)
                return -1;
            r->verb = verbs[f.num - 2];
        } else if (f.num == 7 || f.num == 12) {
            if (gw_ds_get_str(d, &w, &f, f.num == 7 ? &r->body : &r->response_body) < 0)
                return -1;
        } else if (f.num == 8) { /* CustomHttpPattern: kind = 1, path = 2 */
            if (gw_ds_want(d, &w, &f, 2) < 0)
                return -1;
            ds_wire_t cw = {f.data, f.data + f.len};
            ds_wfield_t cf;
            r->verb = r->path = "";
            while ((rc = gw_ds_next(d, &cw, &cf)) == 1)
                if ((cf.num == 1 || cf.num == 2) &&
                    gw_ds_get_str(d, &cw, &cf, cf.num == 1 ? &r->verb : &r->path) < 0)
                    return -1;
            if (rc < 0)
                return -1;
        } else if (f.num == 11) {
            if (!top)
                return gw_ds_fail(d->err,
                                  "%s: %s: method %s: google.api.http: an additional_binding has its own "
                                  "additional_bindings",
                                  d->origin, fn, mname);
            if (gw_ds_want(d, &w, &f, 2) < 0 || decode_rule(d, &f, mname, md, cap, false) < 0)
                return -1;
        }
    }
    if (rc < 0)
        return -1;
    if (r->path == NULL)
        return gw_ds_fail(d->err,
                          "%s: %s: method %s: google.api.http: a rule has no pattern (get, put, post, "
                          "delete, patch or custom)",
                          d->origin, fn, mname);
    if (r->path[0] == '\0' || r->verb[0] == '\0' || !gw_ds_good_text(r->path) || !gw_ds_good_text(r->verb) ||
        (r->body != NULL && !gw_ds_good_text(r->body)) ||
        (r->response_body != NULL && !gw_ds_good_text(r->response_body)))
        return gw_ds_fail(d->err,
                          "%s: %s: method %s: google.api.http: empty verb or path, or a control byte in a "
                          "rule",
                          d->origin, fn, mname);
    if (r->body != NULL && r->body[0] == '\0')
        r->body = NULL; /* proto3's unset string */
    if (r->response_body != NULL && r->response_body[0] == '\0')
        r->response_body = NULL;
    return 0;
}

/* MethodOptions: only google.api.http matters; the last occurrence wins. */
static int decode_method_options(ds_dec_t *d, const ds_wfield_t *of, const char *service, ds_method_t *md)
{
    ds_wire_t w = {of->data, of->data + of->len};
    ds_wfield_t f;
    int rc;
    const char *mname = gw_ds_printf(d->set, "%s/%s", service, md->name);
    if (mname == NULL)
        return gw_ds_oom(d);
    while ((rc = gw_ds_next(d, &w, &f)) == 1) {
        if (f.num != HTTP_RULE_EXT)
            continue;
        if (gw_ds_want(d, &w, &f, 2) < 0)
            return -1;
        size_t cap = 1 + gw_ds_count(f.data, f.len, 11);
        if ((md->rules = gw_ds_alloc(d->set, cap * sizeof(*md->rules))) == NULL)
            return gw_ds_oom(d);
        md->nrules = 0;
        if (decode_rule(d, &f, mname, md, cap, true) < 0)
            return -1;
    }
    return rc;
}

static int decode_method(ds_dec_t *d, const ds_wfield_t *mf, const char *service, ds_method_t *md)
{
    ds_wire_t w = {mf->data, mf->data + mf->len};
    ds_wfield_t f, opts = {0};
    int rc;
    bool have_opts = false;
    while ((rc = gw_ds_next(d, &w, &f)) == 1) {
        const char **str = f.num == 1   ? &md->name
                           : f.num == 2 ? &md->input_type
                           : f.num == 3 ? &md->output_type
                                        : NULL;
        if (str != NULL && gw_ds_get_str(d, &w, &f, str) < 0)
            return -1;
        if (f.num == 4) {
            if (gw_ds_want(d, &w, &f, 2) < 0)
                return -1;
            opts = f, have_opts = true;
        }
        if (f.num == 5 || f.num == 6) {
            if (gw_ds_want(d, &w, &f, 0) < 0)
                return -1;
            *(f.num == 5 ? &md->client_streaming : &md->server_streaming) = f.v != 0;
        }
    }
    if (rc < 0)
        return -1;
    const char *fn = d->file->name;
    if (md->name == NULL || !gw_ds_good_ident(md->name, false, false))
        return gw_ds_fail(d->err, "%s: %s: service %s: a method has no name or a bad one", d->origin, fn,
                          service);
    if (md->input_type == NULL || !gw_ds_good_ident(md->input_type, true, true) || md->output_type == NULL ||
        !gw_ds_good_ident(md->output_type, true, true))
        return gw_ds_fail(d->err, "%s: %s: method %s/%s: missing or unqualified input or output type",
                          d->origin, fn, service, md->name);
    return have_opts ? decode_method_options(d, &opts, service, md) : 0;
}

int gw_ds_decode_service(ds_dec_t *d, const ds_wfield_t *sf, ds_service_t *s)
{
    size_t n = gw_ds_count(sf->data, sf->len, 2), i = 0;
    if ((s->methods = gw_ds_alloc(d->set, (n ? n : 1) * sizeof(*s->methods))) == NULL)
        return gw_ds_oom(d);
    if (gw_ds_first_name(d, sf, "service", &s->name) < 0)
        return -1;
    const char *full = gw_ds_join(d, d->file->package, s->name);
    if (full == NULL)
        return gw_ds_oom(d);
    ds_wire_t w = {sf->data, sf->data + sf->len};
    ds_wfield_t f;
    int rc;
    while ((rc = gw_ds_next(d, &w, &f)) == 1) {
        if (f.num != 2)
            continue;
        if (gw_ds_want(d, &w, &f, 2) < 0 || i >= n)
            return gw_ds_bad_wire(d, w.p);
        if (decode_method(d, &f, full, &s->methods[i++]) < 0)
            return -1;
    }
    s->nmethods = i;
    return rc;
}
