/*
 * demo-backend: entry point. Parses the flags, installs the signal toggles
 * (SIGUSR1 failure injection, SIGUSR2 health, SIGTERM/SIGINT stop), opens
 * the record file and runs the chosen service: a gRPC backend (auth, user,
 * tenant) or the notification HTTP backend.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tests/backends/backend.h"
#include "tests/backends/record.h"
#include "tests/backends/util.h"

struct backend_opts g_opts = {
    .jwt_secret = DEMO_DEFAULT_SECRET,
    .token_ttl = 900,
    .fail_message = "injected failure",
    .threads = 1,
};

atomic_int g_stop;
atomic_int g_fail_on;
atomic_int g_serving = 1;

static const char usage[] =
    "usage: demo-backend --service auth|user|tenant|notification [--listen HOST:PORT]\n"
    "         [--jwt-secret S] [--token-ttl SECONDS] [--latency-ms N]\n"
    "         [--fail-status CODE] [--fail-message TEXT] [--record FILE] [--record-health]\n"
    "         [--health SERVING|NOT_SERVING] [--threads N]\n"
    "signals: SIGUSR1 toggles failure injection, SIGUSR2 toggles health, SIGTERM/SIGINT stop\n";

static bool is_http(void)
{
    return strcmp(g_opts.service, "notification") == 0;
}

int backend_fail_code(void)
{
    if (!atomic_load(&g_fail_on))
        return 0;
    if (g_opts.fail_status != 0)
        return g_opts.fail_status;
    return is_http() ? 503 : GRPC_STATUS_UNAVAILABLE;
}

void backend_announce(const char *host, int port)
{
    printf("demo-backend %s listening on %s%s%s:%d\n", g_opts.service, strchr(host, ':') ? "[" : "", host,
           strchr(host, ':') ? "]" : "", port);
    fflush(stdout);
}

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        atomic_fetch_xor(&g_fail_on, 1);
    else if (sig == SIGUSR2)
        atomic_fetch_xor(&g_serving, 1);
    else
        atomic_store(&g_stop, 1);
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static long parse_num(const char *flag, const char *s, long lo, long hi)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "demo-backend: %s: expected a number in [%ld, %ld], got \"%s\"\n", flag, lo, hi, s);
        exit(2);
    }
    return v;
}

static const char *default_listen(void)
{
    if (strcmp(g_opts.service, "auth") == 0)
        return "127.0.0.1:50051";
    if (strcmp(g_opts.service, "user") == 0)
        return "127.0.0.1:50052";
    if (strcmp(g_opts.service, "tenant") == 0)
        return "127.0.0.1:50053";
    return "127.0.0.1:8084";
}

static void check_opts(void)
{
    static const char *const services[] = {"auth", "user", "tenant", "notification"};
    bool known = false;
    if (g_opts.service == NULL) {
        fprintf(stderr, "demo-backend: --service is required\n%s", usage);
        exit(2);
    }
    for (size_t i = 0; i < sizeof services / sizeof *services; i++)
        known |= strcmp(g_opts.service, services[i]) == 0;
    if (!known) {
        fprintf(stderr, "demo-backend: --service: unknown service \"%s\"\n", g_opts.service);
        exit(2);
    }
    if (g_opts.fail_status != 0) {
        bool ok = is_http() ? g_opts.fail_status >= 100 && g_opts.fail_status <= 599
                            : g_opts.fail_status >= 1 && g_opts.fail_status <= 16;
        if (!ok) {
            fprintf(stderr, "demo-backend: --fail-status: %d is not a valid %s status\n", g_opts.fail_status,
                    is_http() ? "HTTP (100-599)" : "gRPC (1-16)");
            exit(2);
        }
        atomic_store(&g_fail_on, 1);
    }
    if (g_opts.listen == NULL)
        g_opts.listen = default_listen();
}

static bool parse_health(const char *arg)
{
    if (strcmp(arg, "NOT_SERVING") != 0 && strcmp(arg, "SERVING") != 0) {
        fprintf(stderr, "demo-backend: --health: expected SERVING or NOT_SERVING\n");
        exit(2);
    }
    return strcmp(arg, "NOT_SERVING") == 0;
}

/* Applies one option returned by getopt_long. */
static void apply_opt(int ch, char *arg)
{
    switch (ch) {
    case 's':
        g_opts.service = arg;
        break;
    case 'l':
        g_opts.listen = arg;
        break;
    case 'j':
        g_opts.jwt_secret = arg;
        break;
    case 't':
        g_opts.token_ttl = parse_num("--token-ttl", arg, 1, 315360000);
        break;
    case 'L':
        g_opts.latency_ms = (int)parse_num("--latency-ms", arg, 0, 3600000);
        break;
    case 'f':
        g_opts.fail_status = (int)parse_num("--fail-status", arg, 1, 599);
        break;
    case 'm':
        g_opts.fail_message = arg;
        break;
    case 'r':
        g_opts.record_path = arg;
        break;
    case 'R':
        g_opts.record_health = true;
        break;
    case 'T':
        g_opts.threads = (int)parse_num("--threads", arg, 1, 16);
        break;
    case 'H':
        g_opts.start_not_serving = parse_health(arg);
        break;
    case 'h':
        fputs(usage, stdout);
        exit(0);
    default:
        fputs(usage, stderr);
        exit(2);
    }
}

