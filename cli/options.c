/* options.c - one option table drives getopt_long, the checks and the --help text, so that
 * the help can never list an option the parser does not know (or the reverse). */
#define _GNU_SOURCE
#include "cli.h"
#include "wedge_stats.h"
#include "wedge_util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum opt_id {
    OPT_RUNS = 'n',
    OPT_JOBS = 'j',
    OPT_QUIET = 'q',
    OPT_HELP = 'h',
    OPT_SEED = 256,
    OPT_MODE,
    OPT_STRATEGY,
    OPT_TIMEOUT,
    OPT_TIME_BUDGET,
    OPT_STOP_AFTER,
    OPT_PASS_EXIT,
    OPT_FAIL_ON,
    OPT_OUT,
    OPT_JSON,
    OPT_JUNIT,
    OPT_SHARD,
    OPT_PROGRESS,
    OPT_BASELINE,
    OPT_WATCH,
    OPT_DETECT,
    OPT_SITES,
    OPT_ARMS,
    OPT_TIMELINE,
    OPT_STEPS,
    OPT_FORK_SERVER,
    OPT_NO_FORK_SERVER,
    OPT_CONFIDENCE,
    OPT_MAX_RATE,
    OPT_CORPUS,
    OPT_SHARD_FROM_ENV,
};

#define R CMD_RUN
#define P CMD_REPLAY
#define M CMD_MINIMIZE
#define G CMD_MERGE

struct opt_desc {
    const char *name;
    int id;             /* short letter or OPT_* */
    const char *arg;    /* value placeholder, NULL: flag */
    unsigned cmds;      /* commands that take it */
    const char *help;
    const char *help_replay; /* replay and minimize, when their meaning differs */
};

static const struct opt_desc opt_table[] = {
    { "runs", OPT_RUNS, "N", R | P | M, "runs in the campaign (default 1000)",
      "how many times to run the token (default 1; with 1, the output shows live)" },
    { "jobs", OPT_JOBS, "N", R | P | M, "runs at a time (default: online CPUs)", NULL },
    { "seed", OPT_SEED, "HEX", R, "base seed (default: random, printed first)", NULL },
    { "mode", OPT_MODE, "auto|noise|serial", R,
      "auto (default): each run's mode, strategy and watching drawn by a campaign that learns "
      "which pay; noise: parallel with injected delays; serial: one thread at a time, exact "
      "replay", NULL },
    { "strategy", OPT_STRATEGY, "NAME[:P]", R, "pin the strategy: random, pct:D or pos (pct and "
                                               "pos imply --mode serial)", NULL },
    { "arms", OPT_ARMS, "LIST", R, "auto mode: only these arms, comma-separated (e.g. "
                                   "serial.pct3,serial.pos.m; listed in the summary)", NULL },
    { "watch", OPT_WATCH, "mem", R, "watch plain reads and writes of shared memory", NULL },
    { "detect", OPT_DETECT, "lost-update", R, "fail a run where a write overwrote a newer "
                                              "value (implies --watch mem)", NULL },
    { "timeout", OPT_TIMEOUT, "DUR", R | P | M, "per run; a run past it is a hang (default 10s)", NULL },
    { "time-budget", OPT_TIME_BUDGET, "DUR", R, "start no new run after DUR", NULL },
    { "stop-after", OPT_STOP_AFTER, "K", R, "stop after K reproductions", NULL },
    { "pass-exit", OPT_PASS_EXIT, "LIST", R | P | M, "exit statuses that pass, comma-separated "
                                                     "(default 0)", NULL },
    { "fail-on", OPT_FAIL_ON, "REGEX", R | P | M, "a run with an output line matching this "
                                                  "extended regex fails", NULL },
    { "out", OPT_OUT, "DIR", R | P | M, "where reproduction reports go (default wedge-out/)", NULL },
    { "json", OPT_JSON, "FILE", R | P | M | G, "write a JSON report at the end", NULL },
    { "junit", OPT_JUNIT, "FILE", R | G, "write a JUnit XML report at the end", NULL },
    { "shard", OPT_SHARD, "K/N", R, "run only shard K of N of the campaign's runs", NULL },
    { "shard-from-env", OPT_SHARD_FROM_ENV, "N", R, "shard K of N with K-1 taken from "
      "$JOB_COMPLETION_INDEX (a Kubernetes Indexed Job's pod index, 0-based)", NULL },
    { "confidence", OPT_CONFIDENCE, "P", R | G, "confidence of the statement a campaign makes "
      "about the per-run failure probability (default 95%)", NULL },
    { "max-rate", OPT_MAX_RATE, "R", R, "run as many runs as it takes for a clean campaign to "
      "prove, at --confidence, a per-run failure probability below R (e.g. 0.1%)", NULL },
    { "corpus", OPT_CORPUS, "DIR", R, "replay the tokens kept in DIR first (a file per token), "
      "then explore; add each new failure group's best token to DIR", NULL },
    { "baseline", OPT_BASELINE, NULL, R, "plain reruns without the shim (native failure rate)", NULL },
    { "sites", OPT_SITES, "LIST", P, "act only at these sites (hex, comma-separated; printed "
                                     "by wedge minimize)", NULL },
    { "steps", OPT_STEPS, "LIST", P, "serial: inject preemptions only at these decision "
                                     "steps (ranges a-b, comma-separated; printed by wedge "
                                     "minimize)", NULL },
    { "timeline", OPT_TIMELINE, "FILE", P, "write the first replay's interleaving as a "
                                           "self-contained HTML page", NULL },
    { "fork-server", OPT_FORK_SERVER, NULL, R | P | M, "fork each run from a copy of the "
                                                       "program stopped at main (default; "
                                                       "falls back to exec per run where it "
                                                       "cannot, said once)", NULL },
    { "no-fork-server", OPT_NO_FORK_SERVER, NULL, R | P | M, "exec the program once per run "
                                                             "(also WEDGE_FORK_SERVER=0)", NULL },
    { "progress", OPT_PROGRESS, "WHEN", R | P | M, "auto (default: on a terminal), always, never", NULL },
    { "quiet", OPT_QUIET, NULL, R | P | M | G, "no progress line (--progress never)", NULL },
    { "help", OPT_HELP, NULL, R | P | M | G, "this help", NULL },
};
#define NOPTS (sizeof opt_table / sizeof opt_table[0])

