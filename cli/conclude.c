/* conclude.c - what a reproduction's interleaving says happened, said first.
 *
 * From a finished run's event rings (all threads merged by their global sequence number):
 *  - a stale write (lost update / check-then-act): thread A read X, thread B then wrote X,
 *    then A wrote X with no read of X of its own in between: A's write came from a value that
 *    was no longer current.  The last such triple before the failure is the conclusion.  With
 *    only plain accesses in A's window it is a lost update (a read-modify-write); with a call
 *    in it (a lock, an allocation), a check-then-act.
 *  - else a racing pair: the last two accesses to one location by two threads, at least one a
 *    write, with no access to it in between (a read that saw the old value first);
 *  - a deadlock: the cycle of the wait-for graph (a thread blocked on a lock held by a thread
 *    blocked on ...), the holder of a lock being the thread whose ring has it locked and not
 *    unlocked since; a hang with no cycle: each live thread's state;
 *  - a crash: the failing thread (the live thread with the latest event) and the last racing
 *    pair.
 * Data addresses are named by symbolize_data (DWARF, symbol table, else hex); sites by
 * symbolize.  The analysis itself uses raw sites only, so that the signature it gives is
 * cheap and stable across campaigns (same binary, same racing pair -> same value).
 */
#define _GNU_SOURCE
#include "cli.h"
#include "wedge_stream.h"
#include "wedge_util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int by_seq(const void *a, const void *b)
{
    uint64_t x = ((const struct run_event *)a)->e.seq, y = ((const struct run_event *)b)->e.seq;
    return x < y ? -1 : x > y;
}

struct run_event *run_events(const struct wedge_shm_header *h, size_t *n)
{
    uint32_t nt = atomic_load(&h->nthreads);
    if (nt > WEDGE_MAX_THREADS)
        nt = WEDGE_MAX_THREADS;
    *n = 0;
    struct run_event *all =
        calloc((size_t)nt * WEDGE_RING_EVENTS + 2 * WEDGE_MAX_LAST + 1, sizeof *all);
    if (!all)
        return NULL;
    for (uint32_t i = 0; i < nt; i++) {
        const struct wedge_thread_slot *t = wedge_shm_slot((struct wedge_shm_header *)h, i);
        if (!atomic_load(&t->used))
            continue;
        uint64_t head = atomic_load(&t->head);
        uint64_t have = head < WEDGE_RING_EVENTS ? head : WEDGE_RING_EVENTS;
        for (uint64_t k = have; k > 0; k--) {
            const struct wedge_event *e = &t->ring[(head - k) % WEDGE_RING_EVENTS];
            if (e->seq)
                all[(*n)++] = (struct run_event){ *e, i, 0 };
        }
    }
    /* the last accesses kept past the rings' wrap: merged in, once each (seq is unique) */
    for (uint32_t i = 0; i < WEDGE_MAX_LAST; i++) {
        const struct wedge_last *l = &h->last[i];
        if (!atomic_load(&l->key) || l->slot >= nt)
            continue;
        for (int k = 0; k < 2; k++)
            if (l->ev[k].seq)
                all[(*n)++] = (struct run_event){ l->ev[k], l->slot, 1 };
    }
    qsort(all, *n, sizeof *all, by_seq);
    size_t m = 0;
    for (size_t i = 0; i < *n; i++) {
        if (m && all[i].e.seq == all[m - 1].e.seq) {
            all[m - 1].kept &= all[i].kept; /* in the ring too */
            continue;
        }
        all[m++] = all[i];
    }
    *n = m;
    return all;
}

static int is_mem(unsigned kind)
{
    return kind == WEDGE_EV_MEM_READ || kind == WEDGE_EV_MEM_WRITE;
}

static void set_access(struct conc_access *a, const struct run_event *v, const char *role)
{
    memset(a, 0, sizeof *a);
    a->role = role;
    a->slot = v->slot;
    a->kind = v->e.kind;
    a->seq = v->e.seq;
    a->site = v->e.site;
    a->obj = v->e.obj;
    a->mem = is_mem(v->e.kind);
    unsigned ns = v->e.nstack < WEDGE_STACK_DEPTH ? v->e.nstack : WEDGE_STACK_DEPTH;
    a->nstack = ns;
    memcpy(a->stack, v->e.stack, ns * sizeof a->stack[0]);
}

