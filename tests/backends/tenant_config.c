/*
 * demo-backend: tenant.TenantService configuration RPCs: the tenant's
 * TenantConfig, per-service ServiceConfigs, URL resolution (service config
 * primary endpoint → service_mappings → default_service_url) and a
 * synthetic "all healthy" service health report.
 */
#include <string.h>

#include "tests/backends/tenant_config.h"
#include "tests/backends/util.h"

static struct tenant_svc *require_service(call_t *c, const struct tenant_rec *t, const char *name)
{
    struct tenant_svc *s = tenant_service(t, name);
    if (s == NULL)
        call_error(c, GRPC_STATUS_NOT_FOUND, "service config not found");
    return s;
}

static Tenant__TenantConfig *load_config(call_t *c, const struct tenant_rec *t)
{
    return pb_load(c, &tenant__tenant_config__descriptor, &t->config);
}

static Tenant__ServiceConfig *load_service(call_t *c, const struct tenant_svc *s)
{
    return pb_load(c, &tenant__service_config__descriptor, &s->packed);
}

grpc_status_code tenant_get_config(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Tenant__GetTenantConfigRequest *req = (const void *)m;
    Tenant__GetTenantConfigResponse *resp = call_new_msg(c, &tenant__get_tenant_config_response__descriptor);
    struct tenant_rec *t;
    tenant_store_lock();
    if ((t = require_tenant(c, req->tenant_id)) != NULL)
        resp->config = load_config(c, t);
    tenant_store_unlock();
    *out = &resp->base;
    return call_status(c);
}

grpc_status_code tenant_update_config(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Tenant__UpdateTenantConfigRequest *req = (const void *)m;
    Tenant__UpdateTenantConfigResponse *resp =
        call_new_msg(c, &tenant__update_tenant_config_response__descriptor);
    struct tenant_rec *t;
    if (!str_empty(req->tenant_id) && req->config == NULL)
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "config is required");
    tenant_store_lock();
    if ((t = require_tenant(c, req->tenant_id)) != NULL) {
        pb_store(&t->config, &req->config->base);
        now_rfc3339(t->updated_at);
        resp->config = load_config(c, t);
    }
    tenant_store_unlock();
    *out = &resp->base;
    return call_status(c);
}

grpc_status_code tenant_get_default_service(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Tenant__GetDefaultServiceRequest *req = (const void *)m;
    Tenant__GetDefaultServiceResponse *resp =
        call_new_msg(c, &tenant__get_default_service_response__descriptor);
    struct tenant_rec *t;
    tenant_store_lock();
    if ((t = require_tenant(c, req->tenant_id)) != NULL) {
        Tenant__TenantConfig *cfg = load_config(c, t);
        resp->default_service_url = cfg->default_service_url;
        resp->fallback_urls = cfg->fallback_chain;
        resp->n_fallback_urls = cfg->n_fallback_chain;
    }
    tenant_store_unlock();
    *out = &resp->base;
    return call_status(c);
}

grpc_status_code tenant_get_service_config(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Tenant__GetServiceConfigRequest *req = (const void *)m;
    Tenant__GetServiceConfigResponse *resp =
        call_new_msg(c, &tenant__get_service_config_response__descriptor);
    struct tenant_rec *t;
    struct tenant_svc *s;
    if (!str_empty(req->tenant_id) && str_empty(req->service_name))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "service_name is required");
    tenant_store_lock();
    if ((t = require_tenant(c, req->tenant_id)) != NULL &&
        (s = require_service(c, t, req->service_name)) != NULL)
        resp->config = load_service(c, s);
    tenant_store_unlock();
    *out = &resp->base;
    return call_status(c);
}

grpc_status_code tenant_update_service_config(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Tenant__UpdateServiceConfigRequest *req = (const void *)m;
    Tenant__UpdateServiceConfigResponse *resp =
        call_new_msg(c, &tenant__update_service_config_response__descriptor);
    Tenant__ServiceConfig *cfg = req->config;
    struct tenant_rec *t;
    char now[TIME_STR_LEN], id[UUID_STR_LEN];
    if (!str_empty(req->tenant_id) && str_empty(req->service_name))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "service_name is required");
    if (!str_empty(req->tenant_id) && cfg == NULL)
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "config is required");
    now_rfc3339(now);
    tenant_store_lock();
    if ((t = require_tenant(c, req->tenant_id)) != NULL) {
        struct tenant_svc *old = tenant_service(t, req->service_name);
        Tenant__ServiceConfig *prev = old ? load_service(c, old) : NULL;
        uuid4(id);
        cfg->id = prev ? prev->id : call_strdup(c, id);
        cfg->created_at = prev ? prev->created_at : call_strdup(c, now);
        cfg->updated_at = call_strdup(c, now);
        cfg->tenant_id = call_strdup(c, t->id);
        cfg->service_name = req->service_name;
        tenant_set_service(t, req->service_name, &cfg->base);
        resp->config = cfg;
    }
    tenant_store_unlock();
    *out = &resp->base;
    return call_status(c);
}

