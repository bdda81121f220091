/*
 * JSON text for the transcoder: the tokens of a request body (strings,
 * numbers, literals) and the number and UTF-8 rules shared with URL values
 * and the writer. Used by the body parser (transcode_in.c), the value
 * conversions (transcode_value.c) and the writer (transcode_out.c).
 *
 * The grammar is exactly jansson's with flags 0: RFC 8259, a top-level
 * object or array, no \u0000, no integer outside int64, no real that
 * overflows a double, valid UTF-8 only. transcode_in.c relies on that to ask
 * jansson for the message when a body fails; gw_tc_json_valid lets the fuzzer
 * check it. One deliberate difference: jansson's stream reader drops a NUL
 * byte that directly follows a number or a literal ("[1\0]" loads); we
 * reject it, as RFC 8259 does. Nothing here allocates except gw_tc_strtod on absurdly long
 * numbers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "worker/transcode/transcode_int.h"

#include "core/digits.h"

/* ---- numbers and UTF-8 ---------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

size_t gw_tc_number_len(const char *s, const char *end, bool *is_int)
{
    const char *p = s;
    *is_int = true;
    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0')
        p++;
    else if (p < end && *p >= '1' && *p <= '9')
        while (p < end && is_digit(*p))
            p++;
    else
        return 0;
    if (p < end && *p == '.') {
        *is_int = false;
        if (++p >= end || !is_digit(*p))
            return 0;
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *is_int = false;
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p))
            return 0;
        while (p < end && is_digit(*p))
            p++;
    }
    return (size_t)(p - s);
}

bool gw_tc_parse_digits(const char *s, size_t n, bool *neg, uint64_t *mag)
{
    size_t i = 0;
    *neg = n > 0 && s[0] == '-';
    if (*neg)
        i++;
    if (i == n)
        return false;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *mag = v;
    return true;
}

bool gw_tc_strtod(const char *s, size_t n, double *out, bool *overflow)
{
    /* strtod needs a terminated string and the body is not: copy the token
     * (to the stack unless it is absurdly long). Assumes the C locale's '.'. */
    char small[64];
    char *tmp = n < sizeof(small) ? small : malloc(n + 1);
    if (tmp == NULL)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    *out = strtod(tmp, NULL);
    *overflow = isinf(*out);
    if (tmp != small)
        free(tmp);
    return true;
}

size_t gw_tc_utf8_len(const unsigned char *s, const unsigned char *end)
{
    unsigned c = s[0];
    size_t need;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlong forms */
        hi = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
    } else
        return 0;
    if ((size_t)(end - s) < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return need;
}

/* ---- tokens --------------------------------------------------------------- */

/* The value of 4 hex digits, -1 if they are not. */
static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int d = gw_hex_value(s[i]);
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* The character a one-letter escape (\n, \", ...) stands for. */
static char unescape(char c)
{
    switch (c) {
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default: /* '"', '\\', '/' */
        return c;
    }
}

/* The escape at q (a backslash): its length, 0 if invalid. Like jansson,
 * \u0000 and unpaired surrogates are invalid. */
static size_t escape_len(const char *q, const char *end)
{
    if (end - q < 2)
        return 0;
    if (q[1] != '\0' && strchr("\"\\/bfnrt", q[1]) != NULL)
        return 2;
    if (q[1] != 'u' || end - q < 6)
        return 0;
    int cp = hex4(q + 2);
    if (cp <= 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
        return 0;
    if (cp < 0xD800 || cp > 0xDBFF)
        return 6;
    if (end - q < 12 || q[6] != '\\' || q[7] != 'u')
        return 0;
    int lo = hex4(q + 8);
    return lo >= 0xDC00 && lo <= 0xDFFF ? 12 : 0;
}

tc_lex_status_t gw_tc_lex_string(tc_lex_t *lx, tc_str_t *s)
{
    const char *q = lx->p + 1;
    s->escaped = false;
    while (q < lx->end) {
        unsigned char c = (unsigned char)*q;
        size_t n = 1;
        if (c == '"') {
            s->raw = lx->p + 1;
            s->len = (size_t)(q - s->raw);
            lx->p = q + 1;
            return TC_LEX_OK;
        }
        if (c < 0x20)
            return TC_LEX_SYNTAX;
        if (c == '\\') {
            s->escaped = true;
            n = escape_len(q, lx->end);
        } else if (c >= 0x80)
            n = gw_tc_utf8_len((const unsigned char *)q, (const unsigned char *)lx->end);
        if (n == 0)
            return TC_LEX_SYNTAX;
        q += n;
    }
    return TC_LEX_SYNTAX;
}

static char *put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) {
        *d++ = (char)cp;
    } else if (cp < 0x800) {
        *d++ = (char)(0xC0 | cp >> 6);
        *d++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *d++ = (char)(0xE0 | cp >> 12);
        *d++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *d++ = (char)(0xF0 | cp >> 18);
        *d++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *d++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    }
    return d;
}

