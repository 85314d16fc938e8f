/* Unit tests of the serial-mode strategies (src/strategy*.c), against a toy scheduler.
 *
 * The toy: T threads, each a list of steps; a step is "run", "yield" or "wait for flag f"
 * (not runnable until some thread set f) or "set flag f".  It calls the strategy exactly as
 * preload/serial.c does: candidates in ordinal order, the thread at the point marked SELF. */
#include "check.h"
#include "strategy.h"
#include "wedge_protocol.h"
#include "wedge_stream.h"

#include <string.h>

#define TMAX 8
#define SMAX 4096

enum op { OP_RUN, OP_YIELD, OP_WAIT, OP_SET, OP_SPIN_UNTIL, OP_POLL_UNTIL };
struct step {
    enum op op;
    int flag;
};
struct toy {
    int n;
    int len[TMAX];
    struct step s[TMAX][SMAX];
    int pc[TMAX];
    int flags[16];
    uint64_t words[TMAX][WEDGE_STRATEGY_THREAD_WORDS];
    uint32_t trace[SMAX * TMAX];
    int ntrace;
};
/* The event kind the toy shows at every point (POS redraws priorities at racing kinds). */
static unsigned toy_kind = WEDGE_EV_NONE;

static int runnable(struct toy *t, int i)
{
    if (t->pc[i] >= t->len[i])
        return 0;
    struct step *s = &t->s[i][t->pc[i]];
    return s->op != OP_WAIT || t->flags[s->flag];
}

/* Run to completion (or max steps).  Returns the steps taken, -1 on a stall. */
static int toy_run(struct toy *t, const struct wedge_strategy *st, const struct wedge_token *tok,
                   uint64_t seed, int max)
{
    _Alignas(16) unsigned char state[WEDGE_STRATEGY_STATE_MAX];
    memset(state, 0, sizeof state);
    memset(t->pc, 0, sizeof t->pc);
    memset(t->flags, 0, sizeof t->flags);
    memset(t->words, 0, sizeof t->words);
    t->ntrace = 0;
    st->init(state, tok, seed);
    for (int i = 0; i < t->n; i++)
        st->thread_new(state, (uint32_t)i, t->words[i]);
    int cur = 0;
    for (uint64_t step = 0; step < (uint64_t)max; step++) {
        struct wedge_cand c[TMAX];
        uint32_t n = 0;
        for (int i = 0; i < t->n; i++)
            if (runnable(t, i))
                c[n++] = (struct wedge_cand){ (uint32_t)i, i == cur ? WEDGE_CAND_SELF : 0,
                                              t->words[i] };
        if (n == 0) {
            for (int i = 0; i < t->n; i++)
                if (t->pc[i] < t->len[i])
                    return -1;
            return (int)step;
        }
        int yield = t->pc[cur] < t->len[cur] && (t->s[cur][t->pc[cur]].op == OP_YIELD ||
                                                  t->s[cur][t->pc[cur]].op == OP_SPIN_UNTIL);
        struct wedge_point p = { step, (uint32_t)cur, t->words[cur], toy_kind, yield, n, c };
        uint32_t k = st->choose(state, &p);
        if (k >= n) {
            CHECK(k < n);
            return -1;
        }
        cur = (int)c[k].ordinal;
        t->trace[t->ntrace++] = (uint32_t)cur;
        struct step *s = &t->s[cur][t->pc[cur]];
        if (s->op == OP_SET)
            t->flags[s->flag] = 1;
        if ((s->op == OP_SPIN_UNTIL || s->op == OP_POLL_UNTIL) && !t->flags[s->flag])
            continue; /* busy-wait: stays at this step */
        t->pc[cur]++;
    }
    return -2;
}

static void fill(struct toy *t, int i, int len, enum op op)
{
    t->len[i] = len;
    for (int k = 0; k < len; k++)
        t->s[i][k] = (struct step){ op, 0 };
}

static struct wedge_token token(enum wedge_strategy_id id, uint32_t depth, uint32_t length)
{
    struct wedge_token tok = { .version = 1, .mode = WEDGE_MODE_SERIAL, .strategy = id,
                               .depth = depth, .length = length };
    return tok;
}

static void test_registry(void)
{
    CHECK(wedge_strategy_of(WEDGE_STRAT_RANDOM) == &wedge_strategy_random);
    CHECK(wedge_strategy_of(WEDGE_STRAT_PCT) == &wedge_strategy_pct);
    CHECK(wedge_strategy_of(WEDGE_STRAT_POS) == &wedge_strategy_pos);
    CHECK(wedge_strategy_of((enum wedge_strategy_id)99) == &wedge_strategy_random);
}

