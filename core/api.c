/*
 * The route table of a generation (core/api.h): the built-in endpoints,
 * one route per google.api.http binding of every method in the descriptor
 * set, and the notification proxy's routes, with each method's policy
 * (core/api_policy.c) and upstream. Built by gw_config_load in the master;
 * printed by `api-gateway -t`.
 *
 * The mapping rules of google/api/http.proto that we enforce at load, each a
 * start error naming the method: a path variable names a singular, non-
 * message field of the request (nested through singular messages: {a.b});
 * `body` is "*" or a top-level field of the request and is not allowed on
 * GET; `response_body` is a top-level field of the response; streaming
 * methods cannot be bound; two bindings of one method and template shape
 * conflict (core/router.c); templates under the gateway's own first segments
 * (/admin, /debug, /health, /ready, /metrics) are refused, so a descriptor
 * cannot put a route where ADMIN_ALLOW or a probe expects ours.
 */
#include "core/api.h"

#include <stdlib.h>
#include <string.h>

#include "core/api_int.h"
#include "core/router.h"

/* ---- arena ---------------------------------------------------------------- */

typedef struct blk {
    struct blk *next;
    char data[];
} blk_t;

char *gw_api_strndup(gw_api_t *api, const char *s, size_t n)
{
    blk_t *b = malloc(sizeof(*b) + n + 1);
    if (b == NULL)
        return NULL;
    b->next = api->arena;
    api->arena = b;
    memcpy(b->data, s, n);
    b->data[n] = '\0';
    return b->data;
}

char *gw_api_strdup(gw_api_t *api, const char *s)
{
    return gw_api_strndup(api, s, strlen(s));
}

void gw_api_free(gw_api_t *api)
{
    if (api == NULL)
        return;
    for (blk_t *b = api->arena, *next; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    gw_router_free(api->router);
    gw_descset_free(api->descs);
    free(api->routes);
    free(api->upstreams);
    free(api);
}

/* ---- built-in and proxy routes --------------------------------------------- */

static const struct {
    gw_method_t method;
    const char *tmpl;
    unsigned flags;
    gw_builtin_t builtin;
    const char *name;
} builtins[] = {
    {GW_METHOD_GET, "/health", GW_RF_NO_LIMIT, GW_BUILTIN_HEALTH, "health"},
    {GW_METHOD_GET, "/ready", GW_RF_NO_LIMIT, GW_BUILTIN_READY, "ready"},
    {GW_METHOD_GET, "/metrics", GW_RF_NO_LIMIT | GW_RF_METRICS, GW_BUILTIN_METRICS, "metrics"},
    {GW_METHOD_GET, "/debug/workers", GW_RF_ADMIN | GW_RF_NO_LIMIT, GW_BUILTIN_DEBUG_WORKERS,
     "debug_workers"},
    {GW_METHOD_GET, "/debug/shm", GW_RF_ADMIN | GW_RF_NO_LIMIT, GW_BUILTIN_DEBUG_SHM, "debug_shm"},
    {GW_METHOD_GET, "/admin/breakers", GW_RF_ADMIN | GW_RF_NO_LIMIT, GW_BUILTIN_ADMIN_BREAKERS,
     "admin_breakers"},
    {GW_METHOD_POST, "/admin/breakers/{service}/reset", GW_RF_ADMIN | GW_RF_NO_LIMIT,
     GW_BUILTIN_ADMIN_BREAKER_RESET, "admin_breaker_reset"},
};
#define NBUILTINS (sizeof(builtins) / sizeof(builtins[0]))

static const struct {
    gw_method_t method;
    const char *tmpl;
} proxies[] = {
    {GW_METHOD_POST, "/api/v1/notifications/email"},
    {GW_METHOD_POST, "/api/v1/notifications/webhook"},
    {GW_METHOD_GET, "/api/v1/notifications"},
    {GW_METHOD_GET, "/api/v1/notifications/{id}"},
};
#define NPROXIES (sizeof(proxies) / sizeof(proxies[0]))

static const char *builtin_name(gw_builtin_t b)
{
    for (size_t i = 0; i < NBUILTINS; i++)
        if (builtins[i].builtin == b)
            return builtins[i].name;
    return "?";
}

/* ---- loading -------------------------------------------------------------- */

static int load_descs(gw_api_t *api, const gw_config_t *cfg, char *err, size_t errlen)
{
    char why[GW_CONFIG_ERR_MAX];
    if ((api->descs = gw_descset_new()) == NULL)
        return snprintf(err, errlen, "out of memory"), -1;
    int rc = 0;
    if (cfg->proto_descriptor_set[0] == '\0') {
        rc = gw_descset_add_bundled(api->descs, why, sizeof(why));
    } else {
        char *list = strdup(cfg->proto_descriptor_set), *save = NULL;
        if (list == NULL)
            return snprintf(err, errlen, "out of memory"), -1;
        for (char *f = strtok_r(list, ",", &save); f != NULL && rc == 0; f = strtok_r(NULL, ",", &save)) {
            while (*f == ' ')
                f++;
            size_t n = strlen(f);
            while (n > 0 && f[n - 1] == ' ')
                f[--n] = '\0';
            if (n > 0)
                rc = gw_descset_add_file(api->descs, f, why, sizeof(why));
        }
        free(list);
    }
    if (rc == 0)
        rc = gw_descset_link(api->descs, why, sizeof(why));
    if (rc != 0)
        snprintf(err, errlen, "PROTO_DESCRIPTOR_SET: %s", why);
    return rc;
}

/* The top-level field `name` of d, or NULL. */
static const ProtobufCFieldDescriptor *top_field(const ProtobufCMessageDescriptor *d, const char *name)
{
    return protobuf_c_message_descriptor_get_field_by_name(d, name);
}

/* A path variable's field path: singular messages down to a singular
 * scalar. Returns NULL when fine, else why not. */
static const char *check_var(const ProtobufCMessageDescriptor *d, const char *path)
{
    char part[128];
    for (;;) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof(part))
            return "no such field";
        memcpy(part, path, n);
        part[n] = '\0';
        const ProtobufCFieldDescriptor *f = top_field(d, part);
        if (f == NULL)
            return "no such field";
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
            return "a repeated or map field";
        if (dot == NULL)
            return f->type == PROTOBUF_C_TYPE_MESSAGE ? "a message field" : NULL;
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            return "not a message field";
        d = f->descriptor;
        path = dot + 1;
    }
}

