/*
 * Transport failure classification (see worker/clients/upstream_reason.h).
 *
 * The gRPC texts were collected from gRPC core 1.51 with the gateway's
 * channel arguments against listeners that refuse, accept and stay silent,
 * accept and close, reset, answer HTTP/1.1, speak TLS to a plaintext
 * channel and plaintext to a TLS channel, and a name under .invalid:
 *   DNS resolution failed for H:P: C-ares status ... Domain name not found
 *   failed to connect to all addresses; last error: UNKNOWN: ipv4:A:P:
 *     Failed to connect to remote host: Connection refused
 *     connection attempt timed out before receiving SETTINGS frame
 *     tcp handshaker shutdown                  (SYN unanswered: full backlog)
 *     Ssl handshake failed: SSL_ERROR_SSL: ... (TLS channel, plaintext peer)
 *     Handshake read failed                    (TLS channel, silent peer)
 *     Socket closed                            (plaintext channel, TLS peer)
 *     recvmsg:Connection reset by peer
 *     Trying to connect an http1.x server
 */
#include "worker/clients/upstream_reason.h"

#include <stdio.h>
#include <string.h>

#include <grpc/status.h>

typedef struct {
    const char *text;
    gw_backend_reason_t reason;
} pattern_t;

/* Order matters: the first match wins ("Failed to connect to remote host:
 * Connection reset by peer" is a reset, not a refusal). */
static const pattern_t grpc_patterns[] = {
    {"Connection refused", GW_REASON_REFUSED},
    {"Ssl handshake failed", GW_REASON_TLS_HANDSHAKE},
    {"Handshake read failed", GW_REASON_TLS_HANDSHAKE},
    {"Handshake write failed", GW_REASON_TLS_HANDSHAKE},
    {"SSL_ERROR", GW_REASON_TLS_HANDSHAKE},
    {"timed out before receiving SETTINGS", GW_REASON_CONNECT_TIMEOUT},
    {"tcp handshaker shutdown", GW_REASON_CONNECT_TIMEOUT},
    {"Timeout occurred", GW_REASON_CONNECT_TIMEOUT},
    {"Connection timed out", GW_REASON_CONNECT_TIMEOUT},
    {"Deadline Exceeded", GW_REASON_CONNECT_TIMEOUT},
    {"Connection reset", GW_REASON_RESET},
    {"Socket closed", GW_REASON_RESET},
    {"Broken pipe", GW_REASON_RESET},
    {"GOAWAY", GW_REASON_RESET},
    {"http1.x server", GW_REASON_PROTOCOL},
    {"Connect string mismatch", GW_REASON_PROTOCOL},
    {NULL, GW_REASON_NONE},
};

static gw_backend_reason_t match(const pattern_t *p, const char *text)
{
    for (; p->text != NULL; p++)
        if (strstr(text, p->text) != NULL)
            return p->reason;
    return GW_REASON_NONE;
}

gw_backend_reason_t gw_reason_from_grpc(int status, const char *details)
{
    if (status != GRPC_STATUS_UNAVAILABLE || details == NULL)
        return GW_REASON_NONE;
    if (strncmp(details, "DNS resolution failed", 21) == 0 ||
        strstr(details, "Domain name not found") != NULL)
        return GW_REASON_DNS;
    /* gRPC's own connection failures: the subchannel's last error follows. */
    if (strncmp(details, "failed to connect to all addresses", 34) == 0) {
        const char *last = strstr(details, "last error:");
        gw_backend_reason_t r = match(grpc_patterns, last != NULL ? last : details);
        return r != GW_REASON_NONE ? r : GW_REASON_OTHER;
    }
    /* An established connection lost mid-call: gRPC core's bare texts. A
     * backend's own UNAVAILABLE message is anything else (reason none). */
    if (strcmp(details, "Socket closed") == 0 || strstr(details, "Connection reset by peer") != NULL ||
        strstr(details, "Broken pipe") != NULL)
        return GW_REASON_RESET;
    return GW_REASON_NONE;
}

/* h2o 2.2.5's client errors (lib/common/http1client.c, socket.c, hostinfo.c). */
gw_backend_reason_t gw_reason_from_http(const char *errstr, int connected)
{
    if (strstr(errstr, "Name or service not known") != NULL || strstr(errstr, "name resolution") != NULL ||
        strstr(errstr, "No address associated") != NULL || strstr(errstr, "nodename nor servname") != NULL)
        return GW_REASON_DNS;
    if (!connected) {
        if (strstr(errstr, "timeout") != NULL)
            return GW_REASON_CONNECT_TIMEOUT;
        if (strstr(errstr, "connection fail") != NULL || strstr(errstr, "failed to connect") != NULL ||
            strstr(errstr, "refused") != NULL)
            return GW_REASON_REFUSED;
    }
    if (strstr(errstr, "ssl") != NULL || strstr(errstr, "SSL") != NULL)
        return GW_REASON_TLS_HANDSHAKE;
    if (strstr(errstr, "I/O error") != NULL || strstr(errstr, "closed") != NULL ||
        strstr(errstr, "reset") != NULL)
        return GW_REASON_RESET;
    if (strstr(errstr, "failed to parse") != NULL || strstr(errstr, "line folding") != NULL)
        return GW_REASON_PROTOCOL;
    return GW_REASON_OTHER;
}

int gw_reason_http_is_deadline(const char *errstr, int connected)
{
    return connected && strstr(errstr, "timeout") != NULL;
}

void gw_reason_message(gw_backend_reason_t reason, const char *host, size_t host_len, char *out, size_t len)
{
    switch (reason) {
    case GW_REASON_REFUSED:
        snprintf(out, len, "connection refused");
        break;
    case GW_REASON_DNS:
        snprintf(out, len, "dial tcp: lookup %.*s: no such host", (int)host_len, host);
        break;
    case GW_REASON_CONNECT_TIMEOUT:
        snprintf(out, len, "connect timeout");
        break;
    case GW_REASON_TLS_HANDSHAKE:
        snprintf(out, len, "TLS handshake failed");
        break;
    case GW_REASON_RESET:
        snprintf(out, len, "connection reset by backend");
        break;
    case GW_REASON_PROTOCOL:
        snprintf(out, len, "backend protocol error");
        break;
    default:
        snprintf(out, len, "backend unavailable");
        break;
    }
}
