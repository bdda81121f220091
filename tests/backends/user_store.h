/*
 * demo-backend: the user service's in-memory store: users in creation
 * order, indexed by id and (case-insensitive) email, each with its tenant
 * memberships. Callers hold user_store_lock() around every access and copy
 * what they return into the call's arena with the *_to_pb helpers.
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
/* type: email, username, phone, document_number, id or "" (email, then username). */
struct user_rec *user_store_find(const char *identifier, const char *type);
/* NULL when the email is taken. */
struct user_rec *user_store_create(const User__CreateUserRequest *r);
void user_store_delete(struct user_rec *u);

struct membership *user_membership(const struct user_rec *u, const char *tenant_id);
struct membership *user_add_membership(struct user_rec *u, const char *tenant_id, char *const *roles,
                                       size_t n);
bool user_remove_membership(struct user_rec *u, const char *tenant_id);
bool user_in_tenant(const struct user_rec *u, const char *tenant_id);

User__User *user_to_pb(call_t *c, const struct user_rec *u);
User__UserTenant *membership_to_pb(call_t *c, const struct user_rec *u, const struct membership *m);
/* All memberships of u as a new arena array. */
User__UserTenant **memberships_to_pb(call_t *c, const struct user_rec *u, size_t *n);

#endif
