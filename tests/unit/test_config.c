/*
 * Configuration loader: defaults, file syntax, environment overrides, and
 * the exact one-line messages operators see from `api-gateway -t`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"

static int load_text(const char *text, gw_config_t *cfg, char *err)
{
    return gw_config_load_text(cfg, text, strlen(text), err, GW_CONFIG_ERR_MAX);
}

static void expect_error(const char *text, const char *message)
{
    gw_config_t cfg;
    char err[GW_CONFIG_ERR_MAX] = "";
    assert_int_equal(load_text(text, &cfg, err), -1);
    assert_string_equal(err, message);
}

static void test_defaults(void **state)
{
    (void)state;
    gw_config_t cfg;
    char err[GW_CONFIG_ERR_MAX];
    assert_int_equal(load_text("JWT_SECRET=s\n", &cfg, err), 0);
    assert_int_equal(cfg.port, 8080);
    assert_string_equal(cfg.host, "0.0.0.0");
    assert_int_equal(cfg.workers, 0);
    assert_string_equal(cfg.auth_service_url, "auth-service:50051");
    assert_string_equal(cfg.user_service_url, "user-service:50052");
    assert_string_equal(cfg.tenant_service_url, "tenant-service:50053");
    assert_string_equal(cfg.notification_service_url, "http://notification-service:8084");
    assert_string_equal(cfg.jwt_algorithm, "HS256");
    assert_true(cfg.rate_limit_rps == 100.0);
    assert_int_equal(cfg.rate_limit_burst, 200);
    assert_int_equal(cfg.rate_limit_table_size, 262144);
    assert_int_equal(cfg.rate_limit_cleanup_interval, 600);
    assert_int_equal(cfg.rate_limit_idle_timeout, 600);
    assert_int_equal(cfg.max_request_size, 10485760);
    assert_true(cfg.request_timeout == 30.0);
    assert_int_equal(cfg.cache_ttl, 60);
    assert_int_equal(cfg.cache_max_body, 1048576);
    assert_true(cfg.enable_metrics);
    assert_false(cfg.enable_tracing);
    assert_true(cfg.trace_sample_ratio == 1.0);
    assert_true(cfg.circuit_breaker_enabled);
    assert_true(cfg.cb_failure_ratio == 0.6);
    assert_int_equal(cfg.cb_min_requests, 3);
    assert_int_equal(cfg.cb_interval, 60);
    assert_int_equal(cfg.cb_open_timeout, 30);
    assert_int_equal(cfg.cb_half_open_max_requests, 3);
    assert_int_equal(cfg.admin_allow.n, 2);
    assert_int_equal(cfg.trusted_proxies.n, 0);
    assert_int_equal(cfg.shutdown_timeout, 30);
    assert_int_equal(cfg.log_level, GW_LOG_INFO);
    assert_true(cfg.redis_fail_open);
    gw_config_free(&cfg);
}

static void test_file_syntax(void **state)
{
    (void)state;
    gw_config_t cfg;
    char err[GW_CONFIG_ERR_MAX];
    const char *text = "# comment\n"
                       "\n"
                       "JWT_SECRET=\"quoted secret\"\n"
                       "export API_GATEWAY_PORT = 9090\r\n"
                       "WORKERS=3\n"
                       "LOG_LEVEL='debug'\n"
                       "TRUSTED_PROXIES=10.0.0.0/8, 192.168.1.1\n"
                       "ENABLE_METRICS=off\n";
    assert_int_equal(load_text(text, &cfg, err), 0);
    assert_string_equal(cfg.jwt_secret, "quoted secret");
    assert_int_equal(cfg.port, 9090);
    assert_int_equal(cfg.workers, 3);
    assert_int_equal(cfg.log_level, GW_LOG_DEBUG);
    assert_int_equal(cfg.trusted_proxies.n, 2);
    assert_int_equal(cfg.trusted_proxies.v[1].prefix, 32);
    assert_false(cfg.enable_metrics);
    gw_config_free(&cfg);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("JWT_SECRET=s\nRATE_LIMIT_RPS=abc\n", "RATE_LIMIT_RPS: not a number: \"abc\"");
    expect_error("", "JWT_SECRET: required (or set JWT_PUBLIC_KEY_FILE with JWT_ALGORITHM=RS256 or ES256)");
    expect_error("JWT_SECRET=s\nAPI_GATEWAY_PORT=70000\n",
                 "API_GATEWAY_PORT: must be between 1 and 65535, got 70000");
    expect_error("JWT_SECRET=s\nENABLE_TRACING=maybe\n",
                 "ENABLE_TRACING: not a boolean: \"maybe\" (use true or false)");
    expect_error("JWT_SECRET=s\nBOGUS=1\n", "config:2: unknown key \"BOGUS\"");
    expect_error("JWT_SECRET=s\njust words\n", "config:2: expected KEY=VALUE");
    expect_error("JWT_SECRET=s\nLOG_LEVEL=loud\n",
                 "LOG_LEVEL: must be one of debug, info, warn, error, got \"loud\"");
    expect_error("JWT_SECRET=s\nADMIN_ALLOW=10.0.0.0/33\n",
                 "ADMIN_ALLOW: not an address or CIDR: \"10.0.0.0/33\"");
    expect_error("JWT_SECRET=s\nAUTH_SERVICE_URL=auth-service\n",
                 "AUTH_SERVICE_URL: expected host:port, got \"auth-service\"");
    expect_error("JWT_SECRET=s\nJWT_ALGORITHM=none\n",
                 "JWT_ALGORITHM: must be one of HS256, HS384, HS512, RS256, ES256, got \"none\"");
    expect_error("JWT_ALGORITHM=RS256\n", "JWT_PUBLIC_KEY_FILE: required with JWT_ALGORITHM=RS256");
    expect_error("JWT_SECRET=s\nTLS_CERT_FILE=/etc/hostname\n",
                 "TLS_KEY_FILE: required when TLS_CERT_FILE is set");
    expect_error("JWT_SECRET=s\nENABLE_TRACING=true\n", "JAEGER_URL: required when ENABLE_TRACING=true");
    expect_error("JWT_SECRET=s\nREQUEST_TIMEOUT=-1\n",
                 "REQUEST_TIMEOUT: must be between 0.001 and 3600, got -1");
}

static void test_env_overrides_file(void **state)
{
    (void)state;
    char path[] = "/tmp/gw-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "JWT_SECRET=from-file\nAPI_GATEWAY_PORT=9000\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    setenv("API_GATEWAY_PORT", "9001", 1);
    gw_config_t cfg;
    char err[GW_CONFIG_ERR_MAX];
    assert_int_equal(gw_config_load(&cfg, path, err, sizeof(err)), 0);
    assert_int_equal(cfg.port, 9001);
    assert_string_equal(cfg.jwt_secret, "from-file");
    assert_string_equal(cfg.file, path);
    gw_config_free(&cfg);
    setenv("API_GATEWAY_PORT", "x9", 1);
    assert_int_equal(gw_config_load(&cfg, path, err, sizeof(err)), -1);
    assert_string_equal(err, "API_GATEWAY_PORT: not a number: \"x9\"");
    unsetenv("API_GATEWAY_PORT");
    unlink(path);
    assert_int_equal(gw_config_load(&cfg, path, err, sizeof(err)), -1);
    char want[128];
    snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
    assert_string_equal(err, want);
}

/* Only the merged value is validated: a bad file value the environment
 * overrides is never used; a bad environment value is still an error. */
