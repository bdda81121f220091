/*
 * Path templates and route matching (core/route.h). core/api.c compiles
 * every route's template once per load with gw_router_build; workers then
 * call gw_router_match for every request, and it compares the request path
 * against each distinct template shape without allocating.
 *
 * Template syntax (google/api/http.proto):
 *   Template = "/" Segments [ ":" Verb ]
 *   Segment  = "*" | "**" | LITERAL | "{" FieldPath [ "=" Segments ] "}"
 * "*" matches one segment, "**" zero or more (last only); {x} is {x=*}.
 * A variable's value is the request text of the segments it covers, '/'
 * included (a {name=invoices/STAR} variable on /v1/invoices/7 gives
 * "invoices/7", STAR standing for the "*" wildcard).
 *
 * Routes whose templates have the same shape (literals and wildcards in the
 * same places, same verb) form one group: the group answers 405 for methods
 * it lacks; two routes of one group with the same method are a conflict.
 * Among groups that match a path, the one with more literal segments wins
 * ("/users/search" over "/users/{id}"), then one with a verb, then the one
 * built first.
 */
#include "core/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/api.h"
#include "core/descset.h"

#define MAX_SEGS 16

typedef enum { SEG_LITERAL, SEG_STAR, SEG_DSTAR } seg_kind_t;

typedef struct {
    seg_kind_t kind;
    const char *p; /* LITERAL: text inside the template */
    size_t len;
} seg_t;

typedef struct {
    const char *field; /* inside the template copy, NUL-terminated */
    size_t field_len;
    unsigned first, end; /* segments [first, end) */
} var_t;

/* One route's compiled template. */
typedef struct {
    char *text; /* a copy of the template; segments and fields point into it */
    seg_t segs[MAX_SEGS];
    unsigned nsegs;
    var_t vars[GW_ROUTE_MAX_VARS];
    unsigned nvars;
    const char *verb; /* after ':', or NULL */
    size_t verb_len;
    unsigned nliterals;
    bool dstar;
} tmpl_t;

/* Routes of one shape. The first three fields copy the shape's, so the
 * per-request scan reads one small array, not every template. */
typedef struct {
    unsigned nsegs;
    bool dstar, verb;
    const tmpl_t *shape; /* the first route's template */
    int route_for_method[GW_METHOD_COUNT];
    unsigned allowed;
} group_t;

struct gw_router {
    const gw_route_t *routes;
    tmpl_t *tmpls; /* one per route */
    group_t *groups;
    size_t nroutes, ngroups;
};

const char *gw_route_owner(const gw_route_t *r)
{
    return r->kind == GW_ROUTE_GRPC    ? r->method_name
           : r->kind == GW_ROUTE_PROXY ? "notification proxy"
                                       : "built-in";
}

static int bad(char *err, size_t errlen, const char *tmpl, const char *why)
{
    snprintf(err, errlen, "bad path template \"%s\": %s", tmpl, why);
    return -1;
}

static bool literal_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '{' || s[i] == '}' || s[i] == '*' || s[i] == '=' || s[i] == '?' || s[i] == '#' ||
            (unsigned char)s[i] <= ' ')
            return false;
    return n > 0;
}

/* One segment at *pp (up to '/', '}' or end): appended to t. */
static int add_seg(tmpl_t *t, char **pp, const char *orig, char *err, size_t errlen)
{
    char *p = *pp, *q = p;
    while (*q != '\0' && *q != '/' && *q != '}')
        q++;
    if (t->nsegs == MAX_SEGS)
        return bad(err, errlen, orig, "too many segments");
    if (t->dstar)
        return bad(err, errlen, orig, "\"**\" must be the last segment");
    seg_t *s = &t->segs[t->nsegs++];
    size_t n = (size_t)(q - p);
    if (n == 1 && p[0] == '*') {
        s->kind = SEG_STAR;
    } else if (n == 2 && p[0] == '*' && p[1] == '*') {
        s->kind = SEG_DSTAR;
        t->dstar = true;
    } else if (literal_ok(p, n)) {
        s->kind = SEG_LITERAL;
        s->p = p;
        s->len = n;
        t->nliterals++;
    } else {
        return bad(err, errlen, orig, n == 0 ? "empty segment" : "bad literal segment");
    }
    *pp = q;
    return 0;
}

