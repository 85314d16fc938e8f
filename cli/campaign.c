/* campaign.c - `wedge run` and `wedge replay`: which runs to start with which token, how a
 * finished run is classified, grouping by failure signature, the summary and exit status. */
#define _GNU_SOURCE
#include "cli.h"
#include "wedge_stream.h"
#include "wedge_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Serial PCT needs the run length; the first CALIB runs measure it (see next_run). */
#define CALIB 4u
#define PCT_MAX_LENGTH 100000000u

struct campaign {
    struct wedge_config *cfg;
    int replay;
    uint64_t next_index;
    uint64_t started;
    int calibrate;
    unsigned calib_done;
    uint64_t calib_steps[CALIB];
    uint32_t learned_length;
    int attach_checked;
    int shim_error_told;
    int stop;                    /* --stop-after reached */
    int budget_hit;              /* --time-budget reached */
    int confirming;              /* in the noise confirmation step */
    uint64_t t0;
    struct summary sum;
    size_t repro_cap;
    struct portfolio *pf;        /* --mode auto */
    struct pending_explain *pending; /* noise groups whose first run explained nothing */
    size_t npending;
    int timeline_bad;            /* --timeline could not be written */
};

struct pending_explain {
    char token[WEDGE_TOKEN_MAX];
    uint64_t run, alike;
    unsigned group;
    char *text, *none;           /* the report, and its "conclusion: none" block */
};

static void keep_for_explaining(struct campaign *c, const struct repro *r, const struct job *j,
                                const struct outcome *oc, char *text, const char *none)
{
    struct pending_explain *n = realloc(c->pending, (c->npending + 1) * sizeof *n);
    if (!n) {
        free(text);
        return;
    }
    c->pending = n;
    struct pending_explain *p = &c->pending[c->npending++];
    snprintf(p->token, sizeof p->token, "%s", r->token);
    p->run = r->run;
    p->group = r->group;
    p->alike = explain_alike_signature(j, oc);
    p->text = text;
    p->none = strdup(none);
}

/* After the campaign: replay each unexplained noise group's first token with watching on,
 * and put what it shows into the group's report (file and --json). */
static int budget_spent(struct campaign *c);

static void explain_pending(struct campaign *c)
{
    struct summary *s = &c->sum;
    for (size_t i = 0; i < c->npending; i++) {
        struct pending_explain *p = &c->pending[i];
        struct explained x;
        int shown = 0; /* a later reproduction of the group showed it already */
        for (size_t k = 0; k < s->nrepros && !shown; k++)
            shown = s->repros[k].group == p->group && s->repros[k].conclusion_line;
        if (!shown && !runner_interrupted() && !budget_spent(c) && p->none &&
            explain_by_replays(c->cfg, p->token, p->alike, &x) == 0) {
            printf("group %u explained by %s: %s\n", p->group + 1, x.c.source, x.line);
            fflush(stdout);
            for (size_t k = 0; k < s->nrepros; k++) {
                struct repro *r = &s->repros[k];
                if (r->run != p->run || strcmp(r->token, p->token) != 0)
                    continue;
                free(r->conclusion_json);
                r->conclusion_json = x.json;
                x.json = NULL;
                free(r->conclusion_line);
                r->conclusion_line = x.line ? strdup(x.line) : NULL;
                char *at = strstr(p->text, p->none);
                char *path = NULL;
                if (at && r->report_path) {
                    char *t2 = NULL;
                    if (asprintf(&t2, "%.*s%s%s", (int)(at - p->text), p->text, x.text,
                                 at + strlen(p->none)) >= 0) {
                        report_write_file(c->cfg->out_dir, r->token, t2, &path, 1);
                        free(path);
                        free(t2);
                    }
                }
            }
            explained_free(&x);
        }
        free(p->text);
        free(p->none);
    }
    free(c->pending);
    c->pending = NULL;
    c->npending = 0;
}

static int in_shard(const struct wedge_config *cfg, uint64_t i)
{
    return i % cfg->shard_n == cfg->shard_k - 1;
}

static uint64_t shard_count(const struct wedge_config *cfg)
{
    uint64_t n = cfg->runs / cfg->shard_n;
    if (cfg->runs % cfg->shard_n > cfg->shard_k - 1)
        n++;
    return n;
}

static void learn_length(struct campaign *c)
{
    uint64_t median = wedge_median_u64(c->calib_steps, CALIB);
    c->learned_length = median > PCT_MAX_LENGTH ? PCT_MAX_LENGTH : (uint32_t)median;
}