size_t gw_tc_decode_string(const tc_str_t *s, char *dst)
{
    const char *q = s->raw, *end = s->raw + s->len;
    char *d = dst;
    while (q < end) {
        const char *bs = s->escaped ? memchr(q, '\\', (size_t)(end - q)) : NULL;
        size_t run = (size_t)((bs != NULL ? bs : end) - q);
        memcpy(d, q, run);
        d += run;
        q += run;
        if (bs == NULL)
            break;
        char c = q[1];
        q += 2;
        if (c != 'u') {
            *d++ = unescape(c);
            continue;
        }
        unsigned cp = (unsigned)hex4(q);
        q += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) { /* validated: a low surrogate follows */
            cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned)hex4(q + 2) - 0xDC00);
            q += 6;
        }
        d = put_utf8(d, cp);
    }
    *d = '\0';
    return (size_t)(d - dst);
}

tc_lex_status_t gw_tc_lex_number(tc_lex_t *lx, bool *is_int, int64_t *i, double *d)
{
    size_t n = gw_tc_number_len(lx->p, lx->end, is_int);
    const char *s = lx->p;
    if (n == 0)
        return TC_LEX_SYNTAX;
    lx->p += n;
    if (*is_int) {
        bool neg;
        uint64_t mag;
        if (!gw_tc_parse_digits(s, n, &neg, &mag) || mag > (uint64_t)INT64_MAX + neg)
            return TC_LEX_SYNTAX;
        *i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
        if (neg && mag == 0) { /* "-0": an integer has no negative zero, a float field does */
            *is_int = false;
            *d = -0.0;
        }
        return TC_LEX_OK;
    }
    bool overflow;
    if (!gw_tc_strtod(s, n, d, &overflow))
        return TC_LEX_NOMEM;
    return overflow ? TC_LEX_SYNTAX : TC_LEX_OK;
}

tc_lex_status_t gw_tc_lex_literal(tc_lex_t *lx, const char *lit, size_t n)
{
    if ((size_t)(lx->end - lx->p) < n || memcmp(lx->p, lit, n) != 0)
        return TC_LEX_SYNTAX;
    lx->p += n;
    return TC_LEX_OK;
}

/* ---- grammar check (for the fuzzer) --------------------------------------- */

/* jansson's own nesting limit (JSON_PARSER_MAX_DEPTH), counting every value. */
#define JANSSON_MAX_DEPTH 2048

static bool skip_value(tc_lex_t *lx, int depth);

static bool skip_container(tc_lex_t *lx, int depth, char close, bool object)
{
    gw_tc_lex_step(lx);
    if (gw_tc_peek(lx) == close) {
        lx->p++;
        return true;
    }
    for (;;) {
        tc_str_t key;
        if (object && (gw_tc_peek(lx) != '"' || gw_tc_lex_string(lx, &key) != TC_LEX_OK))
            return false;
        if (object) {
            gw_tc_skip_ws(lx);
            if (gw_tc_peek(lx) != ':')
                return false;
            gw_tc_lex_step(lx);
        }
        if (!skip_value(lx, depth + 1))
            return false;
        gw_tc_skip_ws(lx);
        if (gw_tc_peek(lx) == close) {
            lx->p++;
            return true;
        }
        if (gw_tc_peek(lx) != ',')
            return false;
        gw_tc_lex_step(lx);
    }
}

static bool skip_value(tc_lex_t *lx, int depth)
{
    tc_str_t s;
    bool is_int;
    int64_t i;
    double d;
    if (depth > JANSSON_MAX_DEPTH)
        return false;
    switch (gw_tc_peek(lx)) {
    case '{':
        return skip_container(lx, depth, '}', true);
    case '[':
        return skip_container(lx, depth, ']', false);
    case '"':
        return gw_tc_lex_string(lx, &s) == TC_LEX_OK;
    case 't':
        return gw_tc_lex_literal(lx, "true", 4) == TC_LEX_OK;
    case 'f':
        return gw_tc_lex_literal(lx, "false", 5) == TC_LEX_OK;
    case 'n':
        return gw_tc_lex_literal(lx, "null", 4) == TC_LEX_OK;
    default:
        return gw_tc_lex_number(lx, &is_int, &i, &d) == TC_LEX_OK;
    }
}

bool gw_tc_json_valid(const char *s, size_t len)
{
    tc_lex_t lx = {s, s + len};
    gw_tc_skip_ws(&lx);
    if (gw_tc_peek(&lx) != '{' && gw_tc_peek(&lx) != '[')
        return false;
    if (!skip_value(&lx, 1))
        return false;
    gw_tc_skip_ws(&lx);
    return lx.p == lx.end;
}