/* Same seed, same schedule; another seed, (almost surely) another one. */
static void test_determinism(const struct wedge_strategy *st, struct wedge_token tok)
{
    static struct toy a, b;
    a.n = 3;
    for (int i = 0; i < 3; i++)
        fill(&a, i, 100, OP_RUN);
    b = a;
    CHECK(toy_run(&a, st, &tok, 42, 100000) == 300);
    CHECK(toy_run(&b, st, &tok, 42, 100000) == 300);
    CHECK(a.ntrace == b.ntrace && memcmp(a.trace, b.trace, sizeof(uint32_t) * a.ntrace) == 0);
    int differ = 0;
    for (uint64_t seed = 1; seed < 20 && !differ; seed++) {
        toy_run(&b, st, &tok, seed, 100000);
        differ = memcmp(a.trace, b.trace, sizeof(uint32_t) * a.ntrace) != 0;
    }
    CHECK(differ);
}

/* Random walk: every candidate gets chosen, roughly uniformly. */
static void test_random_uniform(void)
{
    static struct toy t;
    t.n = 4;
    for (int i = 0; i < 4; i++)
        fill(&t, i, 1000, OP_RUN);
    struct wedge_token tok = token(WEDGE_STRAT_RANDOM, 0, 0);
    toy_run(&t, &wedge_strategy_random, &tok, 7, 100000);
    int count[4] = { 0 };
    /* over the first 1000 decisions all four are runnable */
    for (int i = 0; i < 1000; i++)
        count[t.trace[i]]++;
    for (int i = 0; i < 4; i++)
        CHECK(count[i] > 180 && count[i] < 320);
}

/* PCT depth 1: the thread that runs never loses the token while it can run. */
static void test_pct_depth1_no_preemption(void)
{
    static struct toy t;
    t.n = 3;
    for (int i = 0; i < 3; i++)
        fill(&t, i, 50, OP_RUN);
    struct wedge_token tok = token(WEDGE_STRAT_PCT, 1, 150);
    for (uint64_t seed = 1; seed <= 50; seed++) {
        toy_run(&t, &wedge_strategy_pct, &tok, seed, 100000);
        int switches = 0;
        for (int i = 1; i < t.ntrace; i++)
            switches += t.trace[i] != t.trace[i - 1];
        CHECK(switches == 2); /* one thread after the other */
    }
}

/* PCT depth 2: exactly one preemption of a runnable thread, at the change point. */
static void test_pct_depth2_one_preemption(void)
{
    static struct toy t;
    t.n = 2;
    fill(&t, 0, 100, OP_RUN);
    fill(&t, 1, 100, OP_RUN);
    struct wedge_token tok = token(WEDGE_STRAT_PCT, 2, 200);
    int seen_split = 0;
    for (uint64_t seed = 1; seed <= 100; seed++) {
        toy_run(&t, &wedge_strategy_pct, &tok, seed, 100000);
        int switches = 0;
        for (int i = 1; i < t.ntrace; i++)
            switches += t.trace[i] != t.trace[i - 1];
        /* a change point inside the first thread's run splits it: 2 switches; else 1 */
        CHECK(switches == 1 || switches == 2);
        seen_split += switches == 2;
    }
    CHECK(seen_split > 25 && seen_split < 75); /* change point uniform over 200 steps */
}

/* The depth-2 ordering bug of tests/targets/pct_depth2.c in the toy: A runs 300 steps; B
 * must run its check right after A's step K.  PCT depth 2 finds it about 1/(2L) of runs. */
static void test_pct_finds_depth2(void)
{
    static struct toy t;
    t.n = 2;
    fill(&t, 0, 300, OP_RUN);
    fill(&t, 1, 50, OP_RUN);
    struct wedge_token tok = token(WEDGE_STRAT_PCT, 2, 350);
    int found = 0;
    for (uint64_t seed = 1; seed <= 20000; seed++) {
        toy_run(&t, &wedge_strategy_pct, &tok, wedge_mix(99, seed), 100000);
        /* B's last step immediately after A's 150th step */
        int a = 0;
        for (int i = 0; i < t.ntrace; i++) {
            if (t.trace[i] == 0)
                a++;
            else if (a == 150 && i + 1 < t.ntrace && t.trace[i + 1] == 1) {
                found++;
                break;
            }
        }
    }
    /* expected ~ 20000/(2*350) = 28; allow wide bounds */
    printf("pct depth 2 toy: found in %d of 20000 runs\n", found);
    CHECK(found >= 8 && found <= 80);
}

/* A busy-wait on sched_yield by the highest-priority thread must not livelock: the thread it
 * waits for runs. */
