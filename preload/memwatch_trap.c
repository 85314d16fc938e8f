/* memwatch_trap.c - the trap: fault on a protected page, single-step the access, protect the
 * page again, and make the access an interception point.
 *
 *   SIGSEGV (SEGV_ACCERR) on a page of ours: lift the protection (the page's pending count
 *     says how many threads are stepping it), set the trap flag in the interrupted context and
 *     return: the access executes, alone.
 *   SIGTRAP (TRAP_TRACE) right after it: clear the trap flag, protect the page again unless
 *     another thread still steps it, learn (who shares the page), track (pairs, stale
 *     writes), then act as an interception point: a seeded delay in noise mode, a scheduling
 *     point in serial mode.  Only for accesses made by the target's own code outside the
 *     shim: scheduling inside libc could stop a thread that holds one of libc's locks.
 *
 * Both handlers run with every signal blocked and use raw system calls only; the target's
 * own handlers for these signals are called for every fault that is not ours.  Nested steps
 * (a signal handler of the target touching a watched page while an access is being stepped)
 * are a per-thread stack: signal handlers nest strictly.
 */
#define _GNU_SOURCE
#include "memwatch_int.h"
#include "wedge_stream.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>

#define MW_TF 0x100ull /* the trap flag in RFLAGS */

struct mw_step_info {
    uint32_t size;
    uint8_t rmw, atomic;
};

static int popcount64(uint64_t v)
{
    return __builtin_popcountll(v);
}

/* The trap budget of a watched page (after_step). */
static uint64_t page_budget(const struct mw_page *pg)
{
    uint64_t n = (uint64_t)popcount64(pg->threads);
    return n > MW_CROWD ? mw.page_budget * MW_CROWD / n : mw.page_budget;
}

/* The instruction at pc: up to 15 bytes, never reading past a mapping's end. */
#define MW_CODE_MAX 15u
static size_t fetch_code(uintptr_t pc, uint8_t code[MW_CODE_MAX])
{
    size_t n = MW_PAGE - (pc & (MW_PAGE - 1));
    if (n >= MW_CODE_MAX) {
        memcpy(code, (const void *)pc, MW_CODE_MAX);
        n = MW_CODE_MAX;
    } else if (mw.memfd >= 0) {
        long r = wedge_sys(SYS_pread64, mw.memfd, (long)code, MW_CODE_MAX, (long)pc);
        if (r < (long)n) {
            memcpy(code, (const void *)pc, n);
        } else {
            n = (size_t)r;
        }
    } else {
        memcpy(code, (const void *)pc, n);
    }
    return n;
}

/* The executable's own data page usually also holds the end of .got.plt: every call through
 * the PLT reads it.  Such a read is not data sharing; emulating the jump (the target address
 * read through /proc/self/mem, which sees protected pages) costs one signal instead of two
 * plus two mprotect calls. */
static int emulate_got_jump(greg_t *g, uintptr_t pc, uintptr_t addr, const struct wedge_mw_insn *in)
{
    if (!in->got_jump || mw.memfd < 0)
        return 0;
    uintptr_t slot = pc + in->len + (intptr_t)in->disp;
    if (slot != addr)
        return 0;
    uint64_t target = 0;
    if (wedge_sys(SYS_pread64, mw.memfd, (long)&target, 8, (long)slot) != 8 || !target)
        return 0;
    if (in->got_jump == 2) { /* call: push the return address */
        g[REG_RSP] -= 8;
        *(uint64_t *)g[REG_RSP] = pc + in->len;
    }
    g[REG_RIP] = (greg_t)target;
    return 1;
}

/* Only the parts of the range in the arena or among the globals are walked: a system call's
 * buffer may be megabytes of someone else's memory. */
static void open_part(uintptr_t lo, uintptr_t hi, uintptr_t plo, uintptr_t phi, int delta)
{
    if (lo < plo)
        lo = plo;
    if (hi > phi)
        hi = phi;
    for (uintptr_t a = lo & ~(uintptr_t)(MW_PAGE - 1); a < hi; a += MW_PAGE) {
        struct mw_page *pg = mw_page_of(a);
        if (!pg)
            continue;
        if (delta > 0)
            pg->io++;
        else if (pg->io)
            pg->io--;
        mw_sync_prot(pg);
    }
}

