/*
 * demo-backend: the auth service's in-memory state, behind one mutex:
 * registered users (salted SHA-256 password hashes, unique email and
 * username, case-insensitive), live refresh tokens and revoked token ids.
 */
#ifndef DEMO_AUTH_STORE_H
#define DEMO_AUTH_STORE_H

#include <stdbool.h>

#include "tests/backends/backend.h"
#include "proto/pb.h"

/* A snapshot of a user, strings copied into the call's arena. */
struct auth_identity {
    const char *user_id, *email, *username, *tenant_id;
};

void auth_store_init(void);
void auth_store_fini(void);

/* Adds the user; false when the email or username is taken. */
bool auth_store_register(const Auth__RegisterRequest *r, const char *user_id);
/* Checks email-or-username + password. */
bool auth_store_login(call_t *c, const char *identifier, const char *password, struct auth_identity *out);
bool auth_store_lookup(call_t *c, const char *user_id, struct auth_identity *out);

void auth_store_put_refresh(const char *token, const char *user_id, const char *tenant_id);
/* Consumes a refresh token (single use); false when unknown. */
bool auth_store_take_refresh(call_t *c, const char *token, struct auth_identity *out);

void auth_store_revoke(const char *jti);
bool auth_store_is_revoked(const char *jti);

#endif
