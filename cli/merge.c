/* merge.c - `wedge merge REPORT.json...`: the --json reports of the shards of one campaign
 * (--shard K/N, every K from 1 to N exactly once) joined into the report of the whole.
 *
 * A shard runs the campaign's run indices i with i % N == K-1, each with the token of index i
 * (the token is a pure function of --seed and i), so the union of the shards is the unsharded
 * campaign: the same runs, tokens, outcomes (where the outcome is a function of the token) and
 * so the same groups and counts.  Reproductions are listed by run index and groups numbered by
 * their first run, an order that does not depend on which shard finished first; each group
 * leads with its most often confirmed token, as a campaign's does.
 *
 * Shards of different campaigns must not be joined into a report that proves nothing: seed,
 * mode, strategy, watch/detect options, program and the campaign's run count must agree, and
 * a missing or repeated shard is refused (exit 2, one line). */
#define _GNU_SOURCE
#include "cli.h"
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct shard_report {
    const char *path;
    struct json *doc;
    unsigned k, n;
};

/* The fields that must agree, with how to show them. */
static const char *const same_fields[] = { "seed", "mode", "strategy", "campaign_runs", "watch",
                                           "detect" };

/* A parsed value written back as JSON text (a shard's per-reproduction conclusion is carried
 * into the merged report as it was). */
static void json_write(FILE *f, const struct json *v)
{
    switch (v->type) {
    case JSON_NULL: fputs("null", f); break;
    case JSON_BOOL: fputs(v->boolean ? "true" : "false", f); break;
    case JSON_NUMBER: fputs(v->text, f); break;
    case JSON_STRING: report_json_str(f, v->text); break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        fputc(v->type == JSON_ARRAY ? '[' : '{', f);
        for (size_t i = 0; i < v->n; i++) {
            fputs(i ? ", " : "", f);
            if (v->type == JSON_OBJECT) {
                report_json_str(f, v->keys[i]);
                fputs(": ", f);
            }
            json_write(f, &v->items[i]);
        }
        fputc(v->type == JSON_ARRAY ? ']' : '}', f);
        break;
    }
}

static char *json_text(const struct json *v)
{
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    if (!f)
        return NULL;
    json_write(f, v);
    fclose(f);
    return s;
}

static char *json_repr(const struct json *v)
{
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    if (!f)
        return NULL;
    if (!v)
        fputs("(absent)", f);
    else if (v->type == JSON_STRING)
        report_json_str(f, v->text);
    else if (v->type == JSON_NUMBER)
        fputs(v->text, f);
    else if (v->type == JSON_NULL)
        fputs("null", f);
    else if (v->type == JSON_BOOL)
        fputs(v->boolean ? "true" : "false", f);
    else if (v->type == JSON_ARRAY) {
        fputc('[', f);
        for (size_t i = 0; i < v->n; i++) {
            char *x = json_repr(&v->items[i]);
            fprintf(f, "%s%s", i ? " " : "", x ? x : "?");
            free(x);
        }
        fputc(']', f);
    } else {
        fputs("{...}", f);
    }
    fclose(f);
    return s;
}

static int same_value(const struct json *a, const struct json *b)
{
    char *x = json_repr(a), *y = json_repr(b);
    int same = x && y && strcmp(x, y) == 0;
    free(x);
    free(y);
    return same;
}

static int refuse_differ(const struct shard_report *a, const struct shard_report *b,
                         const char *field)
{
    char *x = json_repr(json_get(a->doc, field)), *y = json_repr(json_get(b->doc, field));
    usage_error("merge: %s and %s are not shards of one campaign: %s %s vs %s", a->path,
                b->path, field, x ? x : "?", y ? y : "?");
    free(x);
    free(y);
    return -1;
}

