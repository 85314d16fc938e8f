/* minimize.c - `wedge minimize TOKEN -- PROGRAM`: the smallest set of sites where wedge must
 * act for the token to still fail.
 *
 * A token's schedule is the set of decisions wedge took at interception sites.  Most of them
 * are noise; the failure usually needs wedge at one or two places (a rendezvous at the call
 * before a check-then-act window, a preemption after the check).  minimize replays the token,
 * collects the sites where wedge acted in failing runs, and narrows them down by delta
 * debugging (Zeller's ddmin): a trial replays the token with WEDGE_SITES set to a subset
 * (the shim acts nowhere else) and keeps the subset if the same failure still reproduces.
 * The sites come from the run memory's list of every site where wedge acted; the answer is
 * verified by a last trial before it is printed.
 *
 * "Still reproduces": in serial mode (exact) every trial run fails with the same signature;
 * in noise mode at least half as many runs fail as with every site allowed.  The answer is
 * printed with a replay command (`wedge replay --sites LIST TOKEN -- ...`).
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SITES 256
#define MAX_TRIALS 48

struct site_info {
    uint64_t site;
    unsigned kind;       /* event kind where wedge acted first */
    unsigned action;
    int is_return;
};

struct trial {
    struct wedge_config *cfg;
    uint64_t runs, started;
    uint64_t fails;              /* runs that failed with the wanted signature */
    uint64_t other_fails;        /* runs that failed another way */
    uint64_t want_sig;
    int have_sig;
    int collect;                 /* gather acted-at sites from failing runs */
    struct site_info sites[MAX_SITES];
    size_t nsites;
    struct wedge_shm_header *modules; /* a copy of a failing run's header, for symbolizing */
};

static int trial_next(void *ctx, uint64_t *index, struct wedge_token *tok)
{
    struct trial *t = ctx;
    if (t->started >= t->runs)
        return -1;
    *index = t->started++;
    *tok = t->cfg->token;
    return 1;
}

static void add_site(struct trial *t, uint64_t site, unsigned kind, unsigned action)
{
    size_t j = 0;
    while (j < t->nsites && t->sites[j].site != site)
        j++;
    if (j == t->nsites && t->nsites < MAX_SITES) {
        t->sites[j].site = site;
        t->sites[j].kind = kind;
        t->sites[j].action = action;
        t->sites[j].is_return = kind != WEDGE_EV_THREAD_START;
        t->nsites++;
    }
}

static void collect_sites(struct trial *t, const struct wedge_shm_header *h)
{
    uint32_t na = atomic_load(&h->n_acted);
    for (uint32_t i = 0; i < na && i < WEDGE_MAX_ACTED; i++) {
        uint64_t site = atomic_load(&h->acted[i].site);
        if (site)
            add_site(t, site, h->acted[i].kind, h->acted[i].action);
    }
    uint32_t n = atomic_load(&h->nthreads);
    if (n > WEDGE_MAX_THREADS)
        n = WEDGE_MAX_THREADS;
    for (uint32_t i = 0; i < n; i++) {
        const struct wedge_thread_slot *s =
            wedge_shm_slot((struct wedge_shm_header *)h, i);
        uint64_t head = atomic_load(&s->head);
        uint64_t first = head > WEDGE_RING_EVENTS ? head - WEDGE_RING_EVENTS : 0;
        for (uint64_t k = first; k < head; k++) {
            const struct wedge_event *e = &s->ring[k % WEDGE_RING_EVENTS];
            if (!e->seq || e->action == WEDGE_ACT_NONE || !e->site)
                continue;
            add_site(t, e->site, e->kind, e->action);
        }
    }
}

static int trial_done(void *ctx, struct job *j)
{
    struct trial *t = ctx;
    struct outcome oc;
    campaign_classify(t->cfg, j, &oc);
    if (oc.kind == OUT_PASS)
        return 0;
    uint64_t sig = campaign_signature(j, &oc);
    if (!t->have_sig) {
        t->want_sig = sig;
        t->have_sig = 1;
    }
    if (sig != t->want_sig) {
        t->other_fails++;
        return 0;
    }
    t->fails++;
    if (t->collect && j->shm) {
        collect_sites(t, j->shm->hdr);
        if (!t->modules && (t->modules = malloc(sizeof *t->modules)) != NULL)
            memcpy(t->modules, j->shm->hdr, sizeof *t->modules);
    }
    return 0;
}

