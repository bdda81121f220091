/*
 * JWT_REQUIRED_CLAIMS syntax (see core/jwt_claims.h): the one parser of the
 * list, shared by the config loader's validation (core/config.c) and the
 * worker's verifier (worker/jwt.c), so both accept exactly the same values.
 */
#include "core/jwt_claims.h"

#include <stdio.h>
#include <string.h>

int gw_jwt_required_claims_parse(const char *list, char out[][GW_JWT_MAX_CLAIM_NAME], char *err,
                                 size_t errlen)
{
    int n = 0;
    const char *p = list;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return 0;
    for (;;) {
        const char *end = p + strcspn(p, ",");
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t'))
            last--;
        size_t len = (size_t)(last - p);
        if (len == 0 || len >= GW_JWT_MAX_CLAIM_NAME) {
            snprintf(err, errlen, "JWT_REQUIRED_CLAIMS: %s claim name in \"%s\"",
                     len ? "too long a" : "empty", list);
            return -1;
        }
        for (size_t i = 0; i < len; i++) {
            unsigned char ch = (unsigned char)p[i];
            if (ch <= ' ' || ch >= 0x7f || ch == '"' || ch == '\\') {
                snprintf(err, errlen, "JWT_REQUIRED_CLAIMS: invalid character in claim name \"%.*s\"",
                         (int)len, p);
                return -1;
            }
        }
        if (n == GW_JWT_MAX_REQUIRED) {
            snprintf(err, errlen, "JWT_REQUIRED_CLAIMS: more than %d claim names", GW_JWT_MAX_REQUIRED);
            return -1;
        }
        if (out != NULL) {
            memcpy(out[n], p, len);
            out[n][len] = '\0';
        }
        n++;
        if (*end == '\0')
            return n;
        p = end + 1;
        while (*p == ' ' || *p == '\t')
            p++;
    }
}

int gw_jwt_required_claims_check(const char *list, char *err, size_t errlen)
{
    return gw_jwt_required_claims_parse(list, NULL, err, errlen) < 0 ? -1 : 0;
}
