/* strategy.h - serial-mode scheduling strategies: who runs next at a scheduling point.
 *
 * The scheduler (preload/serial.c) owns threads, blocking and the run token; a strategy only
 * chooses among the candidates it is shown.  A strategy is pure: its choice depends on its
 * state, the token's seed and the point it is shown, never on time or addresses, so that the
 * same token gives the same schedule.  It must not allocate (it runs inside the target, and
 * may run in a signal handler): its state lives in a fixed buffer of WEDGE_STRATEGY_STATE_MAX
 * bytes owned by the caller, and per-thread state in WEDGE_STRATEGY_THREAD_WORDS words that the
 * scheduler keeps with each thread and zeroes when the thread is created.
 *
 * Adding a strategy: write src/strategy_NAME.c defining a `const struct wedge_strategy`, and
 * add it to WEDGE_STRATEGY_LIST below (and its name to the token grammar, wedge_token.c).
 */
#ifndef WEDGE_STRATEGY_H
#define WEDGE_STRATEGY_H

#include <stddef.h>
#include <stdint.h>

#include "wedge_token.h"

#define WEDGE_STRATEGY_STATE_MAX 1024u
#define WEDGE_STRATEGY_THREAD_WORDS 3u
#define WEDGE_NO_THREAD UINT32_MAX

/* Candidate flags. */
#define WEDGE_CAND_SELF 0x1u     /* the thread at this scheduling point */
#define WEDGE_CAND_SLEEPING 0x2u /* in a sleep: choosing it wakes it early (virtual time jumps) */

struct wedge_cand {
    uint32_t ordinal;   /* thread ordinal within the process */
    uint32_t flags;     /* WEDGE_CAND_* */
    uint64_t *data;     /* the strategy's WEDGE_STRATEGY_THREAD_WORDS words for this thread */
};

struct wedge_point {
    uint64_t step;          /* 0-based index of this decision within the process */
    uint32_t self;          /* ordinal of the thread at the point, WEDGE_NO_THREAD if none */
    uint64_t *self_data;    /* its words (also when it is not a candidate: it blocks), or NULL */
    unsigned kind;          /* enum wedge_event_kind of the point */
    int yield;              /* the thread at the point asked to let others run (yield, sleep) */
    uint32_t n;             /* candidates, n >= 1, in ascending ordinal order */
    const struct wedge_cand *c;
};

struct wedge_strategy {
    const char *name;
    /* Start a process's schedule.  seed: the token's seed mixed with the process ordinal. */
    void (*init)(void *state, const struct wedge_token *tok, uint64_t seed);
    /* A thread was created (its words are zeroed). */
    void (*thread_new)(void *state, uint32_t ordinal, uint64_t *data);
    /* Choose: returns an index into p->c (< p->n). */
    uint32_t (*choose)(void *state, const struct wedge_point *p);
};

#define WEDGE_STRATEGY_LIST(X)                                                                \
    X(WEDGE_STRAT_RANDOM, wedge_strategy_random)                                              \
    X(WEDGE_STRAT_PCT, wedge_strategy_pct)                                                    \
    X(WEDGE_STRAT_POS, wedge_strategy_pos)

#define WEDGE_STRATEGY_DECLARE(id, var) extern const struct wedge_strategy var;
WEDGE_STRATEGY_LIST(WEDGE_STRATEGY_DECLARE)
#undef WEDGE_STRATEGY_DECLARE

/* The strategy of an id; random for an unknown id. */
const struct wedge_strategy *wedge_strategy_of(enum wedge_strategy_id id);

/* POS: 1 if an event of this kind may race with another thread's (its thread's priority is
 * redrawn after it), 0 for allocation and thread bookkeeping (strategy_pos.c). */
int wedge_pos_racing(unsigned kind);

/* PCT: the expected run length assumed for fairness when the token carries none (length 0);
 * change points are then spread over scales (strategy_pct.c). */
#define WEDGE_PCT_DEFAULT_LENGTH 1000u

/* Yield marks shared by the strategies: a thread that yields (or sleeps) is passed over until
 * every other candidate has yielded too (then a new round starts), so that a busy-wait on
 * sched_yield or a polling loop with short sleeps lets the threads it waits for run, however
 * low their priority.  The mark lives in data[1]: marked iff data[1] == *epoch (from 1).
 * Call wedge_strategy_yield_marks once per point, then prefer unmarked candidates. */
void wedge_strategy_yield_marks(uint64_t *epoch, const struct wedge_point *p);
int wedge_strategy_marked(uint64_t epoch, const struct wedge_cand *c);
/* The candidates a strategy may choose after the yield marks: the unmarked ones, or if all
 * are marked, all but the yielder (if anyone else can run), else all.  Fills idx (p->n
 * entries) with their indices in ascending order; returns how many. */
uint32_t wedge_strategy_eligible(uint64_t epoch, const struct wedge_point *p, uint32_t *idx);
/* Of those, the one with the highest data[0] (ties: the lower ordinal). */
uint32_t wedge_strategy_highest(uint64_t epoch, const struct wedge_point *p);

#endif