static void trial_tick(void *ctx)
{
    (void)ctx;
}

/* Replay the token cfg->runs times with WEDGE_SITES = list (NULL: everywhere).  Returns the
 * runs that failed with the wanted signature, or -1 if interrupted or a run could not start. */
static int64_t run_trial(struct trial *t, const char *list)
{
    if (list)
        setenv(WEDGE_ENV_SITES, list, 1);
    else
        unsetenv(WEDGE_ENV_SITES);
    t->started = 0;
    t->fails = 0;
    t->other_fails = 0;
    unsigned jobs = t->cfg->jobs;
    if (jobs > t->runs)
        jobs = (unsigned)t->runs;
    struct runner_params p = { .cfg = t->cfg, .jobs = jobs, .tee = 0 };
    struct runner_ops ops = { trial_next, trial_done, trial_tick };
    int rc = runner_loop(&p, &ops, t);
    if (rc != 0)
        return -1;
    return (int64_t)t->fails;
}

/* Format the sites selected by mask[] as "0x..,0x.." ("0" for none: the shim acts nowhere). */
static void format_list(const struct trial *t, const int *mask, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < t->nsites && o + 24 < len; i++)
        if (mask[i])
            o += (size_t)snprintf(buf + o, len - o, "%s%" PRIx64, o ? "," : "", t->sites[i].site);
    if (!o)
        snprintf(buf, len, "0");
}

static size_t count(const int *mask, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += mask[i] != 0;
    return c;
}

