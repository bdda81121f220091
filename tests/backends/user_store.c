/*
 * demo-backend: the user service's in-memory store (see user_store.h).
 * Emails are unique within a tenant, not across tenants: a global index
 * would let one tenant learn which addresses another one has.
 */
#include "tests/backends/user_store.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

static struct {
    pthread_mutex_t lock;
    ptrvec_t all;
    strmap_t by_id;
} us = {.lock = PTHREAD_MUTEX_INITIALIZER};

void user_store_init(void)
{
    strmap_init(&us.by_id, false);
}

static void free_membership(struct membership *m)
{
    free(m->tenant_id);
    for (size_t i = 0; i < m->n_roles; i++)
        free(m->roles[i]);
    free(m->roles);
}

static void free_user(struct user_rec *u)
{
    free(u->id);
    free(u->email);
    free(u->username);
    free(u->phone);
    free(u->document_number);
    free(u->first_name);
    free(u->last_name);
    free(u->avatar_url);
    free(u->password_hash);
    for (size_t i = 0; i < u->n_tenants; i++)
        free_membership(&u->tenants[i]);
    free(u->tenants);
    free(u);
}

void user_store_fini(void)
{
    for (size_t i = 0; i < us.all.n; i++)
        free_user(us.all.v[i]);
    ptrvec_free(&us.all);
    strmap_free(&us.by_id, NULL);
}

void user_store_lock(void)
{
    pthread_mutex_lock(&us.lock);
}

void user_store_unlock(void)
{
    pthread_mutex_unlock(&us.lock);
}

const ptrvec_t *user_store_all(void)
{
    return &us.all;
}

struct user_rec *user_store_get(const char *id)
{
    return strmap_get(&us.by_id, id);
}

/* Linear scan of the tenant's members on one string field (offset into
 * struct user_rec). */
static struct user_rec *scan(const char *tenant, size_t field_offset, const char *value)
{
    for (size_t i = 0; i < us.all.n; i++) {
        struct user_rec *u = us.all.v[i];
        const char *f = *(char **)((char *)u + field_offset);
        if (*f && strcasecmp(f, value) == 0 && user_in_tenant(u, tenant))
            return u;
    }
    return NULL;
}

struct user_rec *user_store_find(const char *tenant, const char *identifier, const char *type)
{
    struct user_rec *u;
    if (strcmp(type, "id") == 0)
        return (u = strmap_get(&us.by_id, identifier)) != NULL && user_in_tenant(u, tenant) ? u : NULL;
    if (strcmp(type, "email") == 0)
        return scan(tenant, offsetof(struct user_rec, email), identifier);
    if (strcmp(type, "username") == 0)
        return scan(tenant, offsetof(struct user_rec, username), identifier);
    if (strcmp(type, "phone") == 0)
        return scan(tenant, offsetof(struct user_rec, phone), identifier);
    if (strcmp(type, "document_number") == 0)
        return scan(tenant, offsetof(struct user_rec, document_number), identifier);
    u = scan(tenant, offsetof(struct user_rec, email), identifier);
    return u ? u : scan(tenant, offsetof(struct user_rec, username), identifier);
}

/* "sha256$<salt hex>$<digest hex>" of a salted password, "" without one. */
static char *hash_password(const char *password)
{
    unsigned char salt[16], digest[32];
    char *out = xmalloc(7 + 32 + 1 + 64 + 1), *p = out;
    unsigned int dlen = 0;
    EVP_MD_CTX *ctx;
    if (str_empty(password)) {
        out[0] = '\0';
        return out;
    }
    if (getrandom(salt, sizeof salt, 0) != (ssize_t)sizeof salt)
        memset(salt, 0x5a, sizeof salt);
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
        !EVP_DigestUpdate(ctx, salt, sizeof salt) || !EVP_DigestUpdate(ctx, password, strlen(password)) ||
        !EVP_DigestFinal_ex(ctx, digest, &dlen))
        dlen = 0;
    EVP_MD_CTX_free(ctx);
    p += sprintf(p, "sha256$");
    for (size_t i = 0; i < sizeof salt; i++)
        p += sprintf(p, "%02x", salt[i]);
    *p++ = '$';
    for (unsigned int i = 0; i < dlen; i++)
        p += sprintf(p, "%02x", digest[i]);
    return out;
}

