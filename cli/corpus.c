/* corpus.c - `wedge run --corpus DIR`: the failures CI has seen, kept and tried first.
 *
 * Layout (documented in README.md, "CI gating"): one file per token, DIR/TOKEN.token, so that
 * a corpus is committed, reviewed and pruned with ordinary git commands.  A file's first line
 * that is not a '#' comment is the token; "# signature HEX" records the failure signature of
 * the group it was kept for.  Other files (README, .gitkeep) are ignored.
 *
 * Before the campaign explores new seeds, every corpus token is replayed a few times (noise
 * is not exact: a token that fails one time in three must not be called fixed after one
 * pass); a token that fails in any replay still reproduces, and fails the campaign; one that
 * passes them all is reported as fixed.  After the campaign, each new failure group's best
 * token (the first of its group, after noise confirmation) is added unless the corpus
 * already holds that token or a token of that signature. */
#define _GNU_SOURCE
#include "cli.h"
#include "json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CORPUS_NOISE_REPLAYS 5   /* noise tokens: fixed = 0 failures in 5 replays */
#define CORPUS_SERIAL_REPLAYS 2  /* serial tokens replay exactly; the second catches watchdog runs */
#define CORPUS_MAX 10000
#define CORPUS_SUFFIX ".token"

struct corpus_entry {
    char token[WEDGE_TOKEN_MAX];
    char *file;
    struct wedge_token tok;
    uint64_t stored_sig;
    int has_stored_sig;
    unsigned runs, fails;
    uint64_t sig;                /* signature of its first failing replay */
    struct outcome oc;
    char *last_line;
};

struct corpus {
    const char *dir;
    int dir_owned;               /* merge: dir was strdup'd */
    struct corpus_entry *e;
    size_t n;
    char **added;
    size_t nadded;
    int replayed;
    /* replay */
    const struct wedge_config *cfg;
    uint64_t next, total;
};

static int append_added(struct corpus *c, const char *token);

static unsigned replays_of(const struct corpus_entry *e)
{
    return e->tok.mode == WEDGE_MODE_SERIAL ? CORPUS_SERIAL_REPLAYS : CORPUS_NOISE_REPLAYS;
}

static int by_token(const void *a, const void *b)
{
    return strcmp(((const struct corpus_entry *)a)->token, ((const struct corpus_entry *)b)->token);
}

/* One .token file: 0 and the entry, or -1 with a message. */
static int read_entry(const char *dir, const char *name, struct corpus_entry *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        usage_error("--corpus: cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char line[512];
    int have = 0;
    memset(e, 0, sizeof *e);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '#') {
            char *p = line + 1;
            while (*p == ' ')
                p++;
            if (strncmp(p, "signature ", 10) == 0 && sscanf(p + 10, "%" SCNx64, &e->stored_sig) == 1)
                e->has_stored_sig = 1;
            continue;
        }
        if (!have && line[strspn(line, " \t")]) {
            char err[200];
            char *t = line + strspn(line, " \t");
            t[strcspn(t, " \t")] = 0;
            if (wedge_token_parse(t, &e->tok, err, sizeof err)) {
                fclose(f);
                usage_error("--corpus: %s: %s", path, err);
                return -1;
            }
            snprintf(e->token, sizeof e->token, "%s", t);
            have = 1;
        }
    }
    fclose(f);
    if (!have) {
        usage_error("--corpus: %s holds no token", path);
        return -1;
    }
    e->file = strdup(path);
    return e->file ? 0 : -1;
}

