/* portfolio.c - `--mode auto`: each run's arm (mode, strategy, watching) is drawn by a
 * campaign-level bandit (src/wedge_bandit.c) that learns which arms pay on this program.
 *
 * Arms.  The table below; a run's token is its arm's token (w1.serial.pct3.m.SEED, ...),
 * so replay needs nothing else and serial tokens stay exact.
 *
 * Reward.  A run that reproduced, or whose schedule coverage (header.cov, see
 * preload/coverage.c) set a bit no earlier run of the campaign set.
 *
 * Cost.  The bandit weighs each arm's reward rate by its cost per run (src/wedge_bandit.c):
 * reward per second, not per run, and a floor share of the time, not of the runs.  On one
 * program the arms' costs differ by 10x and more (a serial run with watching of a 24-thread
 * Python program takes seconds, its noise run a fraction of one), and a default that spends
 * runs evenly costs what its dearest arms cost.  A run's cost is its wall time (plus
 * AUTO_COST_BASE_US); but a wall time differs between -j 1 and -j 2 and from run to run, and
 * would make the draws depend on it: a serial run's cost is a model of its wall time from
 * what it did (steps, preemptions, traps), a function of its token when the run is exact (a
 * run the watchdog made inexact under load is modelled too: its wall time would add the
 * machine's load to the draws; e2e.auto.determinism failed once so).  A noise run's cost is
 * its wall time, scaled to the model's unit (run_cost).  The misses of all arms are pooled
 * (AUTO_POOL_MISSES), and an arm not yet run is taken to cost its model's fixed part and
 * gets a run of the third epoch on (untried_arm): together, on a correct program, where
 * nothing pays once the coverage flattens, the time goes to the arms of the best prior per
 * unit of cost, while the first two epochs, drawn from the priors alone, still go mostly to
 * the watching arms that find most of the corpus's shapes in a few runs.
 *
 * Determinism.  Runs are grouped in epochs of AUTO_EPOCH consecutive runs (of this shard).
 * The arms of epoch e are drawn when epoch e-2 closes, from the bandit as it stands after
 * consuming epochs 0..e-2 in run-index order; epochs close in order, once all their runs
 * finished.  So the arm of every run is a function of --seed and of the results of earlier
 * epochs only, never of completion order or -j: with deterministic runs (serial arms on a
 * single-process program) the same seed gives the same arms and tokens at any -j.  The lag
 * of two epochs keeps 2 * AUTO_EPOCH runs startable, so -j N up to that never waits on a
 * boundary (a long run can still hold up the epoch after next).  Shorter first epochs (1, 1,
 * 2, 2, 4, 4 runs, learning from the first run on) were tried and measured worse: the first
 * run of a campaign always sets new coverage, whatever its arm, and the draws of the next
 * runs followed it (scripts/bench/finding, 10 campaigns: ordering_many 3 from 13.5 to 24
 * runs, pct_depth2 from 18 to 25.5).
 *
 * PCT's run length (in its token, as `--strategy pct` carries what its calibration runs
 * measured) is the median steps of the first AUTO_CALIB runs of the same arm among runs
 * 0 .. q - rf_lag(q), drawn as an rf run's constraints are (below), so a function of the
 * seed and of earlier runs only; until the arm has such a run, 0 (change points spread over
 * the scales, strategy_pct.c).  Before, one length came from the first serial runs of closed
 * epochs, whatever their arm: mostly other arms', whose runs differ in length (on
 * pct_depth3_fixed a random walk's run takes 1,200 steps, a PCT run's 840: a run of 80,
 * steps per run of each arm from the JSON), and all PCT runs before run 16 had none (pct_depth3: scripts/bench/finding, README "Issue 8: PCT length per arm").
 *
 * Reads-from constraints (RFF-style).  Each run's shm lists the distinct reads-from pairs
 * its trapped reads saw (header.rf: write site -> read site, write site 0 for the initial
 * value; preload/coverage.c).  Run by run, in run-index order, each run's pairs (sorted,
 * so that the pool's order is a function of the set) join the campaign's pool, which counts
 * the runs that saw each.  A run of an rf arm gets one (serial.pos.m.rf) or two
 * (serial.random.m.rf, arm_table) constraints on such pairs in its token's RF field
 * (wedge_token.h): a pair chosen with weight 1 / (runs that saw it + runs drawn on it), so
 * rare behaviour is pushed on first, and negated (the read must not see that write: held
 * before the write until the read ran; for the initial value, held until its object was
 * written) or, less often, pinned.  Run q's constraints are drawn when run q - rf_lag(q)
 * joins the pool (the pool then holds runs 0 .. q - rf_lag(q), whatever the timing), not at
 * its epoch's draw: the
 * epochs' lag would put the first derived run at run 16, and one of ordering_many's took a
 * median of 21 runs so.  A run joins the pool only once the arms of the runs it completes
 * the pool of are drawn, and an epoch closes only once its runs joined (the ring's slots
 * are reused), so the determinism above holds for these arms too.  Before the pool has a
 * pair, an rf arm's run is its base arm's run.
 *
 * Hold points.  A constraint's held access often runs inside a critical section (a check or
 * an act under a lock): held there, the threads it waits for wait for its lock, every
 * candidate is held and the constraint yields, so it never held (pct_depth3: B's read of A's
 * window flag under the lock read the initial value in every run that negated it).  The shim
 * counts a serial thread's lock acquisitions and gives each pair the count of the writer's
 * and the reader's when their access ran inside a critical section; a constraint then holds
 * its thread at that acquisition, before it takes the lock (the token's "@TxN", wedge_token.h).
 * The pool takes a pair's counts from the first run that counted them.  Default, 10
 * campaigns, cap 100 (scripts/bench/finding): pct_depth3 from 36 to 7 runs, pct_depth2 from
 * 11.5 to 5, the other shapes the same.
 *
 * The lag grows with the run index, from AUTO_RF_LAG_MIN to AUTO_EPOCH (rf_lag): an rf run
 * cannot start before the run it derives from ended, and runs start in index order, so at
 * -j N a lag below N leaves jobs idle.  A fixed lag of 2 kept the first derived runs early
 * (what finds ordering_many in a few runs) but ran an rf arm no faster at -j 8 than at -j 2
 * (a program whose runs wait 30 ms on a timer, 200 runs of serial.random.m.rf: 4.4 s at both;
 * serial.random.m 1.2 s at -j 8).  Beyond AUTO_EPOCH the run it derives from could lie in
 * the epoch that must close before its own is drawn.
 *
 * Lock-free code.  Once a run of a closed epoch saw a reads-from pair whose write is atomic
 * (a compare-and-swap or other locked read-modify-write: WEDGE_RF_PAIR_ATOMIC), the rf arms
 * get AUTO_RF_ATOMIC_SHARE of the runs between them, in runs, not in time
 * (wedge_bandit_share).  Only their runs act on such a pair (the `each` constraint holds
 * every instance of a CAS loop's write), and nothing rewards them before the run that fails:
 * a held read mostly shows pairs and coverage already seen.  Without the share, once the
 * priors' epochs are spent, the cost-weighed draws gave the unwatched serial arms (2 ms a run
 * against 12) most runs and the rf arms 5% (steal_deque: 29 of 120 seeds found nothing in
 * 300 runs; serial.random.m.rf alone found it in each of 20 within 63).  Tried, and not
 * enough there: more of the floor (0.3 of the time: 11 of 60 seeds found nothing), a floor
 * of 0.3 of the runs spread evenly over the arms (2 of 20), the other arms' misses weighed
 * less (pool weight 0.25: 2 of 20; 0: 4 of 60), decay 0.8 to 0.995 (12 or 13 of 60).  Gated
 * on the atomic pair, as a share for every program costs every program: 0.1 of the runs to
 * the rf arms moved the default on fanout_map_fixed from 1.8x its cheapest arm's cost per
 * run to 2.1x (200 runs, 4 seeds).  The gate is a function of the closed epochs' runs in
 * run-index order, so the draws stay deterministic.
 *
 * Locks are compare-and-swaps too: a lock of the program's own on a futex word (Rust's
 * std::sync::Mutex, futex_lock.h) opened the gate as lock-free data did, and a quarter of
 * the runs went to the dear rf arms (the default's cost per run against its cheapest arm's,
 * 200 runs: job_claim_rust_fixed 6.2x, futex_cond_ok 3.1x).  So the shim notes each word its
 * futex calls name (header.futex_key, by the object's stable name, as the pairs' obj_key),
 * and the gate counts only an atomic pair's object that no closed epoch's run named as a
 * futex word.  Evaluated at each epoch's close over both sets of runs 0 .. closed (a lock's
 * compare-and-swap may be seen in a run before any run waited on its word): the gate may
 * shut again, and is still a function of the closed epochs.  Rust's runtime, linked into the
 * program, has lock-free words of its own (an Arc's count, a lazily made thread-local key):
 * a pair whose write symbolizes to std, core or alloc is not counted either
 * (rust_runtime_site; a program's own compare-and-swap inlined into such a function, a
 * spawned closure's body into std's thread start, is not counted with them).  With both:
 * 3.3x and 2.4x, the gate shut in every epoch; steal_deque's deque word keeps it open (the
 * default's median 10.5 runs before and after, 10 campaigns, cap 100; README "futex words
 * out of the rf share (session 8)").
 *
 * Focused watching.  A watching run watches a seeded choice among the pages it sees shared
 * (preload/memwatch_trap.c: three in four, at most 2 to 8 at once, in the order they become
 * shared), and learns which are shared by trapping each page's accesses until a second
 * thread comes: a page shared after eight others is never watched, and neither are the
 * reads-from pairs on it, so no constraint names them (late_page: a lost tally on the last
 * of 26 shared pages; the default found it in 1 of 10 campaigns of 100 runs).  The shim
 * lists the pages a run saw shared and those it watched (header.shared_page, watched_page,
 * by the key a token names a page by, wedge_page_key), and each pair's page (rf[].page).
 * The closed epochs' runs' pages, in run-index order, are the campaign's page pool.  A run
 * of the focused arm (serial.random.m.g) watches only 1 to 4 pool pages, named in its
 * token's PAGES field (wedge_token.h; no other page protected or learned), the least watched
 * first (page_weight), with AUTO_FOCUS_SHARE of the runs while some pool page seen shared
 * by AUTO_FOCUS_SEEN runs was neither watched nor focused on (nothing else would reward it:
 * a page's pairs are sites, and late_page's 24 records share theirs); it is out of the
 * default (arm_table).  A run of an rf arm watches the pages of its constraints' pairs
 * whatever the cap, where each is known, and the others as before: a pair seen on a late
 * page, by one of the runs whose seeded choice happened to watch it, is then watched where
 * the run negates or pins it.  That is what finds late_page (30 seeds: median 9 runs, at
 * most 23; without it the median of 20 campaigns was over 100 runs).  Watching only the
 * pairs' pages found it as fast (median 8, at most 16 of 30) but moved the bandit: on
 * router_history_fixed.py the rf arms took 237 of 1,000 default runs against 125 (their
 * runs set new coverage), and the default cost 2.5x its cheapest arm's time per run
 * against 2.2x in another pair of campaigns; with the pages added, 99 runs and 1.7x (1.8x
 * before, the same load).
 * Both are drawn with the epoch's arms or the run's constraints, functions of the
 * seed and of earlier runs only, so deterministic as those are.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "wedge_bandit.h"
#include "wedge_stream.h"
#include "wedge_util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Memory watching in the default portfolio.  Watching may still make some correct programs
 * fail (system calls given a watched buffer, issue 6); set to 0 to leave every watching arm
 * out of the default (they stay selectable with --arms and pinned by --watch mem).  One arm
 * is out of the default on its own (in_default below). */