/* The last stale-write triple; 1 if found. */
static int find_stale_write(const struct run_event *all, size_t n, struct conclusion *c)
{
    for (size_t s = n; s-- > 0;) {
        const struct run_event *w2 = &all[s];
        if (w2->e.kind != WEDGE_EV_MEM_WRITE)
            continue;
        /* A's previous access to the same location */
        size_t r = s;
        int found = 0;
        while (r-- > 0)
            if (all[r].slot == w2->slot && is_mem(all[r].e.kind) && all[r].e.obj == w2->e.obj) {
                found = 1;
                break;
            }
        if (!found || all[r].e.kind != WEDGE_EV_MEM_READ)
            continue;
        /* the last write of another thread in between */
        for (size_t w = s; w-- > r + 1;) {
            if (all[w].slot == w2->slot || all[w].e.kind != WEDGE_EV_MEM_WRITE ||
                all[w].e.obj != w2->e.obj)
                continue;
            /* a pure read-modify-write window (nothing else done by A in between) is a lost
             * update; a window with other operations in it, a check-then-act */
            int between = 0;
            for (size_t k = r + 1; k < s; k++)
                if (all[k].slot == w2->slot && !is_mem(all[k].e.kind))
                    between++;
            c->kind = between ? CONC_CHECK_THEN_ACT : CONC_LOST_UPDATE;
            c->addr = w2->e.obj;
            set_access(&c->acc[0], &all[r], "read");
            set_access(&c->acc[1], &all[w], "interfering write");
            set_access(&c->acc[2], w2, "stale write");
            c->nacc = 3;
            return 1;
        }
    }
    return 0;
}

/* The last conflicting pair of accesses of two threads to one location; prefers a read
 * followed by another thread's write (the read saw the value before it).  1 if found. */
static int find_racing_pair(const struct run_event *all, size_t n, uint64_t before_seq,
                            int joins_dropped, struct conclusion *c)
{
    long best[2] = { -1, -1 };
    int best_rw = 0;
    for (size_t b = n; b-- > 0;) {
        if (!is_mem(all[b].e.kind) || (before_seq && all[b].e.seq > before_seq))
            continue;
        size_t a = b;
        int found = 0;
        while (a-- > 0)
            if (is_mem(all[a].e.kind) && all[a].e.obj == all[b].e.obj) {
                found = 1;
                break;
            }
        if (!found || all[a].slot == all[b].slot)
            continue;
        if (all[a].e.kind != WEDGE_EV_MEM_WRITE && all[b].e.kind != WEDGE_EV_MEM_WRITE)
            continue;
        /* ordered by a join: the first thread exited before the second access, and the second
         * thread joined a thread before it (the join's event is recorded when it starts
         * waiting, so it may come before the first access).  A cheap stand-in for
         * happens-before that drops the main thread's reads after joining its workers. */
        int exited = 0, joined = 0, lost = joins_dropped;
        for (size_t k = a + 1; k < b && !exited; k++)
            exited = all[k].slot == all[a].slot && all[k].e.kind == WEDGE_EV_THREAD_EXIT;
        for (size_t k = 0; k < b && exited && !joined; k++) {
            if (all[k].slot != all[b].slot)
                continue;
            if (k < a && !all[k].kept)
                lost = 0; /* the second thread's ring reaches back before the first access */
            joined = all[k].e.kind == WEDGE_EV_JOIN;
        }
        /* Joins are kept past the rings' wrap (the shim's last[] table), so a join that is
         * not there did not happen; only if that table overflowed may one have fallen out of
         * the second thread's ring (the main thread reading a table after joining its
         * workers), and then it counts as one. */
        int ordered = exited && (joined || lost);
        if (ordered)
            continue;
        int rw = all[a].e.kind == WEDGE_EV_MEM_READ;
        if (best[0] < 0 || (rw && !best_rw)) {
            best[0] = (long)a;
            best[1] = (long)b;
            best_rw = rw;
            if (rw)
                break;
        }
    }
    if (best[0] < 0)
        return 0;
    c->addr = all[best[1]].e.obj;
    set_access(&c->acc[0], &all[best[0]], "first");
    set_access(&c->acc[1], &all[best[1]], "second");
    c->nacc = 2;
    return 1;
}