static const struct {
    enum wedge_command cmd;
    const char *name, *synopsis, *what;
} commands[] = {
    { CMD_RUN, "run", "wedge run [OPTIONS] -- PROGRAM [ARGS...]",
      "Run PROGRAM many times under seeded interleavings; report the seeds that failed." },
    { CMD_REPLAY, "replay", "wedge replay [OPTIONS] TOKEN -- PROGRAM [ARGS...]",
      "Run one seed token again, with its interleaving; show its output and report." },
    { CMD_MINIMIZE, "minimize", "wedge minimize [OPTIONS] TOKEN -- PROGRAM [ARGS...]",
      "Find the fewest injected decisions (serial: scheduler steps; noise: the sites where\n"
      "wedge must act, then the decisions there) for TOKEN to still fail, told as a story that\n"
      "ends in a new token replaying them (delta debugging; --runs N replays per trial,\n"
      "default 20 in noise mode, 1 in serial)." },
    { CMD_MERGE, "merge", "wedge merge [OPTIONS] REPORT.json...",
      "Join the --json reports of the shards of one campaign (--shard K/N, every K once) into\n"
      "one report, equal to the unsharded campaign's; exit status as the campaign's.\n"
      "Shards of different seed, mode, strategy, program or run count are refused." },
};

const char *command_name(enum wedge_command cmd)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (commands[i].cmd == cmd)
            return commands[i].name;
    return "?";
}

void usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("wedge: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void options_help(FILE *f, enum wedge_command cmd)
{
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++) {
        if (commands[c].cmd != cmd)
            continue;
        fprintf(f, "usage: %s\n\n%s\n\noptions:\n", commands[c].synopsis, commands[c].what);
    }
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt_desc *o = &opt_table[i];
        if (!(o->cmds & cmd))
            continue;
        char left[64];
        int n = 0;
        if (o->id < 256)
            n = snprintf(left, sizeof left, "-%c, --%s", o->id, o->name);
        else
            n = snprintf(left, sizeof left, "    --%s", o->name);
        if (o->arg && n > 0 && (size_t)n < sizeof left)
            snprintf(left + n, sizeof left - (size_t)n, " %s", o->arg);
        if (strlen(left) > 26)
            fprintf(f, "  %s\n  %-26s  ", left, "");
        else
            fprintf(f, "  %-26s  ", left);
        /* wrap the help at 79 columns, continuing under its first column */
        const char *h = cmd != CMD_RUN && o->help_replay ? o->help_replay : o->help;
        size_t col = 30;
        while (*h) {
            size_t w = strcspn(h, " ");
            if (col > 30 && col + 1 + w > 79) {
                fprintf(f, "\n%30s", "");
                col = 30;
            } else if (col > 30) {
                fputc(' ', f);
                col++;
            }
            fprintf(f, "%.*s", (int)w, h);
            col += w;
            h += w;
            while (*h == ' ')
                h++;
        }
        fputc('\n', f);
    }
    fputc('\n', f);
    options_exit_help(f);
}