void mw_open_range(uintptr_t lo, size_t len, int delta)
{
    uintptr_t hi = lo + len < lo ? UINTPTR_MAX : lo + len;
    open_part(lo, hi, mw.arena, mw.arena_end, delta);
    open_part(lo, hi, mw.glo, mw.ghi, delta);
}

/* rep movs / rep stos (memset and struct copies gcc inlines, libc's large memcpy): a single
 * step traps after every iteration, so a 4 KiB memset would cost a thousand signals.  The
 * instruction is carried out here instead, its pages opened for the copy.  Forward only (DF
 * clear, as the ABI has it at every call); anything else is single-stepped. */
static int emulate_rep(greg_t *g, uintptr_t pc, const struct wedge_mw_insn *in)
{
    if (!in->string || !in->rep || !in->len || (g[REG_EFL] & 0x400))
        return 0;
    uint8_t op = *(const uint8_t *)(pc + in->len - 1);
    int movs = op == 0xa4 || op == 0xa5, stos = op == 0xaa || op == 0xab;
    uint64_t n = (uint64_t)g[REG_RCX];
    if ((!movs && !stos) || n == 0 || n > (1ull << 32))
        return 0;
    size_t bytes = (size_t)n * in->size;
    uintptr_t dst = (uintptr_t)g[REG_RDI], src = (uintptr_t)g[REG_RSI];
    mw_open_range(dst, bytes, 1);
    if (movs)
        mw_open_range(src, bytes, 1);
    volatile uint8_t *d = (volatile uint8_t *)dst;
    if (movs) {
        const volatile uint8_t *sp = (const volatile uint8_t *)src;
        for (size_t i = 0; i < bytes; i++) /* forward, byte by byte: rep movs semantics */
            d[i] = sp[i];
    } else {
        uint64_t v = (uint64_t)g[REG_RAX];
        for (size_t i = 0; i < bytes; i++)
            d[i] = (uint8_t)(v >> (8 * (i % in->size)));
    }
    if (movs)
        mw_open_range(src, bytes, -1);
    mw_open_range(dst, bytes, -1);
    g[REG_RDI] += (greg_t)bytes;
    if (movs)
        g[REG_RSI] += (greg_t)bytes;
    g[REG_RCX] = 0;
    g[REG_RIP] = (greg_t)(pc + in->len);
    return 1;
}

static void after_step(struct mw_thread *me, const struct mw_step *st, ucontext_t *uc);

/* The gregs of the context in the instruction set's register order (wedge_mw_move.c). */
static const int mw_greg[16] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                 REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                 REG_R12, REG_R13, REG_R14, REG_R15 };

/* Is this handler running on an alternate signal stack smaller than MW_ALTSTACK?  (The
 * context's uc_stack is the thread's alternate stack; SA_ONSTACK puts the handler on it.) */
static int on_small_altstack(const ucontext_t *uc)
{
    const stack_t *ss = &uc->uc_stack;
    if ((ss->ss_flags & SS_DISABLE) || !ss->ss_size)
        return 0;
    uintptr_t here = (uintptr_t)__builtin_frame_address(0), lo = (uintptr_t)ss->ss_sp;
    return here >= lo && here - lo < ss->ss_size && ss->ss_size < MW_ALTSTACK;
}

/* An instruction with one memory operand (wedge_mw_move.c) carried out here, on the open
 * page, instead of stepped: one signal instead of two and no debug exception.  Under the
 * lock, with pg LEARN or WATCH; fills *st as the step would have and returns 1 with the
 * page's pending count taken (the caller unlocks and runs after_step), or 0 to step it. */