#define AUTO_WATCH_ARMS 1

#define AUTO_EPOCH 8u
/* Share of the time spread evenly over the arms.  0.25 before the misses were pooled: with
 * them, the exploiting draws still spread runs over arms of like reward per cost (their
 * posteriors are wide), and a quarter of the time spread evenly costs the mean of the
 * arms' costs per run at its harmonic mean (2.4x the cheapest arm's on router_history_fixed). */
#define AUTO_FLOOR 0.1
#define AUTO_DECAY 0.97     /* per epoch: coverage dries up, recent evidence weighs more */
#define AUTO_POOL_MISSES 1.0       /* weight of the other arms' misses in an arm's (wedge_bandit.h) */
#define AUTO_REWARD_REPRO 4.0
#define AUTO_REWARD_COVERAGE 1.0
#define AUTO_COV_HALF 4.0   /* runs of a class rewarded for coverage before its reward halves */
/* Added to every run's cost: what a run costs the campaign beyond its own wall time (the
 * runner's turn-around: reading the shared memory, starting the next run).  Larger floors
 * (20 ms) were tried to keep differences of a few milliseconds from counting; they did not
 * find sooner (scripts/bench/finding: ordering_many 3, pct_depth2, publish_flag and
 * wrong_lock within a run of the same medians at 1 ms) and cost more per run. */
#define AUTO_COST_BASE_US 1000.0
#define AUTO_CALIB 4u
#define AUTO_MAX_LENGTH 100000000u
#define AUTO_RUN_ARMS_MAX (1u << 20) /* runs whose arm the JSON lists */
#define AUTO_POOL_MAX 4096u          /* distinct reads-from pairs the campaign pools */
#define AUTO_POOL_HASH 8192u         /* its index (power of two, > 2 * AUTO_POOL_MAX) */
#define AUTO_RF_PIN_ONE_IN 4u        /* of pairs with a write site: pinned, else negated */
#define AUTO_RF_LAG_MIN 2u           /* run q derives from runs 0 .. q - rf_lag(q) */
/* A pair whose write is atomic weighs this many times more: where lock-free code settles a
 * race (a compare-and-swap) is where its bug lies, and its pair is one among a dozen of plain
 * accesses (steal_deque: 1 of 12 pairs a run).  --arms serial.pos.m.rf on steal_deque, 20
 * seeds: weight 1, median >100 runs; 8, median 34.5 and one seed >300; 64, 18.5, at most 92. */
#define AUTO_RF_ATOMIC_WEIGHT 64u
/* Share of the runs the rf arms get together, split evenly, drawn first, once a closed
 * epoch's run saw a pair whose write is atomic (header comment, "Lock-free code").
 * steal_deque, the default, 300 runs, the seeds of scripts/bench/finding's campaigns 1 to
 * 120: without it 29 seeds found nothing; 0.2, 2; 0.25, none (at most 197 runs); 0.3, none
 * (at most 161); the medians 9.5 (campaigns 1-60) and 13 (61-120) with each. */
#define AUTO_RF_ATOMIC_SHARE 0.25
/* Distinct objects the campaign names as futex words, and as written atomically (header
 * comment, "Lock-free code"); power of two.  Past either, the share's gate opens as before. */
#define AUTO_KEYS 4096u
#define AUTO_PAIR_RUNTIME 0x100u     /* rf_pair.flags: its write lies in Rust's runtime */
#define AUTO_PAGES 1024u             /* distinct shared pages the campaign pools */
/* The focused arms' share of the runs, split evenly, while some pool page seen shared by at
 * least AUTO_FOCUS_SEEN closed epochs' runs was neither watched nor focused on by any (header
 * comment, "Focused watching"). */
#define AUTO_FOCUS_SHARE 0.1
#define AUTO_FOCUS_SEEN 2u
#define AUTO_PAGES_HASH 2048u        /* its index (power of two, > 2 * AUTO_PAGES) */

struct arm_def {
    const char *name;           /* the token's MODE.STRATEGY[.OPTS] without the seed */
    enum wedge_mode mode;
    enum wedge_strategy_id strategy;
    uint32_t depth;
    int watch;
    double prior;               /* expected reward rate before any evidence */
    int in_default;             /* 0: only with --arms (or --watch mem for watching arms) */
    int rf;                     /* its runs' reads-from constraints from the pool (0: none) */
    int focus;                  /* 1: its runs watch only pages from the pool (PAGES field) */
};

/* Priors: the reward rate expected of each arm before the campaign has evidence, from
 * scripts/bench/finding on the bug-shape corpus: serial random walk and POS with watching
 * find most shapes fastest (windows with no call in them need watching; neither needs a
 * depth guessed), random walk the single-window ones, POS the orderings among many threads;
 * noise finds the stories and multi-process programs; the others keep their floor share for
 * what only they find. */