static int is_lock(unsigned kind)
{
    return kind == WEDGE_EV_MUTEX_LOCK || kind == WEDGE_EV_MUTEX_TRYLOCK ||
           kind == WEDGE_EV_RWLOCK_RDLOCK || kind == WEDGE_EV_RWLOCK_WRLOCK ||
           kind == WEDGE_EV_SPIN_LOCK;
}

static int is_unlock(unsigned kind)
{
    return kind == WEDGE_EV_MUTEX_UNLOCK || kind == WEDGE_EV_RWLOCK_UNLOCK ||
           kind == WEDGE_EV_SPIN_UNLOCK;
}

struct tstate {
    uint32_t state, kind;
    uint64_t obj, site;
};

static void thread_state(const struct job *job, uint32_t i, struct tstate *ts)
{
    const struct wedge_shm_header *h = job->shm->hdr;
    const struct wedge_thread_slot *t = wedge_shm_slot((struct wedge_shm_header *)h, i);
    ts->state = atomic_load(&t->state);
    ts->kind = t->blocked_kind;
    ts->obj = t->blocked_obj;
    ts->site = t->blocked_site;
    if (job->hang_valid) {
        ts->state = job->hang[i].state;
        ts->kind = job->hang[i].blocked_kind;
        ts->obj = job->hang[i].blocked_obj;
        ts->site = job->hang[i].blocked_site;
    }
}

/* The index in all[] of the lock event by which thread `slot` holds `lock` (locked and not
 * unlocked since, not counting a pending attempt it is blocked in), or -1. */
static long held_by(const struct run_event *all, size_t n, uint32_t slot, uint64_t lock,
                    int blocked_on)
{
    long last = -1;
    int pending_skipped = !blocked_on;
    for (size_t k = n; k-- > 0;) {
        if (all[k].slot != slot || all[k].e.obj != lock)
            continue;
        if (is_unlock(all[k].e.kind))
            return -1;
        if (is_lock(all[k].e.kind)) {
            if (!pending_skipped) {
                pending_skipped = 1; /* the attempt it is blocked in */
                continue;
            }
            last = (long)k;
            break;
        }
    }
    return last;
}

static int find_deadlock(const struct job *job, const struct run_event *all, size_t n,
                         struct conclusion *c)
{
    const struct wedge_shm_header *h = job->shm->hdr;
    uint32_t nt = atomic_load(&h->nthreads);
    if (nt > WEDGE_MAX_THREADS)
        nt = WEDGE_MAX_THREADS;
    /* waits[t]: the thread t waits for, -1: none */
    int *waits = malloc(nt * sizeof *waits);
    long *acq = malloc(nt * sizeof *acq);
    if (!waits || !acq) {
        free(waits);
        free(acq);
        return 0;
    }
    for (uint32_t t = 0; t < nt; t++) {
        waits[t] = -1;
        acq[t] = -1;
        struct tstate ts;
        thread_state(job, t, &ts);
        if (ts.state != WEDGE_TS_BLOCKED || !is_lock(ts.kind) || !ts.obj)
            continue;
        for (uint32_t u = 0; u < nt; u++) {
            if (u == t)
                continue;
            struct tstate us;
            thread_state(job, u, &us);
            long k = held_by(all, n, u, ts.obj, us.state == WEDGE_TS_BLOCKED && us.obj == ts.obj);
            if (k >= 0) {
                waits[t] = (int)u;
                acq[t] = k; /* u's acquisition of the lock t waits for */
                break;
            }
        }
    }
    int found = 0;
    for (uint32_t start = 0; start < nt && !found; start++) {
        /* walk at most nt steps; a cycle through start closes it */
        int cur = (int)start, steps = 0;
        while (cur >= 0 && waits[cur] >= 0 && steps <= (int)nt) {
            cur = waits[cur];
            steps++;
            if (cur == (int)start)
                break;
        }
        if (cur != (int)start || steps == 0)
            continue;
        found = 1;
        c->kind = CONC_DEADLOCK;
        c->nlocks = 0;
        int t = (int)start;
        do {
            if (c->nlocks == CONC_MAX_LOCKS)
                break;
            struct conc_lock *l = &c->locks[c->nlocks++];
            struct tstate ts;
            thread_state(job, (uint32_t)t, &ts);
            l->waiter = (uint32_t)t;
            l->wait_site = ts.site;
            l->wait_kind = ts.kind;
            l->lock = ts.obj;
            l->holder = (uint32_t)waits[t];
            set_access(&l->acquired, &all[acq[t]], "holds");
            t = waits[t];
        } while (t != (int)start);
    }
    free(waits);
    free(acq);
    return found;
}