static int emulate_access(greg_t *g, uintptr_t pc, uintptr_t a, int write, struct mw_page *pg,
                          const uint8_t *code, size_t n, const struct wedge_mw_insn *in,
                          struct mw_step *st)
{
    struct wedge_mw_xol x;
    if (!mw.xol || wedge_mw_decode_xol(code, n, &x) != 0 || (write && !x.writes) ||
        (!write && !x.reads))
        return 0;
    uint64_t ctx[17];
    for (int i = 0; i < 16; i++)
        ctx[i] = (uint64_t)g[mw_greg[i]];
    ctx[16] = (uint64_t)g[REG_EFL];
    uint64_t ea = wedge_mw_xol_addr(&x, ctx, pc);
    /* the access starts at the fault and lies on this page alone (an access that began on
     * the page before, or runs into the next one, is stepped) */
    if (ea != a || ((ea ^ (ea + x.size - 1)) & ~(uint64_t)(MW_PAGE - 1)))
        return 0;
    pg->pending++;
    mw_sync_prot(pg);
    if (pg->prot) { /* could not open it */
        pg->pending--;
        return 0;
    }
    wedge_mw_xol_exec(&x, ctx, ea, mw.xol);
    for (int i = 0; i < 16; i++)
        g[mw_greg[i]] = (greg_t)ctx[i];
    g[REG_EFL] = (greg_t)ctx[16];
    g[REG_RIP] = (greg_t)(pc + x.len);
    memset(st, 0, sizeof *st);
    st->pc = pc;
    st->addr = a;
    st->write = (uint32_t)write;
    st->npages = 1;
    st->pages[0] = pg;
    st->size = in->size;
    st->rmw = in->rmw;
    st->atomic = in->atomic;
    st->emulated = 1;
    return 1;
}

/* The fault, under the lock.  Returns 1 if it was ours (handled), 0 to chain it. */
static int take_fault(siginfo_t *si, ucontext_t *uc)
{
    uintptr_t a = (uintptr_t)si->si_addr;
    struct mw_page *pg = mw_page_of(a);
    if (!pg)
        return 0;
    greg_t *g = uc->uc_mcontext.gregs;
    uintptr_t pc = (uintptr_t)g[REG_RIP];
    int write = (g[REG_ERR] & 2) != 0;
    mw_lock_raw();
    if (pg->state != MW_LEARN && pg->state != MW_WATCH) {
        /* unwatched since the fault was raised: make sure the page is open, and retry */
        if (pg->prot || !atomic_load(&mw.on)) {
            wedge_sys(SYS_mprotect, (long)pg->addr, MW_PAGE, PROT_READ | PROT_WRITE, 0);
            pg->prot = 0;
        }
        mw_unlock_raw();
        return 1;
    }
    struct mw_thread *me = mw_me();
    uint8_t code[MW_CODE_MAX];
    size_t ncode = fetch_code(pc, code);
    struct wedge_mw_insn in;
    wedge_mw_decode(code, ncode, &in);
    if ((!write && emulate_got_jump(g, pc, a, &in)) || emulate_rep(g, pc, &in)) {
        mw.traps++;
        if (wedge_g.shm)
            atomic_fetch_add_explicit(&wedge_g.shm->traps, 1, memory_order_relaxed);
        mw_unlock_raw();
        return 1;
    }
    struct mw_step em;
    if (me && !(g[REG_EFL] & MW_TF) && !on_small_altstack(uc) &&
        emulate_access(g, pc, a, write, pg, code, ncode, &in, &em)) {
        mw_unlock_raw();
        after_step(me, &em, uc);
        return 1;
    }
    struct mw_step *top = me && me->nlv ? &me->lv[me->nlv - 1] : NULL;
    if (top && top->pc == pc && (g[REG_EFL] & MW_TF)) {
        /* the same instruction, on a second page (a copy across a page boundary) */
        int have = 0;
        for (uint32_t k = 0; k < top->npages; k++)
            have |= top->pages[k] == pg;
        if (have || top->npages >= MW_STEP_PAGES) {
            pg->state = MW_DROP; /* cannot happen; never loop on it */
            mw_sync_prot(pg);
            mw_unlock_raw();
            return 1;
        }
        top->pages[top->npages++] = pg;
    } else {
        if (!me || me->nlv >= MW_LEVELS) {
            pg->state = MW_DROP;
            mw_sync_prot(pg);
            mw_unlock_raw();
            return 1;
        }
        top = &me->lv[me->nlv++];
        top->pc = pc;
        top->addr = a;
        top->write = (uint32_t)write;
        top->npages = 1;
        top->pages[0] = pg;
        top->size = in.size;
        top->rmw = in.rmw;
        top->atomic = in.atomic;
        top->emulated = 0;
        /* glibc's asynchronous cancellation must not unwind the thread out of the step (the
         * trap would never come, the page stays open): SIGCANCEL waits until after it */
        uint64_t *mask = (uint64_t *)(void *)&uc->uc_sigmask;
        top->cancel_blocked = !(*mask & MW_SIGCANCEL_BIT);
        *mask |= MW_SIGCANCEL_BIT;
    }
    pg->pending++;
    mw_sync_prot(pg);
    g[REG_EFL] |= (greg_t)MW_TF;
    mw_unlock_raw();
    return 1;
}