typedef struct {
    gw_api_t *api;
    const gw_config_t *cfg;
    gw_api_policy_t policy;
    char *err;
    size_t errlen;
} build_t;

static int method_error(build_t *b, const gw_desc_method_t *m, const gw_http_rule_t *rule, const char *why)
{
    snprintf(b->err, b->errlen, "%s: %s %s: %s", m->full_name, rule->verb ? rule->verb : "?",
             rule->path ? rule->path : "?", why);
    return -1;
}

/* Whether any method of `s` is cached (its writes then invalidate). */
static bool service_cached(build_t *b, const gw_desc_service_t *s)
{
    for (size_t i = 0; i < s->nmethods; i++)
        for (size_t k = 0; k < b->policy.cache_methods.n; k++)
            if (strcmp(b->policy.cache_methods.v[k].name, s->methods[i].full_name) == 0)
                return true;
    return false;
}

static int set_roles(build_t *b, gw_route_t *r, const char *list)
{
    char *copy = gw_api_strdup(b->api, list), *save = NULL;
    if (copy == NULL)
        return snprintf(b->err, b->errlen, "out of memory"), -1;
    size_t n = 0;
    for (char *t = strtok_r(copy, "|", &save); t != NULL && n < GW_ROUTE_MAX_ROLES;
         t = strtok_r(NULL, "|", &save))
        r->roles[n++] = t;
    r->roles[n] = NULL;
    return 0;
}

/* The gateway's own endpoints live under these first segments; a
 * descriptor binding there would escape ADMIN_ALLOW or shadow a probe. */
static bool reserved_path(const char *tmpl)
{
    static const char *const reserved[] = {"admin", "debug", "health", "ready", "metrics"};
    const char *seg = tmpl + (tmpl[0] == '/');
    size_t n = strcspn(seg, "/:");
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (n == strlen(reserved[i]) && memcmp(seg, reserved[i], n) == 0)
            return true;
    return false;
}