/* --time-budget: start no new run after it, confirmation replays included (they are runs
 * the user waits for too). */
static int budget_spent(struct campaign *c)
{
    if (c->cfg->time_budget_us && now_us() - c->t0 >= c->cfg->time_budget_us) {
        c->budget_hit = 1;
        return 1;
    }
    return 0;
}

static int next_run(void *ctx, uint64_t *index, struct wedge_token *tok)
{
    struct campaign *c = ctx;
    const struct wedge_config *cfg = c->cfg;
    if (c->stop || runner_interrupted())
        return -1;
    if (budget_spent(c))
        return -1;
    if (c->replay) {
        if (c->started >= cfg->runs)
            return -1;
        *index = c->started++;
        *tok = cfg->token;
        return 1;
    }
    /* Next index of this shard; with PCT calibration, runs 0..CALIB-1 run in every shard
     * (their lengths shape every later token) but count only in their own. */
    uint64_t i = c->next_index;
    while (i < cfg->runs && !in_shard(cfg, i) && !(c->calibrate && i < CALIB))
        i++;
    if (i >= cfg->runs)
        return -1;
    /* Tokens of runs >= CALIB carry the learned length: wait for it, so that the token list
     * stays a pure function of --seed whatever the timing. */
    if (c->calibrate && i >= CALIB && c->calib_done < CALIB)
        return 0;
    *tok = cfg->proto;
    if (c->pf && !portfolio_token(c->pf, i / cfg->shard_n, tok))
        return 0; /* its arm is drawn once earlier epochs are in (portfolio.c) */
    tok->seed = wedge_run_seed(cfg->seed, i);
    if (c->calibrate)
        tok->length = i >= CALIB ? c->learned_length : 0;
    *index = i;
    c->next_index = i + 1;
    c->started++;
    return 1;
}

void campaign_classify(const struct wedge_config *cfg, const struct job *j, struct outcome *oc)
{
    uint32_t flags = j->shm ? atomic_load(&j->shm->hdr->flags) : 0;
    memset(oc, 0, sizeof *oc);
    if (flags & WEDGE_RUN_LIMIT) {
        /* a limit of wedge ended the run, not the program (the shim's note says which) */
        oc->kind = OUT_PASS;
    } else if (j->timed_out) {
        oc->kind = OUT_HANG;
    } else if (flags & WEDGE_RUN_DEADLOCK) {
        oc->kind = OUT_HANG;
        oc->deadlock = 1;
    } else if (WIFSIGNALED(j->status)) {
        oc->kind = OUT_SIGNAL;
        oc->code = WTERMSIG(j->status);
    } else {
        int st = WEXITSTATUS(j->status);
        oc->code = st;
        if (flags & WEDGE_RUN_LOST_UPDATE)
            oc->kind = OUT_LOST_UPDATE;
        else if (!cfg->pass_exit[st] || j->out.matched || j->out.san.found)
            oc->kind = OUT_EXIT; /* a sanitizer's report fails the run whatever its status */
        else
            oc->kind = OUT_PASS;
    }
    oc->sanitizer = oc->kind != OUT_PASS && oc->kind != OUT_HANG && j->out.san.found;
    /* "failed by its output" only when the status alone would have passed */
    oc->fail_on = oc->kind == OUT_EXIT && j->out.matched && cfg->pass_exit[oc->code];
}

uint64_t campaign_signature(const struct job *j, const struct outcome *oc)
{
    uint64_t extra = 0;
    if (oc->kind == OUT_LOST_UPDATE && j->shm) {
        const struct wedge_lost_update *l = &j->shm->hdr->lost_update;
        extra = wedge_mix(l->read_site, wedge_mix(l->other_write_site, l->overwrite_site));
    }
    /* the racing site pair (or lock acquisitions) the interleaving shows, where it shows one:
     * raw module+offset sites, stable across campaigns of the same binary */
    struct conclusion c;
    conclude(j, oc, &c);
    uint64_t pair = conclusion_signature(&c);
    if (pair)
        extra = wedge_mix(extra, pair);
    const char *line = oc->fail_on ? j->out.match : j->out.last;
    char san[SAN_FRAMES * 96 + 128];
    if (oc->sanitizer) {
        /* the sanitizer's finding and first frames: its last line carries a pid */
        const struct san_report *s = &j->out.san;
        int n = snprintf(san, sizeof san, "%s %s", s->f.tool, s->f.kind);
        for (unsigned i = 0; i < s->f.nframes && n > 0 && (size_t)n < sizeof san; i++)
            n += snprintf(san + n, sizeof san - (size_t)n, " %s", s->f.frames[i]);
        line = san;
    }
    return wedge_failure_signature((int)oc->kind, oc->code, line, extra);
}