/* A page seen shared (header.shared_page) or chosen to be watched (watched_page), for the
 * campaign (cli/portfolio.c, "Focused watching"). */
static void shared_page_note(int watched, uint32_t key)
{
    struct wedge_shm_header *h = wedge_g.shm;
    if (h)
        wedge_shm_set_add(watched ? h->watched_page : h->shared_page, WEDGE_SHARED_PAGES, key,
                          watched ? NULL : &h->n_shared_pages, &h->shared_pages_dropped);
}

/* A page becomes shared: the seed chooses whether this run watches it; a page a token's
 * PAGES field names is watched whatever the cap (wedge_token.h). */
static void choose(struct mw_page *pg)
{
    uint32_t key = wedge_page_key(pg->ident);
    shared_page_note(0, key);
    uint64_t h = wedge_mix(wedge_g.token.seed ^ 0x73686172656421ull, pg->ident);
    if (mw_listed(pg) || (mw.nwatch < mw.max_watch && (mw.watch_all || wedge_below(h, 4) != 0))) {
        pg->state = MW_WATCH;
        pg->traps = 0;
        mw.nwatch++;
        shared_page_note(1, key);
    } else {
        pg->state = MW_DROP;
    }
}

static void report_lost_update(struct mw_thread *me, const struct mw_step *st, uint64_t site,
                               const struct wedge_mw_verdict *v)
{
    int32_t other = v->other_thread < MW_THREADS ? mw_threads[v->other_thread].slot : -1;
    wedge_record(WEDGE_EV_LOST_UPDATE, site, (const void *)st->addr, v->read_site,
                 WEDGE_ACT_NONE, (uint32_t)other, 0);
    struct wedge_shm_header *h = wedge_g.shm;
    static _Atomic int reported;
    if (!h || atomic_exchange(&reported, 1) ||
        (atomic_load(&h->flags) & WEDGE_RUN_LOST_UPDATE))
        return;
    h->lost_update.addr = st->addr;
    h->lost_update.read_site = v->read_site;
    h->lost_update.other_write_site = v->other_site;
    h->lost_update.overwrite_site = site;
    h->lost_update.thread_a = (uint32_t)me->slot;
    h->lost_update.thread_b = (uint32_t)other;
    char msg[160];
    char *p = wedge_fmt_str(msg, "lost update at ");
    p = wedge_fmt_hex(p, st->addr);
    p = wedge_fmt_str(p, ": thread slot ");
    p = wedge_fmt_u64(p, (uint64_t)me->slot);
    p = wedge_fmt_str(p, " read it, thread slot ");
    p = wedge_fmt_u64(p, (uint64_t)(uint32_t)other);
    p = wedge_fmt_str(p, " wrote it, the first overwrote it with a stale value");
    wedge_run_flag(WEDGE_RUN_LOST_UPDATE, msg);
}

/* Noise mode: right after the read of a check-then-act pair is where a delay opens the
 * window; elsewhere a trapped access is a point like any other, at a lower rate (there are
 * many more of them than of library calls). */
static void noise_point(unsigned kind, uint64_t site, const struct mw_step *st, int pair)
{
    uint64_t index = wedge_self.index++;
    uint64_t h = wedge_decide(wedge_g.token.seed, wedge_g.proc_ordinal, wedge_self.ordinal,
                              index, site);
    uint32_t arg = 0;
    unsigned action = WEDGE_ACT_NONE;
    if (!wedge_site_allowed(site) || !wedge_decision_allowed(index)) {
        action = WEDGE_ACT_NONE;
    } else if (pair >= 0) {
        /* the first aimed points of a pair at 1/2, then 1/16: move on to other pairs */
        uint32_t aimed = mw_tracker.pairs[pair].aimed;
        if ((aimed < 16 && (h & 1) == 0) || (h & 15) == 0) {
            action = wedge_noise_decide(h & ~0xffffffffull, &arg); /* always acts */
            mw_tracker.pairs[pair].aimed = aimed + 1;
        }
    } else if (((h >> 56) & 7) == 0) {
        action = wedge_noise_decide(h, &arg);
    }
    /* no rendezvous from inside the trap handler (a peer may be trapped on the same page);
     * the rest under noise mode's budgets, like every other point */
    if (action == WEDGE_ACT_RENDEZVOUS)
        action = WEDGE_ACT_YIELD, arg = 1;
    action = wedge_noise_carry_out(action, &arg);
    wedge_record(kind, site, (const void *)st->addr, st->size, action, arg, 0);
}