void conclude(const struct job *job, const struct outcome *oc, struct conclusion *c)
{
    memset(c, 0, sizeof *c);
    if (!job->shm || oc->kind == OUT_PASS)
        return;
    const struct wedge_shm_header *h = job->shm->hdr;
    size_t n = 0;
    struct run_event *all = run_events(h, &n);
    if (!all)
        return;
    if (oc->kind == OUT_HANG) {
        if (!find_deadlock(job, all, n, c))
            c->kind = CONC_HANG;
    } else if (find_stale_write(all, n, c)) {
        /* kind set */
    } else if (find_racing_pair(all, n, 0, !(atomic_load(&h->last_used) & 1) ||
                                (atomic_load(&h->last_used) & WEDGE_LAST_DROPPED), c)) {
        c->kind = CONC_RACING_PAIR;
    }
    if (oc->kind == OUT_SIGNAL) {
        /* the failing thread: the live thread with the latest event */
        long last = -1;
        for (size_t k = n; k-- > 0 && last < 0;) {
            struct tstate ts;
            thread_state(job, all[k].slot, &ts);
            if (ts.state != WEDGE_TS_EXITED)
                last = (long)k;
        }
        if (last >= 0) {
            c->has_crash = 1;
            set_access(&c->crash, &all[last], "failing thread's last event");
        }
        if (c->kind == CONC_NONE)
            c->kind = CONC_CRASH;
    }
    free(all);
}

uint64_t conclusion_signature(const struct conclusion *c)
{
    switch (c->kind) {
    case CONC_LOST_UPDATE:
    case CONC_CHECK_THEN_ACT:
    case CONC_RACING_PAIR:
        /* Not keyed on: memory watching samples pages per run, so one bug's reproductions
         * show its racing pair in some runs and nothing in others; keying on the pair split
         * job_claim's one bug into four groups (measured).  The outcome and the output line
         * key them (campaign_signature). */
        return 0;
    case CONC_DEADLOCK: {
        /* lock events are always recorded: the cycle is seen in every reproduction */
        /* the acquisition sites, order-free (the cycle may be entered from any thread) */
        uint64_t x = 0;
        for (unsigned i = 0; i < c->nlocks; i++)
            x += wedge_mix(c->locks[i].acquired.site, c->locks[i].wait_site);
        return x;
    }
    default:
        return 0;
    }
}

const char *conclusion_kind_name(enum conclusion_kind k)
{
    switch (k) {
    case CONC_NONE: return "none";
    case CONC_LOST_UPDATE: return "lost_update";
    case CONC_CHECK_THEN_ACT: return "check_then_act";
    case CONC_RACING_PAIR: return "racing_pair";
    case CONC_DEADLOCK: return "deadlock";
    case CONC_HANG: return "hang";
    case CONC_CRASH: return "crash";
    }
    return "?";
}

/* ---------------------------------------------------------------------------------------- */
/* presentation */

/* Where a frame of a memory access's stack is the signal handler's (the trap fires inside
 * the shim's handler, whose frames unwind through libc): skip up to the access's own site. */
static unsigned first_frame(const struct conc_access *a)
{
    if (!a->mem)
        return 0;
    for (unsigned k = 0; k < a->nstack; k++)
        if (WEDGE_SITE_MODULE(a->stack[k]) == WEDGE_SITE_MODULE(a->site))
            return k;
    return 0;
}

static const char *kind_verb(unsigned kind)
{
    switch (kind) {
    case WEDGE_EV_MEM_READ: return "read";
    case WEDGE_EV_MEM_WRITE: return "wrote";
    default: return wedge_event_kind_name(kind);
    }
}

static void object_name(const struct wedge_shm_header *h, uint64_t addr, struct data_name *d)
{
    symbolize_data(h, addr, 0, d);
}

static void lock_name(const struct wedge_shm_header *h, uint64_t addr, struct data_name *d)
{
    symbolize_data(h, addr, 1, d);
}

