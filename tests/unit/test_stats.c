/* Unit tests of the exact binomial bounds (src/wedge_stats.c) against published values. */
#include "check.h"
#include "wedge_stats.h"

#include <math.h>
#include <string.h>

static int near(double got, double want, double tol)
{
    if (fabs(got - want) <= tol)
        return 1;
    fprintf(stderr, "  got %.6f, want %.6f (+-%g)\n", got, want, tol);
    return 0;
}

int main(void)
{
    /* k = 0: 1 - alpha^(1/n) */
    CHECK(near(wedge_stats_upper_bound(0, 3000, 0.95), 1 - pow(0.05, 1.0 / 3000), 1e-12));
    CHECK(wedge_stats_upper_bound(0, 3000, 0.95) < 0.001);
    /* the rule of three: 3/n is close for large n */
    CHECK(near(wedge_stats_upper_bound(0, 100000, 0.95), 3.0 / 100000, 1e-6));
    /* Two-sided 95% Clopper-Pearson intervals as tabulated (the upper end is the one-sided
     * 97.5% bound): 0/10 -> 0.3085, 1/10 -> 0.4450, 5/100 -> 0.1128, 10/20 -> 0.7280. */
    CHECK(near(wedge_stats_upper_bound(0, 10, 0.975), 0.3085, 1e-4));
    CHECK(near(wedge_stats_upper_bound(1, 10, 0.975), 0.4450, 1e-4));
    CHECK(near(wedge_stats_upper_bound(5, 100, 0.975), 0.1128, 1e-4));
    CHECK(near(wedge_stats_upper_bound(10, 20, 0.975), 0.7280, 1e-4));
    /* One-sided 95%: 1/10 -> 0.3942 (beta quantile 0.95 of Beta(2, 9)). */
    CHECK(near(wedge_stats_upper_bound(1, 10, 0.95), 0.3942, 1e-4));
    /* Large n, a few failures: 3/100000 at 95% -> 7.754e-5 (Poisson limit 7.754/n). */
    CHECK(near(wedge_stats_upper_bound(3, 100000, 0.95), 7.7537e-5, 1e-8));
    CHECK(wedge_stats_upper_bound(5, 5, 0.95) == 1);
    CHECK(wedge_stats_upper_bound(0, 0, 0.95) == 1);

    /* runs needed: ln(0.05)/ln(0.999) = 2994.2 -> 2995 */
    CHECK(wedge_stats_runs_needed(0.95, 0.001) == 2995);
    CHECK(wedge_stats_upper_bound(0, 2995, 0.95) < 0.001);
    CHECK(wedge_stats_upper_bound(0, 2994, 0.95) >= 0.001);
    CHECK(wedge_stats_runs_needed(0.99, 0.0001) == 46050);
    CHECK(wedge_stats_runs_needed(0.95, 0.5) == 5);
    CHECK(wedge_stats_runs_needed(1.5, 0.1) == 0);

    double v;
    CHECK(wedge_stats_parse_fraction("95%", &v) == 0 && near(v, 0.95, 1e-12));
    CHECK(wedge_stats_parse_fraction("0.95", &v) == 0 && near(v, 0.95, 1e-12));
    CHECK(wedge_stats_parse_fraction("0.1%", &v) == 0 && near(v, 0.001, 1e-12));
    CHECK(wedge_stats_parse_fraction("100%", &v) == -1);
    CHECK(wedge_stats_parse_fraction("0", &v) == -1);
    CHECK(wedge_stats_parse_fraction("abc", &v) == -1);
    CHECK(wedge_stats_parse_fraction("5%x", &v) == -1);

    char buf[32];
    wedge_stats_format_percent(buf, sizeof buf, wedge_stats_upper_bound(0, 3000, 0.95));
    CHECK(strcmp(buf, "0.1%") == 0);
    wedge_stats_format_percent(buf, sizeof buf, 0.3942);
    CHECK(strcmp(buf, "40%") == 0);
    wedge_stats_format_percent(buf, sizeof buf, 0.00077537);
    CHECK(strcmp(buf, "0.078%") == 0);
    wedge_stats_format_percent(buf, sizeof buf, 0.0123);
    CHECK(strcmp(buf, "1.3%") == 0);
    wedge_stats_format_count(buf, sizeof buf, 3000);
    CHECK(strcmp(buf, "3,000") == 0);
    wedge_stats_format_count(buf, sizeof buf, 1234567);
    CHECK(strcmp(buf, "1,234,567") == 0);
    wedge_stats_format_count(buf, sizeof buf, 999);
    CHECK(strcmp(buf, "999") == 0);
    return check_report("test_stats");
}