/* A scheduling point taken from one of our handlers runs with the interrupted code's signal
 * mask (a serial point may wait long), our two signals always open (the handler's mask was
 * in hp->old).  An asynchronous cancellation must not unwind the thread out of the point (the
 * scheduler's lock held): the mask alone does not hold, glibc's sigprocmask (libunwind's,
 * for a stack) unblocks SIGCANCEL; a deferred type does (glibc's handler checks it). */
struct handler_point {
    uint64_t old;
    int held;
};

static void point_enter(const ucontext_t *uc, struct handler_point *hp)
{
    uint64_t mask;
    memcpy(&mask, &uc->uc_sigmask, sizeof mask);
    mask &= ~MW_OUR_SIGNALS;
    wedge_sys(SYS_rt_sigprocmask, SIG_SETMASK, (long)&mask, (long)&hp->old, 8);
    hp->held = wedge_self.cancel_async;
    if (hp->held)
        wedge_cancel_hold();
    wedge_self.depth++;
}

static void point_leave(const struct handler_point *hp)
{
    wedge_self.depth--;
    if (hp->held)
        wedge_cancel_release();
}

static void after_step(struct mw_thread *me, const struct mw_step *st, ucontext_t *uc)
{
    int sys = wedge_pc_in_system_module((const void *)st->pc);
    uint64_t site = 0;
    struct wedge_mw_verdict v = { .pair = -1 };
    int pair = -1, tracked;

    mw_lock_raw();
    mw.traps++;
    if (wedge_g.shm) {
        atomic_fetch_add_explicit(&wedge_g.shm->traps, 1, memory_order_relaxed);
        if (!st->emulated)
            atomic_fetch_add_explicit(&wedge_g.shm->traps_stepped, 1, memory_order_relaxed);
    }
    struct mw_page *pg = st->pages[0];
    uint32_t state = pg->state;
    for (uint32_t k = 0; k < st->npages; k++)
        if (st->pages[k]->pending)
            st->pages[k]->pending--;
    /* A watched page is dropped after page_budget traps of the program's own code: the C
     * library's accesses to a lock word on the page (every lock and unlock of a mutex among
     * the watched globals) say nothing about the data and would drop the page before the
     * program's accesses that matter (pct_depth3's b_half: its 600 lock round trips spent the
     * page's budget).  mw.budget still bounds the run's traps of every kind.  A page shared
     * by more than MW_CROWD threads gets a smaller budget, in proportion, and counts the C
     * library's traps too: each of a hundred workers locking the same mutex and touching the
     * same counters (pipeline_hold_fixed: 3,342 traps a watched run, twice an unwatched run's
     * time) repeats what the first few showed, while the shapes watching finds
     * (lost_increment, lazy_init, publish_flag, pct_depth3) have 2 to 4 threads. */
    if (state != MW_WATCH || !sys || popcount64(pg->threads) > (int)MW_CROWD)
        pg->traps++;
    pg->threads |= 1ull << (me->idx & 63);
    if (pg->state == MW_LEARN) {
        if (popcount64(pg->threads) >= 2)
            choose(pg);
        else if (pg->traps >= mw.learn_traps)
            mw_set_open(pg);
    } else if (pg->state == MW_WATCH && pg->traps > page_budget(pg)) {
        pg->state = MW_DROP;
        mw.nwatch--;
    }
    for (uint32_t k = 0; k < st->npages; k++)
        mw_sync_prot(st->pages[k]);
    if (mw.traps >= mw.budget && atomic_load(&mw.on)) {
        mw_stop_all();
        wedge_log("memory watching: trap budget spent", NULL);
    }
    mw_tick();
    tracked = !sys && (state == MW_LEARN || state == MW_WATCH);
    if (tracked) {
        site = wedge_site_of_nolock((const void *)st->pc);
        if (st->write) {
            wedge_mw_on_write(&mw_tracker, me->idx, st->addr, site, st->rmw, &v);
        } else {
            wedge_mw_on_read(&mw_tracker, me->idx, st->addr, site);
            pair = wedge_mw_pair_of_read(&mw_tracker, site);
        }
    }
    mw_unlock_raw();

    if (!tracked || wedge_self.depth || wedge_self.exiting || !wedge_g.active)
        return;
    struct handler_point hp;
    point_enter(uc, &hp);
    unsigned kind = st->write ? WEDGE_EV_MEM_WRITE : WEDGE_EV_MEM_READ;
    wedge_self.mem_atomic = st->atomic;
    if (v.lost && mw.lost_update)
        report_lost_update(me, st, site, &v);
    if (wedge_g.serial)
        wedge_serial_point(kind, site, (const void *)st->addr, st->size);
    else
        noise_point(kind, site, st, pair);
    wedge_self.mem_atomic = 0;
    point_leave(&hp); /* a cancellation request that came meanwhile unwinds from here */
}