int corpus_load(const struct wedge_config *cfg, struct corpus **out)
{
    struct corpus *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    c->dir = cfg->corpus_dir;
    *out = c;
    struct stat st;
    if (stat(c->dir, &st) != 0) {
        if (errno == ENOENT)
            return 0; /* a new corpus: created when the first token is added */
        usage_error("--corpus %s: %s", c->dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        usage_error("--corpus %s: not a directory", c->dir);
        return -1;
    }
    DIR *d = opendir(c->dir);
    if (!d) {
        usage_error("--corpus %s: %s", c->dir, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name), sl = strlen(CORPUS_SUFFIX);
        if (de->d_name[0] == '.' || len <= sl || strcmp(de->d_name + len - sl, CORPUS_SUFFIX))
            continue;
        if (c->n == CORPUS_MAX) {
            usage_error("--corpus %s: more than %d tokens", c->dir, CORPUS_MAX);
            rc = -1;
            break;
        }
        if (c->n == cap) {
            cap = cap ? cap * 2 : 16;
            struct corpus_entry *ne = realloc(c->e, cap * sizeof *ne);
            if (!ne) {
                rc = -1;
                break;
            }
            c->e = ne;
        }
        if (read_entry(c->dir, de->d_name, &c->e[c->n]) != 0) {
            rc = -1;
            break;
        }
        c->n++;
    }
    closedir(d);
    if (rc == 0) {
        /* directory order is the file system's: sort, so that replays are repeatable */
        if (c->n)
            qsort(c->e, c->n, sizeof *c->e, by_token);
        /* two files naming one token replay once */
        size_t w = 0;
        for (size_t i = 0; i < c->n; i++) {
            if (w && strcmp(c->e[w - 1].token, c->e[i].token) == 0) {
                free(c->e[i].file);
                continue;
            }
            c->e[w++] = c->e[i];
        }
        c->n = w;
    }
    return rc;
}

static int replay_next(void *ctx, uint64_t *index, struct wedge_token *tok)
{
    struct corpus *c = ctx;
    if (runner_interrupted())
        return -1;
    /* index = entry * 16 + replay: every entry's replays start together, in parallel */
    while (c->next < (uint64_t)c->n * 16) {
        uint64_t i = c->next++;
        struct corpus_entry *e = &c->e[i / 16];
        if (i % 16 >= replays_of(e))
            continue;
        *index = i;
        *tok = e->tok;
        return 1;
    }
    return -1;
}

static int replay_done(void *ctx, struct job *j)
{
    struct corpus *c = ctx;
    struct corpus_entry *e = &c->e[j->index / 16];
    struct outcome oc;
    campaign_classify(c->cfg, j, &oc);
    e->runs++;
    if (oc.kind == OUT_PASS)
        return 0;
    if (!e->fails++) {
        e->oc = oc;
        e->sig = campaign_signature(j, &oc);
        e->last_line = strdup(oc.fail_on ? j->out.match : j->out.last);
    }
    return 0;
}

static void replay_tick(void *ctx)
{
    (void)ctx;
}

int corpus_replay(const struct wedge_config *cfg, struct corpus *c)
{
    if (!c->n)
        return 0;
    c->cfg = cfg;
    printf("corpus %s: replaying %zu kept token%s first (%d times each in noise mode, %d in "
           "serial)\n", c->dir, c->n, c->n == 1 ? "" : "s", CORPUS_NOISE_REPLAYS,
           CORPUS_SERIAL_REPLAYS);
    fflush(stdout);
    struct runner_params p = { .cfg = cfg, .jobs = cfg->jobs, .tee = 0 };
    struct runner_ops ops = { replay_next, replay_done, replay_tick };
    int rc = runner_loop(&p, &ops, c);
    c->replayed = rc == 0;
    return rc;
}

size_t corpus_still_failing(const struct corpus *c)
{
    size_t n = 0;
    for (size_t i = 0; c && i < c->n; i++)
        n += c->e[i].fails > 0;
    return n;
}

static int known(const struct corpus *c, const char *token, uint64_t sig)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct corpus_entry *e = &c->e[i];
        if (strcmp(e->token, token) == 0 || (e->has_stored_sig && e->stored_sig == sig) ||
            (e->fails && e->sig == sig))
            return 1;
    }
    for (size_t i = 0; i < c->nadded; i++)
        if (strcmp(c->added[i], token) == 0)
            return 1;
    return 0;
}

/* Write DIR/TOKEN.token through a temporary file: a campaign killed half-way leaves no
 * truncated token for the next one to choke on. */