static const struct arm_def arm_table[] = {
    { "noise.random", WEDGE_MODE_NOISE, WEDGE_STRAT_RANDOM, 0, 0, 0.5, 1, 0, 0 },
    { "serial.random", WEDGE_MODE_SERIAL, WEDGE_STRAT_RANDOM, 0, 0, 0.4, 1, 0, 0 },
    /* pct_depth3 (two preemptions in order) by the default: a median of 47.5 runs with
     * priors 0.3 / 0.4 for these two, 36 with 0.1 / 0.6, the other shapes the same; pct3
     * at 0.8 no better (README "Issue 8: PCT length per arm") */
    { "serial.pct2", WEDGE_MODE_SERIAL, WEDGE_STRAT_PCT, 2, 0, 0.1, 1, 0, 0 },
    { "serial.pct3", WEDGE_MODE_SERIAL, WEDGE_STRAT_PCT, 3, 0, 0.6, 1, 0, 0 },
    { "serial.pos", WEDGE_MODE_SERIAL, WEDGE_STRAT_POS, 0, 0, 0.3, 1, 0, 0 },
    /* Out of the default: noise runs with watching stall for 30 s in job_claim_sqlite_fixed
     * (2 of 200 default runs timed out; its serial watching runs never did), and on the
     * corpus serial.random.m finds whatever it finds as fast. */
    { "noise.random.m", WEDGE_MODE_NOISE, WEDGE_STRAT_RANDOM, 0, 1, 0.3, 0, 0, 0 },
    { "serial.random.m", WEDGE_MODE_SERIAL, WEDGE_STRAT_RANDOM, 0, 1, 0.8, 1, 0, 0 },
    { "serial.pct3.m", WEDGE_MODE_SERIAL, WEDGE_STRAT_PCT, 3, 1, 0.5, 1, 0, 0 },
    { "serial.pos.m", WEDGE_MODE_SERIAL, WEDGE_STRAT_POS, 0, 1, 0.8, 1, 0, 0 },
    /* Reads-from constraints drawn from the campaign's pool (header comment): orderings no
     * seeded priority reaches in few runs, such as one of many threads stopped between two
     * stores while a late reader looks (ordering_many), or a check that must see the value
     * from before another thread's whole update and the act the value after it (wrong_lock,
     * pct_depth2: scripts/bench/finding, README "Issue 8: reads-from constraints").  The
     * random walk's variant has the higher prior: it finds pct_depth2 (a preemption at one
     * exact step) where POS rarely does, and the orderings as fast (README "Issue 8: the
     * merged default": pct_depth2 from 82 to 8 runs, the rest unchanged).
     * How many constraints a run carries (the last but one field): POS's one, the random
     * walk's two.  A bug of two orderings wants two (pct_depth3: A's check held until B wrote
     * its half-done flag, and B's first read held until A opened its window), one ordering
     * among many threads one (ordering_many: a second constraint holds a setter it needs
     * running).  Both arms drew a second constraint in one run in two before; the default
     * over 120 campaigns (scripts/bench/finding, cap 100), before / after: pct_depth3 11 / 7,
     * steal_deque 11 / 10, ordering_many 10 6 / 6, late_page 8 / 8 (README "Two constraints
     * for the random walk's rf arm"). */
    { "serial.pos.m.rf", WEDGE_MODE_SERIAL, WEDGE_STRAT_POS, 0, 1, 0.8, 1, 1, 0 },
    { "serial.random.m.rf", WEDGE_MODE_SERIAL, WEDGE_STRAT_RANDOM, 0, 1, 1.0, 1, 2, 0 },
    /* Focused watching (header comment): the random walk, which splits a single window
     * (lost_increment) fastest, on 1 to 4 pages earlier runs saw shared, the least watched
     * first, such as a page shared after eight others, which the arms above leave unwatched
     * (late_page's tally, shared after 24).  Out of the default: in it, drawn only for its
     * share, it made the default's 400 runs of router_history_fixed.py take 24.2 s against
     * 17.9 s without it (its runs kept finding new pages and new pairs, and the bandit moved
     * runs to the dear watching arms), and late_page is found as fast without it. */
    { "serial.random.m.g", WEDGE_MODE_SERIAL, WEDGE_STRAT_RANDOM, 0, 1, 0.5, 0, 0, 1 },
};
#define NARM_DEFS (sizeof arm_table / sizeof arm_table[0])

struct arm_stats {
    uint64_t runs, repros, new_cov;
    uint64_t us;                /* wall time of its runs */
    uint64_t steps, traps;      /* scheduling decisions and trapped accesses of its runs */
    uint64_t stepped;           /* of the traps, those single-stepped */
    uint64_t exact;             /* serial runs of one process the watchdog never broke */
};

struct rf_pair {
    uint64_t w, r;              /* write site (0: the initial value), read site */
    uint32_t flags;             /* WEDGE_RF_PAIR_*: an atomic write (drawn as each); AUTO_PAIR_* */
    /* where a constraint on it holds (a hold point, wedge_token.h): the writer's and the
     * reader's ordinal and lock acquisitions when the access ran inside a critical section
     * (acq 0: outside one), and the read object's stable name */
    uint32_t wt, wacq, rt, racq;
    uint64_t okey;
    uint32_t page;              /* the key of the read's page (0: none known) */
    uint32_t pad;
};

struct run_slot {
    unsigned arm;
    uint32_t length;            /* PCT length in its token */
    uint32_t nrf;               /* reads-from constraints in its token */
    int ready;                  /* its constraints and PCT length are drawn (or it has none) */
    struct wedge_rf_constraint rf[WEDGE_TOKEN_RF];
    uint32_t nfocus;            /* pages in its token's PAGES field */
    uint32_t focus[WEDGE_TOKEN_PAGES];
    int done, failed, multi, exact;
    uint64_t steps, injections, traps, us;
    uint32_t npairs;            /* reads-from pairs the run saw */
    struct rf_pair pairs[WEDGE_RF_PAIRS];
    uint32_t nfutex;            /* futex words the run named (their stable names) */
    int futex_lost;             /* some did not fit the run's table */
    uint64_t futex[WEDGE_FUTEX_WORDS];
    uint32_t nshared, nwatched; /* pages the run saw shared, and watched (keys, sorted) */
    uint32_t shared[WEDGE_SHARED_PAGES], watched[WEDGE_SHARED_PAGES];
    uint64_t cov[WEDGE_COV_WORDS]; /* last: draw_epoch clears what is before it */
};

struct pool_pair {
    struct rf_pair p;
    uint64_t runs;              /* runs that saw it */
    uint64_t tried;             /* runs drawn with a constraint on it */
};

struct pool_page {
    uint32_t key;               /* wedge_page_key */
    uint32_t pad;
    uint64_t runs;              /* closed epochs' runs that saw it shared */
    uint64_t watched;           /* of them, runs that watched it */
    uint64_t focused;           /* runs drawn to watch only it and a few more */
};

struct portfolio {
    const struct wedge_config *cfg;
    unsigned narms;
    const struct arm_def *arm[WEDGE_BANDIT_MAX_ARMS];
    uint32_t opts;              /* of watching arms: --detect lost-update or memory */
    struct arm_stats stats[WEDGE_BANDIT_MAX_ARMS];
    struct wedge_bandit bandit;
    uint64_t total;             /* runs of this shard */
    uint64_t closed, drawn;     /* epochs closed / with arms drawn */
    struct run_slot ring[2][AUTO_EPOCH];
    uint64_t campaign_cov[WEDGE_COV_WORDS];
    uint64_t cov_bits;
    uint64_t calib[WEDGE_BANDIT_MAX_ARMS][AUTO_CALIB]; /* steps of an arm's first runs pooled */
    unsigned ncalib[WEDGE_BANDIT_MAX_ARMS];
    uint8_t *run_arms;          /* arm of run q, q < min(total, AUTO_RUN_ARMS_MAX) */
    uint64_t started;           /* 1 + the highest run index handed out */
    struct pool_pair pool[AUTO_POOL_MAX]; /* in the order first seen (run-index order) */
    uint32_t npool;
    uint32_t pool_index[AUTO_POOL_HASH]; /* pool position + 1; 0: empty */
    uint64_t rf_runs;           /* runs given a constraint */
    uint64_t merged;            /* runs 0 .. merged - 1 joined the pool */
    uint64_t derived;           /* runs 0 .. derived - 1 have their constraints drawn */
    uint64_t rf_waits;          /* runs whose start waited for the run they derive from */
    uint64_t waited;            /* 1 + the last run counted in rf_waits */
    uint64_t drawn_runs[WEDGE_BANDIT_MAX_ARMS]; /* runs drawn per arm */
    uint64_t cov_rewarded[2];   /* runs rewarded for new coverage, unwatched / watched */
    double serial_wall_us, serial_model_us; /* of the serial runs of closed epochs */
    int rf_share;               /* a closed epoch's run saw an atomic pair on an object no
                                   such run named as a futex word: the rf arms have their
                                   share of the runs (AUTO_RF_ATOMIC_SHARE) */
    uint64_t rf_share_epochs;   /* closed epochs after which the share was on */
    /* of the closed epochs' runs: the objects named as futex words, and those atomic pairs'
     * writes were to (open addressing on the stable name, 0: free) */
    uint64_t futex_keys[AUTO_KEYS], atomic_keys[AUTO_KEYS];
    uint32_t nfutex_keys, natomic_keys;
    int keys_lost;              /* a set was full, a run's futex table lost a word, or an
                                   atomic pair named no object: the gate opens on any */
    /* the pages closed epochs' runs saw shared, in the order first seen (run-index order) */
    struct pool_page pages[AUTO_PAGES];
    uint32_t npages;
    uint32_t page_index[AUTO_PAGES_HASH]; /* pages position + 1; 0: empty */
    uint64_t focus_runs;        /* runs done with a PAGES field (focused or rf runs) */
    int focus_share;            /* a pool page seen shared by two runs was neither watched nor
                                   focused on: the focused arms have their share of the runs
                                   (AUTO_FOCUS_SHARE) */
    uint64_t focus_share_epochs; /* closed epochs after which the share was on */
    unsigned nfocus_arms;       /* focused arms in the portfolio (none in the default) */
    int modelled_cost;          /* every arm serial: every run's cost from the model (a run the
                                   watchdog made inexact too: its wall time under load would
                                   make the draws depend on the machine) */
};