static const char *mapped_url(const Tenant__TenantConfig *cfg, const char *service)
{
    for (size_t i = 0; i < cfg->n_service_mappings; i++)
        if (strcmp(cfg->service_mappings[i]->key, service) == 0 && *cfg->service_mappings[i]->value)
            return cfg->service_mappings[i]->value;
    return NULL;
}

/* Fills url/is_default/success/error/attempted_urls for service in t. */
static void resolve_url(call_t *c, const struct tenant_rec *t, const char *service,
                        Tenant__GetServiceURLResponse *r)
{
    const struct tenant_svc *s = tenant_service(t, service);
    const Tenant__ServiceConfig *sc = s ? load_service(c, s) : NULL;
    const Tenant__TenantConfig *cfg = load_config(c, t);
    const char *url = NULL;
    r->attempted_urls = call_ptrs(c, 3);
    if (sc != NULL && sc->primary_endpoint != NULL && *sc->primary_endpoint->url)
        url = r->attempted_urls[r->n_attempted_urls++] = sc->primary_endpoint->url;
    if (url == NULL && (url = mapped_url(cfg, service)) != NULL)
        r->attempted_urls[r->n_attempted_urls++] = (char *)url;
    if (url == NULL && *cfg->default_service_url) {
        url = r->attempted_urls[r->n_attempted_urls++] = cfg->default_service_url;
        r->is_default = 1;
    }
    r->success = url != NULL;
    r->url = url ? (char *)url : "";
    if (url == NULL)
        r->error = "no URL configured for this service";
}

grpc_status_code tenant_get_service_url(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Tenant__GetServiceURLRequest *req = (const void *)m;
    Tenant__GetServiceURLResponse *resp = call_new_msg(c, &tenant__get_service_urlresponse__descriptor);
    struct tenant_rec *t;
    if (!str_empty(req->tenant_id) && str_empty(req->service_name))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "service_name is required");
    tenant_store_lock();
    if ((t = require_tenant(c, req->tenant_id)) != NULL)
        resolve_url(c, t, req->service_name, resp);
    tenant_store_unlock();
    *out = &resp->base;
    return call_status(c);
}

grpc_status_code tenant_list_services(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Tenant__ListTenantServicesRequest *req = (const void *)m;
    Tenant__ListTenantServicesResponse *resp =
        call_new_msg(c, &tenant__list_tenant_services_response__descriptor);
    struct tenant_rec *t;
    tenant_store_lock();
    if ((t = require_tenant(c, req->tenant_id)) != NULL) {
        resp->services = call_ptrs(c, t->n_services);
        for (size_t i = 0; i < t->n_services; i++)
            resp->services[resp->n_services++] = load_service(c, &t->services[i]);
    }
    tenant_store_unlock();
    *out = &resp->base;
    return call_status(c);
}

static Tenant__ServiceHealth *healthy(call_t *c, const char *url, const char *now)
{
    Tenant__ServiceHealth *h = call_new_msg(c, &tenant__service_health__descriptor);
    h->endpoint_url = (char *)url;
    h->is_healthy = 1;
    h->last_checked = (char *)now;
    h->last_successful = (char *)now;
    return h;
}

/* One healthy entry per configured endpoint of the service. */
static void fill_health(call_t *c, const Tenant__ServiceConfig *sc, Tenant__GetServiceHealthResponse *r)
{
    char *now = call_alloc(c, TIME_STR_LEN);
    now_rfc3339(now);
    r->healths = call_ptrs(c, sc->n_fallback_chain + 2);
    if (sc->primary_endpoint != NULL && *sc->primary_endpoint->url)
        r->healths[r->n_healths++] = healthy(c, sc->primary_endpoint->url, now);
    for (size_t i = 0; i < sc->n_fallback_chain; i++)
        if (*sc->fallback_chain[i]->url)
            r->healths[r->n_healths++] = healthy(c, sc->fallback_chain[i]->url, now);
    if (r->n_healths == 0 && *sc->default_service_url)
        r->healths[r->n_healths++] = healthy(c, sc->default_service_url, now);
}

grpc_status_code tenant_get_service_health(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Tenant__GetServiceHealthRequest *req = (const void *)m;
    Tenant__GetServiceHealthResponse *resp =
        call_new_msg(c, &tenant__get_service_health_response__descriptor);
    struct tenant_rec *t;
    struct tenant_svc *s;
    if (!str_empty(req->tenant_id) && str_empty(req->service_name))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "service_name is required");
    tenant_store_lock();
    if ((t = require_tenant(c, req->tenant_id)) != NULL &&
        (s = require_service(c, t, req->service_name)) != NULL)
        fill_health(c, load_service(c, s), resp);
    tenant_store_unlock();
    *out = &resp->base;
    return call_status(c);
}