static int load_report(struct shard_report *r)
{
    char err[200];
    char *text = json_read_file(r->path);
    if (!text && errno == EINVAL) {
        usage_error("merge: %s is not JSON (binary data)", r->path);
        return -1;
    }
    if (!text) {
        usage_error("merge: cannot read %s: %s", r->path, strerror(errno));
        return -1;
    }
    r->doc = json_parse(text, err, sizeof err);
    free(text);
    if (!r->doc) {
        usage_error("merge: %s is not JSON: %s", r->path, err);
        return -1;
    }
    const char *cmd = json_get_str(r->doc, "command");
    if (r->doc->type != JSON_OBJECT || !cmd || strcmp(cmd, "run") != 0) {
        usage_error("merge: %s is not the --json report of a wedge run", r->path);
        return -1;
    }
    uint64_t u;
    const char *shard = json_get_str(r->doc, "shard");
    if (!shard || sscanf(shard, "%u/%u", &r->k, &r->n) != 2 || r->k < 1 || r->k > r->n ||
        json_get_u64(r->doc, "campaign_runs", &u) || !json_get_str(r->doc, "seed")) {
        usage_error("merge: %s lacks the shard, campaign_runs or seed fields merge needs "
                    "(written by an older wedge?)", r->path);
        return -1;
    }
    const struct json *prog = json_get(r->doc, "program"), *reps = json_get(r->doc, "reproductions");
    if (!prog || prog->type != JSON_ARRAY || !prog->n || !reps || reps->type != JSON_ARRAY) {
        usage_error("merge: %s lacks its program or reproductions", r->path);
        return -1;
    }
    for (size_t i = 0; i < prog->n; i++)
        if (prog->items[i].type != JSON_STRING) {
            usage_error("merge: %s: program is not a list of strings", r->path);
            return -1;
        }
    return 0;
}

static int check_shards(struct shard_report *r, size_t nr)
{
    for (size_t i = 1; i < nr; i++) {
        for (size_t f = 0; f < sizeof same_fields / sizeof same_fields[0]; f++)
            if (!same_value(json_get(r[0].doc, same_fields[f]), json_get(r[i].doc, same_fields[f])))
                return refuse_differ(&r[0], &r[i], same_fields[f]);
        if (!same_value(json_get(r[0].doc, "program"), json_get(r[i].doc, "program")))
            return refuse_differ(&r[0], &r[i], "program");
        if (r[i].n != r[0].n) {
            usage_error("merge: %s and %s are not shards of one campaign: shard count %u vs %u",
                        r[0].path, r[i].path, r[0].n, r[i].n);
            return -1;
        }
    }
    unsigned n = r[0].n;
    for (unsigned k = 1; nr < n && k <= n; k++) {
        size_t i = 0;
        while (i < nr && r[i].k != k)
            i++;
        if (i == nr) {
            usage_error("merge: shard %u/%u is missing (%zu report%s given for %u shards)", k, n,
                        nr, nr == 1 ? "" : "s", n);
            return -1;
        }
    }
    for (size_t i = 0; i < nr; i++)
        for (size_t j = i + 1; j < nr; j++)
            if (r[i].k == r[j].k) {
                usage_error("merge: shard %u/%u given twice (%s and %s)", r[i].k, n, r[i].path,
                            r[j].path);
                return -1;
            }
    return 0;
}

enum outcome_kind outcome_kind_from_name(const char *s)
{
    for (int k = OUT_EXIT; k <= OUT_LOST_UPDATE; k++)
        if (s && strcmp(s, outcome_kind_name((enum outcome_kind)k)) == 0)
            return (enum outcome_kind)k;
    return OUT_EXIT;
}

static char *dup_str(const struct json *o, const char *key)
{
    const char *s = json_get_str(o, key);
    return s ? strdup(s) : NULL;
}

static uint64_t hex_field(const struct json *o, const char *key)
{
    const char *s = json_get_str(o, key);
    return s ? strtoull(s, NULL, 16) : 0;
}

static int read_repro(const struct json *o, struct repro *r)
{
    memset(r, 0, sizeof *r);
    const char *tok = json_get_str(o, "token");
    const struct json *oc = json_get(o, "outcome");
    if (!tok || json_get_u64(o, "run", &r->run) || !oc)
        return -1;
    snprintf(r->token, sizeof r->token, "%s", tok);
    r->oc.kind = outcome_kind_from_name(json_get_str(oc, "kind"));
    const struct json *code = json_get(oc, "code");
    r->oc.code = code && code->type == JSON_NUMBER ? (int)code->number : 0;
    const char *reason = json_get_str(oc, "reason");
    r->oc.deadlock = reason && strcmp(reason, "deadlock") == 0;
    const struct json *fo = json_get(oc, "fail_on");
    r->oc.fail_on = fo && fo->type == JSON_BOOL && fo->boolean;
    r->signature = hex_field(o, "signature");
    r->trace_hash = hex_field(o, "trace_hash");
    json_get_u64(o, "steps", &r->steps);
    const struct json *ex = json_get(o, "exact");
    r->exact = ex && ex->type == JSON_BOOL && ex->boolean;
    r->confirmed = -1;
    const struct json *conf = json_get(o, "confirmed");
    uint64_t c;
    if (conf && json_get_u64(conf, "reproduced", &c) == 0)
        r->confirmed = (int)c;
    r->replay = dup_str(o, "replay");
    r->report_path = dup_str(o, "report");
    r->last_line = dup_str(o, "last_line");
    const struct json *conc = json_get(o, "conclusion");
    if (conc && conc->type == JSON_OBJECT)
        r->conclusion_json = json_text(conc);
    const char *summary = json_get_str(conc, "summary");
    if (summary && *summary)
        r->conclusion_line = strdup(summary);
    return 0;
}

