/* wedge_token.h - seed tokens: everything that shapes one run's schedule, printable.
 *
 *   w1.MODE.STRATEGY[.OPTS][.PAGES][.RF][.STEPS].SEED
 *
 *   MODE      noise | serial
 *   STRATEGY  random | pct<D>[-<L>] | pos   (D: PCT depth, L: expected run length in steps)
 *   OPTS      optional letters: m = watch memory, l = lost-update detection (implies m)
 *   PAGES     optional, with watching only: 'g' then one to four page keys joined by '_', each
 *             8 hex digits ("g5f0c1a2b_77aa0011"): the pages whose key (wedge_page_key of
 *             the page's stable identity: its heap object's allocation site and order, or
 *             for the program's globals the page's module + offset) is listed are watched
 *             once shared, whatever the cap on watched pages.  Without an RF field the run
 *             watches only them, no other page ever protected; with one, its other pages as
 *             any RF token does.  The campaign draws them from the pages earlier runs saw
 *             shared (cli/portfolio.c, "Focused watching").
 *   RF        serial only, optional: 'r' then one or two reads-from constraints joined by
 *             '_', each 'n' (negate), 'e' (negate each) or 'p' (pin), a write site, '-', a read site, sites in
 *             hex as in WEDGE_SITE ("rn1000000001189-100000000117a").  negate(W,R): a
 *             trapped write at site W is held back, before it executes, until a read at site
 *             R has executed in its process (R reads before W, not from it); with W = 0, a
 *             read at R is held until its object was written (R must not read the initial
 *             value).  each(W,R): negate at every instance, not only the first: every trapped write at
 *             W is held until a read at R executes after the hold began (a write site
 *             needed; what a lock-free compare-and-swap's pair needs, cli/portfolio.c).
 *             pin(W,R): a read at R is held until a write at W has executed.  A held
 *             thread is not a candidate at a scheduling point, unless every candidate is held
 *             (then the constraint yields at that point: never a deadlock), for at most
 *             256 points, and never on a thread's alternate signal stack.  The campaign
 *             draws them from reads-from pairs earlier runs saw (cli/portfolio.c).  A token
 *             with one watches every page seen shared (as WEDGE_WATCH_ALL).
 *             A constraint may end in a hold point '@' T 'x' N (hex): the held side is held
 *             already at thread T's (ordinal) N-th lock acquisition, before it takes the
 *             lock, where an access inside a critical section cannot be held (the threads
 *             it should wait for wait for its lock); negate(0, R) held so also names its
 *             object, 'o' and the object's stable name (hex), since the lock does not tell
 *             it ("rn0-100000000117a@2x1o5f0c...").  Held there for at most 4,096 points.
 *   STEPS     serial only, optional: 's' then the scheduler steps where a preemption may be
 *             injected, as ranges a-b or single steps joined by '_' ("s13_40-42"), or "s-"
 *             for none.  `wedge minimize` writes it: the token of the minimized schedule.
 *             Without it every step may preempt.
 *   DECISIONS noise only, optional, instead of STEPS: 'd' then the injected decisions wedge
 *             may take, joined by '_', each [P'p']T'x'I: process ordinal P (omitted: 0), thread
 *             ordinal T, the thread's decision index I (or 's': its start delay), e.g.
 *             "d1x57_2xs"; "d-" for none.  Elsewhere wedge does not act.  `wedge minimize`
 *             writes it for a noise token.
 *   SEED      16 lower-case hex digits
 *
 * Examples: w1.noise.random.9f3a61c2e07b55d1, w1.serial.pct3-1200.m.00000000000000a1,
 *           w1.serial.pos.m.g5f0c1a2b.00000000000000a1,
 *           w1.serial.pct2.s57_112.00000000000000a1, w1.noise.random.d1x57_2xs.00000000000000a1
 */
#ifndef WEDGE_TOKEN_H
#define WEDGE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

enum wedge_mode { WEDGE_MODE_NOISE = 0, WEDGE_MODE_SERIAL = 1 };

enum wedge_strategy_id {
    WEDGE_STRAT_RANDOM = 0,
    WEDGE_STRAT_PCT = 1,
    WEDGE_STRAT_POS = 2,
    WEDGE_STRAT_COUNT
};

#define WEDGE_OPT_MEMORY 0x1u
#define WEDGE_OPT_LOST_UPDATE 0x2u

#define WEDGE_TOKEN_MAX 192 /* a report's file name is the token and a suffix: under NAME_MAX */
#define WEDGE_TOKEN_STEP_RANGES 8 /* ranges a STEPS field may hold */
#define WEDGE_TOKEN_DECISIONS 8   /* decisions a DECISIONS field may hold */
#define WEDGE_DECISION_START 0xffffffffu /* the index of a thread's start delay */
#define WEDGE_TOKEN_RF 2          /* reads-from constraints an RF field may hold */
#define WEDGE_TOKEN_PAGES 4       /* page keys a PAGES field may hold */