/* A fault or trap that is not ours: what the kernel would have done with the target's own
 * disposition. */
/* The target's own handler for SIGSEGV runs with SIGSEGV and SIGTRAP open, unlike under the
 * kernel: it may touch a watched page, and a fault that arrives blocked kills the process.
 * (A genuine fault inside that handler then re-enters it instead of killing at once; it ends
 * in a stack overflow, fatal all the same.  A marker in the mask was tried to tell the nested
 * case, but siglongjmp restores the mask from a jmp_buf that may sit on a watched page, where
 * the kernel cannot read it, and the marker stayed.) */
void mw_chain(int which, int sig, siginfo_t *si, ucontext_t *uc)
{
    struct sigaction u = mw.user[which];
    int from_kernel = si->si_code > 0;
    if (u.sa_handler == SIG_IGN && !from_kernel)
        return;
    if (u.sa_handler == SIG_DFL || u.sa_handler == SIG_IGN) {
        /* (the kernel does not let a program ignore a fault it raised: default action.  A raw
         * call: through libc, system call dispatch would take it for the target's own.) */
        struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } d;
        memset(&d, 0, sizeof d);
        wedge_sys(SYS_rt_sigaction, sig, (long)&d, 0, 8);
        if ((sig == SIGSEGV || sig == SIGSYS) && from_kernel)
            return; /* the faulting instruction (or system call) runs again, now fatally */
        sigdelset(&uc->uc_sigmask, sig);
        wedge_sys(SYS_tgkill, wedge_sys(SYS_getpid, 0, 0, 0, 0), wedge_sys(SYS_gettid, 0, 0, 0, 0), sig, 0);
        return;
    }
    if (u.sa_flags & SA_RESETHAND) {
        mw.user[which].sa_handler = SIG_DFL;
        mw.user[which].sa_flags &= ~SA_SIGINFO;
    }
    uint64_t mask, add;
    memcpy(&mask, &uc->uc_sigmask, sizeof mask);
    memcpy(&add, &u.sa_mask, sizeof add);
    mask |= add;
    mask &= ~MW_OUR_SIGNALS;
    wedge_sys(SYS_rt_sigprocmask, SIG_SETMASK, (long)&mask, 0, 8);
    if (u.sa_flags & SA_SIGINFO)
        u.sa_sigaction(sig, si, uc);
    else
        u.sa_handler(sig);
}

/* Serial mode with a reads-from constraint in the token: an access the constraint holds back
 * waits here, before it executes (the interception point of a trapped access comes after it,
 * too late to hold a write).  With the interrupted code's signal mask, as after_step's point;
 * the handler's own mask again before the fault is taken (memwatch's lock). */
static void rf_hold_before(siginfo_t *si, ucontext_t *uc)
{
    if (WEDGE_LIKELY(!wedge_g.token.nrf) || !wedge_g.serial || !wedge_g.active ||
        wedge_self.depth || wedge_self.exiting || si->si_code != SEGV_ACCERR)
        return;
    greg_t *g = uc->uc_mcontext.gregs;
    uintptr_t pc = (uintptr_t)g[REG_RIP];
    struct mw_thread *me = wedge_self.mem;
    if ((g[REG_EFL] & MW_TF) || (me && me->nlv) || !mw_page_of((uintptr_t)si->si_addr) ||
        wedge_pc_in_system_module((const void *)pc))
        return;
    int write = (g[REG_ERR] & 2) != 0;
    uint64_t site = wedge_site_of_nolock((const void *)pc);
    int which = wedge_serial_rf_match(write, site);
    if (which < 0)
        return;
    /* Not on a small alternate signal stack (this handler is SA_ONSTACK): a scheduling point
     * there (the scheduler, the event record's stack capture) overflowed the one Rust gives
     * every thread, and job_claim_rust_fixed crashed in 8 of 200 runs.  memwatch.c replaces
     * such stacks by larger ones of ours in these runs; on one it could not, the constraint
     * does not hold this access (lossy, never wrong). */
    stack_t ss;
    if (wedge_sys(SYS_sigaltstack, 0, (long)&ss, 0, 0) != 0 ||
        ((ss.ss_flags & SS_ONSTACK) && ss.ss_size < MW_ALTSTACK))
        return;
    struct handler_point hp;
    point_enter(uc, &hp);
    wedge_serial_rf_hold(which, write, site, si->si_addr);
    point_leave(&hp);
    wedge_sys(SYS_rt_sigprocmask, SIG_SETMASK, (long)&hp.old, 0, 8);
}

