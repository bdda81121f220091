/*
 * demo-backend: the tenant service's in-memory store (see tenant_store.h).
 */
#include "tests/backends/tenant_store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static struct {
    pthread_mutex_t lock;
    ptrvec_t all;
    strmap_t by_id, by_name, by_domain;
} ts = {.lock = PTHREAD_MUTEX_INITIALIZER};

void tenant_store_init(void)
{
    strmap_init(&ts.by_id, false);
    strmap_init(&ts.by_name, true);
    strmap_init(&ts.by_domain, true);
}

static void free_tenant(struct tenant_rec *t)
{
    free(t->id);
    free(t->name);
    free(t->domain);
    free(t->tier);
    free(t->config.data);
    for (size_t i = 0; i < t->n_members; i++) {
        free(t->members[i].user_id);
        free(t->members[i].role);
    }
    free(t->members);
    for (size_t i = 0; i < t->n_services; i++) {
        free(t->services[i].name);
        free(t->services[i].packed.data);
    }
    free(t->services);
    free(t);
}

void tenant_store_fini(void)
{
    for (size_t i = 0; i < ts.all.n; i++)
        free_tenant(ts.all.v[i]);
    ptrvec_free(&ts.all);
    strmap_free(&ts.by_id, NULL);
    strmap_free(&ts.by_name, NULL);
    strmap_free(&ts.by_domain, NULL);
}

void tenant_store_lock(void)
{
    pthread_mutex_lock(&ts.lock);
}

void tenant_store_unlock(void)
{
    pthread_mutex_unlock(&ts.lock);
}

const ptrvec_t *tenant_store_all(void)
{
    return &ts.all;
}

struct tenant_rec *tenant_store_get(const char *id)
{
    return strmap_get(&ts.by_id, id);
}

struct tenant_rec *tenant_store_by_name(const char *name)
{
    return strmap_get(&ts.by_name, name);
}

struct tenant_rec *tenant_store_by_domain(const char *domain)
{
    return str_empty(domain) ? NULL : strmap_get(&ts.by_domain, domain);
}

void pb_store(ProtobufCBinaryData *dst, const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = xmalloc(len);
    protobuf_c_message_pack(m, buf);
    free(dst->data);
    dst->data = buf;
    dst->len = len;
}

void *pb_load(call_t *c, const ProtobufCMessageDescriptor *d, const ProtobufCBinaryData *src)
{
    void *m = protobuf_c_message_unpack(d, call_pb_allocator(c), src->len, src->data);
    return m ? m : call_new_msg(c, d);
}

static void default_config(ProtobufCBinaryData *dst)
{
    Tenant__TenantConfig cfg = TENANT__TENANT_CONFIG__INIT;
    char *ids[] = {"email", "username"};
    cfg.allowed_login_identifiers = ids;
    cfg.n_allowed_login_identifiers = 2;
    cfg.allow_registration = 1;
    pb_store(dst, &cfg.base);
}

struct tenant_rec *tenant_store_create(const char *name, const char *domain, const char *tier)
{
    struct tenant_rec *t = xcalloc(1, sizeof *t);
    char id[UUID_STR_LEN];
    uuid4(id);
    t->id = xstrdup(id);
    t->name = xstrdup(name);
    t->domain = xstrdup(domain);
    t->tier = xstrdup(str_empty(tier) ? "free" : tier);
    t->is_active = true;
    now_rfc3339(t->created_at);
    memcpy(t->updated_at, t->created_at, sizeof t->updated_at);
    default_config(&t->config);
    ptrvec_push(&ts.all, t);
    strmap_put(&ts.by_id, t->id, t);
    strmap_put(&ts.by_name, t->name, t);
    if (*t->domain)
        strmap_put(&ts.by_domain, t->domain, t);
    return t;
}

void tenant_store_set_name(struct tenant_rec *t, const char *name)
{
    strmap_del(&ts.by_name, t->name);
    set_str(&t->name, name);
    strmap_put(&ts.by_name, t->name, t);
}

void tenant_store_set_domain(struct tenant_rec *t, const char *domain)
{
    if (*t->domain)
        strmap_del(&ts.by_domain, t->domain);
    set_str(&t->domain, domain);
    if (*t->domain)
        strmap_put(&ts.by_domain, t->domain, t);
}

void tenant_store_delete(struct tenant_rec *t)
{
    strmap_del(&ts.by_id, t->id);
    strmap_del(&ts.by_name, t->name);
    if (*t->domain)
        strmap_del(&ts.by_domain, t->domain);
    ptrvec_remove(&ts.all, t);
    free_tenant(t);
}

struct tenant_member *tenant_member(const struct tenant_rec *t, const char *user_id)
{
    for (size_t i = 0; i < t->n_members; i++)
        if (strcmp(t->members[i].user_id, user_id) == 0)
            return &t->members[i];
    return NULL;
}

void tenant_add_member(struct tenant_rec *t, const char *user_id, const char *role)
{
    struct tenant_member *m;
    t->members = xrealloc(t->members, (t->n_members + 1) * sizeof *t->members);
    m = &t->members[t->n_members++];
    m->user_id = xstrdup(user_id);
    m->role = xstrdup(str_empty(role) ? "user" : role);
    now_rfc3339(m->joined_at);
}

bool tenant_remove_member(struct tenant_rec *t, const char *user_id)
{
    struct tenant_member *m = tenant_member(t, user_id);
    size_t i;
    if (m == NULL)
        return false;
    i = (size_t)(m - t->members);
    free(m->user_id);
    free(m->role);
    memmove(&t->members[i], &t->members[i + 1], (t->n_members - i - 1) * sizeof *t->members);
    t->n_members--;
    return true;
}

struct tenant_svc *tenant_service(const struct tenant_rec *t, const char *name)
{
    for (size_t i = 0; i < t->n_services; i++)
        if (strcmp(t->services[i].name, name) == 0)
            return &t->services[i];
    return NULL;
}

void tenant_set_service(struct tenant_rec *t, const char *name, const ProtobufCMessage *cfg)
{
    struct tenant_svc *s = tenant_service(t, name);
    if (s == NULL) {
        t->services = xrealloc(t->services, (t->n_services + 1) * sizeof *t->services);
        s = &t->services[t->n_services++];
        s->name = xstrdup(name);
        s->packed.data = NULL;
        s->packed.len = 0;
    }
    pb_store(&s->packed, cfg);
}

Tenant__Tenant *tenant_to_pb(call_t *c, const struct tenant_rec *t)
{
    Tenant__Tenant *p = call_new_msg(c, &tenant__tenant__descriptor);
    p->id = call_strdup(c, t->id);
    p->name = call_strdup(c, t->name);
    p->domain = call_strdup(c, t->domain);
    p->subscription_tier = call_strdup(c, t->tier);
    p->is_active = t->is_active;
    p->created_at = call_strdup(c, t->created_at);
    p->updated_at = call_strdup(c, t->updated_at);
    p->config = pb_load(c, &tenant__tenant_config__descriptor, &t->config);
    return p;
}