static void describe_object(FILE *f, const struct data_name *d)
{
    char buf[sizeof d->name + 512];
    if (d->found && d->block_site && d->block_thread < WEDGE_MAX_THREADS)
        fprintf(f, "a %s (by T%u)", d->name, d->block_thread);
    else if (d->found && d->block_site)
        fprintf(f, "a %s", d->name);
    else if (d->found && d->local)
        fprintf(f, "%s (on T%u's stack, %" PRIu64 " bytes)", data_name_text(d, buf, sizeof buf),
                d->stack_thread, d->size);
    else if (d->found && d->storage && strcmp(d->storage, "stack") == 0)
        fprintf(f, "a %s", d->name);
    else if (d->found)
        fprintf(f, "`%s` (%s in %s, %" PRIu64 " bytes)", d->name, d->storage, d->module, d->size);
    else
        fprintf(f, "`%s` (no name: no debug info or symbol for it)", d->name);
}

/* A trapped access's own frame is the access itself (the unwound pc is past it, where the
 * single step stopped); other frames are return addresses, already stepped back into the
 * call by the shim. */
static const char *frame_of(const struct wedge_shm_header *h, const struct conc_access *a,
                            unsigned k, unsigned k0)
{
    if (a->mem && k == k0)
        return symbolize(h, a->site, 0);
    return symbolize(h, a->stack[k], 0);
}

static void print_stack(FILE *f, const struct wedge_shm_header *h, const struct conc_access *a,
                        const char *indent)
{
    unsigned k0 = first_frame(a);
    if (a->nstack <= k0 + 1)
        return; /* one frame: the site already says it */
    for (unsigned k = k0, i = 0; k < a->nstack && i < 4; k++, i++)
        fprintf(f, "%s#%u %s\n", indent, i, frame_of(h, a, k, k0));
}

static const char *site_of(const struct wedge_shm_header *h, const struct conc_access *a)
{
    return symbolize(h, a->site, !a->mem && a->kind != WEDGE_EV_THREAD_START);
}

void conclusion_print(FILE *f, const struct wedge_shm_header *h, const struct conclusion *c)
{
    struct data_name d;
    switch (c->kind) {
    case CONC_NONE:
        fputs("conclusion: none (the run recorded no memory accesses or locks that explain it; "
              "replay with --watch mem to record them)\n", f);
        break;
    case CONC_LOST_UPDATE:
    case CONC_CHECK_THEN_ACT:
        object_name(h, c->addr, &d);
        fprintf(f, "conclusion: %s on ", c->kind == CONC_LOST_UPDATE ? "lost update"
                                                                       : "check-then-act");
        describe_object(f, &d);
        fputs("\n", f);
        fprintf(f, "  1. T%u read it at %s\n", c->acc[0].slot, site_of(h, &c->acc[0]));
        print_stack(f, h, &c->acc[0], "       ");
        fprintf(f, "  2. T%u wrote it at %s\n", c->acc[1].slot, site_of(h, &c->acc[1]));
        print_stack(f, h, &c->acc[1], "       ");
        fprintf(f, "  3. T%u then wrote it at %s from its stale read\n", c->acc[2].slot,
                site_of(h, &c->acc[2]));
        print_stack(f, h, &c->acc[2], "       ");
        break;
    case CONC_RACING_PAIR:
    case CONC_CRASH:
        if (c->has_crash) {
            fprintf(f, "conclusion: crash; the failing thread T%u was last at %s\n",
                    c->crash.slot, site_of(h, &c->crash));
            print_stack(f, h, &c->crash, "       ");
        }
        if (c->nacc == 2) {
            object_name(h, c->addr, &d);
            fprintf(f, "%s racing pair on ", c->has_crash ? "  the last" : "conclusion:");
            describe_object(f, &d);
            fputs("\n", f);
            for (int i = 0; i < 2; i++) {
                fprintf(f, "  %d. T%u %s it at %s\n", i + 1, c->acc[i].slot,
                        kind_verb(c->acc[i].kind), site_of(h, &c->acc[i]));
                print_stack(f, h, &c->acc[i], "       ");
            }
        } else if (!c->has_crash) {
            fputs("conclusion: crash (no event recorded)\n", f);
        }
        break;
    case CONC_DEADLOCK:
        fputs("conclusion: deadlock, a cycle of threads waiting for each other's locks\n", f);
        for (unsigned i = 0; i < c->nlocks; i++) {
            const struct conc_lock *l = &c->locks[i];
            lock_name(h, l->lock, &d);
            char q[sizeof d.name + 512];
            fprintf(f, "  %u. T%u holds %s (locked at %s), ", i + 1, l->holder,
                    data_name_text(&d, q, sizeof q), site_of(h, &l->acquired));
            fprintf(f, "and T%u waits for it (at %s)\n", l->waiter, symbolize(h, l->wait_site, 1));
            print_stack(f, h, &l->acquired, "       ");
        }
        break;
    case CONC_HANG:
        fputs("conclusion: hang with no lock cycle; what each thread was doing is below\n", f);
        break;
    }
    if (c->source[0])
        fprintf(f, "  (explained by %s)\n", c->source);
}


