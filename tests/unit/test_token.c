/* Unit tests of seed tokens, durations and decision streams (src/). */
#include "check.h"
#include "wedge_stream.h"
#include "wedge_token.h"
#include "wedge_util.h"

#include <errno.h>
#include <string.h>

static void round_trip(const char *s)
{
    struct wedge_token t;
    char err[200], buf[WEDGE_TOKEN_MAX];
    CHECK(wedge_token_parse(s, &t, err, sizeof err) == 0);
    CHECK(wedge_token_format(&t, buf, sizeof buf) > 0);
    CHECK(strcmp(buf, s) == 0);
}

static void rejected(const char *s, const char *needle)
{
    struct wedge_token t;
    char err[200] = "";
    CHECK(wedge_token_parse(s, &t, err, sizeof err) == -EINVAL);
    CHECK(strstr(err, needle) != NULL);
    if (!strstr(err, needle))
        fprintf(stderr, "  token %s: message '%s' lacks '%s'\n", s, err, needle);
}

int main(void)
{
    round_trip("w1.noise.random.9f3a61c2e07b55d1");
    round_trip("w1.serial.pct3.9f3a61c2e07b55d1");
    round_trip("w1.serial.pct3-1200.0000000000000001");
    round_trip("w1.serial.pos.0000000000000001");
    round_trip("w1.serial.pos.m.00000000000000a1");
    round_trip("w1.serial.random.m.00000000000000a1");
    round_trip("w1.noise.random.l.ffffffffffffffff");

    struct wedge_token t;
    char err[200];
    CHECK(wedge_token_parse("w1.serial.pct12-77.l.00000000000000ff", &t, err, sizeof err) == 0);
    CHECK(t.mode == WEDGE_MODE_SERIAL && t.strategy == WEDGE_STRAT_PCT && t.depth == 12 &&
          t.length == 77 && t.seed == 0xff &&
          t.opts == (WEDGE_OPT_MEMORY | WEDGE_OPT_LOST_UPDATE));

    rejected("", "empty");
    rejected("w2.noise.random.9f3a61c2e07b55d1", "version");
    rejected("w1.fast.random.9f3a61c2e07b55d1", "mode");
    rejected("w1.noise.walk.9f3a61c2e07b55d1", "strategy");
    rejected("w1.noise.pct3.9f3a61c2e07b55d1", "serial");
    rejected("w1.noise.pos.9f3a61c2e07b55d1", "serial");
    rejected("w1.serial.pct0.9f3a61c2e07b55d1", "depth");
    rejected("w1.serial.pct3-x.9f3a61c2e07b55d1", "length");
    rejected("w1.noise.random.9f3a61c2", "16 hex");
    rejected("w1.noise.random.9f3a61c2e07b55dz", "hex digit");
    rejected("w1.noise.random.q.9f3a61c2e07b55d1", "option");
    rejected("w1.noise.random", "form");
    rejected("w1.a.b.c.d.e.f.g.h.i", "too many");
    rejected("w1.a.b.c.d.e.f.g.h", "not of the form");

    /* RF: reads-from constraints drawn by the campaign (cli/portfolio.c) */
    round_trip("w1.serial.pos.m.rn1000000001183-1000000001199.00000000000000a1");
    round_trip("w1.serial.random.m.rn0-1000000001193_p1000000001179-1000000001193.00000000000000a1");
    round_trip("w1.serial.pct3-120.m.rp1000000001183-1000000001199.s4_9-12.00000000000000a1");
    round_trip("w1.serial.pos.rn1-2.0000000000000001");
    round_trip("w1.serial.pos.m.re1000000001183-1000000001199_n0-5.00000000000000a1");
    CHECK(wedge_token_parse("w1.serial.pos.m.re11-22.00000000000000a1", &t, err, sizeof err) == 0);
    CHECK(t.nrf == 1 && t.rf[0].kind == WEDGE_RF_EACH && t.rf[0].write_site == 0x11 &&
          t.rf[0].read_site == 0x22);
    CHECK(wedge_token_parse("w1.serial.pos.m.rn0-1000000001193_p11-22.00000000000000a1", &t, err,
                            sizeof err) == 0);
    CHECK(t.nrf == 2 && t.rf[0].kind == WEDGE_RF_NEGATE && t.rf[0].write_site == 0 &&
          t.rf[0].read_site == 0x1000000001193ull && t.rf[1].kind == WEDGE_RF_PIN &&
          t.rf[1].write_site == 0x11 && t.rf[1].read_site == 0x22 && t.opts == WEDGE_OPT_MEMORY);
    CHECK(wedge_token_parse("w1.serial.pos.m.00000000000000a1", &t, err, sizeof err) == 0 &&
          t.nrf == 0);
    rejected("w1.noise.random.rn1-2.00000000000000a1", "needs serial mode");
    rejected("w1.serial.pos.r.00000000000000a1", "empty RF field");
    rejected("w1.serial.pos.rx1-2.00000000000000a1", "does not start with n");
    rejected("w1.serial.pos.rn12.00000000000000a1", "is not nWRITE-READ");
    rejected("w1.serial.pos.rn1-.00000000000000a1", "is not nWRITE-READ");
    rejected("w1.serial.pos.rnG-2.00000000000000a1", "is not nWRITE-READ");
    rejected("w1.serial.pos.rn11111111111111111-2.00000000000000a1", "is not nWRITE-READ");
    rejected("w1.serial.pos.rn1-0.00000000000000a1", "read site is 0");
    rejected("w1.serial.pos.rp0-5.00000000000000a1", "pin needs a write site");
    rejected("w1.serial.pos.re0-5.00000000000000a1", "each needs a write site");
    rejected("w1.serial.pos.re5.00000000000000a1", "is not eWRITE-READ");
    rejected("w1.serial.pos.rx1-2.00000000000000a1", "e (negate each)");
    rejected("w1.serial.pos.rn1-2_n3-4_n5-6.00000000000000a1", "more than 2");
    rejected("w1.serial.pos.rn1-2_.00000000000000a1", "ends in '_'");
    rejected("w1.serial.pos.rn1-2.rn3-4.00000000000000a1", "two RF fields");
    rejected("w1.serial.pos.s4.rn1-2.00000000000000a1", "before STEPS");
    rejected("w1.serial.pos.rn1-2.m.00000000000000a1", "out of place");
    /* PAGES: watching only the pages named */
    round_trip("w1.serial.pos.m.g5f0c1a2b.00000000000000a1");
    round_trip("w1.serial.random.l.g5f0c1a2b_00014000.00000000000000a1");
    round_trip("w1.serial.pct3-120.m.g00014000.rn11-22.s4_9-12.00000000000000a1");
    round_trip("w1.noise.random.m.g00014000.d1x57_2xs.00000000000000a1");
    CHECK(wedge_token_parse("w1.serial.pos.m.g5f0c1a2b_00014000.00000000000000a1", &t, err,
                            sizeof err) == 0);
    CHECK(t.npages == 2 && t.pages[0] == 0x5f0c1a2bu && t.pages[1] == 0x14000u &&
          t.opts == WEDGE_OPT_MEMORY);
    CHECK(wedge_token_parse("w1.serial.pos.m.00000000000000a1", &t, err, sizeof err) == 0 &&
          t.npages == 0);
    rejected("w1.serial.pos.g00014000.00000000000000a1", "needs watching");
    rejected("w1.serial.pos.g00014000.m.00000000000000a1", "needs watching");
    rejected("w1.serial.pos.m.g0014000.00000000000000a1", "8 hex digits");
    rejected("w1.serial.pos.m.g000140000.00000000000000a1", "8 hex digits");
    rejected("w1.serial.pos.m.g.00000000000000a1", "8 hex digits");
    rejected("w1.serial.pos.m.g0001400z.00000000000000a1", "hex digit");
    rejected("w1.serial.pos.m.g00000000.00000000000000a1", "names no page");
    rejected("w1.serial.pos.m.g00000001_00000002_00000003_00000004_00000005.00000000000000a1", "at most 4");
    round_trip("w1.serial.pos.m.g00000001_00000002_00000003_00000004.00000000000000a1");
    rejected("w1.serial.pos.m.g00000001_.00000000000000a1", "8 hex digits");
    rejected("w1.serial.pos.m.g00000001.g00000002.00000000000000a1", "two PAGES fields");
    rejected("w1.serial.pos.m.rn1-2.g00000001.00000000000000a1", "comes before RF");
    rejected("w1.serial.pos.m.g00000001.m.00000000000000a1", "out of place");
    CHECK(wedge_page_key(0) == 1u && wedge_page_key(0x1000000004000ull) == 0x14000u);
    /* hold points: held already at a thread's N-th lock acquisition */
    round_trip("w1.serial.random.m.rn1000000001183-1000000001199@2xc9.00000000000000a1");
    round_trip("w1.serial.random.m.rn0-1000000001193@1x1o5f0c9a0b11d2e3f4_p11-22@3x10.00000000000000a1");
    CHECK(wedge_token_parse("w1.serial.pos.m.rn0-22@1x2oab.00000000000000a1", &t, err,
                            sizeof err) == 0);
    CHECK(t.nrf == 1 && t.rf[0].hold_thread == 2 && t.rf[0].hold_n == 2 &&
          t.rf[0].obj_key == 0xab && t.rf[0].read_site == 0x22);
    CHECK(wedge_token_parse("w1.serial.pos.m.rn11-22.00000000000000a1", &t, err, sizeof err) ==
              0 && t.rf[0].hold_thread == 0 && t.rf[0].obj_key == 0);
    rejected("w1.serial.pos.rn1-2@.00000000000000a1", "hold point is not");
    rejected("w1.serial.pos.rn1-2@3.00000000000000a1", "hold point is not");
    rejected("w1.serial.pos.rn1-2@3x0.00000000000000a1", "hold point is not");
    rejected("w1.serial.pos.rn1-2@3xg.00000000000000a1", "hold point is not");
    rejected("w1.serial.pos.rn0-2@3x1o.00000000000000a1", "hold point is not");
    rejected("w1.serial.pos.re1-2@3x1.00000000000000a1", "each takes no hold point");
    rejected("w1.serial.pos.rn0-2@3x1.00000000000000a1", "needs its object");
    rejected("w1.serial.pos.rn1-2@3x1o5.00000000000000a1", "only a negated initial value");
    {
        /* the longest token the campaign draws fits WEDGE_TOKEN_MAX */
        struct wedge_token l;
        memset(&l, 0, sizeof l);
        l.version = 1;
        l.mode = WEDGE_MODE_SERIAL;
        l.strategy = WEDGE_STRAT_PCT;
        l.depth = 3;
        l.length = 99999999;
        l.opts = WEDGE_OPT_MEMORY;
        l.nrf = 2;
        for (int i = 0; i < 2; i++)
            l.rf[i] = (struct wedge_rf_constraint){ .kind = WEDGE_RF_NEGATE,
                                                    .hold_n = 0xffffffffu,
                                                    .write_site = 0,
                                                    .read_site = 0x60ffffffffffffull,
                                                    .hold_thread = 0xffffffffu,
                                                    .obj_key = ~0ull };
        l.seed = ~0ull;
        l.npages = 2; /* an rf run's token carries its pairs' pages */
        l.pages[0] = l.pages[1] = 0xffffffffu;
        char buf[WEDGE_TOKEN_MAX];
        CHECK(wedge_token_format(&l, buf, sizeof buf) > 0);
        CHECK(wedge_token_parse(buf, &t, err, sizeof err) == 0 && t.nrf == 2 &&
              t.npages == 2);

        /* every field at its widest is more than a token holds: the format says so (-1)
         * and writes nothing past the buffer, whatever its size */
        l.npages = WEDGE_TOKEN_PAGES;
        for (int i = 0; i < WEDGE_TOKEN_PAGES; i++)
            l.pages[i] = 0xffffffffu;
        for (int i = 0; i < 2; i++)
            l.rf[i].write_site = ~0ull;
        l.has_steps = 1;
        l.nsteps = WEDGE_TOKEN_STEP_RANGES;
        for (int i = 0; i < WEDGE_TOKEN_STEP_RANGES; i++)
            l.steps[i].lo = 4000000000u + 2u * (unsigned)i, l.steps[i].hi = l.steps[i].lo + 1;
        l.has_decisions = 1;
        l.ndecisions = WEDGE_TOKEN_DECISIONS;
        for (int i = 0; i < WEDGE_TOKEN_DECISIONS; i++)
            l.decisions[i] = (struct wedge_decision_ref){ .proc = 4000000000u,
                                                          .thread = 4000000000u,
                                                          .index = 4000000000u };
        char big[1024];
        CHECK(wedge_token_format(&l, buf, sizeof buf) == -1);
        int n = wedge_token_format(&l, big, sizeof big);
        CHECK(n > (int)WEDGE_TOKEN_MAX && (size_t)n == strlen(big));
        for (size_t len = 0; len <= (size_t)n; len++) {
            memset(big, 'x', sizeof big);
            CHECK(wedge_token_format(&l, big, len) == -1);
            CHECK(big[len] == 'x' && (len == 0 || strlen(big) < len));
        }
        CHECK(wedge_token_format(&l, big, (size_t)n + 1) == n);
    }

    /* STEPS: the minimized schedule of a serial token (wedge minimize) */
    round_trip("w1.serial.pct3.s13.9f3a61c2e07b55d1");
    round_trip("w1.serial.pct2-400.m.s13_40-42_977.9f3a61c2e07b55d1");
    round_trip("w1.serial.pos.l.s-.0000000000000001");
    CHECK(wedge_token_parse("w1.serial.pct3.m.s5_7-9.00000000000000ff", &t, err, sizeof err) == 0);
    CHECK(t.has_steps == 1 && t.nsteps == 2 && t.steps[0].lo == 5 && t.steps[0].hi == 5 &&
          t.steps[1].lo == 7 && t.steps[1].hi == 9 && t.opts == WEDGE_OPT_MEMORY);
    CHECK(wedge_token_parse("w1.serial.pct3.00000000000000ff", &t, err, sizeof err) == 0 &&
          t.has_steps == 0);
    rejected("w1.noise.random.s13.9f3a61c2e07b55d1", "serial mode");
    rejected("w1.serial.pct3.s.9f3a61c2e07b55d1", "empty STEPS");
    rejected("w1.serial.pct3.s1x.9f3a61c2e07b55d1", "not a number");
    rejected("w1.serial.pct3.s9-3.9f3a61c2e07b55d1", "ascend");
    rejected("w1.serial.pct3.s9_3.9f3a61c2e07b55d1", "ascend");
    rejected("w1.serial.pct3.s3_.9f3a61c2e07b55d1", "ends in");
    rejected("w1.serial.pct3.s1_2.s3.9f3a61c2e07b55d1", "two STEPS");
    rejected("w1.serial.pct3.s1.m.9f3a61c2e07b55d1", "out of place");
    rejected("w1.serial.pct3.s1_3_5_7_9_11_13_15_17.9f3a61c2e07b55d1", "more than 8");

    /* DECISIONS: the minimized decisions of a noise token */
    round_trip("w1.noise.random.d1x57.9f3a61c2e07b55d1");
    round_trip("w1.noise.random.m.d1x57_2xs_3p0x4.9f3a61c2e07b55d1");
    round_trip("w1.noise.random.d-.9f3a61c2e07b55d1");
    CHECK(wedge_token_parse("w1.noise.random.d2p1x5_0xs.00000000000000ff", &t, err, sizeof err) == 0);
    CHECK(t.has_decisions == 1 && t.ndecisions == 2 && t.decisions[0].proc == 2 &&
          t.decisions[0].thread == 1 && t.decisions[0].index == 5 && t.decisions[1].proc == 0 &&
          t.decisions[1].thread == 0 && t.decisions[1].index == WEDGE_DECISION_START);
    CHECK(wedge_decision_listed(t.decisions, t.ndecisions, 2, 1, 5) &&
          !wedge_decision_listed(t.decisions, t.ndecisions, 0, 1, 5));
    rejected("w1.serial.pct3.d1x5.9f3a61c2e07b55d1", "noise mode");
    rejected("w1.noise.random.d.9f3a61c2e07b55d1", "empty list");
    rejected("w1.noise.random.d1y5.9f3a61c2e07b55d1", "[Pp]TxI");
    rejected("w1.noise.random.d1x.9f3a61c2e07b55d1", "[Pp]TxI");
    rejected("w1.noise.random.d1x5_.9f3a61c2e07b55d1", "ends in");
    rejected("w1.noise.random.d1x5.d2x3.9f3a61c2e07b55d1", "two DECISIONS");
    rejected("w1.noise.random.d0x1_0x2_0x3_0x4_0x5_0x6_0x7_0x8_0x9.9f3a61c2e07b55d1", "more than 8");

    /* strategies from the command line */
    memset(&t, 0, sizeof t);
    CHECK(wedge_strategy_parse("pct:5", WEDGE_MODE_SERIAL, &t, err, sizeof err) == 0 && t.depth == 5);
    CHECK(wedge_strategy_parse("pct", WEDGE_MODE_SERIAL, &t, err, sizeof err) == 0 && t.depth == 3);
    CHECK(wedge_strategy_parse("pct:3", WEDGE_MODE_NOISE, &t, err, sizeof err) == -EINVAL);
    CHECK(wedge_strategy_parse("pct:0", WEDGE_MODE_SERIAL, &t, err, sizeof err) == -EINVAL);
    CHECK(wedge_strategy_parse("dfs", WEDGE_MODE_SERIAL, &t, err, sizeof err) == -EINVAL);

    /* durations */
    uint64_t us = 0;
    CHECK(wedge_parse_duration("500ms", &us, err, sizeof err) == 0 && us == 500000);
    CHECK(wedge_parse_duration("10s", &us, err, sizeof err) == 0 && us == 10000000);
    CHECK(wedge_parse_duration("2m", &us, err, sizeof err) == 0 && us == 120000000);
    CHECK(wedge_parse_duration("1.5s", &us, err, sizeof err) == 0 && us == 1500000);
    CHECK(wedge_parse_duration("3", &us, err, sizeof err) == 0 && us == 3000000);
    CHECK(wedge_parse_duration("10x", &us, err, sizeof err) == -EINVAL && strstr(err, "unit"));
    CHECK(wedge_parse_duration("ms", &us, err, sizeof err) == -EINVAL);
    CHECK(wedge_parse_duration("0s", &us, err, sizeof err) == -EINVAL);
    CHECK(wedge_parse_duration("99999999999999999999h", &us, err, sizeof err) == -EINVAL);

    uint64_t v;
    CHECK(wedge_parse_uint("2000", 1, 1000000, &v) == 0 && v == 2000);
    CHECK(wedge_parse_uint("0", 1, 10, &v) == -EINVAL);
    CHECK(wedge_parse_uint("-3", 0, 10, &v) == -EINVAL);
    CHECK(wedge_parse_uint("18446744073709551616", 0, UINT64_MAX, &v) == -EINVAL);
    CHECK(wedge_parse_seed("0xdeadBEEF", &v) == 0 && v == 0xdeadbeef);
    CHECK(wedge_parse_seed("12345678901234567", &v) == -EINVAL);

    /* medians of calibration runs' steps (cli/campaign.c, cli/portfolio.c) */
    const uint64_t steps[] = { 900, 100, 500, 300, UINT64_MAX, UINT64_MAX - 2 };
    CHECK(wedge_median_u64(steps, 0) == 0);
    CHECK(wedge_median_u64(steps, 1) == 900);
    CHECK(wedge_median_u64(steps, 3) == 500);
    CHECK(wedge_median_u64(steps, 4) == 400 && steps[0] == 900 && steps[1] == 100);
    CHECK(wedge_median_u64(steps + 4, 2) == UINT64_MAX - 1); /* no overflow */

    /* decision streams are counter based: same inputs, same decision; each input matters */
    uint64_t a = wedge_decide(1, 0, 2, 10, 0x1234);
    CHECK(a == wedge_decide(1, 0, 2, 10, 0x1234));
    CHECK(a != wedge_decide(2, 0, 2, 10, 0x1234));
    CHECK(a != wedge_decide(1, 1, 2, 10, 0x1234));
    CHECK(a != wedge_decide(1, 0, 3, 10, 0x1234));
    CHECK(a != wedge_decide(1, 0, 2, 11, 0x1234));
    CHECK(a != wedge_decide(1, 0, 2, 10, 0x1235));
    CHECK(wedge_run_seed(7, 0) != wedge_run_seed(7, 1));
    CHECK(wedge_run_seed(7, 3) == wedge_run_seed(7, 3));

    /* wedge_below is in range and roughly uniform */
    unsigned counts[4] = { 0 };
    for (uint64_t i = 0; i < 40000; i++) {
        uint32_t b = wedge_below(wedge_mix(99, i), 4);
        CHECK(b < 4);
        if (b < 4)
            counts[b]++;
    }
    for (int i = 0; i < 4; i++)
        CHECK(counts[i] > 9000 && counts[i] < 11000);

    /* failure signatures fold numbers */
    CHECK(wedge_failure_signature(0, 1, "count 4798 != 4800", 0) ==
          wedge_failure_signature(0, 1, "count 4799 != 4800", 0));
    CHECK(wedge_failure_signature(0, 1, "count 4798 != 4800", 0) !=
          wedge_failure_signature(0, 2, "count 4798 != 4800", 0));
    CHECK(wedge_failure_signature(0, 1, "duplicate job 7", 0) !=
          wedge_failure_signature(0, 1, "count 4798 != 4800", 0));

    return check_report("test_token");
}
