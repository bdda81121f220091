/*
 * api-gateway entry point: command line, configuration, listening socket,
 * shared segment; then the master loop (master/master.c).
 *
 *   api-gateway [-c FILE] [-t] [-v] [-h]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <h2o/version.h>

#include "master/listener.h"
#include "master/master.h"
#include "master/sweep.h"
#include "shm/revoke.h"
#include "core/api.h"
#include "core/log.h"
#include "core/tls.h"

#define GW_VERSION "0.1.0"

static void usage(FILE *out)
{
    fprintf(out, "usage: api-gateway [-c FILE] [-t] [-v] [-h]\n"
                 "  -c FILE  read KEY=VALUE settings from FILE (environment variables override it)\n"
                 "  -t       check the configuration, print the route table it would serve, and exit\n"
                 "           (0 valid, 1 invalid); with -v, print the configuration too\n"
                 "  -v       print the version and exit\n"
                 "  -h       this help\n");
}

static void fatal(const char *msg)
{
    /* Before the loop starts, errors go to stderr as one plain line (what
     * `-t` prints, and what journald records for a failed start). */
    fprintf(stderr, "api-gateway: %s\n", msg);
    exit(1);
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    bool test_only = false, verbose = false;
    int opt;
    while ((opt = getopt(argc, argv, "c:tvh")) != -1) {
        switch (opt) {
        case 'c':
            file = optarg;
            break;
        case 't':
            test_only = true;
            break;
        case 'v':
            verbose = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 1;
    }
    if (verbose && !test_only) {
        printf("api-gateway %s (h2o %s)\n", GW_VERSION, H2O_VERSION);
        return 0;
    }

    static gw_master_t m;
    char err[GW_CONFIG_ERR_MAX];
    gw_log_init(GW_LOG_INFO, "master");
    if (gw_config_load(&m.cfg, file, err, sizeof(err)) != 0 || gw_tls_check(&m.cfg, err, sizeof(err)) != 0)
        fatal(err);
    if (test_only) {
        /* Catch now what would otherwise only fail at start: an address
         * that does not resolve (the bind itself is left to the start). */
        if (gw_listener_check(m.cfg.host, m.cfg.port, err, sizeof(err)) != 0)
            fatal(err);
        if (verbose)
            gw_config_dump(&m.cfg);
        gw_api_print(m.cfg.api, stdout);
        printf("api-gateway: configuration %s is valid\n", file ? file : "(environment)");
        return 0;
    }
    gw_log_set_level(m.cfg.log_level);
    m.config_path = file;

    m.listen_fd = gw_listener_open(m.cfg.host, m.cfg.port, err, sizeof(err));
    if (m.listen_fd < 0)
        fatal(err);
    long workers = gw_config_worker_count(&m.cfg);
    gw_shm_params_t params = {
        .nslots = (uint32_t)(workers * 4),
        .limiter_bytes = gw_sweep_limiter_bytes(&m.cfg),
        .breaker_bytes = gw_sweep_breaker_bytes(),
        .revoke_bytes = gw_revoke_region_size((uint32_t)m.cfg.revocation_table_size),
    };
    if (gw_shm_create(&m.shm, &params) != 0)
        fatal("cannot create the shared segment (mmap failed)");
    if (gw_master_bind_api(&m, m.cfg.api, err, sizeof(err)) !=
        0) /* service and endpoint slots, before any fork */
        fatal(err);
    gw_sweep_init_regions(&m.shm, &m.cfg);
    gw_revoke_init(gw_shm_region(&m.shm, GW_SHM_REGION_REVOKE), (uint32_t)m.cfg.revocation_table_size, 0);
    gw_logf(GW_LOG_INFO, "api-gateway %s starting: %ld workers, listening on %s:%ld, segment %zu bytes",
            GW_VERSION, workers, m.cfg.host, m.cfg.port, m.shm.size);
    return gw_master_run(&m);
}