static void test_yield_no_livelock(const struct wedge_strategy *st, struct wedge_token tok)
{
    static struct toy t;
    t.n = 3;
    t.len[0] = 2;
    t.s[0][0] = (struct step){ OP_SPIN_UNTIL, 1 };
    t.s[0][1] = (struct step){ OP_RUN, 0 };
    t.len[1] = 2;
    t.s[1][0] = (struct step){ OP_SPIN_UNTIL, 1 };
    t.s[1][1] = (struct step){ OP_RUN, 0 };
    fill(&t, 2, 20, OP_RUN);
    t.s[2][19] = (struct step){ OP_SET, 1 };
    for (uint64_t seed = 1; seed <= 200; seed++) {
        int steps = toy_run(&t, st, &tok, seed, 100000);
        CHECK(steps > 0 && steps < 2000);
    }
}

/* Blocking: a thread waiting for a flag is never chosen (it is no candidate) and the run
 * completes. */
static void test_blocking(const struct wedge_strategy *st, struct wedge_token tok)
{
    static struct toy t;
    t.n = 2;
    t.len[0] = 3;
    t.s[0][0] = (struct step){ OP_RUN, 0 };
    t.s[0][1] = (struct step){ OP_WAIT, 2 };
    t.s[0][2] = (struct step){ OP_RUN, 0 };
    fill(&t, 1, 10, OP_RUN);
    t.s[1][9] = (struct step){ OP_SET, 2 };
    for (uint64_t seed = 1; seed <= 100; seed++)
        CHECK(toy_run(&t, st, &tok, seed, 1000) == 13);
}

/* The depth-3 bug of tests/targets/pct_depth3.c in the toy: A must be preempted inside its
 * window [40, 60) so that B starts there, and B preempted inside its own [40, 60) so that A
 * commits while B's state is half done.  Needs the second change point to put B *below* A:
 * PCT gives the i-th of d-1 change points priority d-i. */
static int depth3_found(const struct toy *t)
{
    int a = 0, b = 0, b_start_a = -1;
    for (int i = 0; i < t->ntrace; i++) {
        if (t->trace[i] == 0) {
            a++;
            if (a == 60 && b_start_a >= 40 && b >= 40 && b < 60)
                return 1;
        } else {
            if (b == 0)
                b_start_a = a;
            b++;
        }
    }
    return 0;
}

static void test_pct_finds_depth3(void)
{
    static struct toy t;
    t.n = 2;
    fill(&t, 0, 100, OP_RUN);
    fill(&t, 1, 100, OP_RUN);
    struct wedge_token tok = token(WEDGE_STRAT_PCT, 3, 200);
    int found = 0, found2 = 0;
    for (uint64_t seed = 1; seed <= 4000; seed++) {
        toy_run(&t, &wedge_strategy_pct, &tok, wedge_mix(7, seed), 100000);
        found += depth3_found(&t);
    }
    /* with one change point it cannot happen */
    struct wedge_token tok2 = token(WEDGE_STRAT_PCT, 2, 200);
    for (uint64_t seed = 1; seed <= 4000; seed++) {
        toy_run(&t, &wedge_strategy_pct, &tok2, wedge_mix(7, seed), 100000);
        found2 += depth3_found(&t);
    }
    /* ~ 1/2 (A first) * 20/200 (first change in A's window) * 20/200 (second in B's) */
    printf("pct depth 3 toy: pct3 found in %d of 4000 runs, pct2 in %d\n", found, found2);
    CHECK(found >= 8 && found <= 80);
    CHECK(found2 == 0);
}

/* A thread polling a flag without yielding (0) and the thread that sets it (1). */
static struct toy *poller_toy(void)
{
    static struct toy t;
    t.n = 2;
    t.len[0] = 2;
    t.s[0][0] = (struct step){ OP_POLL_UNTIL, 1 };
    t.s[0][1] = (struct step){ OP_RUN, 0 };
    t.len[1] = 1;
    t.s[1][0] = (struct step){ OP_SET, 1 };
    return &t;
}

/* PCT is unfair: a high thread polling a flag without yielding starves the low thread that
 * sets it.  Past its fair point PCT chooses at random, so the run still ends. */
static void test_pct_fair_eventually(void)
{
    struct toy *t = poller_toy();
    struct wedge_token tok = token(WEDGE_STRAT_PCT, 1, 100);
    int starved_early = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        int steps = toy_run(t, &wedge_strategy_pct, &tok, seed, 100000);
        CHECK(steps > 0 && steps <= 20100);
        starved_early += steps > 1000;
    }
    CHECK(starved_early > 0 && starved_early < 20); /* about half: the poller on top */
}

/* POS is fair in the end too: a thread polling through racing events redraws its priority at
 * each, while the thread it waits for keeps the one it drew; a low one waited about 1/p
 * decisions, without bound (futex_cond_ok hung: a consumer's timed waits timing out again and
 * again).  A priority POS_AGE (1024) decisions old is drawn again, so a few ages bound the
 * wait.  Without it, 5 of these 20,000 seeds waited more than 2,000 decisions (at most 3,662);
 * with it, none (at most 1,058). */