enum wedge_rf_kind { WEDGE_RF_NEGATE = 1, WEDGE_RF_PIN = 2, WEDGE_RF_EACH = 3 };

/* One reads-from constraint of a token's RF field. */
struct wedge_rf_constraint {
    uint32_t kind;             /* enum wedge_rf_kind */
    uint32_t hold_n;           /* hold point: the held thread's hold_n-th lock acquisition */
    uint64_t write_site, read_site; /* WEDGE_SITE values; write_site 0: the initial value */
    uint32_t hold_thread;      /* hold point: that thread's ordinal + 1; 0: no hold point */
    uint32_t pad;
    uint64_t obj_key;          /* negate(0, R) held at a hold point: its object's stable name */
};

/* One noise decision: the point a thread reached (decision streams are counter-based, so
 * the same point of the same thread makes the same draw in every replay). */
struct wedge_decision_ref {
    uint32_t proc, thread, index;
};

struct wedge_token {
    unsigned version;          /* 1 */
    enum wedge_mode mode;
    enum wedge_strategy_id strategy;
    uint32_t depth;            /* pct: D (>= 1) */
    uint32_t length;           /* pct: expected steps, 0 = unknown */
    uint32_t opts;             /* WEDGE_OPT_* */
    uint64_t seed;
    uint32_t has_steps;        /* 1: only steps[] may preempt (STEPS field present) */
    uint32_t nsteps;           /* ranges in steps[] (0 with has_steps: none may) */
    struct { uint32_t lo, hi; } steps[WEDGE_TOKEN_STEP_RANGES];
    uint32_t has_decisions;    /* 1: wedge acts only at decisions[] (DECISIONS field) */
    uint32_t ndecisions;
    struct wedge_decision_ref decisions[WEDGE_TOKEN_DECISIONS];
    uint32_t nrf;              /* constraints in rf[] (RF field) */
    struct wedge_rf_constraint rf[WEDGE_TOKEN_RF];
    uint32_t npages;           /* page keys in pages[] (PAGES field); 0: every page */
    uint32_t pages[WEDGE_TOKEN_PAGES];
};

/* The key a PAGES field names a page by: a watched page's stable identity (a heap object's
 * allocation site and order and the page's index in it, or a global page's module + offset)
 * folded to 32 bits, never 0.  Two pages of one run that fold alike are both watched. */
static inline uint32_t wedge_page_key(uint64_t ident)
{
    uint32_t k = (uint32_t)(ident ^ (ident >> 32));
    return k ? k : 1u;
}

/* Parse an RF field's body (after its 'r') of n characters into t->rf.  Returns 0, or -1 with
 * a reason in err. */
int wedge_rf_parse(const char *s, size_t n, struct wedge_token *t, char *err, size_t errlen);
/* Format t->rf as an RF field's body ("n1000000001189-100000000117a").  Returns the length,
 * or -1 if buf is too small. */
int wedge_rf_format(const struct wedge_token *t, char *buf, size_t len);

/* Parse a list of decisions ("1x57_2xs", "-" for none) of n characters into out[max].
 * Returns the count, or -1 with a reason in err (what is wrong and where). */
int wedge_decisions_parse(const char *s, size_t n, struct wedge_decision_ref *out, size_t max,
                          char *err, size_t errlen);
/* Format decisions as "1x57_2xs" ("-" for none).  Returns the length, or -1 if too small. */
int wedge_decisions_format(const struct wedge_decision_ref *d, size_t n, char *buf, size_t len);
/* 1 if (proc, thread, index) is one of d[n] */
int wedge_decision_listed(const struct wedge_decision_ref *d, size_t n, uint32_t proc,
                          uint32_t thread, uint32_t index);

/* Parse a token.  Returns 0, or -EINVAL with a one-line reason in err. */
int wedge_token_parse(const char *s, struct wedge_token *t, char *err, size_t errlen);

/* Format into buf (WEDGE_TOKEN_MAX is enough).  Returns the length, or -1 if buf is too small. */
int wedge_token_format(const struct wedge_token *t, char *buf, size_t len);

/* Parse a strategy as given on the command line ("random", "pct", "pct:3") for a mode.
 * Returns 0, or -EINVAL with a reason in err. */
int wedge_strategy_parse(const char *s, enum wedge_mode mode, struct wedge_token *t, char *err,
                         size_t errlen);

const char *wedge_mode_name(enum wedge_mode m);
const char *wedge_strategy_name(enum wedge_strategy_id s);

/* The seed of run number `index` of a campaign with base seed `base`. */
uint64_t wedge_run_seed(uint64_t base, uint64_t index);

#endif