/* Our handlers run with system call dispatch off for their thread (the shim's own calls of
 * libc's), on again for the target's handler they chain to. */
static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    int saved = errno;
    char sel = mw_sel_pass();
    rf_hold_before(si, ctx);
    int ours = si->si_code == SEGV_ACCERR && take_fault(si, ctx);
    mw_sel_restore(sel);
    if (!ours)
        mw_chain(0, sig, si, ctx);
    errno = saved;
}

static void on_trap(int sig, siginfo_t *si, void *ctx)
{
    int saved = errno;
    ucontext_t *uc = ctx;
    struct mw_thread *me = wedge_self.mem;
    if (me && me->nlv && si->si_code == TRAP_TRACE) {
        char sel = mw_sel_pass();
        uc->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)MW_TF;
        struct mw_step st = me->lv[--me->nlv];
        if (st.cancel_blocked)
            *(uint64_t *)(void *)&uc->uc_sigmask &= ~MW_SIGCANCEL_BIT;
        after_step(me, &st, uc);
        mw_sel_restore(sel);
    } else {
        mw_chain(1, sig, si, uc);
    }
    errno = saved;
}

/* The kernel's struct sigaction (x86-64). */
struct mw_ksigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

/* Our restorer: the same bytes as glibc's __restore_rt (libunwind recognizes signal frames by
 * them), but in our code, where syscall user dispatch lets rt_sigreturn through. */
__asm__(".text\n"
        ".globl wedge_mw_restorer\n"
        ".hidden wedge_mw_restorer\n"
        ".type wedge_mw_restorer,@function\n"
        "wedge_mw_restorer:\n"
        "    movq $15, %rax\n"
        "    syscall\n"
        "    hlt\n"
        ".size wedge_mw_restorer, .-wedge_mw_restorer\n");
extern void wedge_mw_restorer(void) WEDGE_HIDDEN;

int mw_install(int sig, void (*fn)(int, siginfo_t *, void *), unsigned long flags,
               uint64_t mask, struct sigaction *old)
{
    struct mw_ksigaction k = { (void *)fn, flags | SA_SIGINFO | SA_RESTORER,
                               (void *)wedge_mw_restorer, mask }, o;
    long r = wedge_sys(SYS_rt_sigaction, sig, (long)&k, (long)&o, 8);
    if (r == 0 && old) {
        memset(old, 0, sizeof *old);
        old->sa_handler = (void (*)(int))o.handler;
        old->sa_flags = (int)o.flags;
        old->sa_restorer = (void (*)(void))o.restorer;
        memcpy(&old->sa_mask, &o.mask, sizeof o.mask);
    }
    return (int)r;
}

void mw_install_handlers(void)
{
    /* every signal blocked but SIGSYS: a system call made with SIGSYS blocked while dispatch
     * is on would kill the process.  On the alternate stack if the target set one: its
     * stack-overflow handler expects it.  The raw call blocks SIGCANCEL too (glibc's
     * sigfillset leaves it out): an asynchronous cancellation must not unwind a thread out of
     * our handlers (memwatch's lock, the serial scheduler's lock held). */
    uint64_t mask = ~MW_SIGBIT(SIGSYS);
    if (mw_install(SIGSEGV, on_segv, SA_RESTART | SA_ONSTACK, mask, &mw.user[0]) != 0)
        return;
    if (mw_install(SIGTRAP, on_trap, SA_RESTART, mask, &mw.user[1]) != 0) {
        REAL(sigaction)(SIGSEGV, &mw.user[0], NULL);
        return;
    }
    mw.installed = 1;
}
