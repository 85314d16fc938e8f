/* minimize.c - `wedge minimize TOKEN -- PROGRAM`: the smallest schedule that still fails.
 *
 * Serial tokens (exact): the fewest injected decisions (preemptions at scheduler steps), found
 * by ddmin over the steps of the failing run, told as numbered sentences with a replay line
 * (`wedge replay --steps LIST TOKEN`) that makes the same schedule.  Noise tokens: the
 * smallest set of sites where wedge must act, as follows.
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
#define _GNU_SOURCE /* asprintf */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SITES 256
#define MAX_DECISIONS 64
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
    uint64_t steps;              /* serial: decision steps of the first failing run */
    int tell;                    /* render the story of the next failing run */
    char *story;                 /* its numbered sentences (malloc'd) */
    uint64_t story_decisions;    /* decisions injected in that run */
    int collect_decisions;       /* noise: gather the decisions of failing runs */
    struct wedge_decision_ref decs[MAX_DECISIONS];
    size_t ndecs;
    size_t kept_decs;            /* how many of them the minimized token keeps */
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
        t->sites[j].is_return = kind != WEDGE_EV_THREAD_START && kind != WEDGE_EV_RF_HOLD;
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

/* The decisions of a finished serial run as numbered sentences, then what they led to. */
static char *minimize_story(const struct job *j, const struct outcome *oc, uint64_t *decisions)
{
    const struct wedge_shm_header *h = j->shm->hdr;
    *decisions = atomic_load(&h->injections);
    uint32_t na = atomic_load(&h->n_decisions);
    if (na > WEDGE_MAX_DECISIONS)
        na = WEDGE_MAX_DECISIONS;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    unsigned n = 0;
    int noise = !atomic_load(&h->steps); /* serial runs count their scheduler steps */
    for (uint32_t a = 0; a < na; a++) {
        const struct wedge_decision *e = &h->decisions[a];
        if (!e->seq || (!noise && e->action != WEDGE_ACT_PREEMPT))
            continue;
        int mem = e->kind == WEDGE_EV_MEM_READ || e->kind == WEDGE_EV_MEM_WRITE;
        fprintf(f, "  %u. T%u ", ++n, e->slot);
        if (mem) {
            struct data_name d;
            char q[sizeof d.name + 512];
            symbolize_data(h, e->obj, 0, &d);
            fprintf(f, "%s %s at %s", e->kind == WEDGE_EV_MEM_READ ? "read" : "wrote",
                    data_name_text(&d, q, sizeof q), symbolize(h, e->site, 0));
        } else if (e->kind == WEDGE_EV_RF_HOLD) {
            /* held before the access (the token's reads-from constraint): the site is the
             * access's own instruction */
            struct data_name d;
            char q[sizeof d.name + 512];
            symbolize_data(h, e->obj, 0, &d);
            fprintf(f, "was held by the token's reads-from constraint before it accessed %s "
                    "at %s", data_name_text(&d, q, sizeof q), symbolize(h, e->site, 0));
        } else if (e->kind == WEDGE_EV_RF_LOCK_HOLD) {
            fprintf(f, "was held by the token's reads-from constraint before its lock call at "
                    "%s", symbolize(h, e->site, 1));
        } else {
            fprintf(f, "reached %s at %s", wedge_event_kind_name(e->kind),
                    symbolize(h, e->site, e->kind != WEDGE_EV_THREAD_START));
        }
        if (noise && e->action == WEDGE_ACT_YIELD)
            fprintf(f, "; wedge made it yield there %u time%s.\n", e->action_arg,
                    e->action_arg == 1 ? "" : "s");
        else if (noise && e->action == WEDGE_ACT_SLEEP)
            fprintf(f, "; wedge made it sleep there %u us.\n", e->action_arg);
        else if (noise && e->action == WEDGE_ACT_RENDEZVOUS)
            fprintf(f, "; wedge held it there for a peer (%u us) and let both go at once.\n",
                    e->action_arg);
        else if (noise)
            fprintf(f, "; wedge made it %s there (%u).\n", wedge_action_name(e->action),
                    e->action_arg);
        else
            fprintf(f, "; wedge preempted it there and thread %u ran.\n", e->action_arg);
    }
    if ((uint64_t)n < *decisions)
        fprintf(f, "  (and %" PRIu64 " more decisions past the first %u logged)\n",
                *decisions - n, WEDGE_MAX_DECISIONS);
    struct explained x;
    explain_job(j, oc, NULL, &x);
    char desc[256];
    describe_outcome(desc, sizeof desc, oc, 0);
    fprintf(f, "  %u. So: %s%s%s.\n", ++n, x.line && *x.line ? x.line : "", x.line && *x.line ?
            "; " : "", desc);
    explained_free(&x);
    fclose(f);
    return text;
}

