/*
 * demo-backend: auth.AuthService handlers. Registers users, logs them in
 * with HS256 access tokens (claims user_id, sub, tenant_id, roles, jti,
 * iat, exp, email, username) plus single-use opaque refresh tokens,
 * validates tokens, and answers the role/permission/login-config queries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/backends/auth_store.h"
#include "tests/backends/backend.h"
#include "tests/backends/jwt_tokens.h"
#include "tests/backends/util.h"

static const char *const user_perms[] = {"users:read", "tenants:read", "notifications:send"};
static const char *const admin_perms[] = {"users:read",        "users:write",   "users:delete",
                                          "tenants:read",      "tenants:write", "tenants:delete",
                                          "notifications:send"};

static bool is_admin_identity(const struct auth_identity *id)
{
    return starts_with_ci(id->username, "admin") || starts_with_ci(id->email, "admin");
}

static json_t *roles_json(const struct auth_identity *id)
{
    json_t *roles = json_pack("[s]", "user");
    if (is_admin_identity(id))
        json_array_append_new(roles, json_string("admin"));
    return roles;
}

static bool roles_have_admin(const json_t *roles)
{
    size_t i;
    json_t *r;
    json_array_foreach(roles, i, r)
    {
        const char *s = json_string_value(r);
        if (s && (strcmp(s, "admin") == 0 || strcmp(s, "super_admin") == 0))
            return true;
    }
    return false;
}

/* Permissions implied by the roles, as an arena array. */
static char **perms_for(call_t *c, bool admin, size_t *n)
{
    const char *const *src = admin ? admin_perms : user_perms;
    *n = admin ? sizeof admin_perms / sizeof *admin_perms : sizeof user_perms / sizeof *user_perms;
    return call_strv(c, (char *const *)src, *n);
}

static char **roles_strv(call_t *c, const json_t *roles, size_t *n)
{
    char **v = call_ptrs(c, json_array_size(roles));
    size_t i;
    json_t *r;
    *n = 0;
    json_array_foreach(roles, i, r)
    {
        if (json_is_string(r))
            v[(*n)++] = call_strdup(c, json_string_value(r));
    }
    return v;
}

/* Access + refresh token for the identity. */
static grpc_status_code issue_tokens(call_t *c, const struct auth_identity *id, char **access, char **refresh)
{
    char jti[UUID_STR_LEN], rt[65];
    json_int_t iat = (json_int_t)time(NULL);
    json_t *claims;
    char *token;
    uuid4(jti);
    claims =
        json_pack("{s:s, s:s, s:s, s:o, s:s, s:I, s:I, s:s, s:s}", "user_id", id->user_id, "sub", id->user_id,
                  "tenant_id", id->tenant_id, "roles", roles_json(id), "jti", jti, "iat", iat, "exp",
                  iat + (json_int_t)g_opts.token_ttl, "email", id->email, "username", id->username);
    token = claims ? jwt_sign_hs256(claims, g_opts.jwt_secret) : NULL;
    json_decref(claims);
    if (token == NULL)
        return call_error(c, GRPC_STATUS_INTERNAL, "cannot sign token");
    *access = call_strdup(c, token);
    free(token);
    random_token(rt);
    auth_store_put_refresh(rt, id->user_id, id->tenant_id);
    *refresh = call_strdup(c, rt);
    return GRPC_STATUS_OK;
}

static grpc_status_code do_register(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Auth__RegisterRequest *req = (const void *)m;
    Auth__RegisterResponse *resp;
    char id[UUID_STR_LEN];
    if (str_empty(req->email))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "email is required");
    if (!valid_email(req->email))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "invalid email");
    if (strlen(req->password) < 8)
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "password must be at least 8 characters");
    uuid4(id);
    if (!auth_store_register(req, id))
        return call_error(c, GRPC_STATUS_ALREADY_EXISTS, "user already exists");
    resp = call_new_msg(c, &auth__register_response__descriptor);
    resp->user_id = call_strdup(c, id);
    resp->message = "user registered";
    *out = &resp->base;
    return GRPC_STATUS_OK;
}