static void test_pos_fair_eventually(void)
{
    struct toy *t = poller_toy();
    struct wedge_token tok = token(WEDGE_STRAT_POS, 0, 0);
    int worst = 0, long_waits = 0;
    for (uint64_t seed = 1; seed <= 20000; seed++) {
        int steps = toy_run(t, &wedge_strategy_pos, &tok, seed, 1000000);
        CHECK(steps > 0);
        worst = steps > worst ? steps : worst;
        long_waits += steps > 2000;
    }
    CHECK(long_waits == 0);
    printf("pos fairness toy: at most %d decisions in 20000 runs, %d over 2000\n", worst,
           long_waits);
}

static int switches(const struct toy *t)
{
    int n = 0;
    for (int i = 1; i < t->ntrace; i++)
        n += t->trace[i] != t->trace[i - 1];
    return n;
}

/* POS: without racing events priorities never change (one thread runs to its end, then the
 * next); with racing events every step redraws the runner's priority, so threads interleave,
 * but in bursts (about 10 switches in 300 steps; a random walk makes about 200). */
static void test_pos_redraws_at_racing_events(void)
{
    static struct toy t;
    t.n = 3;
    for (int i = 0; i < 3; i++)
        fill(&t, i, 100, OP_RUN);
    struct wedge_token tok = token(WEDGE_STRAT_POS, 0, 0);
    toy_kind = WEDGE_EV_MALLOC;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        CHECK(toy_run(&t, &wedge_strategy_pos, &tok, seed, 100000) == 300);
        CHECK(switches(&t) == 2);
    }
    toy_kind = WEDGE_EV_MEM_WRITE;
    long total = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        CHECK(toy_run(&t, &wedge_strategy_pos, &tok, seed, 100000) == 300);
        total += switches(&t);
    }
    printf("pos toy: %ld switches in 20 runs of 300 steps\n", total);
    CHECK(total > 20 * 4 && total < 20 * 100);
    toy_kind = WEDGE_EV_NONE;
}

/* POS finds the depth-3 bug of the toy with no depth to guess. */
static void test_pos_finds_depth3(void)
{
    static struct toy t;
    t.n = 2;
    fill(&t, 0, 100, OP_RUN);
    fill(&t, 1, 100, OP_RUN);
    struct wedge_token tok = token(WEDGE_STRAT_POS, 0, 0);
    toy_kind = WEDGE_EV_MEM_WRITE;
    int found = 0;
    for (uint64_t seed = 1; seed <= 4000; seed++) {
        toy_run(&t, &wedge_strategy_pos, &tok, wedge_mix(7, seed), 100000);
        found += depth3_found(&t);
    }
    toy_kind = WEDGE_EV_NONE;
    printf("pos depth 3 toy: found in %d of 4000 runs\n", found);
    CHECK(found >= 1); /* fixed seeds: 5 of 4000 */
}

int main(void)
{
    test_registry();
    struct wedge_token r = token(WEDGE_STRAT_RANDOM, 0, 0);
    struct wedge_token p3 = token(WEDGE_STRAT_PCT, 3, 300);
    struct wedge_token p3u = token(WEDGE_STRAT_PCT, 3, 0); /* unknown length: default */
    test_determinism(&wedge_strategy_random, r);
    test_determinism(&wedge_strategy_pct, p3);
    test_determinism(&wedge_strategy_pct, p3u);
    test_random_uniform();
    test_pct_depth1_no_preemption();
    test_pct_depth2_one_preemption();
    test_pct_finds_depth2();
    test_pct_finds_depth3();
    test_pct_fair_eventually();
    test_yield_no_livelock(&wedge_strategy_random, r);
    test_yield_no_livelock(&wedge_strategy_pct, p3);
    test_yield_no_livelock(&wedge_strategy_pct, token(WEDGE_STRAT_PCT, 1, 0));
    test_blocking(&wedge_strategy_random, r);
    test_blocking(&wedge_strategy_pct, p3);
    struct wedge_token pos = token(WEDGE_STRAT_POS, 0, 0);
    toy_kind = WEDGE_EV_MUTEX_LOCK;
    test_determinism(&wedge_strategy_pos, pos);
    test_yield_no_livelock(&wedge_strategy_pos, pos);
    test_blocking(&wedge_strategy_pos, pos);
    test_pos_fair_eventually();
    toy_kind = WEDGE_EV_NONE;
    test_pos_redraws_at_racing_events();
    test_pos_finds_depth3();
    return check_report("test_strategy");
}
