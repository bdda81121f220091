/*
 * Tenant isolation: which tenant an authenticated request acts on, and the
 * refusal of every attempt to name another one (docs/API.md, Routes).
 * Called by the authorize stage (worker/auth.c, gw_stage_authorize) after
 * the role check; the cache (worker/cache.c) keys and invalidates by the
 * tenant chosen here, and the gRPC upstream (worker/upstream_grpc.c) sends
 * the message built here.
 *
 * Rule. The tenant is the token's `tenant_id`. The field that carries it in
 * requests is TENANT_FIELD (default tenant_id; "the field" below). For a
 * gRPC route the check runs on the decoded input message — JSON body, query
 * parameters and path variables already merged by the transcoder — so it
 * sees exactly what the backend will get, whatever the spelling: snake or
 * camel case, percent-encoded names, repeated parameters (the last wins, for
 * both), nested objects. Every string field so named, at any depth, that
 * holds a value other than the token's is a mismatch (403 "tenant mismatch")
 * unless the token has role admin or super_admin. The top-level field, when
 * empty, gets the token's; an admin's non-empty one is kept and becomes the
 * request's tenant. Path variables naming the field are checked for every
 * route, and query parameters tenant_id / tenantId for the HTTP proxy,
 * whose body is not ours to parse.
 *
 * Tenant-scoped routes: gRPC routes whose request message has the field at
 * top level (logout excepted: anyone may log out); a token without
 * tenant_id gets 403 there. Routes whose message has no such field (tenant
 * list and create, admin only) act on the platform, not on a tenant.
 */
#include "worker/tenant_scope.h"

#include <string.h>

#include "core/log.h"
#include "worker/respond.h"
#include "worker/transcode/transcode.h"
#include "worker/upstream.h"
#include "core/urlenc.h"

/* The built input message, freed with the request's pool unless taken. */
struct gw_scoped_msg {
    ProtobufCMessage *msg;
};

static void dispose_scoped(void *p)
{
    struct gw_scoped_msg *s = p;
    if (s->msg != NULL)
        protobuf_c_message_free_unpacked(s->msg, NULL);
}

ProtobufCMessage *gw_tenant_scope_take_message(gw_request_t *r)
{
    if (r->scoped == NULL)
        return NULL;
    ProtobufCMessage *m = r->scoped->msg;
    r->scoped->msg = NULL;
    return m;
}

static gw_stage_result_t deny(gw_request_t *r, const char *reason, const char *asked, size_t asked_len)
{
    gw_log_line_t l;
    gw_log_begin(&l, GW_LOG_INFO, "authorization failed");
    gw_log_str(&l, "reason", reason);
    gw_log_str(&l, "user_id", r->identity->claims.user_id);
    gw_log_str(&l, "tenant_id", r->identity->claims.tenant_id);
    gw_log_strn(&l, "requested_tenant", asked ? asked : "", asked ? asked_len : 0);
    gw_log_str(&l, "endpoint", r->match.route->tmpl);
    gw_log_strn(&l, "correlation_id", r->correlation_id.base, r->correlation_id.len);
    gw_log_end(&l);
    gw_respond_error(r, 403, NULL, "tenant mismatch");
    return GW_DONE;
}

static bool tenant_scoped(const gw_route_t *route)
{
    return route->kind == GW_ROUTE_GRPC && !(route->flags & GW_RF_LOGOUT) && route->tenant_field != NULL;
}

static bool same(const char *s, size_t n, const char *own)
{
    return n == strlen(own) && memcmp(s, own, n) == 0;
}

/* A non-empty string other than the token's tenant. */
static bool foreign(const char *s, const char *own)
{
    return s != NULL && s[0] != '\0' && strcmp(s, own) != 0;
}

/* A google.protobuf.StringValue field named like the tenant field carries
 * the tenant too (the transcoder reads it as a bare string). */
static bool is_wrapped_tenant(const ProtobufCFieldDescriptor *f, const char *tf)
{
    return f->type == PROTOBUF_C_TYPE_MESSAGE && strcmp(f->name, tf) == 0 &&
           strcmp(((const ProtobufCMessageDescriptor *)f->descriptor)->name, "google.protobuf.StringValue") ==
               0;
}

/* The string inside a StringValue (its one field), or NULL when unset. */
static const char *wrapped_value(const ProtobufCMessage *w)
{
    return w != NULL ? *(const char *const *)((const char *)w + w->descriptor->fields[0].offset) : NULL;
}

/* The first tenant_id field anywhere in m holding another tenant, or NULL.
 * Depth is bounded by the transcoder (GW_TRANSCODE_MAX_DEPTH); deeper
 * counts as foreign rather than being skipped. */
