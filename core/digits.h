/*
 * Digit values shared by the parsers we own: hex (JSON \u escapes in
 * worker/transcode/transcode_lex.c, %XX in core/urlenc.c) and base64 (JWT segments in
 * worker/jwt.c, protobuf `bytes` fields in worker/transcode/transcode_value.c).
 */
#ifndef GW_DIGITS_H
#define GW_DIGITS_H

#include <stdbool.h>

/* 0..15, or -1 if c is not a hex digit. */
static inline int gw_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 0..63, or -1. `url_only`: the base64url alphabet alone ('-' '_', as JWS
 * requires); otherwise the standard alphabet ('+' '/') is accepted too. */
static inline int gw_b64_value(unsigned char c, bool url_only)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-' || (!url_only && c == '+'))
        return 62;
    if (c == '_' || (!url_only && c == '/'))
        return 63;
    return -1;
}

#endif