/* One text for --help and help COMMAND (README.md, "Exit status", says why). */
void options_exit_help(FILE *f)
{
    fputs("exit status: 0 no run failed; 1 a failure was reproduced (its reports kept, even\n"
          "if the campaign was then interrupted); 2 no verdict: usage error, the program\n"
          "could not be run, results could not be kept (a --json or --junit report, or\n"
          "every report file, could not be written), or interrupted before any failure was\n"
          "found (an interrupted campaign proved nothing, so it never exits 0).\n", f);
}

void options_free(struct wedge_config *cfg)
{
    if (cfg->fail_on_arg)
        regfree(&cfg->fail_on);
    cfg->fail_on_arg = NULL;
    free(cfg->program);
    free(cfg->shim);
    free(cfg->san_env);
    cfg->program = NULL;
    cfg->shim = NULL;
    cfg->san_env = NULL;
}

static int bad_value(const char *opt, const char *value, const char *why)
{
    usage_error("--%s '%s': %s", opt, value, why);
    return -1;
}

static int parse_pass_exit(struct wedge_config *cfg, const char *s)
{
    memset(cfg->pass_exit, 0, sizeof cfg->pass_exit);
    char *copy = strdup(s);
    if (!copy)
        return -1;
    int rc = 0, any = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        uint64_t v;
        if (wedge_parse_uint(tok, 0, 255, &v)) {
            rc = bad_value("pass-exit", s, "expected exit statuses 0..255, comma-separated");
            break;
        }
        cfg->pass_exit[v] = 1;
        any = 1;
    }
    if (!rc && !any)
        rc = bad_value("pass-exit", s, "expected exit statuses 0..255, comma-separated");
    free(copy);
    return rc;
}

static int parse_shard(struct wedge_config *cfg, const char *s)
{
    const char *slash = strchr(s, '/');
    char k[24];
    uint64_t kv, nv;
    if (!slash || (size_t)(slash - s) >= sizeof k)
        return bad_value("shard", s, "expected K/N with 1 <= K <= N");
    memcpy(k, s, (size_t)(slash - s));
    k[slash - s] = 0;
    if (wedge_parse_uint(k, 1, 1000000, &kv) || wedge_parse_uint(slash + 1, 1, 1000000, &nv) ||
        kv > nv)
        return bad_value("shard", s, "expected K/N with 1 <= K <= N");
    cfg->shard_k = (unsigned)kv;
    cfg->shard_n = (unsigned)nv;
    return 0;
}

/* --shard-from-env N: the shard index comes from the job engine (Kubernetes sets
 * JOB_COMPLETION_INDEX = 0..completions-1 in each pod of an Indexed Job). */
static int parse_shard_from_env(struct wedge_config *cfg, const char *s)
{
    uint64_t nv, iv;
    if (wedge_parse_uint(s, 1, 1000000, &nv))
        return bad_value("shard-from-env", s, "expected the shard count N, 1 to 1000000");
    const char *idx = getenv("JOB_COMPLETION_INDEX");
    if (!idx || !*idx) {
        usage_error("--shard-from-env: JOB_COMPLETION_INDEX is not set (it is set in the pods "
                    "of a Kubernetes Indexed Job)");
        return -1;
    }
    if (wedge_parse_uint(idx, 0, nv - 1, &iv)) {
        usage_error("--shard-from-env %s: JOB_COMPLETION_INDEX '%s' is not an index from 0 to "
                    "%" PRIu64, s, idx, nv - 1);
        return -1;
    }
    cfg->shard_k = (unsigned)iv + 1;
    cfg->shard_n = (unsigned)nv;
    return 0;
}

static int parse_fraction_opt(const char *opt, const char *s, double *out)
{
    if (wedge_stats_parse_fraction(s, out))
        return bad_value(opt, s, "expected a fraction or percentage strictly between 0 and 1 "
                                 "(0.95, 95%, 0.1%)");
    return 0;
}