static int write_token_file(const struct corpus *c, const struct repro *r, const char *desc)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s%s", c->dir, r->token, CORPUS_SUFFIX);
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        usage_error("cannot write corpus file %s: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "%s\n# signature %016" PRIx64 "\n# %s", r->token, r->signature, desc);
    if (r->last_line && *r->last_line)
        fprintf(f, ": \"%.200s\"", r->last_line);
    fprintf(f, "\n# kept by wedge run --corpus (run %" PRIu64 ")\n", r->run);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        usage_error("cannot write corpus file %s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
        return -1;
    }
    return 0;
}

void corpus_add(const struct wedge_config *cfg, struct corpus *c, const struct summary *s)
{
    if (cfg->baseline || !s->ngroups)
        return;
    if (mkdir(c->dir, 0777) != 0 && errno != EEXIST) {
        usage_error("--corpus %s: cannot create it: %s", c->dir, strerror(errno));
        return;
    }
    for (size_t g = 0; g < s->ngroups; g++) {
        const struct repro *r = &s->repros[s->groups[g].first];
        if (known(c, r->token, r->signature))
            continue;
        char desc[256];
        describe_outcome(desc, sizeof desc, &r->oc, cfg->timeout_us);
        if (write_token_file(c, r, desc) != 0)
            continue;
        append_added(c, r->token);
    }
}

void corpus_print(const struct corpus *c)
{
    if (!c)
        return;
    if (c->n) {
        size_t bad = corpus_still_failing(c);
        printf("corpus %s: %zu kept token%s replayed first: %zu still reproduce%s, %zu fixed\n",
               c->dir, c->n, c->n == 1 ? "" : "s", bad, bad == 1 ? "s" : "", c->n - bad);
        for (size_t i = 0; i < c->n; i++) {
            const struct corpus_entry *e = &c->e[i];
            if (e->fails) {
                char desc[256];
                describe_outcome(desc, sizeof desc, &e->oc,
                                 c->cfg ? c->cfg->timeout_us : DEFAULT_TIMEOUT_US);
                printf("  still reproduces (%u of %u replays): %s: %s\n", e->fails, e->runs,
                       e->token, desc);
            } else if (c->replayed) {
                printf("  fixed (0 of %u replays failed): %s (remove %s when you trust it)\n",
                       e->runs, e->token, e->file);
            }
        }
    }
    for (size_t i = 0; i < c->nadded; i++)
        printf("corpus %s: added %s%s\n", c->dir, c->added[i], CORPUS_SUFFIX);
}

static void json_token_list(FILE *f, const struct corpus *c, int want_fixed)
{
    int first = 1;
    for (size_t i = 0; i < c->n; i++) {
        if (!c->replayed || (c->e[i].fails == 0) != want_fixed)
            continue;
        fputs(first ? "" : ", ", f);
        report_json_str(f, c->e[i].token);
        first = 0;
    }
}

void corpus_json(FILE *f, const struct corpus *c)
{
    fprintf(f, ",\n  \"corpus\": {\"dir\": ");
    report_json_str(f, c->dir);
    fprintf(f, ", \"replayed\": [");
    for (size_t i = 0; i < c->n; i++) {
        const struct corpus_entry *e = &c->e[i];
        fprintf(f, "%s\n    {\"token\": ", i ? "," : "");
        report_json_str(f, e->token);
        fprintf(f, ", \"file\": ");
        report_json_str(f, e->file);
        fprintf(f, ", \"runs\": %u, \"reproduced\": %u, \"status\": \"%s\"", e->runs, e->fails,
                !c->replayed && !e->fails ? "not-replayed" : e->fails ? "reproduces" : "fixed");
        if (e->fails) {
            fprintf(f, ", \"outcome\": {\"kind\": \"%s\", \"code\": %d}, \"signature\": \"%016"
                       PRIx64 "\", \"last_line\": ",
                    outcome_kind_name(e->oc.kind), e->oc.code, e->sig);
            report_json_str(f, e->last_line);
        }
        fputc('}', f);
    }
    fprintf(f, "%s], \"still_reproducing\": [", c->n ? "\n  " : "");
    json_token_list(f, c, 0);
    fprintf(f, "], \"fixed\": [");
    json_token_list(f, c, 1);
    fprintf(f, "], \"added\": [");
    for (size_t i = 0; i < c->nadded; i++) {
        fputs(i ? ", " : "", f);
        report_json_str(f, c->added[i]);
    }
    fprintf(f, "]}");
}