static int by_run(const void *a, const void *b)
{
    const struct repro *x = a, *y = b;
    return x->run < y->run ? -1 : x->run > y->run;
}

/* Groups by signature, numbered by first run; the group's lead is its most confirmed token. */
static int regroup(struct summary *s)
{
    if (s->nrepros) /* qsort(NULL, 0) is undefined */
        qsort(s->repros, s->nrepros, sizeof *s->repros, by_run);
    for (size_t i = 0; i < s->nrepros; i++) {
        struct repro *r = &s->repros[i];
        size_t g = 0;
        while (g < s->ngroups && s->groups[g].signature != r->signature)
            g++;
        if (g == s->ngroups) {
            struct group *ng = realloc(s->groups, (s->ngroups + 1) * sizeof *ng);
            if (!ng)
                return -1;
            s->groups = ng;
            s->groups[s->ngroups++] = (struct group){ r->signature, 0, i };
        }
        struct group *gr = &s->groups[g];
        gr->count++;
        if (r->confirmed > s->repros[gr->first].confirmed)
            gr->first = i;
        r->group = (unsigned)g;
    }
    return 0;
}

static int config_of(const struct shard_report *r, struct wedge_config *mc, char ***argv_out)
{
    const struct json *d = r->doc;
    const char *mode = json_get_str(d, "mode"), *strat = json_get_str(d, "strategy");
    char err[200];
    mc->cmd = CMD_MERGE;
    mc->seed = strtoull(json_get_str(d, "seed"), NULL, 16);
    json_get_u64(d, "campaign_runs", &mc->runs);
    mc->timeout_us = DEFAULT_TIMEOUT_US;
    json_get_u64(d, "timeout_us", &mc->timeout_us);
    mc->shard_k = mc->shard_n = 1;
    mc->proto.version = 1;
    if (mode && strcmp(mode, "baseline") == 0) {
        mc->baseline = 1;
    } else if (mode && strcmp(mode, "auto") == 0) {
        /* the portfolio: each run's token names its arm; each shard learned from its own
         * runs, so the merged report joins them but the arms of a run depend on its shard */
        mc->auto_mode = 1;
    } else {
        int m = 0;
        while (m < 8 && (!mode || strcmp(wedge_mode_name((enum wedge_mode)m), mode) != 0))
            m++;
        if (m == 8) {
            usage_error("merge: %s: unknown mode %s", r->path, mode ? mode : "(absent)");
            return -1;
        }
        mc->proto.mode = mc->mode = (enum wedge_mode)m;
        if (strat && wedge_strategy_parse(strat, mc->mode, &mc->proto, err, sizeof err)) {
            usage_error("merge: %s: %s", r->path, err);
            return -1;
        }
    }
    if (json_get_str(d, "watch"))
        mc->opts |= WEDGE_OPT_MEMORY;
    if (json_get_str(d, "detect"))
        mc->opts |= WEDGE_OPT_LOST_UPDATE;
    mc->proto.opts = mc->opts;
    const struct json *prog = json_get(d, "program");
    char **argv = calloc(prog->n + 1, sizeof *argv);
    if (!argv)
        return -1;
    for (size_t i = 0; i < prog->n; i++)
        argv[i] = prog->items[i].text;
    mc->argv = argv;
    mc->argc = (int)prog->n;
    *argv_out = argv;
    return 0;
}

