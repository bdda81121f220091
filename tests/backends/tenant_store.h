/*
 * demo-backend: the tenant service's in-memory store: tenants in creation
 * order, indexed by id, name and domain (case-insensitive), with their
 * members, their TenantConfig and per-service ServiceConfigs (kept packed,
 * so a copy in or out is a pack or an unpack). Callers hold
 * tenant_store_lock() around every access.
 */
#ifndef DEMO_TENANT_STORE_H
#define DEMO_TENANT_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "tests/backends/backend.h"
#include "tests/backends/containers.h"
#include "tests/backends/util.h"
#include "proto/pb.h"

struct tenant_member {
    char *user_id, *role;
    char joined_at[TIME_STR_LEN];
};

struct tenant_svc {
    char *name;
    ProtobufCBinaryData packed; /* Tenant__ServiceConfig */
};

struct tenant_rec {
    char *id, *name, *domain, *tier;
    bool is_active;
    char created_at[TIME_STR_LEN], updated_at[TIME_STR_LEN];
    ProtobufCBinaryData config; /* Tenant__TenantConfig */
    struct tenant_member *members;
    size_t n_members;
    struct tenant_svc *services;
    size_t n_services;
};

void tenant_store_init(void);
void tenant_store_fini(void);
void tenant_store_lock(void);
void tenant_store_unlock(void);

const ptrvec_t *tenant_store_all(void);
struct tenant_rec *tenant_store_get(const char *id);
struct tenant_rec *tenant_store_by_name(const char *name);
struct tenant_rec *tenant_store_by_domain(const char *domain);
struct tenant_rec *tenant_store_create(const char *name, const char *domain, const char *tier);
void tenant_store_set_name(struct tenant_rec *t, const char *name);
void tenant_store_set_domain(struct tenant_rec *t, const char *domain);
void tenant_store_delete(struct tenant_rec *t);

struct tenant_member *tenant_member(const struct tenant_rec *t, const char *user_id);
void tenant_add_member(struct tenant_rec *t, const char *user_id, const char *role);
bool tenant_remove_member(struct tenant_rec *t, const char *user_id);

struct tenant_svc *tenant_service(const struct tenant_rec *t, const char *name);
/* Adds or replaces the packed config of service `name`. */
void tenant_set_service(struct tenant_rec *t, const char *name, const ProtobufCMessage *cfg);

/* Replaces a packed message with the encoding of m. */
void pb_store(ProtobufCBinaryData *dst, const ProtobufCMessage *m);
/* Decodes a packed message into the call's arena. */
void *pb_load(call_t *c, const ProtobufCMessageDescriptor *d, const ProtobufCBinaryData *src);

Tenant__Tenant *tenant_to_pb(call_t *c, const struct tenant_rec *t);

#endif
