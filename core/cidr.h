/*
 * CIDR lists (ADMIN_ALLOW, TRUSTED_PROXIES): parsed once by the config loader,
 * matched by workers against peer addresses and X-Forwarded-For entries.
 * A list owns its array; gw_cidr_list_free() releases it.
 */
#ifndef GW_CIDR_H
#define GW_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct {
    uint8_t family; /* AF_INET or AF_INET6 */
    uint8_t prefix;
    uint8_t addr[16];
} gw_cidr_t;

typedef struct {
    gw_cidr_t *v;
    size_t n;
} gw_cidr_list_t;

/* Parse "10.0.0.0/8, ::1/128, 192.168.1.7" (a bare address = a host route).
 * Returns 0, or -1 with a message naming the bad entry. */
int gw_cidr_list_parse(const char *text, gw_cidr_list_t *out, char *err, size_t errlen);
void gw_cidr_list_free(gw_cidr_list_t *list);

/* Parse one textual address (no prefix) into family + 16 bytes; IPv4-mapped
 * IPv6 addresses become IPv4. Returns 0 or -1. */
int gw_ip_parse(const char *text, size_t len, uint8_t *family, uint8_t addr[16]);

/* The text of an address as gw_ip_parse reads it (IPv4 in the first four
 * bytes), NUL-terminated into out (at least 46 bytes), as inet_ntop writes
 * it. IPv4, every request's case, without printf. */
void gw_ip_format(uint8_t family, const uint8_t addr[16], char *out, size_t cap);

bool gw_cidr_list_match_ip(const gw_cidr_list_t *list, uint8_t family, const uint8_t addr[16]);
bool gw_cidr_list_match_sockaddr(const gw_cidr_list_t *list, const struct sockaddr *sa);

#endif