static struct repro *add_repro(struct campaign *c)
{
    struct summary *s = &c->sum;
    if (s->nrepros == c->repro_cap) {
        size_t cap = c->repro_cap ? c->repro_cap * 2 : 16;
        struct repro *r = realloc(s->repros, cap * sizeof *r);
        if (!r)
            return NULL;
        s->repros = r;
        c->repro_cap = cap;
    }
    struct repro *r = &s->repros[s->nrepros++];
    memset(r, 0, sizeof *r);
    r->confirmed = -1;
    return r;
}

static unsigned group_of(struct summary *s, uint64_t sig, size_t repro_index, int *is_new)
{
    for (size_t g = 0; g < s->ngroups; g++)
        if (s->groups[g].signature == sig) {
            s->groups[g].count++;
            *is_new = 0;
            return (unsigned)g;
        }
    struct group *n = realloc(s->groups, (s->ngroups + 1) * sizeof *n);
    if (!n) {
        *is_new = 0;
        return 0;
    }
    s->groups = n;
    s->groups[s->ngroups] = (struct group){ sig, 1, repro_index };
    *is_new = 1;
    return (unsigned)s->ngroups++;
}

static void tick(void *ctx)
{
    struct campaign *c = ctx;
    uint64_t now = now_us();
    double el = (double)(now - c->t0) / 1e6;
    double left = -1;
    if (c->cfg->time_budget_us)
        left = (double)c->cfg->time_budget_us / 1e6 - el;
    progress_update(c->sum.runs_done, c->sum.runs_requested, c->sum.nrepros, el,
                    left < 0 && c->cfg->time_budget_us ? 0 : left);
}

/* The first run came back without the shim's mark: say why, as far as the run tells.
 * (Static binaries and setuid programs were refused before the first run.) */
static void shim_not_loaded(const struct wedge_config *cfg, const struct job *j)
{
    char *tail = output_tail_lines(&j->out, 40);
    const char *first = NULL;
    size_t len = 0;
    /* a runtime that refused to start says so in its first lines: "==123==ASan runtime does
     * not come first in initial library list", "ERROR: ld.so: object ... cannot be
     * preloaded" */
    for (char *line = tail; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if ((n > 2 && line[0] == '=' && line[1] == '=') || memmem(line, n, "ld.so", 5) ||
            memmem(line, n, "Sanitizer", 9)) {
            first = line;
            len = n;
            break;
        }
        line += n + (nl ? 1 : 0);
    }
    if (first)
        usage_error("the shim did not load into %s: the program refused to start with it: %.*s",
                    cfg->argv[0], (int)(len > 300 ? 300 : len), first);
    else if (cfg->san.flags)
        usage_error("the shim did not load into %s (a %s build): its sanitizer runtime kept "
                    "wedge from starting (no message)", cfg->argv[0], san_names(cfg->san.flags));
    else
        usage_error("the shim did not load into %s: LD_PRELOAD was cleared or replaced before "
                    "the program started (a wrapper that resets the environment?) or it "
                    "re-executed itself without it", cfg->argv[0]);
    free(tail);
}

