/*
 * Policy keys and upstreams of the API (core/api.h): PUBLIC_METHODS,
 * METHOD_ROLES, CACHE_METHODS and GRPC_UPSTREAMS parsed into lists, and the
 * upstream of each gRPC service that has routes. Called by core/api.c while
 * it builds a route table; everything lands in the api's arena.
 *
 * A key left at its default (core/config.h) is lenient: entries naming
 * methods the loaded set lacks are ignored, so a gateway serving only a
 * billing set starts with the defaults. A key the operator set is strict:
 * every entry must name a method (or, for GRPC_UPSTREAMS, a service) of the
 * set, so a typo is a start error instead of a public method.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/api_int.h"

/* Split "a, b ,c" into entries (empty items skipped); "name=value" keeps
 * its value. */
static int parse_list(gw_api_t *api, const char *key, const char *text, const char *def, bool with_value,
                      gw_api_list_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->key = key;
    out->strict = def == NULL || strcmp(text, def) != 0;
    size_t cap = 1;
    for (const char *p = text; *p != '\0'; p++)
        cap += *p == ',';
    if ((out->v = calloc(cap, sizeof(*out->v))) == NULL)
        return snprintf(err, errlen, "out of memory"), -1;
    for (const char *p = text; *p != '\0';) {
        const char *end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        p = *end == ',' ? end + 1 : end;
        if (a == b)
            continue;
        const char *eq = memchr(a, '=', (size_t)(b - a));
        if ((eq != NULL) != with_value || eq == a || (eq != NULL && eq + 1 == b)) {
            snprintf(err, errlen, "%s: expected %s, got \"%.*s\"", key,
                     with_value ? "NAME=VALUE entries" : "a comma-separated list of pkg.Service/Method",
                     (int)(b - a), a);
            return -1;
        }
        gw_api_entry_t *e = &out->v[out->n++];
        e->name = gw_api_strndup(api, a, (size_t)((eq ? eq : b) - a));
        e->value = eq ? gw_api_strndup(api, eq + 1, (size_t)(b - eq - 1)) : NULL;
        if (e->name == NULL || (eq && e->value == NULL))
            return snprintf(err, errlen, "out of memory"), -1;
        for (size_t i = 0; i + 1 < out->n; i++)
            if (strcmp(out->v[i].name, e->name) == 0)
                return snprintf(err, errlen, "%s: %s is listed twice", key, e->name), -1;
    }
    return 0;
}

/* "pkg.Svc/Method": one '/', non-empty halves. */
static int check_method_names(const gw_api_list_t *l, char *err, size_t errlen)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *slash = strchr(l->v[i].name, '/');
        if (slash == NULL || slash == l->v[i].name || slash[1] == '\0' || strchr(slash + 1, '/') != NULL) {
            snprintf(err, errlen, "%s: expected pkg.Service/Method, got \"%s\"", l->key, l->v[i].name);
            return -1;
        }
    }
    return 0;
}

static int check_roles(const gw_api_list_t *l, char *err, size_t errlen)
{
    for (size_t i = 0; i < l->n; i++) {
        size_t nroles = 1;
        const char *v = l->v[i].value;
        for (const char *p = v; *p != '\0'; p++)
            nroles += *p == '|';
        if (nroles > GW_ROUTE_MAX_ROLES || strstr(v, "||") != NULL || v[0] == '|' ||
            v[strlen(v) - 1] == '|') {
            snprintf(err, errlen, "%s: %s: expected 1 to %d roles separated by '|', got \"%s\"", l->key,
                     l->v[i].name, GW_ROUTE_MAX_ROLES, v);
            return -1;
        }
    }
    return 0;
}

