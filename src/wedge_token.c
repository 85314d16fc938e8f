/* wedge_token.c - seed token parsing and formatting (see wedge_token.h). */
#include "wedge_token.h"
#include "wedge_stream.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

const char *wedge_mode_name(enum wedge_mode m)
{
    return m == WEDGE_MODE_SERIAL ? "serial" : "noise";
}

const char *wedge_strategy_name(enum wedge_strategy_id s)
{
    return s == WEDGE_STRAT_PCT ? "pct" : s == WEDGE_STRAT_POS ? "pos" : "random";
}

uint64_t wedge_run_seed(uint64_t base, uint64_t index)
{
    return wedge_mix(base, index);
}

/* Parse an unsigned decimal of at most `max`; the whole of [s, end) must be digits. */
static int parse_u32(const char *s, size_t n, uint32_t max, uint32_t *out)
{
    if (n == 0 || n > 9)
        return -1;
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

#define PCT_MAX_DEPTH 64u
#define PCT_MAX_LENGTH 100000000u

/* Token form of a strategy: "random", "pct3", "pct3-1200". */
static int parse_strategy_field(const char *s, size_t n, struct wedge_token *t, char *err,
                                size_t errlen)
{
    if (n == 6 && memcmp(s, "random", 6) == 0) {
        t->strategy = WEDGE_STRAT_RANDOM;
        t->depth = 0;
        t->length = 0;
        return 0;
    }
    if (n == 3 && memcmp(s, "pos", 3) == 0) {
        t->strategy = WEDGE_STRAT_POS;
        t->depth = 0;
        t->length = 0;
        return 0;
    }
    if (n > 3 && memcmp(s, "pct", 3) == 0) {
        const char *p = s + 3, *end = s + n;
        const char *dash = memchr(p, '-', (size_t)(end - p));
        const char *dend = dash ? dash : end;
        t->strategy = WEDGE_STRAT_PCT;
        if (parse_u32(p, (size_t)(dend - p), PCT_MAX_DEPTH, &t->depth) || t->depth == 0)
            return fail(err, errlen, "strategy '%.*s': pct depth must be 1..%u", (int)n, s,
                        PCT_MAX_DEPTH);
        t->length = 0;
        if (dash && parse_u32(dash + 1, (size_t)(end - dash - 1), PCT_MAX_LENGTH, &t->length))
            return fail(err, errlen, "strategy '%.*s': pct length must be a number up to %u",
                        (int)n, s, PCT_MAX_LENGTH);
        return 0;
    }
    return fail(err, errlen, "unknown strategy '%.*s' (expected random, pct<D> or pos)", (int)n, s);
}

static int parse_dec_u32(const char *p, const char *end, uint32_t *v)
{
    return parse_u32(p, (size_t)(end - p), 999999999u, v);
}

int wedge_decisions_parse(const char *s, size_t n, struct wedge_decision_ref *out, size_t max,
                          char *err, size_t errlen)
{
    if (n == 1 && s[0] == '-')
        return 0;
    if (n == 0) {
        fail(err, errlen, "empty list of decisions (expected - or entries like 1x57_2xs)");
        return -1;
    }
    const char *end = s + n;
    size_t k = 0;
    while (s < end) {
        const char *us = memchr(s, '_', (size_t)(end - s));
        const char *e = us ? us : end;
        const char *pp = memchr(s, 'p', (size_t)(e - s));
        const char *x = memchr(s, 'x', (size_t)(e - s));
        struct wedge_decision_ref d = { 0, 0, 0 };
        const char *t = pp ? pp + 1 : s;
        int bad = !x || x < t || (pp && parse_dec_u32(s, pp, &d.proc)) ||
                  parse_dec_u32(t, x, &d.thread);
        if (!bad) {
            if (e - x == 2 && x[1] == 's')
                d.index = WEDGE_DECISION_START;
            else
                bad = parse_dec_u32(x + 1, e, &d.index);
        }
        if (bad) {
            fail(err, errlen, "decision '%.*s' is not of the form [Pp]TxI (I a number or s)",
                 (int)(e - s), s);
            return -1;
        }
        if (k == max) {
            fail(err, errlen, "more than %zu decisions", max);
            return -1;
        }
        out[k++] = d;
        if (!us)
            break;
        s = us + 1;
        if (s == end) {
            fail(err, errlen, "list of decisions ends in '_'");
            return -1;
        }
    }
    return (int)k;
}

int wedge_decisions_format(const struct wedge_decision_ref *d, size_t n, char *buf, size_t len)
{
    size_t o = 0;
    if (len < 2)
        return -1;
    if (!n)
        return snprintf(buf, len, "-");
    buf[0] = 0;
    for (size_t i = 0; i < n; i++) {
        char p[16] = "", ix[16];
        if (d[i].proc)
            snprintf(p, sizeof p, "%up", d[i].proc);
        if (d[i].index == WEDGE_DECISION_START)
            snprintf(ix, sizeof ix, "s");
        else
            snprintf(ix, sizeof ix, "%u", d[i].index);
        int w = snprintf(buf + o, len - o, "%s%s%ux%s", i ? "_" : "", p, d[i].thread, ix);
        if (w < 0 || (size_t)w >= len - o)
            return -1;
        o += (size_t)w;
    }
    return (int)o;
}

int wedge_decision_listed(const struct wedge_decision_ref *d, size_t n, uint32_t proc,
                          uint32_t thread, uint32_t index)
{
    for (size_t i = 0; i < n; i++)
        if (d[i].proc == proc && d[i].thread == thread && d[i].index == index)
            return 1;
    return 0;
}

/* The STEPS field after its 's': "-" (none) or ranges "a-b" / "a" joined by '_', ascending. */
static int parse_steps_field(const char *tok, const char *p, size_t n, struct wedge_token *t,
                             char *err, size_t errlen)
{
    if (t->mode != WEDGE_MODE_SERIAL)
        return fail(err, errlen, "seed token '%s': a STEPS field needs serial mode", tok);
    t->has_steps = 1;
    t->nsteps = 0;
    if (n == 1 && p[0] == '-')
        return 0;
    if (n == 0)
        return fail(err, errlen, "seed token '%s': empty STEPS field (expected s- or ranges "
                    "like s13_40-42)", tok);
    const char *end = p + n;
    uint32_t prev = 0;
    while (p < end) {
        const char *us = memchr(p, '_', (size_t)(end - p));
        const char *re = us ? us : end;
        const char *dash = memchr(p, '-', (size_t)(re - p));
        uint32_t lo, hi;
        if (parse_u32(p, (size_t)((dash ? dash : re) - p), 999999999u, &lo) ||
            (dash && parse_u32(dash + 1, (size_t)(re - dash - 1), 999999999u, &hi)))
            return fail(err, errlen, "seed token '%s': step range '%.*s' is not a number or "
                        "a-b", tok, (int)(re - p), p);
        if (!dash)
            hi = lo;
        if (hi < lo || (t->nsteps && lo <= prev))
            return fail(err, errlen, "seed token '%s': step ranges must ascend ('%.*s')", tok,
                        (int)(re - p), p);
        if (t->nsteps == WEDGE_TOKEN_STEP_RANGES)
            return fail(err, errlen, "seed token '%s': more than %u step ranges", tok,
                        WEDGE_TOKEN_STEP_RANGES);
        t->steps[t->nsteps].lo = lo;
        t->steps[t->nsteps++].hi = hi;
        prev = hi;
        if (!us)
            break;
        p = us + 1;
        if (p == end)
            return fail(err, errlen, "seed token '%s': STEPS field ends in '_'", tok);
    }
    return 0;
}

/* A hex digit's value, or -1; upper case only where upper allows it (a seed: tokens were
 * always printed in lower case, but a seed typed in upper case was always accepted). */
static int hex_digit(char c, int upper)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (upper && c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int parse_hex_u64(const char *p, size_t n, uint64_t *out)
{
    if (n == 0 || n > 16)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = hex_digit(p[i], 0);
        if (d < 0)
            return -1;
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return 0;
}

/* "TxN" or "TxNoKEY" (after the '@') up to end, into c's hold point; 0 or -1. */
static int parse_hold_point(const char *p, const char *end, struct wedge_rf_constraint *c)
{
    const char *x = memchr(p, 'x', (size_t)(end - p));
    if (!x)
        return -1;
    const char *o = memchr(x + 1, 'o', (size_t)(end - x - 1));
    const char *n_end = o ? o : end;
    uint64_t th, n;
    if (parse_hex_u64(p, (size_t)(x - p), &th) || parse_hex_u64(x + 1, (size_t)(n_end - x - 1), &n) ||
        th >= 0xffffffffu || n == 0 || n > 0xffffffffu)
        return -1;
    if (o && (parse_hex_u64(o + 1, (size_t)(end - o - 1), &c->obj_key) || c->obj_key == 0))
        return -1;
    c->hold_thread = (uint32_t)th + 1;
    c->hold_n = (uint32_t)n;
    return 0;
}

int wedge_rf_parse(const char *s, size_t n, struct wedge_token *t, char *err, size_t errlen)
{
    const char *end = s + n;
    t->nrf = 0;
    if (n == 0)
        return fail(err, errlen, "empty RF field (expected r then nW-R, eW-R or pW-R, sites in "
                    "hex)");
    while (s < end) {
        const char *us = memchr(s, '_', (size_t)(end - s));
        const char *ce = us ? us : end;
        if (t->nrf == WEDGE_TOKEN_RF)
            return fail(err, errlen, "more than %u reads-from constraints in the RF field",
                        WEDGE_TOKEN_RF);
        struct wedge_rf_constraint *c = &t->rf[t->nrf];
        memset(c, 0, sizeof *c);
        if (*s == 'n')
            c->kind = WEDGE_RF_NEGATE;
        else if (*s == 'e')
            c->kind = WEDGE_RF_EACH;
        else if (*s == 'p')
            c->kind = WEDGE_RF_PIN;
        else
            return fail(err, errlen, "reads-from constraint '%.*s' does not start with n "
                        "(negate), e (negate each) or p (pin)", (int)(ce - s), s);
        /* the hold point and object key, if any, end the constraint: "@TxN" then "oKEY" */
        const char *at = memchr(s + 1, '@', (size_t)(ce - s - 1));
        const char *body_end = at ? at : ce;
        const char *dash = memchr(s + 1, '-', (size_t)(body_end - s - 1));
        if (!dash || parse_hex_u64(s + 1, (size_t)(dash - s - 1), &c->write_site) ||
            parse_hex_u64(dash + 1, (size_t)(body_end - dash - 1), &c->read_site))
            return fail(err, errlen, "reads-from constraint '%.*s' is not %cWRITE-READ (two "
                        "sites in lower-case hex)", (int)(ce - s), s, *s);
        if (at && parse_hold_point(at + 1, ce, c) != 0)
            return fail(err, errlen, "reads-from constraint '%.*s': its hold point is not "
                        "@THREADxN or @THREADxNoKEY (hex, N >= 1)", (int)(ce - s), s);
        if (c->kind == WEDGE_RF_EACH && c->hold_thread)
            return fail(err, errlen, "reads-from constraint '%.*s': each takes no hold point",
                        (int)(ce - s), s);
        int init_negate = c->kind == WEDGE_RF_NEGATE && c->write_site == 0;
        if (c->hold_thread && init_negate != (c->obj_key != 0))
            return fail(err, errlen, "reads-from constraint '%.*s': %s", (int)(ce - s), s,
                        init_negate ? "a negated initial value held at a hold point needs its "
                                      "object (oKEY)"
                                    : "only a negated initial value names an object");
        if (c->read_site == 0)
            return fail(err, errlen, "reads-from constraint '%.*s': the read site is 0",
                        (int)(ce - s), s);
        if (c->kind != WEDGE_RF_NEGATE && c->write_site == 0)
            return fail(err, errlen, "reads-from constraint '%.*s': %s needs a write site",
                        (int)(ce - s), s, c->kind == WEDGE_RF_PIN ? "pin" : "each");
        t->nrf++;
        if (!us)
            break;
        s = us + 1;
        if (s == end)
            return fail(err, errlen, "RF field ends in '_'");
    }
    return 0;
}

int wedge_rf_format(const struct wedge_token *t, char *buf, size_t len)
{
    size_t o = 0;
    if (len)
        buf[0] = 0;
    for (uint32_t i = 0; i < t->nrf && i < WEDGE_TOKEN_RF; i++) {
        const struct wedge_rf_constraint *c = &t->rf[i];
        int n = snprintf(buf + o, len - o, "%s%c%" PRIx64 "-%" PRIx64, i ? "_" : "",
                         c->kind == WEDGE_RF_PIN ? 'p' : c->kind == WEDGE_RF_EACH ? 'e' : 'n',
                         c->write_site, c->read_site);
        if (n < 0 || (size_t)n >= len - o)
            return -1;
        o += (size_t)n;
        if (c->hold_thread) {
            n = c->obj_key ? snprintf(buf + o, len - o, "@%xx%xo%" PRIx64, c->hold_thread - 1,
                                      c->hold_n, c->obj_key)
                           : snprintf(buf + o, len - o, "@%xx%x", c->hold_thread - 1, c->hold_n);
            if (n < 0 || (size_t)n >= len - o)
                return -1;
            o += (size_t)n;
        }
    }
    return (int)o;
}

/* A PAGES field's body (after its 'g'): 8 hex digits per key, joined by '_'. */
static int parse_pages_field(const char *s, size_t n, struct wedge_token *t, char *err,
                             size_t errlen)
{
    size_t i = 0;
    for (;;) {
        if (t->npages == WEDGE_TOKEN_PAGES)
            return fail(err, errlen, "a PAGES field holds at most %u page keys",
                        WEDGE_TOKEN_PAGES);
        uint32_t v = 0;
        size_t start = i;
        for (; i < n && s[i] != '_'; i++) {
            int d = hex_digit(s[i], 1);
            if (d < 0)
                return fail(err, errlen, "page key: '%c' is not a hex digit", s[i]);
            v = v << 4 | (unsigned)d;
        }
        if (i - start != 8)
            return fail(err, errlen, "a page key is 8 hex digits, got %zu", i - start);
        if (v == 0)
            return fail(err, errlen, "page key 00000000 names no page");
        t->pages[t->npages++] = v;
        if (i == n)
            return 0;
        i++; /* '_' */
    }
}

int wedge_token_parse(const char *s, struct wedge_token *t, char *err, size_t errlen)
{
    if (!s || !*s)
        return fail(err, errlen, "empty seed token");
    size_t len = strlen(s);
    if (len >= WEDGE_TOKEN_MAX)
        return fail(err, errlen, "seed token too long (%zu characters)", len);

    const char *f[9];
    size_t fl[9];
    int nf = 0;
    const char *p = s;
    for (;;) {
        const char *dot = strchr(p, '.');
        if (nf == 9)
            return fail(err, errlen, "seed token '%s' has too many fields", s);
        f[nf] = p;
        fl[nf] = dot ? (size_t)(dot - p) : strlen(p);
        nf++;
        if (!dot)
            break;
        p = dot + 1;
    }
    if (nf < 4 || nf > 8)
        return fail(err, errlen,
                    "seed token '%s' is not of the form w1.MODE.STRATEGY[.OPTS][.PAGES][.RF][.STEPS|.DECISIONS].SEED", s);

    memset(t, 0, sizeof *t);
    if (fl[0] != 2 || f[0][0] != 'w' || f[0][1] != '1')
        return fail(err, errlen, "seed token '%s': unsupported format version '%.*s' (expected w1)",
                    s, (int)fl[0], f[0]);
    t->version = 1;

    if (fl[1] == 5 && memcmp(f[1], "noise", 5) == 0)
        t->mode = WEDGE_MODE_NOISE;
    else if (fl[1] == 6 && memcmp(f[1], "serial", 6) == 0)
        t->mode = WEDGE_MODE_SERIAL;
    else
        return fail(err, errlen, "seed token '%s': unknown mode '%.*s' (expected noise or serial)",
                    s, (int)fl[1], f[1]);

    int rc = parse_strategy_field(f[2], fl[2], t, err, errlen);
    if (rc)
        return rc;
    if (t->mode == WEDGE_MODE_NOISE && t->strategy != WEDGE_STRAT_RANDOM)
        return fail(err, errlen, "seed token '%s': strategy %s needs serial mode", s,
                    wedge_strategy_name(t->strategy));

    /* the optional fields between strategy and seed: OPTS (letters), then STEPS ('s...') */
    int have_opts = 0;
    for (int k = 3; k < nf - 1; k++) {
        if (fl[k] == 0)
            return fail(err, errlen, "seed token '%s': empty field", s);
        if (f[k][0] == 'd') {
            if (t->mode != WEDGE_MODE_NOISE)
                return fail(err, errlen, "seed token '%s': a DECISIONS field needs noise mode "
                            "(serial tokens keep steps: s...)", s);
            if (t->has_decisions)
                return fail(err, errlen, "seed token '%s': two DECISIONS fields", s);
            char why[120];
            int nd = wedge_decisions_parse(f[k] + 1, fl[k] - 1, t->decisions,
                                           WEDGE_TOKEN_DECISIONS, why, sizeof why);
            if (nd < 0)
                return fail(err, errlen, "seed token '%s': %s", s, why);
            t->has_decisions = 1;
            t->ndecisions = (uint32_t)nd;
            continue;
        }
        if (f[k][0] == 'g') {
            if (!t->opts)
                return fail(err, errlen, "seed token '%s': a PAGES field needs watching (the "
                            "options field m or l before it)", s);
            if (t->npages)
                return fail(err, errlen, "seed token '%s': two PAGES fields", s);
            if (t->nrf || t->has_steps || t->has_decisions)
                return fail(err, errlen, "seed token '%s': the PAGES field comes before RF, "
                            "STEPS and DECISIONS", s);
            char why[120];
            if (parse_pages_field(f[k] + 1, fl[k] - 1, t, why, sizeof why) != 0)
                return fail(err, errlen, "seed token '%s': %s", s, why);
            continue;
        }
        if (f[k][0] == 'r') {
            if (t->mode != WEDGE_MODE_SERIAL)
                return fail(err, errlen, "seed token '%s': an RF field needs serial mode", s);
            if (t->nrf)
                return fail(err, errlen, "seed token '%s': two RF fields", s);
            if (t->has_steps)
                return fail(err, errlen, "seed token '%s': the RF field comes before STEPS", s);
            char why[160];
            if (wedge_rf_parse(f[k] + 1, fl[k] - 1, t, why, sizeof why) != 0)
                return fail(err, errlen, "seed token '%s': %s", s, why);
            continue;
        }
        if (f[k][0] == 's') {
            if (t->has_steps)
                return fail(err, errlen, "seed token '%s': two STEPS fields", s);
            rc = parse_steps_field(s, f[k] + 1, fl[k] - 1, t, err, errlen);
            if (rc)
                return rc;
            continue;
        }
        if (have_opts || t->has_steps || t->has_decisions || t->nrf || t->npages)
            return fail(err, errlen, "seed token '%s': options field '%.*s' out of place (the "
                        "order is OPTS, PAGES, RF, then STEPS)", s, (int)fl[k], f[k]);
        have_opts = 1;
        for (size_t i = 0; i < fl[k]; i++) {
            char c = f[k][i];
            if (c == 'm')
                t->opts |= WEDGE_OPT_MEMORY;
            else if (c == 'l')
                t->opts |= WEDGE_OPT_LOST_UPDATE | WEDGE_OPT_MEMORY;
            else
                return fail(err, errlen, "seed token '%s': unknown option '%c'", s, c);
        }
    }

    const char *hex = f[nf - 1];
    size_t hl = fl[nf - 1];
    if (hl != 16)
        return fail(err, errlen, "seed token '%s': seed must be 16 hex digits, got %zu", s, hl);
    uint64_t v = 0;
    for (size_t i = 0; i < 16; i++) {
        int d = hex_digit(hex[i], 1);
        if (d < 0)
            return fail(err, errlen, "seed token '%s': '%c' is not a hex digit", s, hex[i]);
        v = v << 4 | (unsigned)d;
    }
    t->seed = v;
    return 0;
}

/* Append to buf at *o; -1 (nothing overflows) once the text would not fit. */
static int put(char *buf, size_t len, size_t *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int put(char *buf, size_t len, size_t *o, const char *fmt, ...)
{
    if (*o >= len)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *o, len - *o, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len - *o)
        return -1;
    *o += (size_t)n;
    return 0;
}

int wedge_token_format(const struct wedge_token *t, char *buf, size_t len)
{
    size_t o = 0;
    if (!len)
        return -1;
    buf[0] = 0;
    if (put(buf, len, &o, "w1.%s.", wedge_mode_name(t->mode)))
        return -1;
    if (t->strategy == WEDGE_STRAT_PCT) {
        if (t->length ? put(buf, len, &o, "pct%u-%u", t->depth, t->length)
                      : put(buf, len, &o, "pct%u", t->depth))
            return -1;
    } else if (put(buf, len, &o, "%s", wedge_strategy_name(t->strategy))) {
        return -1;
    }
    if (t->opts & (WEDGE_OPT_LOST_UPDATE | WEDGE_OPT_MEMORY))
        if (put(buf, len, &o, ".%c", t->opts & WEDGE_OPT_LOST_UPDATE ? 'l' : 'm'))
            return -1;
    for (uint32_t i = 0; t->opts && i < t->npages && i < WEDGE_TOKEN_PAGES; i++)
        if (put(buf, len, &o, "%s%08" PRIx32, i ? "_" : ".g", t->pages[i]))
            return -1;
    if (t->nrf) {
        if (put(buf, len, &o, ".r"))
            return -1;
        int n = wedge_rf_format(t, buf + o, len - o);
        if (n < 0)
            return -1;
        o += (size_t)n;
    }
    if (t->has_steps) {
        if (put(buf, len, &o, ".s%s", t->nsteps ? "" : "-"))
            return -1;
        for (uint32_t i = 0; i < t->nsteps && i < WEDGE_TOKEN_STEP_RANGES; i++) {
            if (put(buf, len, &o, "%s%u", i ? "_" : "", t->steps[i].lo))
                return -1;
            if (t->steps[i].hi != t->steps[i].lo && put(buf, len, &o, "-%u", t->steps[i].hi))
                return -1;
        }
    }
    if (t->has_decisions) {
        if (put(buf, len, &o, ".d"))
            return -1;
        int n = wedge_decisions_format(t->decisions, t->ndecisions < WEDGE_TOKEN_DECISIONS ?
                                       t->ndecisions : WEDGE_TOKEN_DECISIONS,
                                       buf + o, len - o);
        if (n < 0)
            return -1;
        o += (size_t)n;
    }
    if (put(buf, len, &o, ".%016" PRIx64, t->seed))
        return -1;
    return (int)o;
}

int wedge_strategy_parse(const char *s, enum wedge_mode mode, struct wedge_token *t, char *err,
                         size_t errlen)
{
    if (strcmp(s, "random") == 0) {
        t->strategy = WEDGE_STRAT_RANDOM;
        t->depth = t->length = 0;
        return 0;
    }
    if (strcmp(s, "pos") == 0) {
        if (mode != WEDGE_MODE_SERIAL)
            return fail(err, errlen, "--strategy pos needs --mode serial");
        t->strategy = WEDGE_STRAT_POS;
        t->depth = t->length = 0;
        return 0;
    }
    if (strncmp(s, "pct", 3) == 0 && (s[3] == 0 || s[3] == ':')) {
        if (mode != WEDGE_MODE_SERIAL)
            return fail(err, errlen, "--strategy %s needs --mode serial", s);
        t->strategy = WEDGE_STRAT_PCT;
        t->length = 0;
        if (s[3] == 0) {
            t->depth = 3;
            return 0;
        }
        if (parse_u32(s + 4, strlen(s + 4), PCT_MAX_DEPTH, &t->depth) || t->depth == 0)
            return fail(err, errlen, "--strategy '%s': pct depth must be 1..%u", s, PCT_MAX_DEPTH);
        return 0;
    }
    return fail(err, errlen, "unknown --strategy '%s' (expected random, pct:D or pos)", s);
}