/* The option name the user typed for the option at argv[optind - 1], for messages. */
static const char *typed_name(char **argv, int optind_now, int optopt_now)
{
    static char buf[80];
    const char *typed = argv[optind_now - 1];
    if (optopt_now > 0 && optopt_now < 256 && strncmp(typed, "--", 2) != 0) {
        snprintf(buf, sizeof buf, "-%c", optopt_now);
        return buf;
    }
    const char *eq = strchr(typed, '=');
    snprintf(buf, sizeof buf, "%.*s", eq ? (int)(eq - typed) : 60, typed);
    return buf;
}

int options_parse(enum wedge_command cmd, int argc, char **argv, struct wedge_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->cmd = cmd;
    cfg->runs = cmd == CMD_RUN ? DEFAULT_RUNS : 1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->jobs = ncpu > 0 ? (unsigned)ncpu : 1;
    cfg->timeout_us = DEFAULT_TIMEOUT_US;
    cfg->pass_exit[0] = 1;
    cfg->out_dir = DEFAULT_OUT;
    cfg->shard_k = cfg->shard_n = 1;
    cfg->progress = PROGRESS_AUTO;
    cfg->proto.version = 1;
    /* On by default (the server is its runs' subreaper, as a supervisor is: preload/forksrv.c);
     * WEDGE_FORK_SERVER=0 turns it off, as --no-fork-server does (the suite runs both ways). */
    const char *fs = getenv(WEDGE_ENV_FORK_SERVER);
    cfg->fork_server = !(fs && strcmp(fs, "0") == 0);
    cfg->confidence = 0.95;

    /* The program's own arguments start after "--"; getopt must never see them (they may
     * look like our options), so the option parser only gets argv up to the "--". */
    int dash = -1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            dash = i;
            break;
        }
    int nopt = dash < 0 ? argc : dash;

    struct option longs[NOPTS + 1];
    char shorts[3 * NOPTS + 2];
    size_t nl = 0, ns = 0;
    shorts[ns++] = ':'; /* report a missing value as ':' so that we can say which option */
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt_desc *o = &opt_table[i];
        if (!(o->cmds & cmd))
            continue;
        longs[nl++] = (struct option){ o->name, o->arg ? required_argument : no_argument, NULL,
                                       o->id };
        if (o->id < 256) {
            shorts[ns++] = (char)o->id;
            if (o->arg)
                shorts[ns++] = ':';
        }
    }
    longs[nl] = (struct option){ 0 };
    shorts[ns] = 0;

    char err[256];
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(nopt, argv, shorts, longs, NULL)) != -1) {
        uint64_t v;
        switch (c) {
        case OPT_HELP:
            options_help(stdout, cmd);
            exit(0);
        case OPT_RUNS:
            if (wedge_parse_uint(optarg, 1, 100000000, &v))
                return bad_value("runs", optarg, "expected a number from 1 to 100000000");
            cfg->runs = v;
            cfg->runs_given = 1;
            break;
        case OPT_JOBS:
            if (wedge_parse_uint(optarg, 1, 1024, &v))
                return bad_value("jobs", optarg, "expected a number from 1 to 1024");
            cfg->jobs = (unsigned)v;
            break;
        case OPT_SEED:
            if (wedge_parse_seed(optarg, &cfg->seed))
                return bad_value("seed", optarg, "expected 1 to 16 hex digits");
            cfg->seed_given = 1;
            break;
        case OPT_MODE:
            cfg->auto_mode = 0;
            if (strcmp(optarg, "auto") == 0)
                cfg->auto_mode = 1;
            else if (strcmp(optarg, "noise") == 0)
                cfg->mode = WEDGE_MODE_NOISE;
            else if (strcmp(optarg, "serial") == 0)
                cfg->mode = WEDGE_MODE_SERIAL;
            else
                return bad_value("mode", optarg, "expected auto, noise or serial");
            cfg->mode_given = 1;
            break;
        case OPT_STRATEGY:
            cfg->strategy_arg = optarg;
            break;
        case OPT_WATCH:
            if (strcmp(optarg, "mem") != 0)
                return bad_value("watch", optarg, "expected mem");
            cfg->opts |= WEDGE_OPT_MEMORY;
            break;
        case OPT_DETECT:
            if (strcmp(optarg, "lost-update") != 0)
                return bad_value("detect", optarg, "expected lost-update");
            cfg->opts |= WEDGE_OPT_LOST_UPDATE | WEDGE_OPT_MEMORY;
            break;
        case OPT_TIMEOUT:
            if (wedge_parse_duration(optarg, &cfg->timeout_us, err, sizeof err))
                return bad_value("timeout", optarg, err);
            cfg->timeout_given = 1;
            break;
        case OPT_TIME_BUDGET:
            if (wedge_parse_duration(optarg, &cfg->time_budget_us, err, sizeof err))
                return bad_value("time-budget", optarg, err);
            break;
        case OPT_STOP_AFTER:
            if (wedge_parse_uint(optarg, 1, UINT32_MAX, &cfg->stop_after))
                return bad_value("stop-after", optarg, "expected a number of at least 1");
            break;
        case OPT_PASS_EXIT:
            if (parse_pass_exit(cfg, optarg))
                return -1;
            cfg->pass_exit_arg = optarg;
            break;
        case OPT_FAIL_ON: {
            if (cfg->fail_on_arg)
                regfree(&cfg->fail_on);
            int rc = regcomp(&cfg->fail_on, optarg, REG_EXTENDED | REG_NOSUB);
            if (rc) {
                regerror(rc, &cfg->fail_on, err, sizeof err);
                return bad_value("fail-on", optarg, err);
            }
            cfg->fail_on_arg = optarg;
            break;
        }
        case OPT_OUT:
            if (!*optarg)
                return bad_value("out", optarg, "empty directory name");
            cfg->out_dir = optarg;
            break;
        case OPT_JSON:
            cfg->json_path = optarg;
            break;
        case OPT_JUNIT:
            cfg->junit_path = optarg;
            break;
        case OPT_SHARD:
            if (parse_shard(cfg, optarg))
                return -1;
            break;
        case OPT_PROGRESS:
            if (strcmp(optarg, "auto") == 0)
                cfg->progress = PROGRESS_AUTO;
            else if (strcmp(optarg, "always") == 0)
                cfg->progress = PROGRESS_ALWAYS;
            else if (strcmp(optarg, "never") == 0)
                cfg->progress = PROGRESS_NEVER;
            else
                return bad_value("progress", optarg, "expected auto, always or never");
            break;
        case OPT_QUIET:
            cfg->progress = PROGRESS_NEVER;
            break;
        case OPT_BASELINE:
            cfg->baseline = 1;
            break;
        case OPT_FORK_SERVER:
            cfg->fork_server = 1;
            break;
        case OPT_NO_FORK_SERVER:
            cfg->fork_server = 0;
            break;
        case OPT_SHARD_FROM_ENV:
            if (parse_shard_from_env(cfg, optarg))
                return -1;
            break;
        case OPT_CONFIDENCE:
            if (parse_fraction_opt("confidence", optarg, &cfg->confidence))
                return -1;
            break;
        case OPT_MAX_RATE:
            if (parse_fraction_opt("max-rate", optarg, &cfg->max_rate))
                return -1;
            break;
        case OPT_CORPUS:
            if (!*optarg)
                return bad_value("corpus", optarg, "empty directory name");
            cfg->corpus_dir = optarg;
            break;
        case OPT_ARMS:
            if (portfolio_check_arms(optarg))
                return -1;
            cfg->arms_arg = optarg;
            break;
        case OPT_SITES:
            for (const char *p = optarg; *p; p++)
                if (!strchr("0123456789abcdefABCDEFx,", *p))
                    return bad_value("sites", optarg, "expected hex sites, comma-separated");
            cfg->sites = optarg;
            break;
        case OPT_STEPS:
            for (const char *p = optarg; *p; p++)
                if (!strchr("0123456789-,", *p))
                    return bad_value("steps", optarg, "expected decimal steps or ranges a-b, "
                                                      "comma-separated");
            cfg->steps = optarg;
            break;
        case OPT_TIMELINE:
            if (!*optarg)
                return bad_value("timeline", optarg, "expected a file name");
            cfg->timeline_path = optarg;
            break;
        case ':':
            usage_error("option '%s' needs a value (see wedge help %s)",
                        typed_name(argv, optind, optopt), command_name(cmd));
            return -1;
        default:
            usage_error("unknown option '%s' for %s (see wedge help %s)",
                        typed_name(argv, optind, optopt), command_name(cmd), command_name(cmd));
            return -1;
        }
    }

    if (cmd == CMD_MERGE) {
        /* merge takes no PROGRAM: its positional arguments are the shard reports */
        if (dash >= 0) {
            usage_error("merge takes REPORT.json files, no '--' and PROGRAM (usage: %s)",
                        "wedge merge [OPTIONS] REPORT.json...");
            return -1;
        }
        if (optind >= argc) {
            usage_error("merge needs at least one REPORT.json (usage: wedge merge [OPTIONS] "
                        "REPORT.json...)");
            return -1;
        }
        cfg->argv = argv + optind;
        cfg->argc = argc - optind;
        return 0;
    }

    /* Positional arguments before "--": TOKEN for replay and minimize, nothing for run. */
    int npos = nopt - optind;
    int want = cmd == CMD_RUN ? 0 : 1;
    if (npos < want) {
        usage_error("%s needs a seed TOKEN (usage: %s)", command_name(cmd),
                    cmd == CMD_REPLAY ? "wedge replay TOKEN -- PROGRAM [ARGS...]"
                                      : "wedge minimize TOKEN -- PROGRAM [ARGS...]");
        return -1;
    }
    if (npos > want) {
        if (dash < 0)
            usage_error("missing '--' before PROGRAM (usage: wedge %s [OPTIONS]%s -- PROGRAM "
                        "[ARGS...])", command_name(cmd), want ? " TOKEN" : "");
        else
            usage_error("unexpected argument '%s' before '--'", argv[optind + want]);
        return -1;
    }
    if (want) {
        cfg->token_arg = argv[optind];
        if (wedge_token_parse(cfg->token_arg, &cfg->token, err, sizeof err)) {
            usage_error("%s", err);
            return -1;
        }
    }
    if (dash < 0) {
        usage_error("missing '--' and PROGRAM (usage: wedge %s [OPTIONS]%s -- PROGRAM [ARGS...])",
                    command_name(cmd), want ? " TOKEN" : "");
        return -1;
    }
    if (dash + 1 >= argc || !argv[dash + 1][0]) {
        usage_error("missing PROGRAM after '--'");
        return -1;
    }
    cfg->argv = argv + dash + 1;
    cfg->argc = argc - dash - 1;

    if (cmd == CMD_RUN) {
        /* A pinned strategy pins its mode: pct and pos exist only in serial mode. */
        if (cfg->strategy_arg && !cfg->mode_given &&
            (strncmp(cfg->strategy_arg, "pct", 3) == 0 || strcmp(cfg->strategy_arg, "pos") == 0))
            cfg->mode = WEDGE_MODE_SERIAL;
        if (cfg->auto_mode && cfg->strategy_arg) {
            usage_error("--strategy pins the strategy: give it with --mode serial or noise, not "
                        "--mode auto (or use --arms)");
            return -1;
        }
        /* auto unless something pins the choice */
        if (!cfg->mode_given && !cfg->strategy_arg && !cfg->baseline)
            cfg->auto_mode = 1;
        if (cfg->arms_arg && !cfg->auto_mode) {
            usage_error("--arms chooses among the arms of --mode auto: it takes no --mode "
                        "noise/serial or --strategy");
            return -1;
        }
        cfg->proto.mode = cfg->mode;
        if (cfg->strategy_arg) {
            if (wedge_strategy_parse(cfg->strategy_arg, cfg->mode, &cfg->proto, err, sizeof err)) {
                usage_error("%s", err);
                return -1;
            }
        } else {
            cfg->proto.strategy = WEDGE_STRAT_RANDOM;
        }
        cfg->proto.opts = cfg->opts;
        if (cfg->max_rate) {
            /* The gate decides the run count: a --runs beside it would be ignored or win. */
            if (cfg->runs_given) {
                usage_error("--max-rate computes how many runs the gate needs: give --runs or "
                            "--max-rate, not both");
                return -1;
            }
            cfg->runs = wedge_stats_runs_needed(cfg->confidence, cfg->max_rate);
            if (cfg->runs < 1 || cfg->runs > 100000000) {
                usage_error("--confidence/--max-rate: the gate would need %" PRIu64 " runs "
                            "(at most 100000000)", cfg->runs);
                return -1;
            }
        }
        if (cfg->baseline && cfg->corpus_dir) {
            usage_error("--baseline runs without the shim: its runs have no tokens to keep in "
                        "a --corpus");
            return -1;
        }
        if (cfg->baseline && (cfg->mode_given || cfg->strategy_arg || cfg->opts || cfg->arms_arg)) {
            usage_error("--baseline runs without the shim: it takes no --mode, --strategy, "
                        "--watch or --detect");
            return -1;
        }
    } else {
        cfg->mode = cfg->token.mode;
        cfg->proto = cfg->token;
    }
    return 0;
}
