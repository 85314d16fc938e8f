/* gate.c - what a campaign proves.  n runs with k failures bound the per-run failure
 * probability of this program under this configuration (mode, strategy, options) with the
 * exact binomial bound of src/wedge_stats.c; a clean campaign of --max-rate's run count proves
 * the rate below R at --confidence.  The statement goes to the summary and to the JSON. */
#define _GNU_SOURCE
#include "cli.h"
#include "wedge_stats.h"

#include <inttypes.h>
#include <string.h>

static void format_level(char *buf, size_t len, double confidence)
{
    snprintf(buf, len, "%.10g%%", confidence * 100);
}

void gate_statement(char *buf, size_t len, const struct wedge_config *cfg, uint64_t failures,
                    uint64_t runs)
{
    char level[32], bound[32], nruns[32], nfail[32];
    format_level(level, sizeof level, cfg->confidence);
    wedge_stats_format_percent(bound, sizeof bound,
                               wedge_stats_upper_bound(failures, runs, cfg->confidence));
    wedge_stats_format_count(nruns, sizeof nruns, runs);
    wedge_stats_format_count(nfail, sizeof nfail, failures);
    snprintf(buf, len, "%s reproduction%s in %s run%s: at %s confidence the per-run failure "
             "probability under this configuration is below %s", nfail, failures == 1 ? "" : "s",
             nruns, runs == 1 ? "" : "s", level, bound);
}

void gate_json(FILE *f, const struct summary *s)
{
    const struct wedge_config *cfg = s->cfg;
    uint64_t k = s->nrepros;
    double ub = wedge_stats_upper_bound(k, s->runs_done, cfg->confidence);
    char st[320];
    gate_statement(st, sizeof st, cfg, k, s->runs_done);
    fprintf(f, ",\n  \"confidence\": {\"level\": %.10g, \"runs\": %" PRIu64 ", \"failures\": %"
               PRIu64 ", \"upper_bound\": %.6g, \"method\": \"clopper-pearson\", \"max_rate\": ",
            cfg->confidence, s->runs_done, k, ub);
    if (cfg->max_rate > 0)
        fprintf(f, "%.10g, \"met\": %s", cfg->max_rate,
                k == 0 && ub < cfg->max_rate ? "true" : "false");
    else
        fputs("null, \"met\": null", f);
    fputs(", \"statement\": ", f);
    report_json_str(f, st);
    fputc('}', f);
}

void gate_announce(const struct wedge_config *cfg)
{
    char level[32], rate[32], nruns[32];
    format_level(level, sizeof level, cfg->confidence);
    snprintf(rate, sizeof rate, "%.10g%%", cfg->max_rate * 100);
    wedge_stats_format_count(nruns, sizeof nruns, cfg->runs);
    printf("gate: %s runs: with 0 reproductions in them, the per-run failure probability is "
           "below %s at %s confidence\n", nruns, rate, level);
}
