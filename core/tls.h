/*
 * TLS termination (TLS_CERT_FILE / TLS_KEY_FILE): an OpenSSL server context
 * offering HTTP/2 and HTTP/1.1 by ALPN. The master calls gw_tls_check() when
 * validating a config (so a bad certificate fails `-t` and a reload, not a
 * worker); each worker builds its own context after fork.
 */
#ifndef GW_TLS_H
#define GW_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "core/config.h"

/* *out = NULL when TLS is not configured. Returns 0 or -1 with err set. */
int gw_tls_server_ctx(const gw_config_t *cfg, SSL_CTX **out, char *err, size_t errlen);
int gw_tls_check(const gw_config_t *cfg, char *err, size_t errlen);

#endif