static void test_env_overrides_bad_file_value(void **state)
{
    (void)state;
    char path[] = "/tmp/gw-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "JWT_SECRET=s\nRATE_LIMIT_RPS=abc\nAPI_GATEWAY_PORT=70000\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    gw_config_t cfg;
    char err[GW_CONFIG_ERR_MAX];
    setenv("RATE_LIMIT_RPS", "7", 1);
    setenv("API_GATEWAY_PORT", "9002", 1);
    assert_int_equal(gw_config_load(&cfg, path, err, sizeof(err)), 0);
    assert_true(cfg.rate_limit_rps == 7.0);
    assert_int_equal(cfg.port, 9002);
    gw_config_free(&cfg);
    setenv("RATE_LIMIT_RPS", "x7", 1);
    assert_int_equal(gw_config_load(&cfg, path, err, sizeof(err)), -1);
    assert_string_equal(err, "RATE_LIMIT_RPS: not a number: \"x7\"");
    unsetenv("RATE_LIMIT_RPS");
    assert_int_equal(gw_config_load(&cfg, path, err, sizeof(err)), -1);
    assert_string_equal(err, "RATE_LIMIT_RPS: not a number: \"abc\"");
    unsetenv("API_GATEWAY_PORT");
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_file_syntax),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_env_overrides_file),
        cmocka_unit_test(test_env_overrides_bad_file_value),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
