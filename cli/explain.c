/* explain.c - a noise-mode reproduction explained by bounded replays with watching on.
 *
 * A noise run without memory watching records sync operations only: a race with no call in its
 * window leaves nothing to conclude from.  The same token is replayed a handful of times with
 * watching on (the shim then traps plain reads and writes of shared pages), within a time
 * bound; the replay that explains best gives the explanation (a stale write that failed the
 * same way, else a stale write, else a racing pair of a replay that failed the same way), and
 * the report says which replay that was.  Failing alike means the same
 * outcome and last output line: the conclusion's racing pair, which the original run could
 * not see, is left out of the comparison.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "wedge_util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A watched replay catches a given racing pair in some replays only (memory watching is
 * sampled: a page is open while a thread single-steps an access to it or a system call uses
 * it); pct_depth3's in about half the replays, some tokens' in 1 of 4.  A replay of a bundled
 * target takes tens of milliseconds; the time bound holds for slow programs. */
#define EXPLAIN_RUNS 16
#define EXPLAIN_TIME_US 10000000ull

struct explain {
    const struct wedge_config *cfg;
    struct wedge_token tok;
    uint64_t want, started, t0;
    struct explained best;
    uint64_t best_index;
    int best_alike, best_score, have;
};

static uint64_t alike_signature(const struct job *j, const struct outcome *oc)
{
    const char *line = oc->fail_on ? j->out.match : j->out.last;
    return wedge_failure_signature((int)oc->kind, oc->code, line, 0);
}

static int explain_next(void *ctx, uint64_t *index, struct wedge_token *tok)
{
    struct explain *e = ctx;
    if (e->started >= EXPLAIN_RUNS || now_us() - e->t0 > EXPLAIN_TIME_US ||
        (e->have && e->best_score == 3))
        return -1;
    *index = e->started++;
    *tok = e->tok;
    return 1;
}

static int explain_done(void *ctx, struct job *j)
{
    struct explain *e = ctx;
    struct outcome oc;
    campaign_classify(e->cfg, j, &oc);
    int alike = oc.kind != OUT_PASS && alike_signature(j, &oc) == e->want;
    /* a passing replay explains nothing about the failure's outcome, but its racing pair may
     * still be the one: keep it only while nothing better came */
    struct outcome as = oc;
    if (as.kind == OUT_PASS)
        as.kind = OUT_EXIT;
    struct conclusion c;
    conclude(j, &as, &c);
    if (c.kind == CONC_NONE || c.kind == CONC_HANG || c.kind == CONC_CRASH)
        return 0;
    /* a stale write names the bug even from a replay that passed; a racing pair only from
     * one that failed alike */
    int score = 2 * (c.kind == CONC_LOST_UPDATE || c.kind == CONC_CHECK_THEN_ACT) + alike;
    int better = !e->have || score > e->best_score ||
                 (score == e->best_score && j->index < e->best_index);
    if (!better)
        return 0;
    explained_free(&e->best);
    char src[WEDGE_TOKEN_MAX + 160];
    snprintf(src, sizeof src,
             "replay %" PRIu64 " of %d with --watch mem on every shared page (%s), %s",
             j->index + 1, EXPLAIN_RUNS, j->token,
             alike ? "which failed the same way" : "which did not fail the same way");
    explain_job(j, &as, src, &e->best);
    e->best_index = j->index;
    e->best_alike = alike;
    e->best_score = score;
    e->have = 1;
    return 0;
}

static void explain_tick(void *ctx)
{
    (void)ctx;
}

int explain_by_replays(const struct wedge_config *cfg, const char *token, uint64_t alike,
                       struct explained *out)
{
    memset(out, 0, sizeof *out);
    struct explain e = { .cfg = cfg, .want = alike };
    char err[160];
    if (wedge_token_parse(token, &e.tok, err, sizeof err) != 0)
        return -1;
    e.tok.opts |= WEDGE_OPT_MEMORY;
    /* every shared page watched: the token's own seeded share may miss the racing one, and
     * then every replay of it would */
    setenv(WEDGE_ENV_WATCH_ALL, "1", 1);
    e.t0 = now_us();
    unsigned jobs = cfg->jobs < EXPLAIN_RUNS ? cfg->jobs : EXPLAIN_RUNS;
    struct runner_params p = { .cfg = cfg, .jobs = jobs ? jobs : 1, .tee = 0 };
    struct runner_ops ops = { explain_next, explain_done, explain_tick };
    int rc = runner_loop(&p, &ops, &e);
    unsetenv(WEDGE_ENV_WATCH_ALL);
    if (rc != 0 || !e.have) {
        explained_free(&e.best);
        return -1;
    }
    *out = e.best;
    return 0;
}

uint64_t explain_alike_signature(const struct job *j, const struct outcome *oc)
{
    return alike_signature(j, oc);
}