static int run_done(void *ctx, struct job *j)
{
    struct campaign *c = ctx;
    struct wedge_config *cfg = c->cfg;
    struct wedge_shm_header *h = j->shm ? j->shm->hdr : NULL;

    if (h && !c->attach_checked) {
        /* Without the shim every run is a plain rerun: say so instead of "no failure". */
        if (!(atomic_load(&h->flags) & WEDGE_RUN_ATTACHED)) {
            progress_clear();
            shim_not_loaded(cfg, j);
            return -1;
        }
        c->attach_checked = 1;
    }
    if (h && (atomic_load(&h->flags) & WEDGE_RUN_SHIM_ERROR) && !c->shim_error_told) {
        /* A passing run would hide it otherwise; once is enough. */
        char msg[WEDGE_MESSAGE_LEN + 1];
        memcpy(msg, h->message, WEDGE_MESSAGE_LEN);
        msg[WEDGE_MESSAGE_LEN] = 0;
        progress_clear();
        fprintf(stderr, "wedge: note: the shim reported a problem in run %" PRIu64 " (%s): %s\n",
                j->index, j->token, msg[0] ? msg : "(no message)");
        c->shim_error_told = 1;
    }
    if (c->calibrate && j->index < CALIB) {
        c->calib_steps[j->index] = h ? atomic_load(&h->steps) : 0;
        if (++c->calib_done == CALIB)
            learn_length(c);
        if (!in_shard(cfg, j->index))
            return 0;
    }

    struct outcome oc;
    campaign_classify(cfg, j, &oc);
    if (c->pf)
        portfolio_done(c->pf, j->index / cfg->shard_n, j, oc.kind != OUT_PASS);
    struct summary *s = &c->sum;
    s->runs_done++;
    s->outcome_counts[oc.kind]++;
    if (c->replay && h) {
        /* A replay the run marked not exact (the watchdog took the token from a holder that
         * reached no point for a time slice, or from one asleep in a call outside the model:
         * on a loaded machine a read can sleep past the grace period) ran another schedule,
         * and said so; it is counted apart and the others are compared with the first exact
         * one, so that one broken replay does not make every other look different. */
        uint64_t th = atomic_load(&h->trace_hash);
        s->replay_traps += atomic_load(&h->traps);
        if (atomic_load(&h->flags) & WEDGE_RUN_NOT_EXACT) {
            s->inexact++;
        } else {
            if (!s->same_trace) /* the first exact replay */
                s->first_trace_hash = th;
            s->same_trace += th == s->first_trace_hash;
        }
    }
    char desc[256];
    describe_outcome(desc, sizeof desc, &oc, cfg->timeout_us);
    if (c->replay && cfg->timeline_path && j->index == 0 && h) {
        /* a passing replay has a timeline too: its racing pair, if it shows one */
        struct outcome as = oc;
        if (as.kind == OUT_PASS)
            as.kind = OUT_EXIT;
        struct conclusion tc;
        conclude(j, &as, &tc);
        if (timeline_write(cfg->timeline_path, cfg, j, &oc, &tc) == 0) {
            progress_clear();
            printf("timeline: %s\n", cfg->timeline_path);
        } else {
            c->timeline_bad = 1;
        }
    }
    if (oc.kind == OUT_PASS) {
        s->passed++;
        if (c->replay) {
            progress_clear();
            printf("replay %" PRIu64 ": %s: pass\n", j->index + 1, j->token);
            fflush(stdout);
        }
        return 0;
    }

    struct repro *r = add_repro(c);
    if (!r)
        return 0;
    if (cfg->baseline)
        snprintf(r->token, sizeof r->token, "baseline.%" PRIu64, j->index);
    else
        snprintf(r->token, sizeof r->token, "%s", j->token);
    r->run = j->index;
    r->oc = oc;
    r->signature = campaign_signature(j, &oc);
    r->trace_hash = h ? atomic_load(&h->trace_hash) : 0;
    r->steps = h ? atomic_load(&h->steps) : 0;
    r->exact = h && j->tok.mode == WEDGE_MODE_SERIAL &&
               !(atomic_load(&h->flags) & WEDGE_RUN_NOT_EXACT);
    r->replay = shell_quote_command(cfg, j->token);
    char sum[256];
    const char *finding = oc.sanitizer ? san_summary(&j->out.san, sum, sizeof sum) : NULL;
    r->last_line = strdup(finding ? finding : oc.fail_on ? j->out.match : j->out.last);
    if (oc.sanitizer)
        r->san = j->out.san.f; /* the finding, for the JSON */
    int is_new;
    r->group = group_of(s, r->signature, s->nrepros - 1, &is_new);

    struct explained x = { 0 };
    if (!cfg->baseline)
        explain_job(j, &oc, NULL, &x);
    r->conclusion_json = x.json;
    x.json = NULL;
    r->conclusion_line = x.line && *x.line ? strdup(x.line) : NULL;
    /* The report file first: whatever happens to wedge next, this reproduction is kept. */
    char *text = report_text(cfg, j, &oc, r->replay, x.text);
    char name[WEDGE_TOKEN_MAX + 32];
    if (c->replay)
        snprintf(name, sizeof name, "%s.replay%" PRIu64, r->token, j->index + 1);
    else
        snprintf(name, sizeof name, "%s", r->token);
    /* A report that cannot be written is said once on stderr (a full disk would otherwise
     * fill the terminal), counted, and marked in the JSON. */
    int e = ENOMEM;
    if (text && report_write_file(cfg->out_dir, name, text, &r->report_path,
                                  s->nrepros == s->reports_kept + 1) == 0) {
        s->reports_kept++;
    } else {
        if (text)
            e = errno;
        else if (s->nrepros == s->reports_kept + 1)
            usage_error("cannot write report %s/%s.txt: %s", cfg->out_dir, name, strerror(e));
        r->report_error = strerrordesc_np(e);
    }

    progress_clear();
    if (c->replay) {
        printf("replay %" PRIu64 ": %s: %s\n", j->index + 1, j->token, desc);
        if (is_new && text)
            printf("%s", text);
    } else if (is_new) {
        /* one line per new group, never one per reproduction: the report file has it all */
        printf("group %u: %s%s%s (run %" PRIu64 ", %s; report %s)\n", r->group + 1, desc,
               x.line && *x.line ? ": " : "", x.line ? x.line : "", j->index, r->token,
               r->report_path ? r->report_path : "not written");
    }
    fflush(stdout);
    if (is_new && !c->replay && x.c.kind == CONC_NONE && text && x.text)
        keep_for_explaining(c, r, j, &oc, text, x.text);
    else
        free(text);
    explained_free(&x);

    if (cfg->stop_after && s->nrepros >= cfg->stop_after && !c->stop) {
        c->stop = 1;
        runner_kill_all();
    }
    return 0;
}