/* What a serial run costs, modelled from what it did (microseconds): a process start, the
 * setting up of memory watching, each scheduling point, each hand-over to another thread (a
 * futex wake and wait) and each trapped access (a fault and the access carried out by the
 * handler; a single step and a second trap more for one it steps).  Figures read off wall
 * times of serial runs on the 2-core VM (100-run default campaigns of nine fixed twins, per
 * arm from the JSON): a C target's run of a few hundred steps takes 1 to 2.5 ms unwatched, a
 * watched one about 1 ms more before its traps; the hand-overs most of the difference between
 * random walk (a preemption at many steps) and POS or PCT (few).
 *
 * A step is weighed 1 us: a 400-run default campaign of router_history_fixed.py ran
 * serial.pct3 (50,000 steps, few hand-overs) in 50 ms and serial.random (24,000 steps, 5,000
 * hand-overs) in 134, which at 2 us a step the model put at 110 and 151, so serial.random
 * took 68 runs with no new coverage; at 1 us a 1,000-run campaign cost 2.1x its cheapest
 * arm's time per run against 2.4x (both builds at once), the finding corpus's medians the
 * same.
 *
 * A trap is weighed 40 us, what it cost when every trap was single-stepped (30 to 47 us),
 * though one carried out by the handler now costs 5 to 19 us beside the hand-overs and a
 * stepped one 12 to 16 us more (serial.pct3.m against serial.pct3, 20 runs each on ten
 * twins; WEDGE_MW_STEP for the stepped).  The weight is policy, not measurement: only watched
 * runs see reads-from pairs, so the new-coverage reward leans to the watching arms, most on
 * programs with many pairs (CPython), and the dear trap offsets it.  At the measured 12 us
 * the default spent 3.4x its cheapest arm's time per run on router_history_fixed.py (1,000
 * runs; 2.4x at 40 us), at 8 us 3.3x on futex_cond_ok (200 runs; 2.1x at 40), its first
 * reproductions no sooner (at 8 us, the finding corpus: the same medians).
 *
 * Only the ratios between arms matter to the draws.  (Before, a start of 2 ms and a trap of
 * 20 us made a watched run of ordering_many_fixed 3 look 1.1x an unwatched one; it is 2x.) */
static double modelled_cost_us(const struct portfolio *p, const struct run_slot *r)
{
    return 1000.0 + (p->arm[r->arm]->watch ? 1000.0 : 0) + 1.0 * (double)r->steps +
           20.0 * (double)r->injections + 40.0 * (double)r->traps;
}

/* A run's cost as the bandit weighs it, in the model's unit.  A serial run's is always the
 * model's, also beside noise arms: a wall time measured under load is noisy, and an arm
 * drawn rarely (a dear one, or one whose first run met a busy machine) keeps the mean of its
 * few runs for long (a serial.random.m run of ordering_many_fixed 3 that took 131 ms once
 * instead of 6 kept the arm from being drawn again in that campaign).  A noise run has no
 * model (it sleeps): its wall time, in the model's unit by the ratio of wall time to model
 * over all the campaign's serial runs so far (pooled, so no single run's load weighs much). */
static double run_cost(const struct portfolio *p, const struct run_slot *r)
{
    if (p->modelled_cost || p->arm[r->arm]->mode == WEDGE_MODE_SERIAL)
        return modelled_cost_us(p, r);
    double scale = p->serial_model_us > 0 && p->serial_wall_us > 0
                       ? p->serial_wall_us / p->serial_model_us : 1.0;
    return (double)r->us / scale;
}

static int arm_enabled_by_default(const struct arm_def *a)
{
    return a->in_default && (!a->watch || AUTO_WATCH_ARMS);
}