/* "{" FieldPath [ "=" Segments ] "}" at *pp ('{'). */
static int add_var(tmpl_t *t, char **pp, const char *orig, char *err, size_t errlen)
{
    char *p = *pp + 1, *name = p;
    while (*p != '\0' && *p != '=' && *p != '}')
        p++;
    if (!gw_descset_is_name(name, (size_t)(p - name), true))
        return bad(err, errlen, orig, "bad variable name");
    if (t->nvars == GW_ROUTE_MAX_VARS)
        return bad(err, errlen, orig, "too many variables");
    var_t *v = &t->vars[t->nvars++];
    v->field = name;
    v->field_len = (size_t)(p - name);
    v->first = t->nsegs;
    if (*p == '=') {
        *p++ = '\0';
        for (;;) {
            if (*p == '{')
                return bad(err, errlen, orig, "variables cannot nest");
            if (add_seg(t, &p, orig, err, errlen) != 0)
                return -1;
            if (*p != '/')
                break;
            p++;
        }
    } else {
        if (t->nsegs == MAX_SEGS)
            return bad(err, errlen, orig, "too many segments");
        if (t->dstar)
            return bad(err, errlen, orig, "\"**\" must be the last segment");
        t->segs[t->nsegs++].kind = SEG_STAR;
    }
    if (*p != '}')
        return bad(err, errlen, orig, "unterminated variable");
    *p++ = '\0';
    v->end = t->nsegs;
    *pp = p;
    return 0;
}

/* The verb: a ':' in the last segment, outside any variable. */
static char *split_verb(tmpl_t *t, char *s)
{
    int depth = 0;
    char *last_slash = s, *colon = NULL;
    for (char *p = s; *p != '\0'; p++) {
        depth += *p == '{' ? 1 : *p == '}' ? -1 : 0;
        if (*p == '/')
            last_slash = p, colon = NULL;
        else if (*p == ':' && depth == 0 && p > last_slash)
            colon = p;
    }
    if (colon != NULL) {
        *colon = '\0';
        t->verb = colon + 1;
        t->verb_len = strlen(colon + 1);
    }
    return s;
}

static int compile(tmpl_t *t, const char *tmpl, char *err, size_t errlen)
{
    memset(t, 0, sizeof(*t));
    if (tmpl[0] != '/')
        return bad(err, errlen, tmpl, "must start with '/'");
    if ((t->text = strdup(tmpl)) == NULL)
        return bad(err, errlen, tmpl, "out of memory");
    char *p = split_verb(t, t->text) + 1;
    if (t->verb != NULL && !literal_ok(t->verb, t->verb_len))
        return bad(err, errlen, tmpl, "bad verb");
    while (*p != '\0' || t->nsegs == 0) {
        int rc = *p == '{' ? add_var(t, &p, tmpl, err, errlen) : add_seg(t, &p, tmpl, err, errlen);
        if (rc != 0)
            return -1;
        if (*p == '\0')
            break;
        if (*p != '/' || p[1] == '\0')
            return bad(err, errlen, tmpl, *p == '/' ? "trailing '/'" : "unbalanced '}'");
        p++;
    }
    for (unsigned i = 0; i < t->nvars; i++)
        for (unsigned j = 0; j < i; j++)
            if (strcmp(t->vars[i].field, t->vars[j].field) == 0)
                return bad(err, errlen, tmpl, "a field is bound twice");
    return 0;
}

static bool same_shape(const tmpl_t *a, const tmpl_t *b)
{
    if (a->nsegs != b->nsegs || a->verb_len != b->verb_len ||
        (a->verb_len > 0 && memcmp(a->verb, b->verb, a->verb_len) != 0))
        return false;
    for (unsigned i = 0; i < a->nsegs; i++) {
        const seg_t *x = &a->segs[i], *y = &b->segs[i];
        if (x->kind != y->kind ||
            (x->kind == SEG_LITERAL && (x->len != y->len || memcmp(x->p, y->p, x->len))))
            return false;
    }
    return true;
}