/* One entry per failure group: shared by the campaign's summary and wedge merge's. */
void summary_print_groups(const struct summary *s)
{
    for (size_t g = 0; g < s->ngroups; g++) {
        const struct group *gr = &s->groups[g];
        const struct repro *r = &s->repros[gr->first];
        char desc[256];
        describe_outcome(desc, sizeof desc, &r->oc, s->cfg->timeout_us);
        printf("  group %zu: %u x %s", g + 1, gr->count, desc);
        if (r->last_line && *r->last_line)
            printf(": \"%s\"", r->last_line);
        printf("\n    first:  %s (run %" PRIu64 ")\n    replay: %s\n", r->token, r->run,
               r->replay ? r->replay : "?");
        /* why: the first of the group's reproductions whose interleaving showed it (memory
         * watching samples pages: not every reproduction shows the racing accesses) */
        for (size_t i = 0; i < s->nrepros; i++)
            if (s->repros[i].group == g && s->repros[i].conclusion_line) {
                printf("    why:    %s (run %" PRIu64 ")\n", s->repros[i].conclusion_line,
                       s->repros[i].run);
                break;
            }
    }
}

static void print_summary(struct campaign *c)
{
    struct summary *s = &c->sum;
    const struct wedge_config *cfg = c->cfg;
    double rate = s->elapsed_s > 0 ? (double)s->runs_done / s->elapsed_s : 0;
    progress_done();
    printf("\n%s: %" PRIu64 " of %" PRIu64 " runs in %.1fs (%.1f runs/s): %" PRIu64
           " passed, %zu reproduction%s in %zu group%s\n",
           c->replay ? "replay" : cfg->baseline ? "baseline" : "run", s->runs_done,
           s->runs_requested, s->elapsed_s, rate, s->passed, s->nrepros,
           s->nrepros == 1 ? "" : "s", s->ngroups, s->ngroups == 1 ? "" : "s");
    summary_print_groups(s);
    if (c->pf)
        portfolio_print(c->pf, stdout);
    if (c->stop)
        printf("stopped after %zu reproductions (--stop-after)\n", s->nrepros);
    else if (c->budget_hit && s->runs_done < s->runs_requested)
        printf("stopped starting runs after --time-budget\n");
    if (s->runs_done)
        printf("failure rate: %.2f%% (%zu of %" PRIu64 ")\n",
               100.0 * (double)s->nrepros / (double)s->runs_done, s->nrepros, s->runs_done);
    if (s->runs_done && !cfg->baseline) {
        char st[320];
        gate_statement(st, sizeof st, cfg, s->nrepros, s->runs_done);
        printf("%s\n", st);
    }
    corpus_print(s->corpus);
    if (s->reports_kept == s->nrepros && s->nrepros)
        printf("reports in %s/\n", cfg->out_dir);
    else if (s->reports_kept)
        printf("reports in %s/: %zu of %zu (the others could not be written)\n", cfg->out_dir,
               s->reports_kept, s->nrepros);
    fflush(stdout);
}

/* Reports of reproductions that could not be written; the first error was said when it
 * happened.  Returns 1 if none could be kept. */