static int add_grpc_route(build_t *b, const gw_desc_method_t *m, const gw_http_rule_t *rule,
                          const gw_upstream_t *up, bool cached_service)
{
    gw_route_t *r = &b->api->routes[b->api->nroutes];
    memset(r, 0, sizeof(*r));
    r->method = gw_method_parse(rule->verb, strlen(rule->verb));
    if (r->method == GW_METHOD_OTHER || r->method == GW_METHOD_HEAD || r->method == GW_METHOD_OPTIONS)
        return method_error(b, m, rule, "unsupported HTTP method (GET, PUT, POST, DELETE or PATCH)");
    if (m->client_streaming || m->server_streaming)
        return method_error(b, m, rule, "streaming methods cannot be bound to REST routes");
    if (reserved_path(rule->path))
        return method_error(b, m, rule, "/admin, /debug, /health, /ready and /metrics are the gateway's own");
    if (rule->body != NULL && r->method == GW_METHOD_GET)
        return method_error(b, m, rule, "a GET binding cannot have a body");
    if (rule->body != NULL && strcmp(rule->body, "*") != 0 && top_field(m->input, rule->body) == NULL)
        return method_error(b, m, rule, "body names no top-level field of the request");
    if (rule->response_body != NULL && top_field(m->output, rule->response_body) == NULL)
        return method_error(b, m, rule, "response_body names no top-level field of the response");
    r->tmpl = rule->path;
    r->kind = GW_ROUTE_GRPC;
    r->upstream = up;
    r->rpc = m->rpc;
    r->method_name = m->full_name;
    r->input = m->input;
    r->output = m->output;
    r->body = rule->body;
    r->response_body = rule->response_body;
    r->tenant_field = top_field(m->input, b->cfg->tenant_field);
    r->endpoint = GW_ENDPOINT_UNMATCHED;
    if (gw_api_policy_find(&b->policy.public_methods, m->full_name) == NULL)
        r->flags |= GW_RF_AUTH;
    if (gw_api_policy_find(&b->policy.cache_methods, m->full_name) != NULL && r->method == GW_METHOD_GET)
        r->flags |= GW_RF_CACHE;
    else if (r->method != GW_METHOD_GET && cached_service)
        r->flags |= GW_RF_INVALIDATE;
    if (strcmp(m->full_name, "auth.AuthService/Logout") == 0)
        r->flags |= GW_RF_LOGOUT;
    gw_api_entry_t *roles = gw_api_policy_find(&b->policy.method_roles, m->full_name);
    if (roles != NULL && set_roles(b, r, roles->value) != 0)
        return -1;
    b->api->nroutes++;
    return 0;
}

/* After the router compiled the templates: each variable names a field. */
static int check_route_vars(build_t *b)
{
    for (size_t i = 0; i < b->api->nroutes; i++) {
        const gw_route_t *r = &b->api->routes[i];
        if (r->kind != GW_ROUTE_GRPC)
            continue;
        const char *fields[GW_ROUTE_MAX_VARS];
        size_t n = gw_router_vars(b->api->router, i, fields, GW_ROUTE_MAX_VARS);
        for (size_t k = 0; k < n; k++) {
            const char *why = check_var(r->input, fields[k]);
            if (why != NULL) {
                snprintf(b->err, b->errlen, "%s: %s %s: path variable {%s}: %s of %s", r->method_name,
                         gw_method_names[r->method], r->tmpl, fields[k], why, r->input->name);
                return -1;
            }
        }
    }
    return 0;
}

/* The google.api.http bindings of all of a service's methods. */
static size_t service_rules(const gw_desc_service_t *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nmethods; i++)
        n += s->methods[i].nrules;
    return n;
}

static int add_service_routes(build_t *b, const gw_desc_service_t *s)
{
    if (service_rules(s) == 0)
        return 0;
    gw_upstream_t *up = gw_api_upstream_for(b->api, &b->policy, b->cfg, s->full_name, b->err, b->errlen);
    if (up == NULL)
        return -1;
    bool cached = service_cached(b, s);
    size_t first = b->api->nroutes;
    for (size_t i = 0; i < s->nmethods; i++)
        for (size_t k = 0; k < s->methods[i].nrules; k++)
            if (add_grpc_route(b, &s->methods[i], &s->methods[i].rules[k], up, cached) != 0)
                return -1;
    for (size_t i = first; i < b->api->nroutes; i++)
        if ((b->api->routes[i].flags & GW_RF_CACHE) && b->api->routes[i].tenant_field == NULL)
            up->cache_shared = true;
    return 0;
}

static size_t count_rules(const gw_descset_t *d)
{
    size_t n = 0;
    for (size_t i = 0; i < gw_descset_nservices(d); i++)
        n += service_rules(gw_descset_service(d, i));
    return n;
}

static void add_builtin_routes(gw_api_t *api)
{
    for (size_t i = 0; i < NBUILTINS; i++)
        api->routes[api->nroutes++] = (gw_route_t){.method = builtins[i].method,
                                                   .tmpl = builtins[i].tmpl,
                                                   .kind = GW_ROUTE_BUILTIN,
                                                   .flags = builtins[i].flags,
                                                   .builtin = builtins[i].builtin};
}

