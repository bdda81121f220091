/*
 * Route matching (see core/route.h). gw_router_init splits every template
 * into segments once per process; gw_router_match then compares the request
 * path against each distinct template without allocating, preferring the
 * template with more literal segments ("/users/search" over "/users/{id}").
 * Called by workers for every request; the master binds every template to
 * its endpoint slot in the segment (gw_router_bind_endpoint, before forking),
 * so a match reports the slot the worker counts the request in.
 */
#include "core/route.h"

#include <string.h>

#define MAX_SEGS      8
#define MAX_TEMPLATES GW_ENDPOINT_MAX

typedef struct {
    const char *p; /* segment text inside the template ({name} for variables) */
    size_t len;
    bool var;
} seg_t;

typedef struct {
    const char *tmpl;
    seg_t segs[MAX_SEGS];
    size_t nsegs;
    size_t nliterals;
    int route_for_method[GW_METHOD_COUNT]; /* index into gw_routes, -1 if none */
    unsigned allowed;                      /* bit set of methods */
} template_t;

static template_t templates[MAX_TEMPLATES];
static unsigned ntemplates;
/* Endpoint index (templates, then "unmatched") -> the slot a match reports.
 * Until the master binds them, a slot is the index itself. */
static unsigned slots[MAX_TEMPLATES + 1];
static bool initialized;

static size_t split(const char *path, size_t len, seg_t *segs, size_t max)
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
        if (n == max)
            return max + 1; /* too many segments: matches nothing */
        segs[n].p = path + start;
        segs[n].len = i - start;
        segs[n].var = segs[n].len > 2 && path[start] == '{' && path[i - 1] == '}';
        n++;
    }
    return n;
}

static unsigned add_template(const char *tmpl)
{
    for (unsigned i = 0; i < ntemplates; i++)
        if (strcmp(templates[i].tmpl, tmpl) == 0)
            return i;
    template_t *t = &templates[ntemplates];
    t->tmpl = tmpl;
    t->nsegs = split(tmpl, strlen(tmpl), t->segs, MAX_SEGS);
    t->nliterals = 0;
    for (size_t s = 0; s < t->nsegs; s++)
        t->nliterals += !t->segs[s].var;
    for (int m = 0; m < GW_METHOD_COUNT; m++)
        t->route_for_method[m] = -1;
    return ntemplates++;
}

void gw_router_init(void)
{
    if (initialized)
        return;
    for (unsigned i = 0; i <= MAX_TEMPLATES; i++)
        slots[i] = i;
    for (size_t r = 0; r < gw_nroutes; r++) {
        unsigned ti = add_template(gw_routes[r].tmpl);
        templates[ti].route_for_method[gw_routes[r].method] = (int)r;
        templates[ti].allowed |= 1u << gw_routes[r].method;
    }
    initialized = true;
}

unsigned gw_router_endpoint_count(void)
{
    return ntemplates + 1;
}

unsigned gw_router_unmatched_endpoint(void)
{
    return slots[ntemplates];
}

void gw_router_bind_endpoint(unsigned endpoint, unsigned slot)
{
    if (endpoint <= ntemplates)
        slots[endpoint] = slot;
}

const char *gw_router_endpoint_name(unsigned endpoint)
{
    return endpoint < ntemplates ? templates[endpoint].tmpl : "unmatched";
}

static bool match_template(const template_t *t, const seg_t *segs, size_t nsegs, gw_match_t *m)
{
    if (t->nsegs != nsegs)
        return false;
    size_t nvars = 0;
    for (size_t i = 0; i < nsegs; i++) {
        const seg_t *ts = &t->segs[i];
        if (ts->var) {
            if (nvars < GW_ROUTE_MAX_VARS) {
                m->vars[nvars].name = ts->p + 1;
                m->vars[nvars].name_len = ts->len - 2;
                m->vars[nvars].value = segs[i].p;
                m->vars[nvars].value_len = segs[i].len;
                nvars++;
            }
        } else if (ts->len != segs[i].len || memcmp(ts->p, segs[i].p, ts->len) != 0) {
            return false;
        }
    }
    m->nvars = nvars;
    return true;
}

gw_match_result_t gw_router_match(gw_method_t method, const char *path, size_t len, gw_match_t *m)
{
    seg_t segs[MAX_SEGS];
    size_t nsegs = split(path, len, segs, MAX_SEGS);
    int best = -1;
    gw_match_t cand;
    memset(m, 0, sizeof(*m));
    for (unsigned i = 0; i < ntemplates; i++) {
        if (!match_template(&templates[i], segs, nsegs, &cand))
            continue;
        if (best < 0 || templates[i].nliterals > templates[best].nliterals) {
            best = (int)i;
            *m = cand;
        }
    }
    if (best < 0) {
        m->endpoint = gw_router_unmatched_endpoint();
        return GW_MATCH_NOT_FOUND;
    }
    const template_t *t = &templates[best];
    m->endpoint = slots[best];
    m->allowed = t->allowed;
    gw_method_t look = method == GW_METHOD_HEAD ? GW_METHOD_GET : method;
    if (t->route_for_method[look] < 0)
        return GW_MATCH_BAD_METHOD;
    m->route = &gw_routes[t->route_for_method[look]];
    return GW_MATCH_OK;
}