static int say_lost_reports(const struct summary *s)
{
    size_t lost = s->nrepros - s->reports_kept;
    if (!lost)
        return 0;
    const char *why = "?";
    for (size_t i = 0; i < s->nrepros; i++)
        if (s->repros[i].report_error) {
            why = s->repros[i].report_error;
            break;
        }
    usage_error("%zu of %zu reproduction reports could not be written to %s/ (%s)", lost,
                s->nrepros, s->cfg->out_dir, why);
    return s->reports_kept == 0;
}

/* stdout carries the reports too: a write error there (a full disk) is said.  On a pipe or
 * a socket the only error is a reader that stopped reading (EPIPE, e.g. `| head`): its
 * choice.  The error of an earlier write is gone with its errno: one more byte finds it. */
static int stdout_lost(void)
{
    int e = fflush(stdout) != 0 ? errno : 0;
    struct stat st;
    if (!ferror(stdout) || e == EPIPE ||
        (fstat(1, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))))
        return 0;
    if (!e) {
        clearerr(stdout);
        if (fputc('\n', stdout) == EOF || fflush(stdout) != 0)
            e = errno;
    }
    usage_error("cannot write standard output: %s", e ? strerror(e) : "write error");
    return 1;
}

static void free_summary(struct summary *s)
{
    for (size_t i = 0; i < s->nrepros; i++) {
        free(s->repros[i].replay);
        free(s->repros[i].report_path);
        free(s->repros[i].last_line);
        free(s->repros[i].conclusion_json);
        free(s->repros[i].conclusion_line);
    }
    free(s->repros);
    free(s->groups);
}

/* Shared set-up of run and replay: the checks that make bad input exit 2 before any run. */
int campaign_prepare(struct wedge_config *cfg)
{
    if (target_resolve(cfg) != 0)
        return -1;
    if (!cfg->baseline && target_find_shim(cfg) != 0)
        return -1;
    if (target_check_out_dir(cfg->out_dir) != 0)
        return -1;
    shm_remove_stale();
    return 0;
}

static int finish(struct campaign *c, int rc)
{
    struct wedge_config *cfg = c->cfg;
    struct summary *s = &c->sum;
    s->elapsed_s = (double)(now_us() - c->t0) / 1e6;
    s->interrupted = rc == 1;
    s->stopped = rc == 1 ? "interrupted" : c->stop ? "stop-after"
                 : c->budget_hit && s->runs_done < s->runs_requested ? "time-budget" : NULL;
    symbolize_shutdown();
    if (rc < 0) {
        progress_done();
        free_summary(s);
        return WEDGE_EXIT_USAGE;
    }
    if (!c->replay) {
        print_summary(c);
    } else {
        progress_done();
        printf("reproduced %zu of %" PRIu64 "\n", s->nrepros, s->runs_done);
        if (cfg->proto.mode == WEDGE_MODE_SERIAL) {
            printf("same trace hash: %" PRIu64 " of %" PRIu64 "\n", s->same_trace, s->runs_done);
            if (s->inexact)
                printf("not exact: %" PRIu64 " of %" PRIu64 " replays (the watchdog moved the "
                       "token: a loaded machine or a spin loop; compared apart)\n",
                       s->inexact, s->runs_done);
        }
        fflush(stdout);
    }
    int bad = 0;
    if (cfg->json_path && report_json(cfg->json_path, s) != 0)
        bad = 1;
    if (cfg->junit_path && report_junit(cfg->junit_path, s) != 0)
        bad = 1;
    if (c->timeline_bad)
        bad = 1;
    /* a kept corpus token that still fails fails the campaign like a new reproduction */
    int status = s->nrepros || corpus_still_failing(s->corpus) ? WEDGE_EXIT_REPRODUCED
                                                                 : WEDGE_EXIT_PASS;
    if (rc == 1) {
        usage_error("interrupted%s after %" PRIu64 " of %" PRIu64 " runs",
                    c->confirming ? " while confirming reproductions" : "", s->runs_done,
                    s->runs_requested);
        if (!s->nrepros)
            status = WEDGE_EXIT_USAGE;
    }
    /* Results that could not be kept (DESIGN.md 1): a --json or --junit report asked for, or
     * every reproduction's report file.  Then the status is 2, never 0 or 1: the campaign's
     * verdict did not reach its reader. */
    if (say_lost_reports(s))
        bad = 1;
    if (stdout_lost() && status == WEDGE_EXIT_PASS)
        bad = 1;
    if (bad)
        status = WEDGE_EXIT_USAGE;
    free_summary(s);
    return status;
}

