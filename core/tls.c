/*
 * Server-side TLS context with ALPN h2 (see core/tls.h).
 */
#include "core/tls.h"

#include <openssl/err.h>
#include <stdio.h>

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <h2o/http2.h>

static int ssl_fail(char *err, size_t errlen, const char *key, const char *path)
{
    char why[256];
    ERR_error_string_n(ERR_get_error(), why, sizeof(why));
    snprintf(err, errlen, "%s: cannot load %s: %s", key, path, why);
    ERR_clear_error();
    return -1;
}

int gw_tls_server_ctx(const gw_config_t *cfg, SSL_CTX **out, char *err, size_t errlen)
{
    *out = NULL;
    if (cfg->tls_cert_file[0] == '\0')
        return 0;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        snprintf(err, errlen, "TLS: cannot create a context");
        return -1;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert_file) != 1) {
        SSL_CTX_free(ctx);
        return ssl_fail(err, errlen, "TLS_CERT_FILE", cfg->tls_cert_file);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key_file, SSL_FILETYPE_PEM) != 1) {
        SSL_CTX_free(ctx);
        return ssl_fail(err, errlen, "TLS_KEY_FILE", cfg->tls_key_file);
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        SSL_CTX_free(ctx);
        snprintf(err, errlen, "TLS_KEY_FILE: %s does not match the certificate in %s", cfg->tls_key_file,
                 cfg->tls_cert_file);
        ERR_clear_error();
        return -1;
    }
    h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
    *out = ctx;
    return 0;
}

int gw_tls_check(const gw_config_t *cfg, char *err, size_t errlen)
{
    SSL_CTX *ctx;
    if (gw_tls_server_ctx(cfg, &ctx, err, errlen) != 0)
        return -1;
    if (ctx != NULL)
        SSL_CTX_free(ctx);
    return 0;
}