static void print_merged(const struct summary *s, size_t nreports)
{
    const struct wedge_config *mc = s->cfg;
    printf("merge: %zu shard report%s: %" PRIu64 " of %" PRIu64 " runs: %" PRIu64 " passed, %zu "
           "reproduction%s in %zu group%s\n", nreports, nreports == 1 ? "" : "s", s->runs_done,
           s->runs_requested, s->passed, s->nrepros, s->nrepros == 1 ? "" : "s", s->ngroups,
           s->ngroups == 1 ? "" : "s");
    summary_print_groups(s);
    if (s->stopped)
        printf("a shard stopped early (%s)\n", s->stopped);
    if (!mc->baseline && s->runs_done) {
        char st[320];
        gate_statement(st, sizeof st, mc, s->nrepros, s->runs_done);
        printf("%s\n", st);
    }
    fflush(stdout);
}

int cmd_merge(struct wedge_config *cfg)
{
    size_t nr = (size_t)cfg->argc;
    struct shard_report *r = calloc(nr, sizeof *r);
    struct wedge_config mc = { 0 };
    struct summary s = { .cfg = &mc };
    struct corpus *corpus = NULL;
    char **argv = NULL;
    int status = WEDGE_EXIT_USAGE;
    if (!r)
        return WEDGE_EXIT_USAGE;
    for (size_t i = 0; i < nr; i++) {
        r[i].path = cfg->argv[i];
        if (load_report(&r[i]) != 0)
            goto out;
    }
    if (check_shards(r, nr) != 0 || config_of(&r[0], &mc, &argv) != 0)
        goto out;
    mc.confidence = cfg->confidence;
    size_t cap = 0;
    for (size_t i = 0; i < nr; i++) {
        const struct json *d = r[i].doc, *reps = json_get(d, "reproductions");
        uint64_t v = 0;
        if (json_get_u64(d, "runs", &v) == 0)
            s.runs_done += v;
        if (json_get_u64(d, "runs_requested", &v) == 0)
            s.runs_requested += v;
        if (json_get_u64(d, "passed", &v) == 0)
            s.passed += v;
        const struct json *el = json_get(d, "elapsed_s");
        if (el && el->type == JSON_NUMBER && el->number > s.elapsed_s)
            s.elapsed_s = el->number; /* shards run side by side: the slowest is the wall time */
        const struct json *in = json_get(d, "interrupted");
        if (in && in->type == JSON_BOOL && in->boolean)
            s.interrupted = 1;
        if (!s.stopped)
            s.stopped = json_get_str(d, "stopped");
        for (size_t k = 0; k < reps->n; k++) {
            if (s.nrepros == cap) {
                cap = cap ? cap * 2 : 64;
                struct repro *nrp = realloc(s.repros, cap * sizeof *nrp);
                if (!nrp)
                    goto out;
                s.repros = nrp;
            }
            if (read_repro(&reps->items[k], &s.repros[s.nrepros]) != 0) {
                usage_error("merge: %s: reproduction %zu lacks token, run or outcome", r[i].path,
                            k + 1);
                goto out;
            }
            s.nrepros++;
        }
        if (corpus_absorb_json(&corpus, json_get(d, "corpus")) != 0)
            goto out;
    }
    if (regroup(&s) != 0)
        goto out;
    s.merged_from = (unsigned)nr;
    s.corpus = corpus;
    print_merged(&s, nr);
    corpus_print(corpus);
    int bad = 0;
    if (cfg->json_path && report_json(cfg->json_path, &s) != 0)
        bad = 1;
    if (cfg->junit_path && report_junit(cfg->junit_path, &s) != 0)
        bad = 1;
    status = s.nrepros || corpus_still_failing(corpus) ? WEDGE_EXIT_REPRODUCED : WEDGE_EXIT_PASS;
    if (status == WEDGE_EXIT_PASS && (bad || s.interrupted)) {
        if (s.interrupted)
            usage_error("merge: a shard was interrupted: %" PRIu64 " of %" PRIu64 " runs ran",
                        s.runs_done, s.runs_requested);
        status = WEDGE_EXIT_USAGE;
    }
out:
    for (size_t i = 0; i < s.nrepros; i++) {
        free(s.repros[i].replay);
        free(s.repros[i].report_path);
        free(s.repros[i].last_line);
        free(s.repros[i].conclusion_json);
        free(s.repros[i].conclusion_line);
    }
    free(s.repros);
    free(s.groups);
    corpus_free(corpus);
    free(argv);
    for (size_t i = 0; i < nr; i++)
        json_free(r[i].doc);
    free(r);
    return status;
}