/* The decisions a failing noise run took (the first WEDGE_MAX_DECISIONS), by process and
 * thread ordinal and the thread's decision index: what a DECISIONS token names. */
static void collect_decisions(struct trial *t, const struct wedge_shm_header *h)
{
    uint32_t na = atomic_load(&h->n_decisions);
    if (na > WEDGE_MAX_DECISIONS)
        na = WEDGE_MAX_DECISIONS;
    uint32_t nt = atomic_load(&h->nthreads);
    for (uint32_t a = 0; a < na; a++) {
        const struct wedge_decision *e = &h->decisions[a];
        if (!e->seq || e->slot >= nt || e->slot >= WEDGE_MAX_THREADS)
            continue;
        const struct wedge_thread_slot *s = wedge_shm_slot((struct wedge_shm_header *)h, e->slot);
        struct wedge_decision_ref d = {
            .proc = s->proc < WEDGE_MAX_PROCS ? h->procs[s->proc].ordinal : 0,
            .thread = s->ordinal, .index = e->index };
        if (!wedge_decision_listed(t->decs, t->ndecs, d.proc, d.thread, d.index) &&
            t->ndecs < MAX_DECISIONS)
            t->decs[t->ndecs++] = d;
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
    if (t->collect && j->shm && !t->steps)
        t->steps = atomic_load(&j->shm->hdr->steps);
    if (t->tell && j->shm) {
        /* told from a failing replay in which wedge acted: a noise replay can fail without
         * reaching any of the token's decisions (the race lost by itself), and its story
         * would say nothing of them; such a run's story stays only as the fallback */
        int acted = atomic_load(&j->shm->hdr->n_decisions) > 0;
        if (!t->story || acted) {
            free(t->story);
            t->story = minimize_story(j, &oc, &t->story_decisions);
        }
        if (acted)
            t->tell = 0;
    }
    if (t->collect_decisions && j->shm)
        collect_decisions(t, j->shm->hdr);
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
static int64_t run_trial_env(struct trial *t, const char *env, const char *list)
{
    if (list)
        setenv(env, list, 1);
    else
        unsetenv(env);
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

static int64_t run_trial(struct trial *t, const char *list)
{
    return run_trial_env(t, WEDGE_ENV_SITES, list);
}

/* ---------------------------------------------------------------------------------------- */
/* serial: the fewest decisions.  A decision is a step of the scheduler (S.step in the shim:
 * a point where more than one thread could run); WEDGE_STEPS allows preemptions only at the
 * listed steps.  ddmin over the steps of the failing run, as ranges; a serial trial is exact,
 * so one run decides it. */

#define MAX_STEP_TRIALS 400
#define MAX_STEP_RANGES 64

/* "a-b,c" for the sorted steps in v; -1 if more than MAX_STEP_RANGES ranges */
static int format_steps(const uint32_t *v, size_t n, char *buf, size_t len)
{
    size_t o = 0;
    int ranges = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n;) {
        size_t k = i;
        while (k + 1 < n && v[k + 1] == v[k] + 1)
            k++;
        if (++ranges > MAX_STEP_RANGES || o + 24 >= len)
            return -1;
        if (k == i)
            o += (size_t)snprintf(buf + o, len - o, "%s%u", o ? "," : "", v[i]);
        else
            o += (size_t)snprintf(buf + o, len - o, "%s%u-%u", o ? "," : "", v[i], v[k]);
        i = k + 1;
    }
    if (!n)
        snprintf(buf, len, "-"); /* set but empty: no step allowed ("-" parses as none) */
    return 0;
}

static int step_test(struct trial *t, const uint32_t *v, size_t n, char *buf, size_t len,
                     int *trials)
{
    if (format_steps(v, n, buf, len) != 0)
        return 0;
    (*trials)++;
    int64_t f = run_trial_env(t, WEDGE_ENV_STEPS, buf);
    if (f < 0)
        return -1;
    return (uint64_t)f >= t->runs;
}

/* Returns the number of steps kept in set[] (their list in buf), or -1 if interrupted. */
static long minimize_steps(struct trial *t, uint32_t *set, size_t n, char *buf, size_t len,
                           int *trials)
{
    uint32_t *cand = calloc(n + 1, sizeof *cand);
    if (!cand)
        return (long)n;
    int r = step_test(t, cand, 0, buf, len, trials);
    if (r < 0)
        goto interrupted;
    if (r) {
        free(cand);
        return 0;
    }
    size_t parts = 2;
    while (n >= 2 && *trials < MAX_STEP_TRIALS) {
        if (parts > n)
            parts = n;
        int reduced = 0;
        for (int complement = 0; complement < 2 && !reduced; complement++) {
            if (complement && parts == 2)
                continue; /* the complement of one half is the other half: tried */
            for (size_t p = 0; p < parts && !reduced && *trials < MAX_STEP_TRIALS; p++) {
                size_t lo = p * n / parts, hi = (p + 1) * n / parts, m = 0;
                for (size_t k = 0; k < n; k++)
                    if ((k >= lo && k < hi) != complement)
                        cand[m++] = set[k];
                r = step_test(t, cand, m, buf, len, trials);
                if (r < 0)
                    goto interrupted;
                if (r) {
                    memcpy(set, cand, m * sizeof *set);
                    n = m;
                    parts = complement ? (parts > 2 ? parts - 1 : 2) : 2;
                    reduced = 1;
                }
            }
        }
        if (!reduced) {
            if (parts >= n)
                break;
            parts = parts * 2 < n ? parts * 2 : n;
        }
    }
    free(cand);
    format_steps(set, n, buf, len);
    return (long)n;
interrupted:
    free(cand);
    return -1;
}

/* The token of the minimized schedule: the original with a STEPS field (wedge_token.h) of
 * the steps kept, so that `wedge replay TOKEN -- PROGRAM` makes it with nothing else.  The
 * steps an original STEPS field allowed bound it (WEDGE_STEPS only narrowed them).  Returns
 * 0, or -1 if the steps make more ranges than a token holds (the --steps line stays). */
static int minimized_token(const struct wedge_token *orig, const uint32_t *set, size_t n,
                           char *buf, size_t len)
{
    struct wedge_token t = *orig;
    t.has_steps = 1;
    t.nsteps = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = set[i];
        int in = !orig->has_steps;
        for (uint32_t k = 0; k < orig->nsteps && !in; k++)
            in = v >= orig->steps[k].lo && v <= orig->steps[k].hi;
        if (!in)
            continue;
        if (t.nsteps && t.steps[t.nsteps - 1].hi + 1 == v) {
            t.steps[t.nsteps - 1].hi = v;
            continue;
        }
        if (t.nsteps == WEDGE_TOKEN_STEP_RANGES)
            return -1;
        t.steps[t.nsteps].lo = t.steps[t.nsteps].hi = v;
        t.nsteps++;
    }
    return wedge_token_format(&t, buf, len) < 0 ? -1 : 0;
}

/* minimize --json: what was asked, what it came to */
struct min_result {
    const char *kind;         /* "decisions" (serial) or "sites" (noise) */
    const char *token;        /* the minimized token, NULL if none */
    const char *list;         /* --steps or --sites list, or the decisions */
    const char *list_key;     /* its JSON name: "steps", "sites", "decisions" */
    const char *replay;       /* the replay command */
    uint64_t decisions, of;   /* kept, out of */
    int trials, capped;
    int64_t reproduced;       /* by the checking trial */
    const char *story;        /* numbered sentences, one a line (serial) */
    int verified;
};

static int write_min_json(const struct wedge_config *cfg, const struct min_result *m)
{
    if (!cfg->json_path)
        return 0;
    FILE *f = report_json_open(cfg->json_path);
    if (!f)
        return -1;
    fprintf(f, "{\n  \"version\": ");
    report_json_str(f, WEDGE_VERSION);
    fprintf(f, ",\n  \"schema_version\": %d,\n  \"command\": \"minimize\",\n  \"token\": ",
            WEDGE_JSON_SCHEMA);
    report_json_str(f, cfg->token_arg);
    fprintf(f, ",\n  \"seed\": \"%016" PRIx64 "\",\n  \"mode\": ", cfg->token.seed);
    report_json_str(f, wedge_mode_name(cfg->token.mode));
    fprintf(f, ",\n  \"program\": [");
    for (int i = 0; i < cfg->argc; i++) {
        if (i)
            fputs(", ", f);
        report_json_str(f, cfg->argv[i]);
    }
    fprintf(f, "],\n  \"runs\": %" PRIu64 ",\n  \"minimized\": ", cfg->runs);
    if (!m) {
        fprintf(f, "null\n}\n");
        return report_json_close(f, cfg->json_path);
    }
    fprintf(f, "{\n    \"by\": ");
    report_json_str(f, m->kind);
    fprintf(f, ",\n    \"verified\": %s,\n    \"kept\": %" PRIu64 ",\n    \"of\": %" PRIu64
               ",\n    \"trials\": %d,\n    \"capped\": %s,\n    \"reproduced\": %" PRId64,
            m->verified ? "true" : "false", m->decisions, m->of, m->trials,
            m->capped ? "true" : "false", m->reproduced);
    fprintf(f, ",\n    \"token\": ");
    if (m->token)
        report_json_str(f, m->token);
    else
        fputs("null", f);
    fprintf(f, ",\n    \"%s\": ", m->list_key);
    report_json_str(f, m->list ? m->list : "");
    fprintf(f, ",\n    \"replay\": ");
    report_json_str(f, m->replay ? m->replay : "");
    fprintf(f, ",\n    \"story\": [");
    int first = 1;
    for (const char *p = m->story; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        while (n && *p == ' ')
            p++, n--;
        char *line = strndup(p, n);
        if (line && *line) {
            fputs(first ? "\n      " : ",\n      ", f);
            report_json_str(f, line);
            first = 0;
        }
        free(line);
        p = nl ? nl + 1 : p + n;
    }
    fprintf(f, "%s]\n  }\n}\n", first ? "" : "\n    ");
    return report_json_close(f, cfg->json_path);
}

static int minimize_serial(struct wedge_config *cfg, struct trial *t)
{
    size_t n = t->steps;
    if (n == 0 || n > 10000000) {
        printf("the failing run made %zu decisions: nothing to minimize by decision\n", n);
        return write_min_json(cfg, NULL) ? WEDGE_EXIT_USAGE : WEDGE_EXIT_REPRODUCED;
    }
    uint32_t *set = malloc(n * sizeof *set);
    static char list[MAX_STEP_RANGES * 24 + 8];
    if (!set)
        return WEDGE_EXIT_USAGE;
    for (size_t i = 0; i < n; i++)
        set[i] = (uint32_t)i;
    printf("the failing run made %zu scheduling decisions; narrowing them down (one exact run "
           "per trial)\n", n);
    fflush(stdout);
    int trials = 0;
    long k = minimize_steps(t, set, n, list, sizeof list, &trials);
    if (k < 0) {
        free(set);
        fprintf(stderr, "wedge: minimize interrupted\n");
        return WEDGE_EXIT_USAGE;
    }
    char token[WEDGE_TOKEN_MAX];
    int have_token = minimized_token(&cfg->token, set, (size_t)k, token, sizeof token) == 0;
    free(set);
    /* checked, and told: one more run with only these steps allowed (by the new token itself
     * when there is one: what is printed is what was run) */
    t->tell = 1;
    free(t->story);
    t->story = NULL;
    struct wedge_token saved = cfg->token;
    char err[160];
    if (have_token && wedge_token_parse(token, &cfg->token, err, sizeof err) != 0)
        have_token = 0;
    int64_t f = run_trial_env(t, WEDGE_ENV_STEPS, have_token ? NULL : list);
    cfg->token = saved;
    t->tell = 0;
    if (f < 0) {
        fprintf(stderr, "wedge: minimize interrupted\n");
        return WEDGE_EXIT_USAGE;
    }
    struct min_result m = { .kind = "decisions", .token = have_token ? token : NULL,
                            .list = list, .list_key = "steps", .of = n, .trials = trials,
                            .capped = trials >= MAX_STEP_TRIALS, .reproduced = f,
                            .verified = (uint64_t)f >= t->runs };
    if (!m.verified) {
        printf("\nwith preemptions only at steps %s the token reproduced %" PRId64 " of %" PRIu64
               "; replay the token without --steps\n", list, f, t->runs);
        m.token = NULL;
        return write_min_json(cfg, &m) ? WEDGE_EXIT_USAGE : WEDGE_EXIT_REPRODUCED;
    }
    m.decisions = t->story_decisions;
    m.story = t->story;
    printf("\nminimal: %" PRIu64 " injected decision%s (of %zu steps, %d trials) make this "
           "failure:\n%s", t->story_decisions, t->story_decisions == 1 ? "" : "s", n, trials,
           t->story ? t->story : "");
    char *replay = shell_quote_command(cfg, have_token ? token : cfg->token_arg);
    if (have_token) {
        printf("token: %s\n", token);
        if (replay)
            printf("replay: %s\n", replay);
        m.replay = replay;
    } else if (replay && strncmp(replay, "wedge replay ", 13) == 0) {
        /* more ranges than a token holds: the steps go on the command line */
        char *line = NULL;
        if (asprintf(&line, "wedge replay --steps %s %s", list, replay + 13) < 0)
            line = NULL;
        free(replay);
        replay = line;
    } else if (replay) {
        char *line = NULL;
        if (asprintf(&line, "%s=%s %s", WEDGE_ENV_STEPS, list, replay) < 0)
            line = NULL;
        free(replay);
        replay = line;
    }
    if (!have_token && replay) {
        printf("replay: %s\n", replay);
        m.replay = replay;
    }
    if (m.capped)
        printf("(stopped after %d trials; the set may not be minimal)\n", MAX_STEP_TRIALS);
    int rc = write_min_json(cfg, &m);
    free(replay);
    return rc ? WEDGE_EXIT_USAGE : WEDGE_EXIT_REPRODUCED;
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

/* ddmin (Zeller) over the items marked in mask[n] (n <= MAX_SITES): test(ctx, cand) says
 * whether the subset marked in cand still fails (1), not (0), or the trial was interrupted
 * (-1).  Each part alone, then each complement; mask ends 1-minimal, or where max_trials
 * stopped it.  Returns 0, or -1 if interrupted. */
static int ddmin_mask(int *mask, size_t n, int (*test)(void *, const int *), void *ctx,
                      int *trials, int max_trials)
{
    int cand[MAX_SITES];
    size_t parts = 2;
    while (count(mask, n) >= 2 && *trials < max_trials) {
        size_t idx[MAX_SITES], m = 0;
        for (size_t i = 0; i < n; i++)
            if (mask[i])
                idx[m++] = i;
        if (parts > m)
            parts = m;
        int reduced = 0;
        for (int complement = 0; complement < 2 && !reduced; complement++) {
            if (complement && parts == 2)
                continue; /* the complement of one half is the other half: tried */
            for (size_t p = 0; p < parts && !reduced && *trials < max_trials; p++) {
                size_t lo = p * m / parts, hi = (p + 1) * m / parts;
                memset(cand, 0, n * sizeof cand[0]);
                for (size_t k = 0; k < m; k++)
                    cand[idx[k]] = (k >= lo && k < hi) != complement;
                (*trials)++;
                int r = test(ctx, cand);
                if (r < 0)
                    return -1;
                if (r) {
                    memcpy(mask, cand, n * sizeof mask[0]);
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
    return 0;
}

/* A trial of the sites marked (WEDGE_SITES), told as a line */
struct site_test {
    struct trial *t;
    char *list;
    size_t len;
    uint64_t need;
    int64_t *last;
    const int *trials;
};

static int site_test(void *ctx, const int *cand)
{
    struct site_test *st = ctx;
    struct trial *t = st->t;
    format_list(t, cand, st->list, st->len);
    int64_t f = run_trial(t, st->list);
    if (f < 0)
        return -1;
    size_t c = count(cand, t->nsites);
    printf("  trial %2d: %3zu site%s        -> %" PRId64 " of %" PRIu64 "%s\n", *st->trials, c,
           c == 1 ? " " : "s", f, t->cfg->runs, (uint64_t)f >= st->need ? ", kept" : "");
    fflush(stdout);
    if ((uint64_t)f < st->need)
        return 0;
    *st->last = f;
    return 1;
}

/* A trial of the decisions marked (WEDGE_DECISIONS), told as a line */
struct decision_test {
    struct trial *t;
    char *list;
    size_t len;
    uint64_t need;
    const int *trials;
};

static int decision_test(void *ctx, const int *cand)
{
    struct decision_test *dt = ctx;
    struct trial *t = dt->t;
    struct wedge_decision_ref sub[MAX_DECISIONS];
    size_t ns = 0;
    for (size_t i = 0; i < t->ndecs; i++)
        if (cand[i])
            sub[ns++] = t->decs[i];
    if (wedge_decisions_format(sub, ns, dt->list, dt->len) < 0)
        return 0;
    int64_t f = run_trial_env(t, WEDGE_ENV_DECISIONS, dt->list);
    if (f < 0)
        return -1;
    printf("  trial %2d: %3zu decision%s    -> %" PRId64 " of %" PRIu64 "%s\n", *dt->trials, ns,
           ns == 1 ? " " : "s", f, t->cfg->runs, (uint64_t)f >= dt->need ? ", kept" : "");
    fflush(stdout);
    return (uint64_t)f >= dt->need;
}

/* Noise: after the sites, the decisions.  A noise decision is drawn from the seed by
 * (process ordinal, thread ordinal, the thread's draw index): the same point of the same
 * thread draws the same in every replay, so a decision can be kept or dropped by itself
 * (WEDGE_DECISIONS, a token's DECISIONS field).  The decisions of the failing runs with wedge
 * acting only at the sites kept are narrowed down by ddmin, statistically like the sites (a
 * subset still fails if it reproduces at least `need` of the replays); the answer, if it
 * fits in a token, is checked by replaying that token alone.  Returns 1 with the token and
 * the story in t, 0 if no smaller token came of it (said), -1 if interrupted. */
#define MAX_DECISION_TRIALS 40
static int minimize_noise_decisions(struct wedge_config *cfg, struct trial *t,
                                    const char *sites, uint64_t need, char *list, size_t len,
                                    char *token, size_t toklen)
{
    setenv(WEDGE_ENV_SITES, sites, 1);
    t->ndecs = 0;
    t->collect_decisions = 1;
    int64_t f = run_trial_env(t, WEDGE_ENV_DECISIONS, NULL);
    t->collect_decisions = 0;
    if (f < 0)
        return -1;
    size_t n = t->ndecs;
    if (f == 0 || n == 0) {
        printf("(no decisions to narrow down: %zu seen in %" PRId64 " failing replays)\n", n, f);
        unsetenv(WEDGE_ENV_SITES);
        return 0;
    }
    printf("wedge took %zu decisions at those sites in the failing replays; narrowing them "
           "down\n", n);
    fflush(stdout);
    int mask[MAX_DECISIONS];
    struct wedge_decision_ref sub[MAX_DECISIONS];
    for (size_t i = 0; i < n; i++)
        mask[i] = 1;
    int trials = 0;
    struct decision_test dt = { t, list, len, need, &trials };
    if (ddmin_mask(mask, n, decision_test, &dt, &trials, MAX_DECISION_TRIALS) < 0)
        return -1;
    size_t ns = 0;
    for (size_t i = 0; i < n; i++)
        if (mask[i])
            sub[ns++] = t->decs[i];
    wedge_decisions_format(sub, ns, list, len);
    unsetenv(WEDGE_ENV_SITES);
    unsetenv(WEDGE_ENV_DECISIONS);
    struct wedge_token nt = cfg->token;
    nt.has_decisions = 1;
    nt.ndecisions = (uint32_t)ns;
    if (ns > WEDGE_TOKEN_DECISIONS || (memcpy(nt.decisions, sub, ns * sizeof sub[0]), 0) ||
        wedge_token_format(&nt, token, toklen) < 0) {
        printf("(%zu decisions are more than a token holds: the sites above are the answer)\n",
               ns);
        return 0;
    }
    /* checked: the new token alone, and told from its first failing replay */
    struct wedge_token saved = cfg->token;
    cfg->token = nt;
    free(t->story);
    t->story = NULL;
    t->tell = 1;
    f = run_trial_env(t, WEDGE_ENV_DECISIONS, NULL);
    t->tell = 0;
    cfg->token = saved;
    if (f < 0)
        return -1;
    /* half the bar of a trial: a subset kept at about the bar would fail a check at it about
     * half the time (replays vary), and the check is that it still fails, at its rate */
    if ((uint64_t)f < (need + 1) / 2) {
        printf("(the token of these %zu decisions reproduced %" PRId64 " of %" PRIu64 ": the "
               "sites above are the answer)\n", ns, f, cfg->runs);
        return 0;
    }
    t->kept_decs = ns;
    printf("\nminimal: %zu injected decision%s (of %zu, %d trials) make this failure; the "
           "token reproduced %" PRId64 " of %" PRIu64 ":\n%s", ns, ns == 1 ? "" : "s", n, trials,
           f, cfg->runs, t->story ? t->story : "");
    return 1;
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
        return write_min_json(cfg, NULL) ? WEDGE_EXIT_USAGE : WEDGE_EXIT_PASS;
    }
    t.collect = 0;
    if (exact) {
        printf("reproduced %" PRId64 " of %" PRIu64 "\n", base, cfg->runs);
        int rc = minimize_serial(cfg, &t);
        unsetenv(WEDGE_ENV_STEPS);
        free(t.story);
        free(t.modules);
        symbolize_shutdown();
        return rc;
    }
    /* A subset "still fails" if it reproduces at least half as often. */
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
    struct site_test st = { &t, list, sizeof list, need, &last, &trials };
    if (ddmin_mask(mask, n, site_test, &st, &trials, MAX_TRIALS) < 0)
        goto interrupted;

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
        struct min_result m = { .kind = "sites", .list = list, .list_key = "sites",
                                .decisions = k, .of = n,
                                .trials = trials, .capped = trials >= MAX_TRIALS,
                                .reproduced = f };
        free(t.modules);
        symbolize_shutdown();
        return write_min_json(cfg, &m) ? WEDGE_EXIT_USAGE : WEDGE_EXIT_REPRODUCED;
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
    char *replay = shell_quote_command(cfg, cfg->token_arg), *line = NULL;
    if (replay && strncmp(replay, "wedge replay ", 13) == 0) {
        if (asprintf(&line, "wedge replay --sites %s %s", list, replay + 13) < 0)
            line = NULL;
    } else if (replay && asprintf(&line, "WEDGE_SITES=%s %s", list, replay) < 0) {
        line = NULL;
    }
    if (line)
        printf("replay: %s\n", line);
    if (trials >= MAX_TRIALS)
        printf("(stopped after %d trials; the set may not be minimal)\n", MAX_TRIALS);
    struct min_result m = { .kind = "sites", .list = list, .list_key = "sites", .replay = line,
                            .decisions = k, .of = n, .trials = trials,
                            .capped = trials >= MAX_TRIALS, .reproduced = last, .verified = 1 };
    /* then the fewest decisions at those sites, ending in a token that names them */
    static char dlist[MAX_DECISIONS * 40];
    char dtoken[WEDGE_TOKEN_MAX];
    char *dreplay = NULL;
    int dr = k ? minimize_noise_decisions(cfg, &t, list, need, dlist, sizeof dlist, dtoken,
                                          sizeof dtoken) : 0;
    if (dr < 0)
        goto interrupted;
    if (dr > 0) {
        dreplay = shell_quote_command(cfg, dtoken);
        printf("token: %s\n", dtoken);
        if (dreplay)
            printf("replay: %s\n", dreplay);
        m = (struct min_result){ .kind = "decisions", .token = dtoken, .list = dlist,
                                 .list_key = "decisions", .replay = dreplay,
                                 .decisions = t.kept_decs, .of = t.ndecs,
                                 .trials = trials, .reproduced = t.fails, .story = t.story,
                                 .verified = 1 };
    }
    int rc = write_min_json(cfg, &m);
    free(dreplay);
    free(t.story);
    free(line);
    free(replay);
    free(t.modules);
    symbolize_shutdown();
    return rc ? WEDGE_EXIT_USAGE : WEDGE_EXIT_REPRODUCED;

interrupted:
    fprintf(stderr, "wedge: minimize interrupted\n");
    free(t.modules);
    return WEDGE_EXIT_USAGE;
}
