/*
 * demo-backend: shared declarations.
 *
 * Owns the command-line options, the runtime toggles flipped by signals, and
 * the contract between the gRPC server core (grpc_server.c) and the service
 * implementations (auth/user/tenant): a handler receives a decoded request
 * and fills a response allocated from the call's arena.
 */
#ifndef DEMO_BACKEND_H
#define DEMO_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <grpc/status.h>
#include <protobuf-c/protobuf-c.h>

#define DEMO_DEFAULT_SECRET "demo-secret-change-me"

struct backend_opts {
    const char *service;      /* auth | user | tenant | notification */
    const char *listen;       /* HOST:PORT as given */
    const char *jwt_secret;   /* HS256 secret (auth issues, user verifies) */
    long token_ttl;           /* access token lifetime, seconds */
    int latency_ms;           /* delay added to every business reply */
    int fail_status;          /* injected status; 0 when not given */
    const char *fail_message; /* message sent with injected failures */
    const char *record_path;  /* JSON-lines call log, or NULL */
    bool record_health;       /* also record grpc.health.v1 calls */
    int threads;              /* completion-queue threads (gRPC) */
    bool start_not_serving;   /* --health NOT_SERVING */
};

extern struct backend_opts g_opts;

/* Flipped by signal handlers (lock-free atomics are async-signal-safe). */
extern atomic_int g_stop;
extern atomic_int g_fail_on;
extern atomic_int g_serving;

/* The gRPC status to inject now, or 0 (OK) when failure injection is off. */
int backend_fail_code(void);

/* ---- per-call API used by the service handlers --------------------------- */

typedef struct call call_t;

/* Zeroed memory that lives until the call is finished. Never NULL (aborts on OOM). */
void *call_alloc(call_t *c, size_t n);
char *call_strdup(call_t *c, const char *s);
/* A new message of type d, initialised with its defaults. */
void *call_new_msg(call_t *c, const ProtobufCMessageDescriptor *d);
/* An array of n pointers (for repeated fields). */
void *call_ptrs(call_t *c, size_t n);
/* A string-to-string map entry ({key, value} message) of type d. */
void *call_map_entry(call_t *c, const ProtobufCMessageDescriptor *d, const char *key, const char *value);
/* Copies n strings into a new arena array. */
char **call_strv(call_t *c, char *const *src, size_t n);
/* Sets the error status and message of the call and returns code. */
grpc_status_code call_error(call_t *c, grpc_status_code code, const char *msg);
/* The status set so far by call_error (OK if none). */
grpc_status_code call_status(call_t *c);
/* First value of request metadata `key` (NUL-terminated copy) or NULL. */
const char *call_metadata(call_t *c, const char *key);
/* The allocator protobuf-c should use for this call (arena-backed). */
ProtobufCAllocator *call_pb_allocator(call_t *c);

typedef grpc_status_code (*rpc_handler_fn)(call_t *c, const ProtobufCMessage *req, ProtobufCMessage **resp);

struct rpc_method {
    const char *name; /* method name as in the .proto, e.g. "GetUser" */
    rpc_handler_fn fn;
};

struct service_def {
    const ProtobufCServiceDescriptor *desc;
    const struct rpc_method *methods; /* terminated by {NULL, NULL} */
    int (*init)(void);                /* 0 on success */
    void (*fini)(void);
};

extern const struct service_def auth_service_def;
extern const struct service_def user_service_def;
extern const struct service_def tenant_service_def;
extern const struct service_def health_service_def;

/* ---- servers ------------------------------------------------------------- */

/* Starts the gRPC server; returns the bound port, or -1 after printing why. */
int grpc_backend_start(const struct service_def *svc, const char *host, int port);
void grpc_backend_stop(void);

/* Runs the notification HTTP server until g_stop; returns the exit status. */
int notification_http_run(const char *host, int port);

/* Logs (stderr) toggles made by signals since the last call. */
void backend_log_toggles(void);

/* Prints the readiness line tests wait for. */
void backend_announce(const char *host, int port);

#endif
