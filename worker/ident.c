/*
 * Correlation ids, UUIDs and client addresses (see worker/ident.h).
 * The PRNG state is per process and seeded lazily from getrandom(), so each
 * forked worker gets its own stream.
 */
#include "worker/ident.h"

#include <arpa/inet.h>
#include <string.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/random.h>
#include <unistd.h>

/* Per-process generator state; a forked child reseeds (pthread_atfork)
 * so two workers never produce the same ids. */
static uint64_t rng[4];
static bool rng_seeded, rng_atfork;

static void rng_forget(void)
{
    rng_seeded = false;
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t gw_random64(void)
{
    if (!rng_seeded) {
        if (getrandom(rng, sizeof(rng), 0) != (ssize_t)sizeof(rng))
            rng[0] = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^ gw_now_us(); /* never all zero */
        rng[1] |= 1;
        rng_seeded = true;
        if (!rng_atfork)
            rng_atfork = pthread_atfork(NULL, NULL, rng_forget) == 0;
    }
    uint64_t result = rotl(rng[1] * 5, 7) * 9, t = rng[1] << 17;
    rng[2] ^= rng[0];
    rng[3] ^= rng[1];
    rng[1] ^= rng[2];
    rng[0] ^= rng[3];
    rng[2] ^= t;
    rng[3] = rotl(rng[3], 45);
    return result;
}

void gw_uuid4(char out[36])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    uint64_t a = gw_random64(), c = gw_random64();
    memcpy(b, &a, 8);
    memcpy(b + 8, &c, 8);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
}

/* A client-supplied id is echoed into headers and logs: accept only a
 * bounded, harmless alphabet. */
static bool valid_correlation(const h2o_iovec_t *v)
{
    if (v->len == 0 || v->len > 128)
        return false;
    for (size_t i = 0; i < v->len; i++) {
        char c = v->base[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '_' || c == '.' || c == ':';
        if (!ok)
            return false;
    }
    return true;
}

void gw_ident_correlation(gw_request_t *r)
{
    const h2o_iovec_t *v = gw_request_header(r, H2O_STRLIT("x-correlation-id"));
    if (v == NULL)
        v = gw_request_header(r, H2O_STRLIT("x-request-id"));
    if (v != NULL && valid_correlation(v)) {
        r->correlation_id = *v;
        return;
    }
    char *id = h2o_mem_alloc_pool(&r->req->pool, 36);
    gw_uuid4(id);
    r->correlation_id = h2o_iovec_init(id, 36);
}

static void set_ip(gw_request_t *r, uint8_t family, const uint8_t addr[16])
{
    r->ip_family = family;
    memcpy(r->ip_bytes, addr, 16);
    gw_ip_format(family, addr, r->ip, sizeof(r->ip));
}

/* One X-Forwarded-For line from the right: each hop was appended by the
 * proxy before it, so the first address that is not a trusted proxy is the
 * client. Returns 1 when it set the client, 0 when every address of the line
 * was trusted (`last` holds the leftmost), -1 on garbage (trust nothing left
 * of it). */
static int walk_forwarded_line(gw_request_t *r, const h2o_iovec_t *xff, uint8_t *last_fam, uint8_t last[16])
{
    const gw_cidr_list_t *trusted = &r->w->cfg->trusted_proxies;
    size_t end = xff->len;
    uint8_t fam = 0, addr[16];
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff->base[start - 1] != ',')
            start--;
        size_t a = start, b = end;
        while (a < b && (xff->base[a] == ' ' || xff->base[a] == '\t'))
            a++;
        while (b > a && (xff->base[b - 1] == ' ' || xff->base[b - 1] == '\t'))
            b--;
        if (gw_ip_parse(xff->base + a, b - a, &fam, addr) != 0)
            return -1;
        memcpy(last, addr, 16);
        *last_fam = fam;
        if (!gw_cidr_list_match_ip(trusted, fam, addr)) {
            set_ip(r, fam, addr);
            return 1;
        }
        end = start > 0 ? start - 1 : 0;
    }
    return 0;
}

/* Repeated X-Forwarded-For lines are one list, joined in order (RFC 9110
 * §5.3): walk them from the last line back, exactly as one comma-separated
 * line. Reading only the first line would let a client put a trusted
 * address there and hide its own in a second line. */
static void from_forwarded_for(gw_request_t *r)
{
    const h2o_headers_t *hs = &r->req->headers;
    uint8_t last_fam = 0, last[16];
    for (size_t i = hs->size; i-- > 0;) {
        const h2o_header_t *h = &hs->entries[i];
        if (!h2o_memis(h->name->base, h->name->len, H2O_STRLIT("x-forwarded-for")))
            continue;
        int res = walk_forwarded_line(r, &h->value, &last_fam, last);
        if (res > 0)
            return;
        if (res < 0)
            break;
    }
    if (last_fam != 0) /* every hop was a trusted proxy: the leftmost is the origin */
        set_ip(r, last_fam, last);
}

void gw_ident_client_ip(gw_request_t *r)
{
    struct sockaddr_storage ss;
    socklen_t n = r->req->conn->callbacks->get_peername(r->req->conn, (struct sockaddr *)&ss);
    uint8_t fam = 0, addr[16] = {0};
    if (n > 0 && ss.ss_family == AF_INET) {
        fam = AF_INET;
        memcpy(addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
    } else if (n > 0 && ss.ss_family == AF_INET6) {
        char tmp[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, tmp, sizeof(tmp));
        gw_ip_parse(tmp, strlen(tmp), &fam, addr); /* unmaps ::ffff:a.b.c.d */
    }
    if (fam == 0) {
        strcpy(r->ip, "unknown");
        return;
    }
    set_ip(r, fam, addr);
    if (r->w->cfg->trusted_proxies.n == 0 || !gw_cidr_list_match_ip(&r->w->cfg->trusted_proxies, fam, addr))
        return;
    from_forwarded_for(r);
}