int gw_api_policy_parse(gw_api_t *api, const gw_config_t *cfg, gw_api_policy_t *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    if (parse_list(api, "PUBLIC_METHODS", cfg->public_methods, GW_DEFAULT_PUBLIC_METHODS, false,
                   &p->public_methods, err, errlen) != 0 ||
        parse_list(api, "METHOD_ROLES", cfg->method_roles, GW_DEFAULT_METHOD_ROLES, true, &p->method_roles,
                   err, errlen) != 0 ||
        parse_list(api, "CACHE_METHODS", cfg->cache_methods, GW_DEFAULT_CACHE_METHODS, false,
                   &p->cache_methods, err, errlen) != 0 ||
        parse_list(api, "GRPC_UPSTREAMS", cfg->grpc_upstreams, NULL, true, &p->upstreams, err, errlen) != 0)
        return -1;
    if (check_method_names(&p->public_methods, err, errlen) != 0 ||
        check_method_names(&p->method_roles, err, errlen) != 0 ||
        check_method_names(&p->cache_methods, err, errlen) != 0 ||
        check_roles(&p->method_roles, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < p->upstreams.n; i++)
        if (!gw_config_is_host_port(p->upstreams.v[i].value)) {
            snprintf(err, errlen, "GRPC_UPSTREAMS: %s: expected host:port, got \"%s\"",
                     p->upstreams.v[i].name, p->upstreams.v[i].value);
            return -1;
        }
    return 0;
}

void gw_api_policy_free(gw_api_policy_t *p)
{
    free(p->public_methods.v);
    free(p->method_roles.v);
    free(p->cache_methods.v);
    free(p->upstreams.v);
    memset(p, 0, sizeof(*p));
}

gw_api_entry_t *gw_api_policy_find(gw_api_list_t *list, const char *name)
{
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->v[i].name, name) == 0) {
            list->v[i].used = true;
            return &list->v[i];
        }
    return NULL;
}

int gw_api_policy_check_used(const gw_api_policy_t *p, char *err, size_t errlen)
{
    const gw_api_list_t *lists[] = {&p->public_methods, &p->method_roles, &p->cache_methods, &p->upstreams};
    for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
        if (!lists[l]->strict)
            continue;
        for (size_t i = 0; i < lists[l]->n; i++)
            if (!lists[l]->v[i].used) {
                bool svc = lists[l] == &p->upstreams;
                snprintf(err, errlen, "%s: no %s %s in the descriptor set%s", lists[l]->key,
                         svc ? "service with routes named" : "method with routes named", lists[l]->v[i].name,
                         lists[l] == &p->cache_methods ? " (or it has no GET binding)" : "");
                return -1;
            }
    }
    return 0;
}

/* The bundled services: their shorthand keys and historical labels. */
static const struct {
    const char *service, *label;
    size_t url_offset;
} bundled[] = {
    {"auth.AuthService", GW_SVC_LABEL_AUTH, offsetof(gw_config_t, auth_service_url)},
    {"user.UserService", GW_SVC_LABEL_USER, offsetof(gw_config_t, user_service_url)},
    {"tenant.TenantService", GW_SVC_LABEL_TENANT, offsetof(gw_config_t, tenant_service_url)},
};

gw_upstream_t *gw_api_upstream_for(gw_api_t *api, gw_api_policy_t *p, const gw_config_t *cfg,
                                   const char *service, char *err, size_t errlen)
{
    for (size_t i = 0; i < api->nupstreams; i++)
        if (api->upstreams[i].service != NULL && strcmp(api->upstreams[i].service, service) == 0)
            return &api->upstreams[i];
    if (api->nupstreams + 1 >= GW_SVC_MAX) { /* one stays for the proxy */
        snprintf(err, errlen, "GRPC_UPSTREAMS: more than %d services have routes", GW_SVC_MAX - 1);
        return NULL;
    }
    const char *label = NULL, *target = NULL;
    for (size_t i = 0; i < sizeof(bundled) / sizeof(bundled[0]); i++)
        if (strcmp(bundled[i].service, service) == 0) {
            label = bundled[i].label;
            target = *(char *const *)((const char *)cfg + bundled[i].url_offset);
        }
    gw_api_entry_t *e = gw_api_policy_find(&p->upstreams, service);
    if (e != NULL)
        target = e->value;
    if (target == NULL) {
        snprintf(err, errlen, "GRPC_UPSTREAMS: no upstream for %s (it has routes)", service);
        return NULL;
    }
    gw_upstream_t *u = &api->upstreams[api->nupstreams];
    u->service = gw_api_strdup(api, service);
    u->label = label != NULL ? label : u->service;
    u->target = gw_api_strdup(api, target);
    u->slot = GW_SVC_MAX;
    if (u->service == NULL || u->target == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    api->nupstreams++;
    return u;
}