int cmd_minimize(struct wedge_config *cfg)
{
    if (campaign_prepare(cfg) != 0)
        return WEDGE_EXIT_USAGE;
    int exact = cfg->token.mode == WEDGE_MODE_SERIAL;
    if (!cfg->runs_given)
        cfg->runs = exact ? 1 : 20;
    struct trial t = { .cfg = cfg, .runs = cfg->runs, .collect = 1 };
    progress_init(PROGRESS_NEVER);

    printf("wedge minimize: %s, %" PRIu64 " replay%s per trial, of %s\n", cfg->token_arg,
           cfg->runs, cfg->runs == 1 ? "" : "s", cfg->argv[0]);
    fflush(stdout);
    int64_t base = run_trial(&t, NULL);
    if (base < 0)
        goto interrupted;
    if (base == 0) {
        printf("the token did not reproduce in %" PRIu64 " replays: nothing to minimize\n",
               cfg->runs);
        free(t.modules);
        return WEDGE_EXIT_PASS;
    }
    t.collect = 0;
    /* A subset "still fails" if it reproduces at least half as often (all runs if exact). */
    uint64_t need = exact ? cfg->runs : (uint64_t)(base + 1) / 2;
    printf("reproduced %" PRId64 " of %" PRIu64 "; wedge acted at %zu site%s in those runs\n",
           base, cfg->runs, t.nsites, t.nsites == 1 ? "" : "s");

    int mask[MAX_SITES], cand[MAX_SITES];
    size_t n = t.nsites;
    for (size_t i = 0; i < n; i++)
        mask[i] = 1;
    static char list[MAX_SITES * 20];
    int trials = 0;
    int64_t last = base;

    /* First: does the failure need wedge to act at all? */
    memset(cand, 0, sizeof cand);
    format_list(&t, cand, list, sizeof list);
    int64_t f = run_trial(&t, list);
    trials++;
    if (f < 0)
        goto interrupted;
    printf("  trial %2d: no site          -> %" PRId64 " of %" PRIu64 "\n", trials, f, cfg->runs);
    if ((uint64_t)f >= need) {
        memset(mask, 0, sizeof mask);
        last = f;
    }

    /* ddmin over the sites in mask */
    size_t parts = 2;
    while (count(mask, n) >= 2 && trials < MAX_TRIALS) {
        size_t idx[MAX_SITES], m = 0;
        for (size_t i = 0; i < n; i++)
            if (mask[i])
                idx[m++] = i;
        if (parts > m)
            parts = m;
        int reduced = 0;
        /* try each part alone, then each complement */
        for (int complement = 0; complement < 2 && !reduced; complement++) {
            for (size_t p = 0; p < parts && !reduced && trials < MAX_TRIALS; p++) {
                size_t lo = p * m / parts, hi = (p + 1) * m / parts;
                memset(cand, 0, sizeof cand);
                for (size_t k = 0; k < m; k++) {
                    int in_part = k >= lo && k < hi;
                    cand[idx[k]] = complement ? !in_part : in_part;
                }
                if (complement && parts == 2)
                    continue; /* the complement of one half is the other half: tried */
                format_list(&t, cand, list, sizeof list);
                f = run_trial(&t, list);
                trials++;
                if (f < 0)
                    goto interrupted;
                size_t c = count(cand, n);
                printf("  trial %2d: %3zu site%s        -> %" PRId64 " of %" PRIu64 "%s\n", trials,
                       c, c == 1 ? " " : "s", f, cfg->runs, (uint64_t)f >= need ? ", kept" : "");
                fflush(stdout);
                if ((uint64_t)f >= need) {
                    memcpy(mask, cand, sizeof mask);
                    last = f;
                    parts = complement ? (parts > 2 ? parts - 1 : 2) : 2;
                    reduced = 1;
                }
            }
        }
        if (!reduced) {
            if (parts >= m)
                break;
            parts = parts * 2 < m ? parts * 2 : m;
        }
    }

    size_t k = count(mask, n);
    format_list(&t, mask, list, sizeof list);
    /* The answer is checked, not assumed: the rings keep each thread's last events only, so
     * the collected sites may miss an early decision the failure needs. */
    f = run_trial(&t, list);
    if (f < 0)
        goto interrupted;
    if ((uint64_t)f < need) {
        printf("\nwith wedge acting only at these %zu site%s the token reproduced %" PRId64 " of %"
               PRIu64 ": the failure depends on more than where wedge acts (timing, or more "
               "than %u sites); replay the token without --sites\n",
               k, k == 1 ? "" : "s", f, cfg->runs, WEDGE_MAX_ACTED);
        free(t.modules);
        symbolize_shutdown();
        return WEDGE_EXIT_REPRODUCED;
    }
    last = f;
    printf("\nminimal: wedge must act at %zu site%s (of %zu) for this failure; it reproduced %"
           PRId64 " of %" PRIu64 " with only %s:\n", k, k == 1 ? "" : "s", n, last, cfg->runs,
           k == 1 ? "it" : "them");
    for (size_t i = 0; i < n; i++)
        if (mask[i])
            printf("  %-14s -> %-10s at %s\n", wedge_event_kind_name(t.sites[i].kind),
                   wedge_action_name(t.sites[i].action),
                   t.modules ? symbolize(t.modules, t.sites[i].site, t.sites[i].is_return) : "?");
    if (!k)
        printf("  (none: the run fails under the shim without any injected decision)\n");
    char *replay = shell_quote_command(cfg, cfg->token_arg);
    if (replay && strncmp(replay, "wedge replay ", 13) == 0)
        printf("replay: wedge replay --sites %s %s\n", list, replay + 13);
    else if (replay)
        printf("replay: WEDGE_SITES=%s %s\n", list, replay);
    if (trials >= MAX_TRIALS)
        printf("(stopped after %d trials; the set may not be minimal)\n", MAX_TRIALS);
    free(replay);
    free(t.modules);
    symbolize_shutdown();
    return WEDGE_EXIT_REPRODUCED;

interrupted:
    fprintf(stderr, "wedge: minimize interrupted\n");
    free(t.modules);
    return WEDGE_EXIT_USAGE;
}