static grpc_status_code do_login(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Auth__LoginRequest *req = (const void *)m;
    Auth__LoginResponse *resp = call_new_msg(c, &auth__login_response__descriptor);
    struct auth_identity id;
    if (str_empty(req->identifier))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "identifier is required");
    if (str_empty(req->password))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "password is required");
    if (!auth_store_login(c, req->identifier, req->password, &id))
        return call_error(c, GRPC_STATUS_UNAUTHENTICATED, "invalid credentials");
    if (!str_empty(req->tenant_id))
        id.tenant_id = req->tenant_id;
    if (issue_tokens(c, &id, &resp->access_token, &resp->refresh_token) != GRPC_STATUS_OK)
        return GRPC_STATUS_INTERNAL;
    resp->token_type = "Bearer";
    resp->expires_in = g_opts.token_ttl;
    *out = &resp->base;
    return GRPC_STATUS_OK;
}

static grpc_status_code do_refresh(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Auth__RefreshTokenRequest *req = (const void *)m;
    Auth__RefreshTokenResponse *resp = call_new_msg(c, &auth__refresh_token_response__descriptor);
    struct auth_identity id;
    if (str_empty(req->refresh_token))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "refresh_token is required");
    if (!auth_store_take_refresh(c, req->refresh_token, &id))
        return call_error(c, GRPC_STATUS_UNAUTHENTICATED, "invalid refresh token");
    if (issue_tokens(c, &id, &resp->access_token, &resp->refresh_token) != GRPC_STATUS_OK)
        return GRPC_STATUS_INTERNAL;
    resp->token_type = "Bearer";
    resp->expires_in = g_opts.token_ttl;
    *out = &resp->base;
    return GRPC_STATUS_OK;
}

static grpc_status_code do_logout(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Auth__LogoutRequest *req = (const void *)m;
    Auth__LogoutResponse *resp;
    const char *token = str_empty(req->token) ? bearer_token(call_metadata(c, "authorization")) : req->token;
    const char *err;
    json_t *claims;
    if (str_empty(token))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "token is required");
    claims = jwt_verify_hs256(token, g_opts.jwt_secret, &err);
    if (claims != NULL && !str_empty(claim_str(claims, "jti")))
        auth_store_revoke(claim_str(claims, "jti"));
    json_decref(claims);
    resp = call_new_msg(c, &auth__logout_response__descriptor);
    resp->success = 1;
    resp->message = "logged out";
    *out = &resp->base;
    return GRPC_STATUS_OK;
}

/* The token's claims, or NULL with *err: invalid, expired or revoked. */
static json_t *checked_claims(const char *token, const char **err)
{
    json_t *claims = jwt_verify_hs256(token, g_opts.jwt_secret, err);
    if (claims != NULL && auth_store_is_revoked(claim_str(claims, "jti"))) {
        *err = "token has been revoked";
        json_decref(claims);
        claims = NULL;
    }
    return claims;
}

/* Scalar claims other than roles as map entries of type d. */
static void **claims_map(call_t *c, const ProtobufCMessageDescriptor *d, const json_t *claims, size_t *n)
{
    void **v = call_ptrs(c, json_object_size(claims));
    const char *key;
    json_t *val;
    *n = 0;
    json_object_foreach((json_t *)claims, key, val)
    {
        char num[32];
        if (json_is_string(val)) {
            v[(*n)++] = call_map_entry(c, d, key, json_string_value(val));
        } else if (json_is_integer(val)) {
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(val));
            v[(*n)++] = call_map_entry(c, d, key, num);
        }
    }
    return v;
}

static const char *claims_user_id(const json_t *claims)
{
    const char *uid = claim_str(claims, "user_id");
    return *uid ? uid : claim_str(claims, "sub");
}

static grpc_status_code do_validate(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Auth__ValidateTokenRequest *req = (const void *)m;
    Auth__ValidateTokenResponse *resp = call_new_msg(c, &auth__validate_token_response__descriptor);
    const char *err = NULL;
    json_t *claims = checked_claims(req->token, &err);
    json_t *roles = claims ? json_object_get(claims, "roles") : NULL;
    *out = &resp->base;
    if (claims != NULL && !str_empty(req->tenant_id) &&
        strcmp(req->tenant_id, claim_str(claims, "tenant_id")) != 0 && !roles_have_admin(roles))
        err = "tenant mismatch";
    if (claims == NULL || err != NULL) {
        resp->error_message = call_strdup(c, err);
        json_decref(claims);
        return GRPC_STATUS_OK;
    }
    resp->valid = 1;
    resp->user_id = call_strdup(c, claims_user_id(claims));
    resp->tenant_id = call_strdup(c, claim_str(claims, "tenant_id"));
    resp->email = call_strdup(c, claim_str(claims, "email"));
    resp->roles = roles_strv(c, roles, &resp->n_roles);
    resp->permissions = perms_for(c, roles_have_admin(roles), &resp->n_permissions);
    resp->metadata = (void *)claims_map(c, &auth__validate_token_response__metadata_entry__descriptor, claims,
                                        &resp->n_metadata);
    json_decref(claims);
    return GRPC_STATUS_OK;
}