static void parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"service", required_argument, NULL, 's'},
        {"listen", required_argument, NULL, 'l'},
        {"jwt-secret", required_argument, NULL, 'j'},
        {"token-ttl", required_argument, NULL, 't'},
        {"latency-ms", required_argument, NULL, 'L'},
        {"fail-status", required_argument, NULL, 'f'},
        {"fail-message", required_argument, NULL, 'm'},
        {"record", required_argument, NULL, 'r'},
        {"record-health", no_argument, NULL, 'R'},
        {"health", required_argument, NULL, 'H'},
        {"threads", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *env = getenv("JWT_SECRET");
    int ch;
    if (!str_empty(env))
        g_opts.jwt_secret = env;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
        apply_opt(ch, optarg);
    if (optind < argc) {
        fprintf(stderr, "demo-backend: unexpected argument \"%s\"\n%s", argv[optind], usage);
        exit(2);
    }
    check_opts();
}

/* The handlers themselves cannot print: the main loop logs what they flipped. */
void backend_log_toggles(void)
{
    static int fail_seen = -1, serving_seen = -1;
    int fail = atomic_load(&g_fail_on), serving = atomic_load(&g_serving);
    if (fail_seen >= 0 && fail != fail_seen)
        fprintf(stderr, "demo-backend %s: failure injection %s\n", g_opts.service, fail ? "on" : "off");
    if (serving_seen >= 0 && serving != serving_seen)
        fprintf(stderr, "demo-backend %s: health %s\n", g_opts.service, serving ? "SERVING" : "NOT_SERVING");
    fail_seen = fail;
    serving_seen = serving;
}

static const struct service_def *grpc_service(void)
{
    if (strcmp(g_opts.service, "auth") == 0)
        return &auth_service_def;
    if (strcmp(g_opts.service, "user") == 0)
        return &user_service_def;
    return &tenant_service_def;
}

static int run_grpc(const char *host, int port)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGUSR2);
    /* gRPC's threads inherit the mask: signals are only taken in sigsuspend below */
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int bound = grpc_backend_start(grpc_service(), host, port);
    if (bound < 0)
        return 1;
    backend_announce(host, bound);
    backend_log_toggles();
    while (!atomic_load(&g_stop)) {
        sigsuspend(&old);
        backend_log_toggles();
    }
    grpc_backend_stop();
    return 0;
}

int main(int argc, char **argv)
{
    char host[256];
    int port, rc;
    parse_args(argc, argv);
    if (parse_host_port(g_opts.listen, host, sizeof host, &port) != 0) {
        fprintf(stderr, "demo-backend: --listen: expected HOST:PORT, got \"%s\"\n", g_opts.listen);
        return 2;
    }
    atomic_store(&g_serving, !g_opts.start_not_serving);
    json_object_seed(0); /* before any thread creates JSON objects */
    if (g_opts.record_path != NULL && record_open(g_opts.record_path) != 0) {
        fprintf(stderr, "demo-backend: --record %s: %s\n", g_opts.record_path, strerror(errno));
        return 1;
    }
    install_signals();
    rc = is_http() ? notification_http_run(host, port) : run_grpc(host, port);
    record_close();
    return rc;
}