void gw_router_free(gw_router_t *rt)
{
    if (rt == NULL)
        return;
    for (size_t i = 0; i < rt->nroutes; i++)
        free(rt->tmpls[i].text);
    free(rt->tmpls);
    free(rt->groups);
    free(rt);
}

/* The route of `g` for `r`'s method, or a conflict. */
static int join_group(gw_router_t *rt, group_t *g, size_t r, char *err, size_t errlen)
{
    const gw_route_t *route = &rt->routes[r];
    int other = g->route_for_method[route->method];
    if (other >= 0) {
        const gw_route_t *o = &rt->routes[other];
        snprintf(err, errlen, "route conflict: %s %s is bound by %s and %s", gw_method_names[route->method],
                 route->tmpl, gw_route_owner(o), gw_route_owner(route));
        return -1;
    }
    g->route_for_method[route->method] = (int)r;
    g->allowed |= 1u << route->method;
    return 0;
}

gw_router_t *gw_router_build(const gw_route_t *routes, size_t nroutes, char *err, size_t errlen)
{
    gw_router_t *rt = calloc(1, sizeof(*rt));
    if (rt == NULL || (rt->tmpls = calloc(nroutes ? nroutes : 1, sizeof(tmpl_t))) == NULL ||
        (rt->groups = calloc(nroutes ? nroutes : 1, sizeof(group_t))) == NULL) {
        snprintf(err, errlen, "out of memory");
        gw_router_free(rt);
        return NULL;
    }
    rt->routes = routes;
    for (size_t r = 0; r < nroutes; r++) {
        rt->nroutes = r + 1;
        char why[GW_ROUTER_ERR_MAX];
        if (compile(&rt->tmpls[r], routes[r].tmpl, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "%s: %s", gw_route_owner(&routes[r]), why);
            gw_router_free(rt);
            return NULL;
        }
        group_t *g = NULL;
        for (size_t i = 0; i < rt->ngroups && g == NULL; i++)
            if (same_shape(rt->groups[i].shape, &rt->tmpls[r]))
                g = &rt->groups[i];
        if (g == NULL) {
            g = &rt->groups[rt->ngroups++];
            g->shape = &rt->tmpls[r];
            g->nsegs = g->shape->nsegs;
            g->dstar = g->shape->dstar;
            g->verb = g->shape->verb != NULL;
            for (int m = 0; m < GW_METHOD_COUNT; m++)
                g->route_for_method[m] = -1;
        }
        if (join_group(rt, g, r, err, errlen) != 0) {
            gw_router_free(rt);
            return NULL;
        }
    }
    return rt;
}

size_t gw_router_vars(const gw_router_t *rt, size_t route, const char **fields, size_t max)
{
    const tmpl_t *t = &rt->tmpls[route];
    size_t n = 0;
    for (; n < t->nvars && n < max; n++)
        fields[n] = t->vars[n].field;
    return n;
}

/* ---- matching ------------------------------------------------------------- */

typedef struct {
    const char *p;
    size_t len;
} span_t;

/* Request segments; empty ones ("//") are skipped. Returns MAX_SEGS + 1
 * when there are too many (matches nothing). */
static size_t split(const char *path, size_t len, span_t *segs)
{
    size_t n = 0, i = 0;
    while (i < len) {
        if (path[i] == '/') {
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && path[i] != '/')
            i++;
        if (n == MAX_SEGS)
            return MAX_SEGS + 1;
        segs[n++] = (span_t){path + start, i - start};
    }
    return n;
}

static bool shape_matches(const tmpl_t *t, const span_t *segs, size_t nsegs)
{
    if (t->dstar ? nsegs + 1 < t->nsegs : nsegs != t->nsegs)
        return false;
    for (unsigned i = 0; i < t->nsegs; i++) {
        const seg_t *s = &t->segs[i];
        if (s->kind == SEG_DSTAR)
            return true;
        if (s->kind == SEG_LITERAL && (s->len != segs[i].len || memcmp(s->p, segs[i].p, s->len) != 0))
            return false;
    }
    return true;
}