/* Noise mode is not exact: a token that failed once may have failed by luck.  Before the
 * summary, the first reproductions are replayed a few times each, and each group leads with
 * the token that reproduced most often (reproductions are listed in that order), so that the
 * token a user copies first is the one most likely to fail again. */
#define CONFIRM_TOKENS 6
#define CONFIRM_RUNS 8

struct confirm {
    struct campaign *c;
    struct wedge_token tok;
    uint64_t want_sig, started, fails;
};

static int confirm_next(void *ctx, uint64_t *index, struct wedge_token *tok)
{
    struct confirm *k = ctx;
    if (k->started >= CONFIRM_RUNS || runner_interrupted() || budget_spent(k->c))
        return -1;
    *index = k->started++;
    *tok = k->tok;
    return 1;
}

static int confirm_done(void *ctx, struct job *j)
{
    struct confirm *k = ctx;
    struct outcome oc;
    campaign_classify(k->c->cfg, j, &oc);
    if (oc.kind != OUT_PASS && campaign_signature(j, &oc) == k->want_sig)
        k->fails++;
    return 0;
}

static void confirm_tick(void *ctx)
{
    (void)ctx;
}

static int by_confirmed(const void *a, const void *b)
{
    const struct repro *x = a, *y = b;
    /* auto: an exact (serial) token replays every time: it leads its group */
    if (x->exact != y->exact)
        return y->exact - x->exact;
    if (x->confirmed != y->confirmed)
        return y->confirmed - x->confirmed;
    return x->run < y->run ? -1 : x->run > y->run;
}

/* Returns 1 if interrupted, else 0 (a replay that could not start was said and only leaves
 * the confirmation short); confirmations already made are kept either way. */
static int confirm_tokens(struct campaign *c)
{
    struct summary *s = &c->sum;
    if (c->cfg->baseline || (c->cfg->proto.mode != WEDGE_MODE_NOISE && !c->pf) ||
        !s->nrepros || runner_interrupted() || budget_spent(c))
        return 0;
    /* auto: only inexact tokens need it (noise, or serial runs the watchdog or several
     * processes made inexact); an exact serial token replays every time */
    int any_noise = 0;
    for (size_t i = 0; i < s->nrepros && i < CONFIRM_TOKENS; i++)
        any_noise |= !s->repros[i].exact;
    if (!any_noise)
        return 0;
    size_t n = s->nrepros < CONFIRM_TOKENS ? s->nrepros : CONFIRM_TOKENS;
    printf("confirming: replaying the first %zu token%s %d times each\n", n, n == 1 ? "" : "s",
           CONFIRM_RUNS);
    fflush(stdout);
    c->confirming = 1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct confirm k = { .c = c, .want_sig = s->repros[i].signature };
        char err[160];
        if (wedge_token_parse(s->repros[i].token, &k.tok, err, sizeof err) ||
            s->repros[i].exact)
            continue;
        struct runner_params p = { .cfg = c->cfg, .jobs = c->cfg->jobs, .tee = 0 };
        struct runner_ops ops = { confirm_next, confirm_done, confirm_tick };
        rc = runner_loop(&p, &ops, &k);
        /* A token cut short (interrupt, budget) counts only if all its replays ran. */
        if (rc == 0 && k.started == CONFIRM_RUNS)
            s->repros[i].confirmed = (int)k.fails;
        if (rc == 0 && k.started < CONFIRM_RUNS)
            break;
    }
    qsort(s->repros, s->nrepros, sizeof *s->repros, by_confirmed);
    for (size_t g = 0; g < s->ngroups; g++)
        for (size_t i = 0; i < s->nrepros; i++)
            if (s->repros[i].group == g) {
                s->groups[g].first = i;
                break;
            }
    return rc == 1;
}