/* One line for the terminal */
void conclusion_line(char *buf, size_t len, const struct wedge_shm_header *h,
                     const struct conclusion *c)
{
    struct data_name d;
    char q[sizeof d.name + 512];
    switch (c->kind) {
    case CONC_LOST_UPDATE:
    case CONC_CHECK_THEN_ACT:
        object_name(h, c->addr, &d);
        snprintf(buf, len, "%s on %s: T%u read at %s, T%u wrote at %s, T%u wrote stale at %s",
                 c->kind == CONC_LOST_UPDATE ? "lost update" : "check-then-act",
                 data_name_text(&d, q, sizeof q),
                 c->acc[0].slot, site_of(h, &c->acc[0]), c->acc[1].slot, site_of(h, &c->acc[1]),
                 c->acc[2].slot, site_of(h, &c->acc[2]));
        break;
    case CONC_RACING_PAIR:
    case CONC_CRASH:
        if (c->nacc == 2) {
            object_name(h, c->addr, &d);
            snprintf(buf, len, "racing pair on %s: T%u %s at %s, then T%u %s at %s",
                     data_name_text(&d, q, sizeof q),
                     c->acc[0].slot, kind_verb(c->acc[0].kind), site_of(h, &c->acc[0]),
                     c->acc[1].slot, kind_verb(c->acc[1].kind), site_of(h, &c->acc[1]));
        } else {
            snprintf(buf, len, "crash");
        }
        break;
    case CONC_DEADLOCK: {
        size_t o = (size_t)snprintf(buf, len, "deadlock:");
        for (unsigned i = 0; i < c->nlocks && o < len; i++) {
            lock_name(h, c->locks[i].lock, &d);
            o += (size_t)snprintf(buf + o, len - o, "%s T%u holds %s (%s), T%u waits for it",
                                  i ? ";" : "", c->locks[i].holder, data_name_text(&d, q, sizeof q),
                                  site_of(h, &c->locks[i].acquired), c->locks[i].waiter);
        }
        break;
    }
    case CONC_HANG:
        snprintf(buf, len, "hang, no lock cycle");
        break;
    default:
        buf[0] = 0;
    }
}

static void json_access(FILE *f, const struct wedge_shm_header *h, const struct conc_access *a)
{
    fprintf(f, "{\"role\": ");
    report_json_str(f, a->role);
    fprintf(f, ", \"thread\": %u, \"event\": ", a->slot);
    report_json_str(f, wedge_event_kind_name(a->kind));
    fprintf(f, ", \"seq\": %" PRIu64 ", \"site\": ", a->seq);
    report_json_str(f, site_of(h, a));
    fprintf(f, ", \"stack\": [");
    unsigned k0 = first_frame(a);
    if (a->nstack <= k0) {
        report_json_str(f, site_of(h, a));
    } else {
        for (unsigned k = k0; k < a->nstack; k++) {
            if (k > k0)
                fputs(", ", f);
            report_json_str(f, frame_of(h, a, k, k0));
        }
    }
    fputs("]}", f);
}

/* ", "key": "value"", or null for "" */
static void json_field_or_null(FILE *f, const char *key, const char *value)
{
    fprintf(f, ", \"%s\": ", key);
    if (value[0])
        report_json_str(f, value);
    else
        fputs("null", f);
}