/* The arms named in a comma-separated list; -1 with a message on an unknown name. */
static int select_arms(struct portfolio *p, const char *list)
{
    char *copy = strdup(list), *save = NULL;
    if (!copy)
        return -1;
    int rc = 0;
    for (char *n = strtok_r(copy, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
        size_t k = 0;
        while (k < NARM_DEFS && strcmp(arm_table[k].name, n) != 0)
            k++;
        if (k == NARM_DEFS) {
            char known[512] = "";
            for (size_t i = 0; i < NARM_DEFS; i++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                         i ? ", " : "", arm_table[i].name);
            usage_error("--arms: unknown arm '%s' (arms: %s)", n, known);
            rc = -1;
            break;
        }
        int dup = 0;
        for (unsigned i = 0; i < p->narms; i++)
            dup |= p->arm[i] == &arm_table[k];
        if (!dup)
            p->arm[p->narms++] = &arm_table[k];
    }
    free(copy);
    if (!rc && p->narms == 0) {
        usage_error("--arms: no arm given");
        rc = -1;
    }
    return rc;
}

int portfolio_check_arms(const char *list)
{
    struct portfolio *p = calloc(1, sizeof *p);
    if (!p)
        return -1;
    int rc = select_arms(p, list);
    free(p);
    return rc;
}

/* A pair of the C runtime's start-up and exit code (crtstuff's __do_global_dtors_aux reads its
 * `completed` flag at exit, in every run): no ordering of the program's threads lies in it,
 * and constraints drawn on it were wasted runs (2 of steal_deque's 9 pairs a run).  By the
 * function the site symbolizes to, so a stripped program keeps them all. */
static int rf_junk_site(const struct wedge_shm_header *h, uint64_t site)
{
    static const char *const crt[] = {
        "_start", "_init", "_fini", "__do_global_dtors_aux", "frame_dummy",
        "register_tm_clones", "deregister_tm_clones", "__libc_csu_init", "__libc_csu_fini",
    };
    if (!site)
        return 0;
    const char *s = symbolize(h, site, 0);
    size_t n = strcspn(s, " ");
    for (size_t i = 0; i < sizeof crt / sizeof crt[0]; i++)
        if (strlen(crt[i]) == n && memcmp(s, crt[i], n) == 0)
            return 1;
    return 0;
}

static int rf_junk(const struct wedge_shm_header *h, const struct wedge_rf_pair *e)
{
    return rf_junk_site(h, e->write_site) || rf_junk_site(h, e->read_site);
}

/* A site in Rust's runtime, linked into the program itself (std, core, alloc: a symbol of
 * theirs, mangled either way or demangled).  Its atomic writes are an Arc's count, a
 * thread's start, a lazily made key, not the program's lock-free data: the gate of the rf
 * share does not count them (header comment, "Lock-free code"). */
static int rust_runtime_site(const struct wedge_shm_header *h, uint64_t site)
{
    static const char *const crates[] = { "std", "core", "alloc" };
    const char *s = symbolize(h, site, 0);
    for (size_t i = 0; i < sizeof crates / sizeof crates[0]; i++) {
        const char *c = crates[i];
        size_t n = strlen(c);
        char lead[32];
        snprintf(lead, sizeof lead, "%zu%s", n, c);
        if ((strncmp(s, c, n) == 0 && strncmp(s + n, "::", 2) == 0) ||
            (s[0] == '<' && strncmp(s + 1, c, n) == 0 && strncmp(s + 1 + n, "::", 2) == 0))
            return 1; /* demangled */
        if (strncmp(s, "_ZN", 3) == 0) { /* legacy: _ZN3std..., _ZN70_$LT$alloc..sync... */
            const char *q = s + 3;
            while (*q >= '0' && *q <= '9')
                q++;
            if (strncmp(q, c, n) == 0 || (strncmp(q, "_$LT$", 5) == 0 && strncmp(q + 5, c, n) == 0))
                return 1;
        }
        if (strncmp(s, "_R", 2) == 0) { /* v0: the crate root Cs<disambiguator>_3std */
            const char *u = strchr(s + 2, '_');
            if (u && strncmp(u + 1, lead, strlen(lead)) == 0)
                return 1;
        }
    }
    return 0;
}

static uint64_t pair_hash(const struct rf_pair *x)
{
    return wedge_mix(wedge_mix(x->w, 0x706f6f6cull), x->r);
}

static void pool_add(struct portfolio *p, const struct rf_pair *x)
{
    for (uint64_t h = pair_hash(x);; h++) {
        uint32_t *slot = &p->pool_index[h & (AUTO_POOL_HASH - 1)];
        if (*slot == 0) {
            if (p->npool == AUTO_POOL_MAX)
                return; /* full: later pairs are not drawn */
            p->pool[p->npool] = (struct pool_pair){ *x, 1, 0 };
            *slot = ++p->npool;
            return;
        }
        struct pool_pair *q = &p->pool[*slot - 1];
        if (q->p.w == x->w && q->p.r == x->r) {
            q->runs++;
            /* a pair first seen by a run that counted no acquisitions (a noise run) takes
             * the hold points of the first that did */
            if (!q->p.wacq && !q->p.racq && (x->wacq || x->racq)) {
                uint32_t flags = q->p.flags;
                q->p = *x;
                q->p.flags = flags;
            }
            return;
        }
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_pair(const void *a, const void *b)
{
    const struct rf_pair *x = a, *y = b;
    if (x->w != y->w)
        return x->w < y->w ? -1 : 1;
    return x->r < y->r ? -1 : x->r > y->r;
}

/* A pair's weight: rare ones first, 2^20 / (runs that saw it + runs drawn on it).  Without
 * the second term a pair whose constraint keeps it from being seen again (negate(0, R): R
 * never reads the initial value again) stays the rarest and took most draws (131 of 300 runs
 * on ordering_many 10, measured). */
static uint64_t pool_weight(const struct pool_pair *q)
{
    uint64_t w = (1u << 20) / (q->runs + q->tried) + 1;
    return q->p.flags & WEDGE_RF_PAIR_ATOMIC ? w * AUTO_RF_ATOMIC_WEIGHT : w;
}

/* One pool pair, by pool_weight. */
static uint32_t pool_pick(const struct portfolio *p, uint64_t rnd)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < p->npool; i++)
        total += pool_weight(&p->pool[i]);
    uint64_t x = rnd % total;
    for (uint32_t i = 0; i < p->npool; i++) {
        uint64_t w = pool_weight(&p->pool[i]);
        if (x < w)
            return i;
        x -= w;
    }
    return p->npool - 1;
}

/* The constraints of an rf arm's run from the pool, a function of the run's seed and the
 * pool (header comment). */
static void draw_constraints(struct portfolio *p, struct run_slot *r, uint64_t seed)
{
    r->nrf = 0;
    if (!p->npool)
        return;
    uint64_t rnd = wedge_mix(seed, 0x7266647261776eull);
    unsigned want = (unsigned)p->arm[r->arm]->rf < p->npool ? (unsigned)p->arm[r->arm]->rf
                                                             : p->npool;
    uint32_t first = UINT32_MAX, page[WEDGE_TOKEN_RF] = { 0 };
    for (unsigned k = 0; k < want && k < WEDGE_TOKEN_RF; k++) {
        uint32_t i = pool_pick(p, wedge_mix(rnd, 2 + k));
        if (i == first)
            break;
        first = i;
        p->pool[i].tried++;
        const struct rf_pair *x = &p->pool[i].p;
        page[r->nrf] = x->page;
        struct wedge_rf_constraint *c = &r->rf[r->nrf++];
        memset(c, 0, sizeof *c);
        c->write_site = x->w;
        c->read_site = x->r;
        c->kind = x->w && wedge_mix(rnd, 9 + k) % AUTO_RF_PIN_ONE_IN == 0 ? WEDGE_RF_PIN
                                                                         : WEDGE_RF_NEGATE;
        /* a compare-and-swap's write (a lock-free structure's) is retried in a loop: held only
         * at its first instance, the thief of steal_deque is released before the owner's pop
         * that races it (each found it in 7 of 60 seeds, negate in 1; serial.pos.m) */
        if (x->flags & WEDGE_RF_PAIR_ATOMIC)
            c->kind = WEDGE_RF_EACH;
        /* The held side's access inside a critical section is held at the lock call that
         * began it: held at the access, the threads it waits for wait for its lock, every
         * candidate is held and the constraint yields (pct_depth3: B's read of A's window
         * flag under the lock never saw the flag set, in any run).  Negate holds the
         * writer; pin and negate of the initial value hold the reader. */
        int holds_writer = c->kind == WEDGE_RF_NEGATE && x->w;
        uint32_t t = holds_writer ? x->wt : x->rt, acq = holds_writer ? x->wacq : x->racq;
        /* negate(0, R) held at a lock call must name its object (wedge_token.h) */
        if (c->kind != WEDGE_RF_EACH && acq && t < UINT32_MAX && (x->w || x->okey)) {
            c->hold_thread = t + 1;
            c->hold_n = acq;
            c->obj_key = x->w ? 0 : x->okey;
        }
    }
    /* watching the pages of its pairs whatever the cap (header comment, "Focused
     * watching"), when each is known: a run that watches every page it sees shared watches
     * at most eight, the first to be shared, and the pair's may not be among them */
    r->nfocus = 0;
    for (uint32_t k = 0; k < r->nrf; k++) {
        if (!page[k]) {
            r->nfocus = 0;
            break;
        }
        if (!r->nfocus || r->focus[0] != page[k])
            r->focus[r->nfocus++] = page[k];
    }
}

/* The pool page of key, added if new (NULL: the pool is full). */
static struct pool_page *page_of(struct portfolio *p, uint32_t key)
{
    for (uint64_t h = wedge_mix(key, 0x70616765ull);; h++) {
        uint32_t *slot = &p->page_index[h & (AUTO_PAGES_HASH - 1)];
        if (*slot == 0) {
            if (p->npages == AUTO_PAGES)
                return NULL;
            p->pages[p->npages] = (struct pool_page){ .key = key };
            *slot = ++p->npages;
            return &p->pages[*slot - 1];
        }
        if (p->pages[*slot - 1].key == key)
            return &p->pages[*slot - 1];
    }
}

/* A closed epoch's run's shared and watched pages join the campaign's (in run-index order,
 * its keys sorted: the pool is a function of the closed epochs). */
static void pages_add(struct portfolio *p, const struct run_slot *r)
{
    for (uint32_t i = 0; i < r->nshared; i++) {
        struct pool_page *g = page_of(p, r->shared[i]);
        if (g)
            g->runs++;
    }
    for (uint32_t i = 0; i < r->nwatched; i++) {
        struct pool_page *g = page_of(p, r->watched[i]);
        if (g)
            g->watched++;
    }
}

/* A page's weight: 2^16 * (runs that saw it shared) / (1 + runs that watched it + runs drawn
 * to focus on it): a page that only late becomes shared, past the cap of the runs that watch
 * what they see shared, is watched by none of them and comes first; a page whose key few runs
 * see (an object allocated in an order that varies from run to run: fanout_map's nodes) comes
 * late, its object most likely absent from the run focused on it. */
static uint64_t page_weight(const struct pool_page *g)
{
    uint64_t runs = g->runs < 1024 ? g->runs : 1024;
    return ((uint64_t)1 << 16) * runs / (1 + g->watched + g->focused) + 1;
}

/* A focused arm's run's pages (header comment, "Focused watching"): 1 to WEDGE_TOKEN_PAGES
 * pool pages by page_weight, a function of the seed and the pool; none (its base arm's run)
 * while the pool is empty. */
static void draw_focus(struct portfolio *p, struct run_slot *r, uint64_t seed)
{
    r->nfocus = 0;
    uint64_t rnd = wedge_mix(seed, 0x666f637573ull);
    if (!p->npages)
        return;
    unsigned want = 1 + (unsigned)(wedge_mix(rnd, 1) % WEDGE_TOKEN_PAGES);
    uint64_t total = 0;
    for (uint32_t i = 0; i < p->npages; i++)
        total += page_weight(&p->pages[i]);
    for (unsigned k = 0; k < want && k < p->npages; k++) {
        /* without replacement: a page drawn leaves the total */
        uint64_t x = wedge_mix(rnd, 2 + k) % total;
        uint32_t pick = UINT32_MAX;
        for (uint32_t i = 0; i < p->npages; i++) {
            int taken = 0;
            for (uint32_t m = 0; m < r->nfocus; m++)
                taken |= r->focus[m] == p->pages[i].key;
            if (taken)
                continue;
            pick = i;
            uint64_t w = page_weight(&p->pages[i]);
            if (x < w)
                break;
            x -= w;
        }
        if (pick == UINT32_MAX)
            break;
        total -= page_weight(&p->pages[pick]);
        r->focus[r->nfocus++] = p->pages[pick].key;
    }
    for (uint32_t m = 0; m < r->nfocus; m++)
        page_of(p, r->focus[m])->focused++;
}

/* The first arm no run was drawn for yet (narms: none).  The first two epochs are drawn
 * before any run ended, from the priors alone (the likeliest finders first: most of the
 * corpus's watch-found shapes are found there, ordering_many 3 in a median of 15 runs);
 * from the third on, an arm those left out gets the next run, so that its cost is learned
 * before the bandit weighs it (until then it is taken to cost the model's fixed part). */
static unsigned untried_arm(const struct portfolio *p)
{
    for (unsigned k = 0; k < p->narms; k++)
        if (!p->drawn_runs[k])
            return k;
    return p->narms;
}

static struct run_slot *slot_of(struct portfolio *p, uint64_t q)
{
    return &p->ring[(q / AUTO_EPOCH) % 2][q % AUTO_EPOCH];
}

/* The seed of this shard's run q (its token's, campaign.c) */
static uint64_t run_seed(const struct portfolio *p, uint64_t q)
{
    return wedge_run_seed(p->cfg->seed, q * p->cfg->shard_n + p->cfg->shard_k - 1);
}

/* Its runs wait for the pool: reads-from constraints, or a PCT length from its own runs. */
static int arm_derives(const struct arm_def *a)
{
    return a->rf || a->strategy == WEDGE_STRAT_PCT;
}

/* A PCT run's length: the median steps of its arm's first runs in the pool (0: none yet). */
static uint32_t arm_length(const struct portfolio *p, unsigned arm)
{
    uint64_t m = wedge_median_u64(p->calib[arm], p->ncalib[arm]);
    return m > AUTO_MAX_LENGTH ? AUTO_MAX_LENGTH : (uint32_t)m;
}

static void draw_epoch(struct portfolio *p, uint64_t e)
{
    struct run_slot *ring = p->ring[e % 2];
    for (unsigned k = 0; k < AUTO_EPOCH; k++) {
        uint64_t q = e * AUTO_EPOCH + k;
        struct run_slot *r = &ring[k];
        memset(r, 0, sizeof *r - sizeof r->cov);
        uint64_t seed = run_seed(p, q);
        r->arm = e >= 2 ? untried_arm(p) : p->narms;
        if (r->arm == p->narms)
            r->arm = wedge_bandit_draw(&p->bandit, wedge_mix(seed, 0x6175746f61726dull));
        p->drawn_runs[r->arm]++;
        if (p->arm[r->arm]->focus)
            draw_focus(p, r, seed);
        /* an rf or PCT arm's run derives once run q - rf_lag(q) joined the pool (merge_next) */
        r->ready = !arm_derives(p->arm[r->arm]) || q < AUTO_RF_LAG_MIN;
        if (q < p->total && q < AUTO_RUN_ARMS_MAX)
            p->run_arms[q] = (uint8_t)r->arm;
    }
    p->drawn = e + 1;
}

static uint64_t epoch_runs(const struct portfolio *p, uint64_t e)
{
    uint64_t first = e * AUTO_EPOCH;
    if (first >= p->total)
        return 0;
    uint64_t n = p->total - first;
    return n < AUTO_EPOCH ? n : AUTO_EPOCH;
}

/* The reward of a run that set new coverage, by its arm class (watching or not: a watched
 * run sees pairs of plain memory accesses, which no unwatched run can), diminishing with the
 * number of runs of the class rewarded so: in a class whose runs keep setting new bits the
 * coverage space is large, and one more new pair says less than in a class whose coverage
 * flattened (the watching arms of fanout_map_fixed set new bits in run after run, and their
 * coverage rewards kept those arms, 15x dearer per run, at a third of the time). */
static double coverage_reward(struct portfolio *p, int watch)
{
    return AUTO_REWARD_COVERAGE * AUTO_COV_HALF / (AUTO_COV_HALF + (double)p->cov_rewarded[watch]++);
}

/* The rf arms' share of the runs (header comment, "Lock-free code"), split evenly; or none. */
static void rf_share_set(struct portfolio *p, int on)
{
    unsigned nrf = 0;
    for (unsigned k = 0; k < p->narms; k++)
        nrf += p->arm[k]->rf != 0;
    for (unsigned k = 0; k < p->narms; k++)
        if (p->arm[k]->rf)
            wedge_bandit_share(&p->bandit, k, on ? AUTO_RF_ATOMIC_SHARE / nrf : 0);
    p->rf_share = on;
}

/* Add a stable name to one of the key sets; 1 if it is in it now. */
static int key_add(uint64_t *set, uint32_t *n, uint64_t key)
{
    for (uint64_t h = wedge_mix(key, 0x6b6579ull), i = 0; i < AUTO_KEYS; h++, i++) {
        uint64_t *slot = &set[h & (AUTO_KEYS - 1)];
        if (*slot == key)
            return 1;
        if (*slot == 0) {
            if (*n >= AUTO_KEYS / 2)
                return 0; /* half full: probes stay short, the gate opens on any */
            *slot = key;
            ++*n;
            return 1;
        }
    }
    return 0;
}

static int key_has(const uint64_t *set, uint64_t key)
{
    for (uint64_t h = wedge_mix(key, 0x6b6579ull), i = 0; i < AUTO_KEYS; h++, i++) {
        uint64_t k = set[h & (AUTO_KEYS - 1)];
        if (k == key)
            return 1;
        if (k == 0)
            return 0;
    }
    return 0;
}

/* A closed epoch's run joins the gate's sets: its futex words, the objects of its atomic
 * pairs. */
static void gate_add(struct portfolio *p, const struct run_slot *r)
{
    for (uint32_t i = 0; i < r->nfutex; i++)
        if (!key_add(p->futex_keys, &p->nfutex_keys, r->futex[i]))
            p->keys_lost = 1;
    p->keys_lost |= r->futex_lost;
    for (uint32_t i = 0; i < r->npairs; i++)
        if ((r->pairs[i].flags & (WEDGE_RF_PAIR_ATOMIC | AUTO_PAIR_RUNTIME)) == WEDGE_RF_PAIR_ATOMIC)
            if (!r->pairs[i].okey || !key_add(p->atomic_keys, &p->natomic_keys, r->pairs[i].okey))
                p->keys_lost = 1;
}

/* The gate of the rf share, at each epoch's close: some object written atomically that no
 * run named as a futex word (lock-free data, not a lock's word).  Both sets are of the closed
 * epochs' runs, so the gate is a function of them; it shuts again once a later run names an
 * object's futex word, and opens again on a new one. */
static int gate_open(const struct portfolio *p)
{
    if (!p->natomic_keys && !p->keys_lost)
        return 0;
    if (p->keys_lost)
        return 1;
    for (uint32_t i = 0; i < AUTO_KEYS; i++)
        if (p->atomic_keys[i] && !key_has(p->futex_keys, p->atomic_keys[i]))
            return 1;
    return 0;
}

/* The gate of the focused arms' share: a page the closed epochs' runs saw shared, none of
 * them watched and no run was focused on yet (a function of the closed epochs and of the
 * draws, as the rf share's gate).  Tried once, a page no longer holds it open: fanout_map's
 * node pages, each seen shared in a run or two, kept it open for 200 of 1,000 runs when a
 * page's focused runs did not count (the page was absent from them, and never watched). */
static int focus_gate_open(const struct portfolio *p)
{
    for (uint32_t i = 0; p->nfocus_arms && i < p->npages; i++)
        if (p->pages[i].runs >= AUTO_FOCUS_SEEN && !p->pages[i].watched && !p->pages[i].focused)
            return 1;
    return 0;
}

static void focus_share_set(struct portfolio *p, int on)
{
    for (unsigned k = 0; k < p->narms; k++)
        if (p->arm[k]->focus)
            wedge_bandit_share(&p->bandit, k, on ? AUTO_FOCUS_SHARE / p->nfocus_arms : 0);
    p->focus_share = on;
}

/* Consume epoch `closed` in run-index order and draw the epoch after next. */
static void close_epochs(struct portfolio *p)
{
    for (;;) {
        uint64_t e = p->closed;
        uint64_t n = epoch_runs(p, e);
        if (n == 0)
            return;
        struct run_slot *ring = p->ring[e % 2];
        if (p->merged < e * AUTO_EPOCH + n)
            return; /* its slots still hold pairs for the pool */
        wedge_bandit_decay(&p->bandit, AUTO_DECAY);
        for (uint64_t k = 0; k < n; k++)
            if (p->arm[ring[k].arm]->mode == WEDGE_MODE_SERIAL) {
                p->serial_wall_us += (double)ring[k].us;
                p->serial_model_us += modelled_cost_us(p, &ring[k]);
            }
        for (uint64_t k = 0; k < n; k++) {
            struct run_slot *r = &ring[k];
            uint64_t fresh = 0;
            for (unsigned w = 0; w < WEDGE_COV_WORDS; w++) {
                uint64_t add = r->cov[w] & ~p->campaign_cov[w];
                if (add) {
                    fresh += (uint64_t)__builtin_popcountll(add);
                    p->campaign_cov[w] |= add;
                }
            }
            p->cov_bits += fresh;
            if (fresh)
                p->stats[r->arm].new_cov++;
            double reward = (r->failed ? AUTO_REWARD_REPRO : 0) +
                            (fresh ? coverage_reward(p, p->arm[r->arm]->watch != 0) : 0);
            wedge_bandit_update(&p->bandit, r->arm, reward);
            wedge_bandit_cost(&p->bandit, r->arm, AUTO_COST_BASE_US + run_cost(p, r));
            gate_add(p, r);
            pages_add(p, r);
        }
        int open = gate_open(p);
        if (open != p->rf_share)
            rf_share_set(p, open);
        p->rf_share_epochs += (uint64_t)open;
        open = focus_gate_open(p);
        if (open != p->focus_share)
            focus_share_set(p, open);
        p->focus_share_epochs += (uint64_t)open;
        p->closed = e + 1;
        draw_epoch(p, e + 2);
    }
}

/* Run q derives from runs 0 .. q - rf_lag(q) (q >= AUTO_RF_LAG_MIN): 2 up to run 11, then
 * a quarter of q, up to AUTO_EPOCH from run 32 on (see the header). */
static uint64_t rf_lag(uint64_t q)
{
    uint64_t lag = q / 4;
    return lag < AUTO_RF_LAG_MIN ? AUTO_RF_LAG_MIN : lag > AUTO_EPOCH ? AUTO_EPOCH : lag;
}

/* Draw the constraints of every run whose pool is complete (runs 0 .. q - rf_lag(q) joined),
 * in run-index order.  Returns 0 while such a run's arm is not drawn yet: the pool must not
 * grow before it is. */
static int draw_derived(struct portfolio *p)
{
    for (; p->derived < p->total; p->derived++) {
        uint64_t q = p->derived;
        if (q >= AUTO_RF_LAG_MIN && q - rf_lag(q) >= p->merged)
            return 1;
        if (q / AUTO_EPOCH >= p->drawn)
            return 0;
        struct run_slot *d = slot_of(p, q);
        if (!d->ready) {
            if (p->arm[d->arm]->rf)
                draw_constraints(p, d, run_seed(p, q));
            if (p->arm[d->arm]->strategy == WEDGE_STRAT_PCT)
                d->length = arm_length(p, d->arm);
            d->ready = 1;
        }
    }
    return 1;
}

/* Run `merged` joins the pool if it is done and the runs whose pool it completes are drawn;
 * then their constraints are drawn.  Returns 1 if it joined. */
static int merge_next(struct portfolio *p)
{
    uint64_t k = p->merged;
    if (k >= p->total || k / AUTO_EPOCH >= p->drawn || k / AUTO_EPOCH < p->closed)
        return 0;
    struct run_slot *r = slot_of(p, k);
    if (!r->done || !draw_derived(p))
        return 0;
    qsort(r->pairs, r->npairs, sizeof r->pairs[0], cmp_pair);
    for (uint32_t i = 0; i < r->npairs; i++)
        pool_add(p, &r->pairs[i]);
    if (p->arm[r->arm]->mode == WEDGE_MODE_SERIAL && !r->multi && r->steps &&
        p->ncalib[r->arm] < AUTO_CALIB)
        p->calib[r->arm][p->ncalib[r->arm]++] = r->steps;
    p->merged = k + 1;
    draw_derived(p);
    return 1;
}

/* Pool and epochs, as far as the finished runs allow (each may unblock the other). */
static void advance(struct portfolio *p)
{
    for (;;) {
        int progress = 0;
        while (merge_next(p))
            progress = 1;
        uint64_t c = p->closed;
        close_epochs(p);
        if (!progress && p->closed == c)
            return;
    }
}

struct portfolio *portfolio_new(const struct wedge_config *cfg, uint64_t runs)
{
    struct portfolio *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->cfg = cfg;
    p->total = runs;
    p->opts = cfg->opts ? cfg->opts : WEDGE_OPT_MEMORY;
    if (cfg->arms_arg) {
        if (select_arms(p, cfg->arms_arg) != 0) {
            free(p);
            return NULL;
        }
    } else {
        /* LeakSanitizer builds cannot be watched (target.c refuses --watch mem for them):
         * their default portfolio has no watching arms */
        int no_watch = (cfg->san.flags & SAN_LSAN) && !(cfg->san.flags & SAN_ASAN);
        for (size_t k = 0; k < NARM_DEFS; k++)
            if (cfg->opts ? arm_table[k].watch
                          : arm_enabled_by_default(&arm_table[k]) && !(no_watch && arm_table[k].watch))
                p->arm[p->narms++] = &arm_table[k];
    }
    if (cfg->opts) {
        /* --watch mem / --detect pin watching on: keep only watching arms */
        unsigned n = 0;
        for (unsigned k = 0; k < p->narms; k++)
            if (p->arm[k]->watch)
                p->arm[n++] = p->arm[k];
        p->narms = n;
        if (!n) {
            usage_error("--arms: no watching arm left with --watch/--detect");
            free(p);
            return NULL;
        }
    }
    double prior[WEDGE_BANDIT_MAX_ARMS];
    p->modelled_cost = 1;
    for (unsigned k = 0; k < p->narms; k++) {
        p->nfocus_arms += p->arm[k]->focus != 0;
        prior[k] = p->arm[k]->prior;
        p->modelled_cost &= p->arm[k]->mode == WEDGE_MODE_SERIAL;
    }
    wedge_bandit_init(&p->bandit, p->narms, prior, AUTO_FLOOR);
    wedge_bandit_pool(&p->bandit, AUTO_POOL_MISSES);
    uint64_t keep = runs < AUTO_RUN_ARMS_MAX ? runs : AUTO_RUN_ARMS_MAX;
    p->run_arms = calloc(keep ? keep : 1, 1);
    if (!p->run_arms) {
        free(p);
        return NULL;
    }
    draw_epoch(p, 0);
    draw_epoch(p, 1);
    /* Until its first run is in, an arm is taken to cost the model's fixed part (a run's
     * least cost; a noise run's in the same unit).  Taken to be the dearest instead, the
     * unwatched arms of fanout_map_fixed, absent from the first epoch and still out when
     * the next two were drawn, left 12 of runs 16 to 31 to watching arms 20x dearer.  Set
     * after the first two epochs are drawn: those go by the priors alone. */
    for (unsigned k = 0; k < p->narms; k++)
        wedge_bandit_prior_cost(&p->bandit, k, AUTO_COST_BASE_US + 1000.0 +
                                                   (p->arm[k]->watch ? 1000.0 : 0));
    return p;
}

void portfolio_free(struct portfolio *p)
{
    if (!p)
        return;
    free(p->run_arms);
    free(p);
}

unsigned portfolio_narms(const struct portfolio *p)
{
    return p->narms;
}

int portfolio_token(struct portfolio *p, uint64_t q, struct wedge_token *tok)
{
    uint64_t e = q / AUTO_EPOCH;
    if (e >= p->drawn)
        return 0;
    const struct run_slot *r = slot_of(p, q);
    if (!r->ready) {
        /* its constraints or length come once run q - rf_lag(q) joined the pool */
        if (q + 1 > p->waited) {
            p->waited = q + 1;
            p->rf_waits++;
        }
        return 0;
    }
    if (q + 1 > p->started)
        p->started = q + 1;
    const struct arm_def *a = p->arm[r->arm];
    tok->version = 1;
    tok->mode = a->mode;
    tok->strategy = a->strategy;
    tok->depth = a->depth;
    tok->length = a->strategy == WEDGE_STRAT_PCT ? r->length : 0;
    tok->opts = a->watch ? p->opts : 0;
    tok->nrf = r->nrf;
    memcpy(tok->rf, r->rf, sizeof tok->rf);
    tok->npages = r->nfocus; /* drawn for watching arms only (focused, rf) */
    memcpy(tok->pages, r->focus, sizeof tok->pages);
    return 1;
}

void portfolio_done(struct portfolio *p, uint64_t q, const struct job *j, int failed)
{
    uint64_t e = q / AUTO_EPOCH;
    if (e < p->closed || e >= p->drawn)
        return;
    struct run_slot *r = slot_of(p, q);
    if (r->done)
        return;
    struct arm_stats *st = &p->stats[r->arm];
    st->runs++;
    st->repros += failed != 0;
    r->us = j->end_us > j->start_us ? j->end_us - j->start_us : 0;
    st->us += r->us;
    r->done = 1;
    r->failed = failed;
    p->rf_runs += r->nrf != 0;
    p->focus_runs += r->nfocus != 0;
    const struct wedge_shm_header *h = j->shm ? j->shm->hdr : NULL;
    if (h) {
        st->steps += atomic_load(&h->steps);
        st->traps += atomic_load(&h->traps);
        st->stepped += atomic_load(&h->traps_stepped);
        r->steps = atomic_load(&h->steps);
        r->multi = atomic_load(&h->nprocs) > 1;
        r->injections = atomic_load(&h->injections);
        r->traps = atomic_load(&h->traps);
        r->exact = p->arm[r->arm]->mode == WEDGE_MODE_SERIAL && !r->multi &&
                   !(atomic_load(&h->flags) & WEDGE_RUN_NOT_EXACT);
        st->exact += (uint64_t)r->exact;
        for (unsigned w = 0; w < WEDGE_COV_WORDS; w++)
            r->cov[w] = atomic_load_explicit(&h->cov[w], memory_order_relaxed);
        r->npairs = 0;
        if (atomic_load(&h->n_rf))
            for (unsigned i = 0; i < WEDGE_RF_PAIRS; i++)
                if (atomic_load_explicit(&h->rf[i].key, memory_order_relaxed) &&
                    !rf_junk(h, &h->rf[i]))
                    r->pairs[r->npairs++] = (struct rf_pair){
                        h->rf[i].write_site, h->rf[i].read_site, h->rf[i].flags,
                        h->rf[i].write_thread, h->rf[i].write_acq, h->rf[i].read_thread,
                        h->rf[i].read_acq, h->rf[i].obj_key, h->rf[i].page, 0 };
        for (uint32_t i = 0; i < r->npairs; i++)
            if ((r->pairs[i].flags & WEDGE_RF_PAIR_ATOMIC) && rust_runtime_site(h, r->pairs[i].w))
                r->pairs[i].flags |= AUTO_PAIR_RUNTIME;
        r->nfutex = 0;
        if (atomic_load(&h->n_futex))
            for (unsigned i = 0; i < WEDGE_FUTEX_WORDS; i++) {
                uint64_t k = atomic_load_explicit(&h->futex_key[i], memory_order_relaxed);
                if (k)
                    r->futex[r->nfutex++] = k;
            }
        r->futex_lost = atomic_load(&h->futex_dropped) != 0;
        r->nshared = r->nwatched = 0;
        if (atomic_load(&h->n_shared_pages))
            for (unsigned i = 0; i < WEDGE_SHARED_PAGES; i++) {
                uint64_t k = atomic_load_explicit(&h->shared_page[i], memory_order_relaxed);
                if (k)
                    r->shared[r->nshared++] = (uint32_t)k;
                k = atomic_load_explicit(&h->watched_page[i], memory_order_relaxed);
                if (k)
                    r->watched[r->nwatched++] = (uint32_t)k;
            }
        qsort(r->shared, r->nshared, sizeof r->shared[0], cmp_u32);
        qsort(r->watched, r->nwatched, sizeof r->watched[0], cmp_u32);
    } else {
        memset(r->cov, 0, sizeof r->cov);
        r->npairs = 0;
        r->nfutex = 0;
        r->futex_lost = 0;
        r->nshared = r->nwatched = 0;
    }
    advance(p);
}

/* "serial.pct3.m" of "w1.serial.pct3-1200.m.SEED": the token without version, PCT length
 * and seed. */
void portfolio_arm_of_token(const char *token, char *buf, size_t len)
{
    struct wedge_token t;
    char err[8];
    if (wedge_token_parse(token, &t, err, sizeof err) != 0) {
        snprintf(buf, len, "?");
        return;
    }
    t.length = 0;
    t.seed = 0;
    int rf = t.nrf != 0, focus = t.npages != 0;
    t.nrf = 0;
    t.npages = 0;
    if (t.opts)
        t.opts = WEDGE_OPT_MEMORY; /* --detect lost-update runs the watching arms ("l") */
    char full[WEDGE_TOKEN_MAX];
    if (wedge_token_format(&t, full, sizeof full) < 0) {
        snprintf(buf, len, "?");
        return;
    }
    char *start = full + 3, *dot = strrchr(full, '.');
    if (dot)
        *dot = 0;
    /* an rf run with pages is its rf arm's (it watches its pairs' pages) */
    snprintf(buf, len, "%s%s", start, rf ? ".rf" : focus ? ".g" : "");
}

void portfolio_print(const struct portfolio *p, FILE *f)
{
    fprintf(f, "arms (runs, reproductions, runs with new coverage, ms per run):\n");
    for (unsigned k = 0; k < p->narms; k++) {
        const struct arm_stats *st = &p->stats[k];
        fprintf(f, "  %-16s %6" PRIu64 " runs %5" PRIu64 " repro %5" PRIu64 " new %8.1f ms\n",
                p->arm[k]->name, st->runs, st->repros, st->new_cov,
                st->runs ? (double)st->us / 1000.0 / (double)st->runs : 0.0);
    }
    fprintf(f, "schedule coverage: %" PRIu64 " pairs\n", p->cov_bits);
    if (p->rf_runs || p->npool)
        fprintf(f, "reads-from pairs pooled: %" PRIu32 ", runs with a constraint: %" PRIu64 "\n",
                p->npool, p->rf_runs);
    if (p->npages)
        fprintf(f, "pages seen shared: %" PRIu32 ", runs whose token named some: %" PRIu64 "\n",
                p->npages, p->focus_runs);
}

void portfolio_json(const struct portfolio *p, FILE *f)
{
    fprintf(f, ",\n  \"arms\": [");
    for (unsigned k = 0; k < p->narms; k++) {
        const struct arm_stats *st = &p->stats[k];
        fprintf(f, "%s\n    {\"arm\": \"%s\", \"runs\": %" PRIu64 ", \"reproductions\": %" PRIu64
                   ", \"new_coverage\": %" PRIu64 ", \"ms_per_run\": %.3f, \"steps\": %" PRIu64
                   ", \"traps\": %" PRIu64 ", \"traps_stepped\": %" PRIu64
                   ", \"exact_runs\": %" PRIu64 ", \"cost_ms\": %.3f}",
                k ? "," : "", p->arm[k]->name, st->runs, st->repros, st->new_cov,
                st->runs ? (double)st->us / 1000.0 / (double)st->runs : 0.0, st->steps, st->traps,
                st->stepped, st->exact, wedge_bandit_arm_cost(&p->bandit, k) / 1000.0);
    }
    fprintf(f, "\n  ],\n  \"coverage_pairs\": %" PRIu64, p->cov_bits);
    fprintf(f, ",\n  \"rf_pairs\": %" PRIu32 ",\n  \"rf_runs\": %" PRIu64 ",\n  \"rf_waits\": %" PRIu64,
            p->npool, p->rf_runs, p->rf_waits);
    fprintf(f, ",\n  \"rf_share\": %s", p->rf_share ? "true" : "false");
    fprintf(f, ",\n  \"rf_share_epochs\": %" PRIu64 ",\n  \"futex_words\": %" PRIu32
               ",\n  \"atomic_objects\": %" PRIu32,
            p->rf_share_epochs, p->nfutex_keys, p->natomic_keys);
    fprintf(f, ",\n  \"shared_pages\": %" PRIu32 ",\n  \"focused_runs\": %" PRIu64
               ",\n  \"focus_share_epochs\": %" PRIu64, p->npages, p->focus_runs,
            p->focus_share_epochs);
    /* the pool's first pages: a PAGES field's keys (wedge_token.h), for replaying by hand */
    fprintf(f, ",\n  \"pages\": [");
    for (uint32_t i = 0; i < p->npages && i < 64; i++)
        fprintf(f, "%s{\"page\": \"%08" PRIx32 "\", \"runs\": %" PRIu64 ", \"watched\": %" PRIu64
                   ", \"focused\": %" PRIu64 "}",
                i ? ", " : "", p->pages[i].key, p->pages[i].runs, p->pages[i].watched,
                p->pages[i].focused);
    fprintf(f, "]");
    /* the arm of each run started, by run index (of this shard's runs) */
    uint64_t n = p->started < AUTO_RUN_ARMS_MAX ? p->started : AUTO_RUN_ARMS_MAX;
    fprintf(f, ",\n  \"run_arms\": [");
    for (uint64_t q = 0; q < n; q++)
        fprintf(f, "%s\"%s\"", q ? ", " : "", p->arm[p->run_arms[q]]->name);
    fprintf(f, "]");
}
