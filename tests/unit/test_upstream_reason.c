/*
 * Transport failure classification (worker/clients/upstream_reason.c): the status
 * details gRPC core 1.51 really returns for each kind of connection failure
 * (collected against real listeners, see the file's header), h2o's client
 * errors, and a backend's own UNAVAILABLE left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <grpc/status.h>

#include "worker/clients/upstream_reason.h"

#define LAST "failed to connect to all addresses; last error: "

static void grpc_texts(void **state)
{
    (void)state;
    static const struct {
        const char *details;
        gw_backend_reason_t want;
    } cases[] = {
        {LAST "UNKNOWN: ipv4:127.0.0.1:5005: Failed to connect to remote host: Connection refused",
         GW_REASON_REFUSED},
        {"DNS resolution failed for nosuch.invalid:5000: C-ares status is not ARES_SUCCESS qtype=AAAA "
         "name=nosuch.invalid is_balancer=0: Domain name not found",
         GW_REASON_DNS},
        {LAST "UNKNOWN: ipv4:127.0.0.1:1: Ssl handshake failed: SSL_ERROR_SSL: error:0A00010B:SSL "
              "routines::wrong version number",
         GW_REASON_TLS_HANDSHAKE},
        {LAST "UNKNOWN: ipv4:127.0.0.1:1: Handshake read failed", GW_REASON_TLS_HANDSHAKE},
        {LAST "UNKNOWN: ipv4:127.0.0.1:1: connection attempt timed out before receiving SETTINGS frame",
         GW_REASON_CONNECT_TIMEOUT},
        {LAST "UNKNOWN: ipv4:127.0.0.1:1: tcp handshaker shutdown", GW_REASON_CONNECT_TIMEOUT},
        {LAST "UNKNOWN: ipv4:127.0.0.1:1: Timeout occurred: FD Shutdown", GW_REASON_CONNECT_TIMEOUT},
        {LAST "UNAVAILABLE: ipv4:127.0.0.1:1: Socket closed", GW_REASON_RESET},
        {LAST "UNAVAILABLE: ipv4:127.0.0.1:1: recvmsg:Connection reset by peer", GW_REASON_RESET},
        {LAST "UNKNOWN: ipv4:127.0.0.1:1: Failed to connect to remote host: Connection reset by peer",
         GW_REASON_RESET},
        {LAST "INTERNAL: ipv4:127.0.0.1:1: Trying to connect an http1.x server", GW_REASON_PROTOCOL},
        {LAST "UNKNOWN: ipv4:127.0.0.1:1: something new", GW_REASON_OTHER},
        {"Socket closed", GW_REASON_RESET},
        {"db down", GW_REASON_NONE},
        {"upstream said: Connection refused by the database", GW_REASON_NONE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gw_backend_reason_t got = gw_reason_from_grpc(GRPC_STATUS_UNAVAILABLE, cases[i].details);
        if (got != cases[i].want)
            fail_msg("%s: got %s, want %s", cases[i].details, gw_met_reason_names[got],
                     gw_met_reason_names[cases[i].want]);
    }
    /* Only UNAVAILABLE is a transport failure; other codes are the backend's. */
    assert_int_equal(gw_reason_from_grpc(GRPC_STATUS_DEADLINE_EXCEEDED, "Deadline Exceeded"), GW_REASON_NONE);
    assert_int_equal(gw_reason_from_grpc(GRPC_STATUS_INTERNAL, "Socket closed"), GW_REASON_NONE);
    assert_int_equal(gw_reason_from_grpc(GRPC_STATUS_OK, ""), GW_REASON_NONE);
}

static void http_texts(void **state)
{
    (void)state;
    assert_int_equal(gw_reason_from_http("connection failed", 0), GW_REASON_REFUSED);
    assert_int_equal(gw_reason_from_http("connection timeout", 0), GW_REASON_CONNECT_TIMEOUT);
    assert_int_equal(gw_reason_from_http("Name or service not known", 0), GW_REASON_DNS);
    assert_int_equal(gw_reason_from_http("I/O error (head)", 1), GW_REASON_RESET);
    assert_int_equal(gw_reason_from_http("failed to parse the response", 1), GW_REASON_PROTOCOL);
    assert_int_equal(gw_reason_from_http("something new", 1), GW_REASON_OTHER);
    assert_true(gw_reason_http_is_deadline("I/O timeout", 1));
    assert_false(gw_reason_http_is_deadline("connection timeout", 0));
}

static void messages(void **state)
{
    (void)state;
    char m[128];
    gw_reason_message(GW_REASON_REFUSED, "x", 1, m, sizeof(m));
    assert_string_equal(m, "connection refused");
    gw_reason_message(GW_REASON_DNS, "auth-service:50051", 12, m, sizeof(m));
    assert_string_equal(m, "dial tcp: lookup auth-service: no such host");
    gw_reason_message(GW_REASON_OTHER, "x", 1, m, sizeof(m));
    assert_string_equal(m, "backend unavailable");
    /* every reason has a distinct message */
    char seen[GW_MET_NREASONS][64];
    for (int r = GW_REASON_REFUSED; r < GW_MET_NREASONS; r++) {
        gw_reason_message((gw_backend_reason_t)r, "h", 1, seen[r], sizeof(seen[r]));
        for (int q = GW_REASON_REFUSED; q < r; q++)
            assert_string_not_equal(seen[q], seen[r]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grpc_texts),
        cmocka_unit_test(http_texts),
        cmocka_unit_test(messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
