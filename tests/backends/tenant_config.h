/*
 * demo-backend: tenant.TenantService configuration RPCs (tenant_config.c),
 * routed by the service definition in tenant_service.c.
 */
#ifndef DEMO_TENANT_CONFIG_H
#define DEMO_TENANT_CONFIG_H

#include "tests/backends/backend.h"
#include "tests/backends/tenant_store.h"

/* The tenant (store locked by the caller); NULL with the call's status set
 * (INVALID_ARGUMENT when tenant_id is empty, NOT_FOUND when unknown). */
struct tenant_rec *require_tenant(call_t *c, const char *tenant_id);

grpc_status_code tenant_get_config(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out);
grpc_status_code tenant_update_config(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out);
grpc_status_code tenant_get_default_service(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out);
grpc_status_code tenant_get_service_config(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out);
grpc_status_code tenant_update_service_config(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out);
grpc_status_code tenant_get_service_url(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out);
grpc_status_code tenant_list_services(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out);
grpc_status_code tenant_get_service_health(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out);

#endif