static int append_added(struct corpus *c, const char *token)
{
    for (size_t i = 0; i < c->nadded; i++)
        if (strcmp(c->added[i], token) == 0)
            return 0;
    char **na = realloc(c->added, (c->nadded + 1) * sizeof *na);
    if (!na)
        return -1;
    c->added = na;
    if (!(c->added[c->nadded] = strdup(token)))
        return -1;
    c->nadded++;
    return 0;
}

int corpus_absorb_json(struct corpus **cp, const struct json *sec)
{
    if (!sec || sec->type != JSON_OBJECT)
        return 0;
    struct corpus *c = *cp;
    if (!c && !(c = *cp = calloc(1, sizeof *c)))
        return -1;
    if (!c->dir)
        c->dir = json_get_str(sec, "dir") ? strdup(json_get_str(sec, "dir")) : strdup("?");
    c->dir_owned = 1;
    const struct json *rep = json_get(sec, "replayed"), *add = json_get(sec, "added");
    for (size_t i = 0; rep && rep->type == JSON_ARRAY && i < rep->n; i++) {
        const struct json *o = &rep->items[i];
        const char *tok = json_get_str(o, "token"), *status = json_get_str(o, "status");
        if (!tok || !status)
            continue;
        if (strcmp(status, "not-replayed") == 0)
            continue; /* a shard other than 1 of N: only shard 1 replays the corpus */
        size_t k = 0;
        while (k < c->n && strcmp(c->e[k].token, tok) != 0)
            k++;
        if (k == c->n) {
            struct corpus_entry *ne = realloc(c->e, (c->n + 1) * sizeof *ne);
            if (!ne)
                return -1;
            c->e = ne;
            memset(&c->e[c->n], 0, sizeof c->e[0]);
            snprintf(c->e[c->n].token, sizeof c->e[0].token, "%s", tok);
            c->e[c->n].file = json_get_str(o, "file") ? strdup(json_get_str(o, "file")) : NULL;
            c->n++;
        }
        struct corpus_entry *e = &c->e[k];
        uint64_t v;
        if (json_get_u64(o, "runs", &v) == 0)
            e->runs += (unsigned)v;
        if (json_get_u64(o, "reproduced", &v) == 0 && v) {
            if (!e->fails) {
                const struct json *oc = json_get(o, "outcome");
                const char *kind = json_get_str(oc, "kind");
                e->oc.kind = outcome_kind_from_name(kind);
                const struct json *code = json_get(oc, "code");
                e->oc.code = code && code->type == JSON_NUMBER ? (int)code->number : 0;
                e->last_line = json_get_str(o, "last_line") ? strdup(json_get_str(o, "last_line"))
                                                            : NULL;
                const char *sig = json_get_str(o, "signature");
                e->sig = sig ? strtoull(sig, NULL, 16) : 0;
            }
            e->fails += (unsigned)v;
        }
        c->replayed = 1;
    }
    for (size_t i = 0; add && add->type == JSON_ARRAY && i < add->n; i++)
        if (add->items[i].type == JSON_STRING && append_added(c, add->items[i].text) != 0)
            return -1;
    return 0;
}

void corpus_free(struct corpus *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->e[i].file);
        free(c->e[i].last_line);
    }
    for (size_t i = 0; i < c->nadded; i++)
        free(c->added[i]);
    free(c->added);
    free(c->e);
    if (c->dir_owned)
        free((char *)c->dir);
    free(c);
}