static grpc_status_code do_verify(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Auth__VerifyTokenRequest *req = (const void *)m;
    Auth__VerifyTokenResponse *resp = call_new_msg(c, &auth__verify_token_response__descriptor);
    const char *err;
    json_t *claims = checked_claims(req->token, &err);
    json_t *roles = claims ? json_object_get(claims, "roles") : NULL;
    *out = &resp->base;
    if (claims == NULL)
        return GRPC_STATUS_OK;
    resp->valid = 1;
    resp->user_id = call_strdup(c, claims_user_id(claims));
    resp->tenant_id = call_strdup(c, claim_str(claims, "tenant_id"));
    resp->email = call_strdup(c, claim_str(claims, "email"));
    resp->roles = roles_strv(c, roles, &resp->n_roles);
    resp->permissions = perms_for(c, roles_have_admin(roles), &resp->n_permissions);
    resp->metadata = (void *)claims_map(c, &auth__verify_token_response__metadata_entry__descriptor, claims,
                                        &resp->n_metadata);
    json_decref(claims);
    return GRPC_STATUS_OK;
}

static grpc_status_code do_get_roles(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Auth__GetUserRolesRequest *req = (const void *)m;
    Auth__GetUserRolesResponse *resp = call_new_msg(c, &auth__get_user_roles_response__descriptor);
    struct auth_identity id;
    bool admin;
    if (str_empty(req->user_id))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "user_id is required");
    if (!auth_store_lookup(c, req->user_id, &id))
        return call_error(c, GRPC_STATUS_NOT_FOUND, "user not found");
    admin = is_admin_identity(&id);
    resp->n_roles = admin ? 2 : 1;
    resp->roles = call_ptrs(c, 2);
    resp->roles[0] = "user";
    resp->roles[1] = "admin";
    resp->permissions = perms_for(c, admin, &resp->n_permissions);
    *out = &resp->base;
    return GRPC_STATUS_OK;
}

static grpc_status_code do_check_permission(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Auth__CheckPermissionRequest *req = (const void *)m;
    Auth__CheckPermissionResponse *resp = call_new_msg(c, &auth__check_permission_response__descriptor);
    struct auth_identity id;
    if (str_empty(req->user_id))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "user_id is required");
    if (str_empty(req->permission))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "permission is required");
    *out = &resp->base;
    if (!auth_store_lookup(c, req->user_id, &id))
        return GRPC_STATUS_OK; /* unknown user: not allowed */
    if (is_admin_identity(&id)) {
        resp->allowed = 1;
    } else if (str_empty(req->tenant_id) || strcmp(req->tenant_id, id.tenant_id) == 0) {
        for (size_t i = 0; i < sizeof user_perms / sizeof *user_perms; i++)
            resp->allowed |= strcmp(req->permission, user_perms[i]) == 0;
    }
    return GRPC_STATUS_OK;
}

static grpc_status_code do_login_config(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    Auth__GetTenantLoginConfigResponse *resp =
        call_new_msg(c, &auth__get_tenant_login_config_response__descriptor);
    (void)m;
    resp->n_allowed_identifiers = 2;
    resp->allowed_identifiers = call_ptrs(c, 2);
    resp->allowed_identifiers[0] = "email";
    resp->allowed_identifiers[1] = "username";
    resp->require_2fa = 0;
    resp->allow_registration = 1;
    *out = &resp->base;
    return GRPC_STATUS_OK;
}

static int auth_init(void)
{
    auth_store_init();
    return 0;
}

static const struct rpc_method auth_methods[] = {
    {"Register", do_register},
    {"Login", do_login},
    {"RefreshToken", do_refresh},
    {"Logout", do_logout},
    {"ValidateToken", do_validate},
    {"VerifyToken", do_verify},
    {"GetUserRoles", do_get_roles},
    {"CheckPermission", do_check_permission},
    {"GetTenantLoginConfig", do_login_config},
    {NULL, NULL},
};

const struct service_def auth_service_def = {
    .desc = &auth__auth_service__descriptor,
    .methods = auth_methods,
    .init = auth_init,
    .fini = auth_store_fini,
};