static void json_object(FILE *f, const struct wedge_shm_header *h, uint64_t addr, int whole)
{
    struct data_name d;
    symbolize_data(h, addr, whole, &d);
    fprintf(f, "{\"name\": ");
    report_json_str(f, d.name);
    fprintf(f, ", \"address\": \"0x%" PRIx64 "\", \"storage\": ", addr);
    report_json_str(f, d.found ? d.storage : "unknown");
    fprintf(f, ", \"module\": ");
    report_json_str(f, d.module);
    fprintf(f, ", \"size\": %" PRIu64, d.size);
    if (d.block_site) {
        /* a heap block: where it was allocated, by whom, and where in it the address lies */
        fprintf(f, ", \"allocated_at\": ");
        report_json_str(f, symbolize(h, d.block_site, 1));
        if (d.block_thread < WEDGE_MAX_THREADS)
            fprintf(f, ", \"allocated_by\": %u", d.block_thread);
        else
            fprintf(f, ", \"allocated_by\": null");
        fprintf(f, ", \"offset\": %" PRIu64, d.block_offset);
        /* the type it was allocated as, and the member at the offset, where DWARF says */
        json_field_or_null(f, "type", d.block_type);
        json_field_or_null(f, "member", d.block_member);
    }
    if (d.found && d.storage && strcmp(d.storage, "stack") == 0) {
        /* a stack slot: whose stack, and the frame and local variable where known */
        fprintf(f, ", \"thread\": %u", d.stack_thread);
        json_field_or_null(f, "function", d.function);
        json_field_or_null(f, "frame", d.frame_at);
        json_field_or_null(f, "variable", d.local ? d.name : "");
        json_field_or_null(f, "declared_at", d.declared);
    }
    fputs("}", f);
}

char *conclusion_json(const struct wedge_shm_header *h, const struct conclusion *c)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    if (!f)
        return NULL;
    char line[1024];
    conclusion_line(line, sizeof line, h, c);
    fprintf(f, "{\"kind\": \"%s\", \"summary\": ", conclusion_kind_name(c->kind));
    report_json_str(f, line);
    fputs(", \"object\": ", f);
    if (c->nacc)
        json_object(f, h, c->addr, 0);
    else if (c->kind == CONC_DEADLOCK && c->nlocks)
        json_object(f, h, c->locks[0].lock, 1);
    else
        fputs("null", f);
    fputs(", \"accesses\": [", f);
    for (int i = 0; i < c->nacc; i++) {
        if (i)
            fputs(", ", f);
        json_access(f, h, &c->acc[i]);
    }
    fputs("]", f);
    if (c->kind == CONC_DEADLOCK) {
        fputs(", \"cycle\": [", f);
        for (unsigned i = 0; i < c->nlocks; i++) {
            const struct conc_lock *l = &c->locks[i];
            fprintf(f, "%s{\"lock\": ", i ? ", " : "");
            json_object(f, h, l->lock, 1);
            fprintf(f, ", \"holder\": %u, \"acquired\": ", l->holder);
            json_access(f, h, &l->acquired);
            fprintf(f, ", \"waiter\": %u, \"wait_site\": ", l->waiter);
            report_json_str(f, symbolize(h, l->wait_site, 1));
            fputc('}', f);
        }
        fputc(']', f);
    }
    if (c->has_crash) {
        fputs(", \"failing\": ", f);
        json_access(f, h, &c->crash);
    }
    fputs(", \"source\": ", f);
    report_json_str(f, c->source[0] ? c->source : "this run");
    fputc('}', f);
    fclose(f);
    return s;
}

void explain_job(const struct job *job, const struct outcome *oc, const char *source,
                 struct explained *x)
{
    memset(x, 0, sizeof *x);
    conclude(job, oc, &x->c);
    if (source)
        snprintf(x->c.source, sizeof x->c.source, "%s", source);
    const struct wedge_shm_header *h = job->shm ? job->shm->hdr : NULL;
    if (!h)
        return;
    size_t n = 0;
    FILE *f = open_memstream(&x->text, &n);
    if (f) {
        conclusion_print(f, h, &x->c);
        fclose(f);
    }
    x->json = conclusion_json(h, &x->c);
    char line[1024];
    conclusion_line(line, sizeof line, h, &x->c);
    x->line = strdup(line);
}

void explained_free(struct explained *x)
{
    free(x->text);
    free(x->json);
    free(x->line);
    x->text = x->json = x->line = NULL;
}