int cmd_run(struct wedge_config *cfg)
{
    if (campaign_prepare(cfg) != 0)
        return WEDGE_EXIT_USAGE;
    if (!cfg->seed_given) {
        uint64_t seed = 0;
        if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
            seed = now_us() ^ ((uint64_t)getpid() << 32);
        cfg->seed = seed;
    }
    struct campaign c = { .cfg = cfg };
    c.calibrate = !cfg->baseline && !cfg->auto_mode && cfg->proto.mode == WEDGE_MODE_SERIAL &&
                  cfg->proto.strategy == WEDGE_STRAT_PCT;
    c.sum.cfg = cfg;
    c.sum.runs_requested = shard_count(cfg);
    if (cfg->auto_mode) {
        c.pf = portfolio_new(cfg, c.sum.runs_requested);
        if (!c.pf)
            return WEDGE_EXIT_USAGE;
        c.sum.pf = c.pf;
    }
    char strat[32] = "random";
    if (cfg->proto.strategy == WEDGE_STRAT_PCT)
        snprintf(strat, sizeof strat, "pct:%u", cfg->proto.depth);
    else
        snprintf(strat, sizeof strat, "%s", wedge_strategy_name(cfg->proto.strategy));
    if (cfg->auto_mode)
        printf("wedge run: seed %016" PRIx64 " (repeat with --seed %016" PRIx64 "), mode auto "
               "(%u arms), %" PRIu64 " runs of %s\n",
               cfg->seed, cfg->seed, portfolio_narms(c.pf), c.sum.runs_requested, cfg->argv[0]);
    else if (cfg->baseline)
        printf("wedge run: seed %016" PRIx64 ", baseline: %" PRIu64 " plain runs without the "
               "shim of %s\n", cfg->seed, c.sum.runs_requested, cfg->argv[0]);
    else
        printf("wedge run: seed %016" PRIx64 " (repeat with --seed %016" PRIx64 "), mode %s, "
               "strategy %s, %" PRIu64 " runs of %s\n",
               cfg->seed, cfg->seed, wedge_mode_name(cfg->proto.mode), strat,
               c.sum.runs_requested, cfg->argv[0]);
    if (cfg->shard_n > 1)
        printf("shard %u of %u\n", cfg->shard_k, cfg->shard_n);
    if (cfg->max_rate > 0)
        gate_announce(cfg);
    fflush(stdout);
    /* --corpus: the kept tokens first (shard 1 of N only: one replay per campaign) */
    struct corpus *corpus = NULL;
    if (cfg->corpus_dir) {
        if (corpus_load(cfg, &corpus) != 0) {
            corpus_free(corpus);
            return WEDGE_EXIT_USAGE;
        }
        c.sum.corpus = corpus;
        if (cfg->shard_k == 1 && corpus_replay(cfg, corpus) < 0) {
            corpus_free(corpus);
            return WEDGE_EXIT_USAGE;
        }
    }
    progress_init(cfg->progress);
    unsigned jobs = cfg->jobs;
    uint64_t total = c.sum.runs_requested + (c.calibrate ? CALIB : 0);
    if (jobs > total)
        jobs = total ? (unsigned)total : 1;
    struct runner_params p = { .cfg = cfg, .jobs = jobs, .tee = 0 };
    struct runner_ops ops = { next_run, run_done, tick };
    c.t0 = now_us();
    int rc = runner_interrupted() ? 1 : runner_loop(&p, &ops, &c);
    if (rc == 0)
        rc = confirm_tokens(&c);
    /* Explaining replays are runs too: they keep to --time-budget, and an interrupt during
     * them is the campaign's (explain_pending stops at it, and frees what is pending). */
    if (rc >= 0)
        explain_pending(&c);
    if (rc == 0 && runner_interrupted())
        rc = 1;
    if (rc == 0 && corpus)
        corpus_add(cfg, corpus, &c.sum);
    int status = finish(&c, rc);
    corpus_free(corpus);
    portfolio_free(c.pf);
    return status;
}

int cmd_replay(struct wedge_config *cfg)
{
    if (campaign_prepare(cfg) != 0)
        return WEDGE_EXIT_USAGE;
    struct campaign c = { .cfg = cfg, .replay = 1 };
    c.sum.cfg = cfg;
    c.sum.runs_requested = cfg->runs;
    if (cfg->sites)
        setenv(WEDGE_ENV_SITES, cfg->sites, 1); /* the runs inherit it */
    if (cfg->steps)
        setenv(WEDGE_ENV_STEPS, cfg->steps, 1);
    printf("wedge replay: %s, %" PRIu64 " run%s of %s\n", cfg->token_arg, cfg->runs,
           cfg->runs == 1 ? "" : "s", cfg->argv[0]);
    fflush(stdout);
    /* One run: the user watches it, so its output streams live (and no progress line). */
    int tee = cfg->runs == 1;
    progress_init(tee ? PROGRESS_NEVER : cfg->progress);
    unsigned jobs = cfg->jobs;
    if (jobs > cfg->runs)
        jobs = (unsigned)cfg->runs;
    struct runner_params p = { .cfg = cfg, .jobs = jobs, .tee = tee };
    struct runner_ops ops = { next_run, run_done, tick };
    c.t0 = now_us();
    int rc = runner_loop(&p, &ops, &c);
    return finish(&c, rc);
}