struct user_rec *user_store_create(const User__CreateUserRequest *r)
{
    struct user_rec *u;
    char id[UUID_STR_LEN];
    static char *const default_roles[] = {"user"};
    if (scan(r->tenant_id, offsetof(struct user_rec, email), r->email) != NULL)
        return NULL;
    u = xcalloc(1, sizeof *u);
    uuid4(id);
    u->id = xstrdup(id);
    u->email = xstrdup(r->email);
    u->username = xstrdup(r->username);
    u->phone = xstrdup(r->phone);
    u->document_number = xstrdup(r->document_number);
    u->first_name = xstrdup(r->first_name);
    u->last_name = xstrdup(r->last_name);
    u->avatar_url = xstrdup("");
    u->password_hash = hash_password(r->password);
    u->is_active = true;
    now_rfc3339(u->created_at);
    memcpy(u->updated_at, u->created_at, sizeof u->updated_at);
    user_add_membership(u, r->tenant_id, r->n_roles ? r->roles : default_roles, r->n_roles ? r->n_roles : 1);
    ptrvec_push(&us.all, u);
    strmap_put(&us.by_id, u->id, u);
    return u;
}

void user_store_delete(struct user_rec *u)
{
    strmap_del(&us.by_id, u->id);
    ptrvec_remove(&us.all, u);
    free_user(u);
}

struct membership *user_membership(const struct user_rec *u, const char *tenant_id)
{
    for (size_t i = 0; i < u->n_tenants; i++)
        if (strcmp(u->tenants[i].tenant_id, tenant_id) == 0)
            return &u->tenants[i];
    return NULL;
}

struct membership *user_add_membership(struct user_rec *u, const char *tenant_id, char *const *roles,
                                       size_t n)
{
    struct membership *m;
    u->tenants = xrealloc(u->tenants, (u->n_tenants + 1) * sizeof *u->tenants);
    m = &u->tenants[u->n_tenants++];
    m->tenant_id = xstrdup(tenant_id);
    m->roles = xcalloc(n, sizeof *m->roles);
    m->n_roles = n;
    for (size_t i = 0; i < n; i++)
        m->roles[i] = xstrdup(roles[i]);
    m->is_active = true;
    now_rfc3339(m->joined_at);
    return m;
}

bool user_remove_membership(struct user_rec *u, const char *tenant_id)
{
    struct membership *m = user_membership(u, tenant_id);
    size_t i;
    if (m == NULL)
        return false;
    i = (size_t)(m - u->tenants);
    free_membership(m);
    memmove(&u->tenants[i], &u->tenants[i + 1], (u->n_tenants - i - 1) * sizeof *u->tenants);
    u->n_tenants--;
    return true;
}

bool user_in_tenant(const struct user_rec *u, const char *tenant_id)
{
    return !str_empty(tenant_id) && user_membership(u, tenant_id) != NULL;
}

User__User *user_to_pb(call_t *c, const struct user_rec *u)
{
    User__User *p = call_new_msg(c, &user__user__descriptor);
    p->id = call_strdup(c, u->id);
    p->email = call_strdup(c, u->email);
    p->username = call_strdup(c, u->username);
    p->phone = call_strdup(c, u->phone);
    p->document_number = call_strdup(c, u->document_number);
    p->first_name = call_strdup(c, u->first_name);
    p->last_name = call_strdup(c, u->last_name);
    p->avatar_url = call_strdup(c, u->avatar_url);
    p->is_active = u->is_active;
    p->created_at = call_strdup(c, u->created_at);
    p->updated_at = call_strdup(c, u->updated_at);
    /* Sent on purpose: the gateway's RESPONSE_REDACT_FIELDS must strip it. */
    p->password_hash = call_strdup(c, u->password_hash);
    return p;
}

User__UserTenant *membership_to_pb(call_t *c, const struct user_rec *u, const struct membership *m)
{
    User__UserTenant *p = call_new_msg(c, &user__user_tenant__descriptor);
    p->user_id = call_strdup(c, u->id);
    p->tenant_id = call_strdup(c, m->tenant_id);
    p->roles = call_strv(c, m->roles, m->n_roles);
    p->n_roles = m->n_roles;
    p->is_active = m->is_active;
    p->joined_at = call_strdup(c, m->joined_at);
    return p;
}
