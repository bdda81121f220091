/*
 * demo-backend: the user service's in-memory store: users in creation
 * order, indexed by id, each with its tenant memberships. Every lookup but
 * by id is scoped to a tenant; a user outside it does not exist. Callers hold user_store_lock() around every
 * access and copy what they return into the call's arena with the *_to_pb helpers.
 */
#ifndef DEMO_USER_STORE_H
#define DEMO_USER_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "tests/backends/backend.h"
#include "tests/backends/containers.h"
#include "tests/backends/util.h"
#include "proto/pb.h"

struct membership {
    char *tenant_id;
    char **roles;
    size_t n_roles;
    bool is_active;
    char joined_at[TIME_STR_LEN];
};

struct user_rec {
    char *id, *email, *username, *phone, *document_number, *first_name, *last_name, *avatar_url;
    char *password_hash; /* "sha256$<salt>$<digest>", "" when created without a password */
    bool is_active;
    char created_at[TIME_STR_LEN], updated_at[TIME_STR_LEN];
    struct membership *tenants;
    size_t n_tenants;
};

void user_store_init(void);
void user_store_fini(void);
void user_store_lock(void);
void user_store_unlock(void);

/* All users in creation order. */
const ptrvec_t *user_store_all(void);
struct user_rec *user_store_get(const char *id);
/* A member of `tenant` by identifier; type: email, username, phone,
 * document_number, id or "" (email, then username). */
struct user_rec *user_store_find(const char *tenant, const char *identifier, const char *type);
/* A new user, member of r->tenant_id (non-empty); NULL when the email is
 * taken in that tenant. */
struct user_rec *user_store_create(const User__CreateUserRequest *r);
void user_store_delete(struct user_rec *u);

struct membership *user_membership(const struct user_rec *u, const char *tenant_id);
struct membership *user_add_membership(struct user_rec *u, const char *tenant_id, char *const *roles,
                                       size_t n);
bool user_remove_membership(struct user_rec *u, const char *tenant_id);
/* Whether u is a member of tenant_id (never of the empty tenant). */
bool user_in_tenant(const struct user_rec *u, const char *tenant_id);

User__User *user_to_pb(call_t *c, const struct user_rec *u);
User__UserTenant *membership_to_pb(call_t *c, const struct user_rec *u, const struct membership *m);

#endif