/* The verb-stripped last segment for templates with `verb`, or false. */
static bool strip_verb(const tmpl_t *t, const span_t *segs, size_t nsegs, span_t *last)
{
    if (nsegs == 0)
        return false;
    *last = segs[nsegs - 1];
    if (t->verb == NULL) {
        /* Without a verb, a ':' in the last segment is ordinary text. */
        return true;
    }
    if (last->len <= t->verb_len + 1)
        return false;
    const char *colon = last->p + last->len - t->verb_len - 1;
    if (*colon != ':' || memcmp(colon + 1, t->verb, t->verb_len) != 0)
        return false;
    last->len -= t->verb_len + 1;
    return true;
}

static void bind_vars(const tmpl_t *t, const span_t *segs, size_t nsegs, const char *path_end, gw_match_t *m)
{
    m->nvars = 0;
    for (unsigned i = 0; i < t->nvars; i++) {
        const var_t *v = &t->vars[i];
        unsigned end = t->segs[v->end - 1].kind == SEG_DSTAR ? (unsigned)nsegs : v->end;
        gw_path_var_t *pv = &m->vars[m->nvars++];
        pv->name = v->field;
        pv->name_len = v->field_len;
        if (v->first >= end) { /* "**" over nothing */
            pv->value = path_end;
            pv->value_len = 0;
            continue;
        }
        pv->value = segs[v->first].p;
        pv->value_len = (size_t)(segs[end - 1].p + segs[end - 1].len - segs[v->first].p);
    }
}

/* More literal segments win; at a tie, a template whose verb matched wins
 * over one that took "7:cancel" as a plain segment. */
static bool more_specific(const tmpl_t *a, const tmpl_t *b)
{
    if (a->nliterals != b->nliterals)
        return a->nliterals > b->nliterals;
    return a->verb != NULL && b->verb == NULL;
}

gw_match_result_t gw_router_match(const gw_api_t *api, gw_method_t method, const char *path, size_t len,
                                  gw_match_t *m)
{
    const gw_router_t *rt = api->router;
    span_t segs[MAX_SEGS], vsegs[MAX_SEGS];
    size_t nsegs = split(path, len, segs);
    const group_t *best = NULL;
    m->route = NULL; /* vars are defined up to nvars only: not cleared */
    m->nvars = 0;
    m->allowed = 0;
    m->endpoint = GW_ENDPOINT_UNMATCHED;
    if (nsegs > MAX_SEGS)
        return GW_MATCH_NOT_FOUND;
    for (size_t i = 0; i < rt->ngroups; i++) {
        const group_t *g = &rt->groups[i];
        if (g->dstar ? nsegs + 1 < g->nsegs : nsegs != g->nsegs)
            continue; /* the cheap test first: most templates differ in length */
        const tmpl_t *t = g->shape;
        const span_t *use = segs;
        if (g->verb) { /* match against the path with the verb cut off the last segment */
            span_t last;
            if (!strip_verb(t, segs, nsegs, &last))
                continue;
            memcpy(vsegs, segs, nsegs * sizeof(segs[0]));
            vsegs[nsegs - 1] = last;
            use = vsegs;
        }
        if (shape_matches(t, use, nsegs) && (best == NULL || more_specific(t, best->shape)))
            best = &rt->groups[i];
    }
    if (best == NULL)
        return GW_MATCH_NOT_FOUND;
    m->allowed = best->allowed;
    gw_method_t look = method == GW_METHOD_HEAD ? GW_METHOD_GET : method;
    int r = best->route_for_method[look];
    if (r < 0) {
        for (int k = 0; k < GW_METHOD_COUNT && r < 0; k++)
            r = best->route_for_method[k];
        m->endpoint = rt->routes[r].endpoint;
        return GW_MATCH_BAD_METHOD;
    }
    const tmpl_t *t = &rt->tmpls[r];
    span_t last;
    if (nsegs > 0 && strip_verb(t, segs, nsegs, &last))
        segs[nsegs - 1] = last;
    bind_vars(t, segs, nsegs, path + len, m);
    m->route = &rt->routes[r];
    m->endpoint = m->route->endpoint;
    return GW_MATCH_OK;
}