static void add_proxy_routes(gw_api_t *api, const gw_upstream_t *up)
{
    for (size_t i = 0; i < NPROXIES; i++)
        api->routes[api->nroutes++] = (gw_route_t){.method = proxies[i].method,
                                                   .tmpl = proxies[i].tmpl,
                                                   .kind = GW_ROUTE_PROXY,
                                                   .flags = GW_RF_AUTH,
                                                   .upstream = up};
}

static int build_routes(build_t *b)
{
    gw_api_t *api = b->api;
    size_t cap = NBUILTINS + count_rules(api->descs) + NPROXIES;
    api->routes = calloc(cap, sizeof(gw_route_t));
    api->upstreams = calloc(GW_SVC_MAX, sizeof(gw_upstream_t));
    if (api->routes == NULL || api->upstreams == NULL)
        return snprintf(b->err, b->errlen, "out of memory"), -1;
    add_builtin_routes(api);
    for (size_t i = 0; i < gw_descset_nservices(api->descs); i++)
        if (add_service_routes(b, gw_descset_service(api->descs, i)) != 0)
            return -1;
    gw_upstream_t *proxy = &api->upstreams[api->nupstreams++];
    *proxy = (gw_upstream_t){NULL, GW_SVC_LABEL_NOTIFICATION, b->cfg->notification_service_url,
                             GW_SVC_NOTIFICATION};
    add_proxy_routes(api, proxy);
    if (gw_api_policy_check_used(&b->policy, b->err, b->errlen) != 0)
        return -1;
    if ((api->router = gw_router_build(api->routes, api->nroutes, b->err, b->errlen)) == NULL)
        return -1;
    return check_route_vars(b);
}

gw_api_t *gw_api_load(const gw_config_t *cfg, char *err, size_t errlen)
{
    if (!gw_descset_is_name(cfg->tenant_field, strlen(cfg->tenant_field), false)) {
        snprintf(err, errlen, "TENANT_FIELD: expected a field name, got \"%s\"", cfg->tenant_field);
        return NULL;
    }
    build_t b = {.api = calloc(1, sizeof(gw_api_t)), .cfg = cfg, .err = err, .errlen = errlen};
    if (b.api == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int rc = load_descs(b.api, cfg, err, errlen);
    if (rc == 0)
        rc = gw_api_policy_parse(b.api, cfg, &b.policy, err, errlen);
    if (rc == 0)
        rc = build_routes(&b);
    gw_api_policy_free(&b.policy);
    if (rc != 0) {
        gw_api_free(b.api);
        return NULL;
    }
    return b.api;
}

const gw_upstream_t *gw_api_proxy_upstream(const gw_api_t *api)
{
    return &api->upstreams[api->nupstreams - 1];
}

/* ---- -t ------------------------------------------------------------------- */

static void print_roles(const gw_route_t *r, FILE *out)
{
    fputs(" roles=", out);
    if (r->roles[0] == NULL)
        fputs("any", out);
    for (size_t i = 0; r->roles[i] != NULL; i++)
        fprintf(out, "%s%s", i ? "|" : "", r->roles[i]);
}

void gw_api_print(const gw_api_t *api, FILE *out)
{
    for (size_t i = 0; i < api->nroutes; i++) {
        const gw_route_t *r = &api->routes[i];
        const char *auth = (r->flags & GW_RF_ADMIN)  ? "admin-allow"
                           : (r->flags & GW_RF_AUTH) ? "jwt"
                                                     : "public";
        fprintf(out, "route %s %s", gw_method_names[r->method], r->tmpl);
        if (r->kind == GW_ROUTE_BUILTIN) {
            fprintf(out, " builtin=%s auth=%s\n", builtin_name(r->builtin), auth);
            continue;
        }
        if (r->kind == GW_ROUTE_PROXY) {
            fprintf(out, " proxy upstream=%s auth=%s\n", r->upstream->label, auth);
            continue;
        }
        fprintf(out, " rpc=%s upstream=%s auth=%s", r->method_name, r->upstream->label, auth);
        print_roles(r, out);
        fprintf(out, " cache=%s", (r->flags & GW_RF_CACHE) ? "on" : "off");
        if (r->body != NULL)
            fprintf(out, " body=%s", r->body);
        if (r->response_body != NULL)
            fprintf(out, " response_body=%s", r->response_body);
        fputc('\n', out);
    }
    fprintf(out, "%zu routes\n", api->nroutes);
}