static const char *foreign_in(const ProtobufCMessage *m, const char *tf, const char *own, int depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    if (depth > GW_TRANSCODE_MAX_DEPTH)
        return "(too deep)";
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id)
            continue;
        bool tenant = f->type == PROTOBUF_C_TYPE_STRING && strcmp(f->name, tf) == 0;
        bool wrapped = is_wrapped_tenant(f, tf);
        if (!tenant && f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        size_t n = 1;
        const void *const *v = (const void *const *)(base + f->offset);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *)(base + f->quantifier_offset);
            v = *(const void *const *const *)v;
        }
        for (size_t k = 0; k < n; k++) {
            if (tenant && foreign(v[k], own))
                return v[k];
            if (wrapped) {
                if (foreign(wrapped_value(v[k]), own))
                    return wrapped_value(v[k]);
                continue;
            }
            const char *hit = !tenant && v[k] != NULL ? foreign_in(v[k], tf, own, depth + 1) : NULL;
            if (hit != NULL)
                return hit;
        }
    }
    return NULL;
}

/* The value of m's top-level tenant field f (the route's tenant_field),
 * "" when empty or unset; NULL when there is none or it is not a singular
 * string or StringValue. */
static const char *top_tenant(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const char *tf)
{
    if (f == NULL || f->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    bool wrapped = is_wrapped_tenant(f, tf);
    if (!wrapped && f->type != PROTOBUF_C_TYPE_STRING)
        return NULL;
    const char *base = (const char *)m;
    if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && *(const uint32_t *)(base + f->quantifier_offset) != f->id)
        return "";
    const char *s = wrapped ? wrapped_value(*(const ProtobufCMessage *const *)(base + f->offset))
                            : *(const char *const *)(base + f->offset);
    return s != NULL ? s : "";
}

/* Build the gRPC input message, refuse foreign tenants, fill the token's. */
static gw_stage_result_t scope_message(gw_request_t *r, bool admin)
{
    const char *own = r->identity->claims.tenant_id, *tf = r->w->cfg->tenant_field;
    ProtobufCMessage *m = gw_upstream_grpc_input(r);
    if (m == NULL)
        return GW_DONE; /* answered 400 */
    const char *hit = admin ? NULL : foreign_in(m, tf, own, 1);
    if (hit != NULL) {
        gw_stage_result_t res =
            deny(r, "tenant_id in the request differs from the token's", hit, strlen(hit));
        protobuf_c_message_free_unpacked(m, NULL);
        return res;
    }
    if (own[0] != '\0')
        gw_transcode_fill_string_if_empty(m, tf, own);
    const char *top = top_tenant(m, r->match.route->tenant_field, tf);
    if (top != NULL && top[0] == '\0' && own[0] != '\0') { /* the fill ran out of memory */
        protobuf_c_message_free_unpacked(m, NULL);
        gw_respond_error(r, 500, NULL, "out of memory");
        return GW_DONE;
    }
    if (top != NULL && top[0] != '\0')
        r->tenant = h2o_strdup(&r->req->pool, top, SIZE_MAX).base;
    r->scoped = h2o_mem_alloc_shared(&r->req->pool, sizeof(*r->scoped), dispose_scoped);
    r->scoped->msg = m;
    return GW_NEXT;
}

/* The HTTP proxy forwards the query as it came: refuse tenant_id/tenantId
 * parameters (every occurrence, decoded as the service would) naming
 * another tenant. */
static gw_stage_result_t scope_query(gw_request_t *r)
{
    h2o_req_t *req = r->req;
    if (req->query_at == SIZE_MAX)
        return GW_NEXT;
    const char *q = req->path.base + req->query_at + 1, *end = req->path.base + req->path.len;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q)), *stop = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(stop - q)), *name_end = eq ? eq : stop;
        const char *name, *value = "";
        size_t nlen, vlen = 0;
        if (gw_percent_decode(&req->pool, q, (size_t)(name_end - q), true, &name, &nlen) &&
            (same(name, nlen, "tenant_id") || same(name, nlen, "tenantId"))) {
            bool ok = eq == NULL ||
                      gw_percent_decode(&req->pool, eq + 1, (size_t)(stop - eq - 1), true, &value, &vlen);
            if (!ok || (vlen > 0 && !same(value, vlen, r->identity->claims.tenant_id)))
                return deny(r, "tenant_id in the query differs from the token's", value, vlen);
        }
        q = stop + 1;
    }
    return GW_NEXT;
}

gw_stage_result_t gw_tenant_scope(gw_request_t *r, bool admin)
{
    const gw_route_t *route = r->match.route;
    const char *own = r->identity->claims.tenant_id, *tf = r->w->cfg->tenant_field;
    if (own[0] == '\0' && tenant_scoped(route))
        return deny(r, "token has no tenant_id claim", NULL, 0);
    r->tenant = own[0] != '\0' ? own : NULL;
    for (size_t i = 0; i < r->match.nvars && !admin; i++) {
        const gw_path_var_t *v = &r->match.vars[i];
        if (v->name_len != strlen(tf) || memcmp(v->name, tf, v->name_len) != 0)
            continue;
        const char *tenant;
        size_t tlen;
        if (!gw_percent_decode(&r->req->pool, v->value, v->value_len, false, &tenant, &tlen) ||
            !same(tenant, tlen, own))
            return deny(r, "tenant_id in the path differs from the token's", v->value, v->value_len);
    }
    if (route->kind == GW_ROUTE_GRPC)
        return scope_message(r, admin);
    if (route->kind == GW_ROUTE_PROXY && !admin)
        return scope_query(r);
    return GW_NEXT;
}
