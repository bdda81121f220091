/*
 * demo-backend: the auth service's in-memory store (see auth_store.h).
 */
#include "tests/backends/auth_store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "tests/backends/containers.h"
#include "tests/backends/util.h"

struct auth_user {
    char *id, *email, *username, *tenant_id;
    unsigned char salt[16];
    unsigned char hash[32];
};

struct refresh {
    char *user_id, *tenant_id;
};

static struct {
    pthread_mutex_t lock;
    ptrvec_t users;
    strmap_t by_id, by_email, by_username; /* → struct auth_user */
    strmap_t refresh;                      /* token → struct refresh */
    strmap_t revoked;                      /* jti → (void *)1 */
} as = {.lock = PTHREAD_MUTEX_INITIALIZER};

void auth_store_init(void)
{
    strmap_init(&as.by_id, false);
    strmap_init(&as.by_email, true);
    strmap_init(&as.by_username, true);
    strmap_init(&as.refresh, false);
    strmap_init(&as.revoked, false);
}

static void free_refresh(void *p)
{
    struct refresh *r = p;
    if (r == NULL)
        return;
    free(r->user_id);
    free(r->tenant_id);
    free(r);
}

void auth_store_fini(void)
{
    for (size_t i = 0; i < as.users.n; i++) {
        struct auth_user *u = as.users.v[i];
        free(u->id);
        free(u->email);
        free(u->username);
        free(u->tenant_id);
        free(u);
    }
    ptrvec_free(&as.users);
    strmap_free(&as.by_id, NULL);
    strmap_free(&as.by_email, NULL);
    strmap_free(&as.by_username, NULL);
    strmap_free(&as.refresh, free_refresh);
    strmap_free(&as.revoked, NULL);
}

static void hash_password(const unsigned char salt[16], const char *password, unsigned char out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 32;
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, salt, 16);
    EVP_DigestUpdate(ctx, password, strlen(password));
    EVP_DigestFinal_ex(ctx, out, &len);
    EVP_MD_CTX_free(ctx);
}

bool auth_store_register(const Auth__RegisterRequest *r, const char *user_id)
{
    struct auth_user *u;
    pthread_mutex_lock(&as.lock);
    if (strmap_get(&as.by_email, r->email) != NULL ||
        (!str_empty(r->username) && strmap_get(&as.by_username, r->username) != NULL)) {
        pthread_mutex_unlock(&as.lock);
        return false;
    }
    u = xcalloc(1, sizeof *u);
    u->id = xstrdup(user_id);
    u->email = xstrdup(r->email);
    u->username = xstrdup(r->username ? r->username : "");
    u->tenant_id = xstrdup(r->tenant_id ? r->tenant_id : "");
    if (getrandom(u->salt, sizeof u->salt, 0) != (ssize_t)sizeof u->salt)
        memset(u->salt, 0x5a, sizeof u->salt);
    hash_password(u->salt, r->password, u->hash);
    ptrvec_push(&as.users, u);
    strmap_put(&as.by_id, u->id, u);
    strmap_put(&as.by_email, u->email, u);
    if (*u->username)
        strmap_put(&as.by_username, u->username, u);
    pthread_mutex_unlock(&as.lock);
    return true;
}

static void snapshot(call_t *c, const struct auth_user *u, struct auth_identity *out)
{
    out->user_id = call_strdup(c, u->id);
    out->email = call_strdup(c, u->email);
    out->username = call_strdup(c, u->username);
    out->tenant_id = call_strdup(c, u->tenant_id);
}

bool auth_store_login(call_t *c, const char *identifier, const char *password, struct auth_identity *out)
{
    unsigned char hash[32];
    struct auth_user *u;
    bool ok = false;
    pthread_mutex_lock(&as.lock);
    u = strmap_get(&as.by_email, identifier);
    if (u == NULL)
        u = strmap_get(&as.by_username, identifier);
    if (u != NULL) {
        hash_password(u->salt, password, hash);
        ok = CRYPTO_memcmp(hash, u->hash, sizeof hash) == 0;
        if (ok)
            snapshot(c, u, out);
    }
    pthread_mutex_unlock(&as.lock);
    return ok;
}

bool auth_store_lookup(call_t *c, const char *user_id, struct auth_identity *out)
{
    struct auth_user *u;
    pthread_mutex_lock(&as.lock);
    u = strmap_get(&as.by_id, user_id);
    if (u != NULL)
        snapshot(c, u, out);
    pthread_mutex_unlock(&as.lock);
    return u != NULL;
}

void auth_store_put_refresh(const char *token, const char *user_id, const char *tenant_id)
{
    struct refresh *r = xcalloc(1, sizeof *r);
    r->user_id = xstrdup(user_id);
    r->tenant_id = xstrdup(tenant_id);
    pthread_mutex_lock(&as.lock);
    free_refresh(strmap_get(&as.refresh, token));
    strmap_put(&as.refresh, token, r);
    pthread_mutex_unlock(&as.lock);
}

bool auth_store_take_refresh(call_t *c, const char *token, struct auth_identity *out)
{
    struct refresh *r;
    struct auth_user *u = NULL;
    pthread_mutex_lock(&as.lock);
    r = strmap_del(&as.refresh, token);
    if (r != NULL && (u = strmap_get(&as.by_id, r->user_id)) != NULL) {
        snapshot(c, u, out);
        out->tenant_id = call_strdup(c, r->tenant_id);
    }
    pthread_mutex_unlock(&as.lock);
    free_refresh(r);
    return u != NULL;
}

void auth_store_revoke(const char *jti)
{
    pthread_mutex_lock(&as.lock);
    strmap_put(&as.revoked, jti, (void *)1);
    pthread_mutex_unlock(&as.lock);
}

bool auth_store_is_revoked(const char *jti)
{
    bool revoked;
    pthread_mutex_lock(&as.lock);
    revoked = strmap_get(&as.revoked, jti) != NULL;
    pthread_mutex_unlock(&as.lock);
    return revoked;
}
