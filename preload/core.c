/* core.c - the shim's one init path, per-thread state and the event ring.
 *
 * Beside it: log.c (diagnostics), sites.c (module + offset, WEDGE_SITES, the fork gate),
 * noise.c and serial*.c (the two scheduling modes, peers), memwatch*.c (memory watching).
 *
 * Runs inside the target: no stdio, no malloc of ours (libunwind may allocate on its first use,
 * which passes through because wedge_self.depth > 0), no locks the target could take.
 */
#define _GNU_SOURCE
#include "shim.h"
#include "wedge_stream.h"

#include <dlfcn.h>
#include <errno.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

struct wedge_global wedge_g;
__thread struct wedge_thread wedge_self WEDGE_TLS = { .slot = -1 };

/* ------------------------------------------------------------------------------------------ */
/* run state in shared memory */

void wedge_run_flag(uint32_t flag, const char *msg)
{
    struct wedge_shm_header *h = wedge_g.shm;
    if (!h)
        return;
    if (msg && !atomic_exchange(&h->message_lock, 1)) {
        size_t n = strlen(msg);
        if (n >= WEDGE_MESSAGE_LEN)
            n = WEDGE_MESSAGE_LEN - 1;
        memcpy(h->message, msg, n);
        h->message[n] = 0;
    }
    atomic_fetch_or(&h->flags, flag);
}

static struct wedge_thread_slot *my_slot(void)
{
    if (!wedge_g.shm || wedge_self.slot < 0)
        return NULL;
    return wedge_shm_slot(wedge_g.shm, (uint32_t)wedge_self.slot);
}

extern void *__libc_stack_end; /* the loader's: the top of the main thread's stack */

/* Where the registering thread's stack lies, for naming stack slots in reports.  Registration
 * runs before the thread's own code (the trampoline, init), so the program's frames all lie
 * below this one's, or below __libc_stack_end for the process's main thread; above this frame
 * on a created thread are only the trampoline's, start_thread's and the thread's TLS block:
 * one page of slack never reaches another thread's stack.  Its depth: RLIMIT_STACK, what
 * glibc gives the main thread and threads created without a stack size of their own. */
static void stack_extent(struct wedge_thread_slot *s)
{
    static uint32_t size; /* one rlimit per process: read once (a fork keeps it) */
    if (!size) {
        struct rlimit rl;
        uint64_t v = 8u << 20;
        if (wedge_sys(SYS_prlimit64, 0, RLIMIT_STACK, 0, (long)&rl) == 0 &&
            rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= 16384 && rl.rlim_cur < (1ull << 31))
            v = rl.rlim_cur;
        size = (uint32_t)v;
    }
    if (s->tid == (int32_t)wedge_sys(SYS_getpid, 0, 0, 0, 0))
        s->stack_top = (uint64_t)(uintptr_t)__libc_stack_end;
    else
        s->stack_top = (uint64_t)(uintptr_t)__builtin_frame_address(0) + 4096;
    s->stack_size = size;
}

/* The stack size a pthread_create attribute asks for (pthread_attr_setstacksize), 0 for
 * glibc's default; read in the creating thread, given to wedge_thread_stack_size in the new. */
uint32_t wedge_attr_stack_size(const pthread_attr_t *attr)
{
    size_t size = 0;
    if (attr && pthread_attr_getstacksize(attr, &size) == 0 && size >= 16384 &&
        size < (1ull << 31))
        return (uint32_t)size;
    return 0;
}

void wedge_thread_stack_size(uint32_t size)
{
    struct wedge_thread_slot *s = my_slot();
    if (s && size)
        s->stack_size = size;
}

void wedge_thread_register(uint32_t ordinal)
{
    if (wedge_self.registered)
        return;
    wedge_self.registered = 1;
    wedge_self.ordinal = ordinal;
    wedge_self.index = 0;
    wedge_self.slot = -1;
    struct wedge_shm_header *h = wedge_g.shm;
    if (!h)
        return;
    uint32_t i = atomic_fetch_add(&h->nthreads, 1);
    if (i >= WEDGE_MAX_THREADS) {
        wedge_run_flag(WEDGE_RUN_RING_FULL, NULL);
        return;
    }
    struct wedge_thread_slot *s = wedge_shm_slot(h, i);
    s->proc = wedge_g.proc_index;
    s->ordinal = ordinal;
    s->tid = (int32_t)wedge_sys(SYS_gettid, 0, 0, 0, 0);
    atomic_store(&s->head, 0);
    atomic_store(&s->state, WEDGE_TS_RUNNING);
    s->blocked_kind = 0;
    s->blocked_obj = 0;
    s->blocked_site = 0;
    stack_extent(s);
    atomic_store_explicit(&s->used, 1, memory_order_release);
    wedge_self.slot = (int32_t)i;
}

void wedge_set_blocked(unsigned kind, const void *obj, uint64_t site)
{
    wedge_ensure_registered();
    struct wedge_thread_slot *s = my_slot();
    if (!s)
        return;
    s->blocked_kind = (uint16_t)kind;
    s->blocked_obj = (uint64_t)(uintptr_t)obj;
    s->blocked_site = site;
    atomic_store_explicit(&s->state, WEDGE_TS_BLOCKED, memory_order_release);
}

void wedge_set_running(void)
{
    struct wedge_thread_slot *s = my_slot();
    if (s)
        atomic_store_explicit(&s->state, WEDGE_TS_RUNNING, memory_order_release);
}

void wedge_set_exited(void)
{
    struct wedge_thread_slot *s = my_slot();
    if (s)
        atomic_store_explicit(&s->state, WEDGE_TS_EXITED, memory_order_release);
}

/* libunwind, loaded on the first stack actually taken: linked in, it and its liblzma cost
 * every run a few hundred microseconds of loading and relocation (issue 12), and many runs -
 * every run without a token, runs that never sleep or preempt - never take a stack.  dlopen is not signal-safe:
 * a run that may take stacks in a signal handler (memory watching: serial preemptions at
 * trapped accesses) loads it at init instead (wedge_unwinder_load), and so does the fork
 * server, once for all its children. */
static int (*unwind_backtrace)(void **, int);
static _Atomic int unwinder_state; /* 0 not tried, 1 loading, 2 ready, 3 unavailable */
/* libunwind's cursor API, for the stack pointers of frames (wedge_note_stack_frame); the
 * names are the header's, per architecture (unw_init_local is _ULx86_64_init_local...) */
#define WEDGE_STR2(x) #x
#define WEDGE_STR(x) WEDGE_STR2(x)
static struct {
    int (*getcontext)(unw_context_t *);
    int (*init_local)(unw_cursor_t *, unw_context_t *);
    int (*step)(unw_cursor_t *);
    int (*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
} unw_frames;

void wedge_unwinder_load(void)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&unwinder_state, &expected, 1))
        return; /* loaded, failed, or another thread is at it (that stack goes without) */
    wedge_self.depth++; /* what dlopen and libunwind's constructor call passes through */
    void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    void *f = h ? dlsym(h, "unw_backtrace") : NULL;
    if (f) {
        unw_frames.getcontext = (int (*)(unw_context_t *))dlsym(h, WEDGE_STR(unw_tdep_getcontext));
        unw_frames.init_local = (int (*)(unw_cursor_t *, unw_context_t *))dlsym(h, WEDGE_STR(unw_init_local));
        unw_frames.step = (int (*)(unw_cursor_t *))dlsym(h, WEDGE_STR(unw_step));
        unw_frames.get_reg = (int (*)(unw_cursor_t *, unw_regnum_t, unw_word_t *))dlsym(h, WEDGE_STR(unw_get_reg));
    }
    wedge_self.depth--;
    if (!f)
        wedge_log("libunwind.so.8 not loadable: events carry no stacks", NULL);
    unwind_backtrace = (int (*)(void **, int))f;
    atomic_store_explicit(&unwinder_state, f ? 2 : 3, memory_order_release);
}

/* A short stack of sites, innermost first, skipping the shim's own frames. */
static unsigned capture_stack(uint64_t *out, unsigned max)
{
    void *pcs[WEDGE_STACK_DEPTH + 6];
    if (!wedge_gate_enter())
        return 0;
    if (WEDGE_UNLIKELY(atomic_load_explicit(&unwinder_state, memory_order_acquire) != 2)) {
        wedge_unwinder_load();
        if (atomic_load_explicit(&unwinder_state, memory_order_acquire) != 2) {
            wedge_gate_leave();
            return 0;
        }
    }
    /* libunwind validates addresses with write(2) on a pipe, a cancellation point: a thread
     * with a pending cancellation would unwind from here, with the gate (and the serial
     * scheduler's lock) held for ever */
    int cancel_state;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
    int n = unwind_backtrace(pcs, (int)(sizeof pcs / sizeof pcs[0]));
    pthread_setcancelstate(cancel_state, NULL);
    wedge_gate_leave();
    unsigned k = 0;
    for (int i = 0; i < n && k < max; i++) {
        uint64_t site = wedge_site_of_nolock(pcs[i]);
        if (wedge_site_in_shim(site))
            continue;
        /* a return address points after the call: step back into the call instruction */
        out[k++] = i == 0 ? site : site - 1;
    }
    return k;
}

unsigned wedge_stack_sites(uint64_t *out, unsigned max)
{
    return capture_stack(out, max);
}

/* A frame of the calling thread's stack, as frames[] logs it */
struct held_frame {
    uint64_t site, sp, cfa, fp;
};

/* The frame of the calling thread's stack that holds p, found by unwinding, then its callers
 * in the program's own code (a context passed down holds pointers to objects in the frames
 * above): up to max.  Frame i spans [sp_i, sp_i+1), the caller's stack pointer being the
 * frame's CFA.  Returns how many. */
static unsigned frames_holding(uint64_t p, struct held_frame *out, unsigned max)
{
    unw_context_t ctx;
    unw_cursor_t cur;
    unw_word_t ip = 0, lo = 0, hi = 0, bp = 0;
    unsigned n = 0;
    if (unw_frames.getcontext(&ctx) != 0 || unw_frames.init_local(&cur, &ctx) != 0 ||
        unw_frames.get_reg(&cur, UNW_REG_IP, &ip) != 0 ||
        unw_frames.get_reg(&cur, UNW_REG_SP, &lo) != 0)
        return 0;
    for (int depth = 0; depth < 64 && n < max; depth++) {
#ifdef __x86_64__
        if (unw_frames.get_reg(&cur, UNW_X86_64_RBP, &bp) != 0)
            bp = 0;
#endif
        if (unw_frames.step(&cur) <= 0 || unw_frames.get_reg(&cur, UNW_REG_SP, &hi) != 0 ||
            hi <= lo)
            break;
        uint64_t s = wedge_site_of_nolock((const void *)(uintptr_t)ip);
        /* frame 0 is ours; the others' pcs are return addresses: back into the call */
        s = depth == 0 ? s : s - 1;
        if (n == 0 ? p >= lo && p < hi : !wedge_site_in_system_module(s))
            out[n++] = (struct held_frame){ s, lo, hi, bp };
        else if (n > 0)
            break; /* the C library's start-up frames: no callers of the program's above */
        if (unw_frames.get_reg(&cur, UNW_REG_IP, &ip) != 0)
            break;
        lo = hi;
    }
    return n;
}

/* p, handed by the calling thread to another (pthread_create's argument): if it points into
 * the caller's own stack, log the frame that holds it and its callers' (wedge_protocol.h,
 * frames[]), so that a report names the stack objects another thread uses by function and
 * variable.  Only the owner can unwind its stack, and only while the frame is live: here.
 * Costs an unwind (microseconds) per such hand-over. */
void wedge_note_stack_frame(const void *p)
{
    struct wedge_shm_header *h = wedge_g.shm;
    if (!h || !wedge_g.active)
        return;
    wedge_ensure_registered();
    struct wedge_thread_slot *s = my_slot();
    uint64_t a = (uint64_t)(uintptr_t)p;
    if (!s || !s->stack_top || a >= s->stack_top ||
        a <= (uint64_t)(uintptr_t)__builtin_frame_address(0))
        return;
    if (!wedge_gate_enter())
        return;
    if (atomic_load_explicit(&unwinder_state, memory_order_acquire) != 2)
        wedge_unwinder_load();
    struct held_frame fr[4];
    unsigned nf = 0;
    if (atomic_load_explicit(&unwinder_state, memory_order_acquire) == 2 &&
        unw_frames.getcontext && unw_frames.init_local && unw_frames.step &&
        unw_frames.get_reg) {
        int cancel_state; /* as in capture_stack: libunwind's write(2) is a cancellation point */
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
        nf = frames_holding(a, fr, sizeof fr / sizeof fr[0]);
        pthread_setcancelstate(cancel_state, NULL);
    }
    wedge_gate_leave();
    for (unsigned k = 0; k < nf; k++) {
        if (wedge_site_in_shim(fr[k].site))
            continue;
        uint32_t n = atomic_load_explicit(&h->n_frames, memory_order_relaxed);
        if (n > WEDGE_MAX_FRAMES)
            n = WEDGE_MAX_FRAMES;
        int seen = 0; /* the same frame, handing over another of its objects */
        for (uint32_t i = 0; i < n && !seen; i++) {
            const struct wedge_frame *f = &h->frames[i];
            seen = f->slot == (uint32_t)wedge_self.slot && f->sp == fr[k].sp &&
                   f->cfa == fr[k].cfa && f->site == fr[k].site &&
                   atomic_load_explicit(&f->seq, memory_order_relaxed);
        }
        if (seen)
            continue;
        uint32_t i = atomic_fetch_add_explicit(&h->n_frames, 1, memory_order_relaxed);
        struct wedge_frame *f = &h->frames[i % WEDGE_MAX_FRAMES];
        atomic_store_explicit(&f->seq, 0, memory_order_relaxed);
        f->site = fr[k].site;
        f->sp = fr[k].sp;
        f->cfa = fr[k].cfa;
        f->fp = fr[k].fp;
        f->slot = (uint32_t)wedge_self.slot;
        atomic_store_explicit(&f->seq, atomic_load(&h->seq) + 1, memory_order_release);
    }
}

/* The last two accesses of this kind by this thread to this location (and joins: what
 * orders a thread's accesses after another's), kept past the ring's wrap (wedge_protocol.h,
 * last[]).  Only this thread writes its keys' entries; a full probe
 * run drops the access (the ring still has it).  Signal-safe: no locks. */
static void keep_last(const struct wedge_event *e, uint32_t slot)
{
    struct wedge_shm_header *h = wedge_g.shm;
    uint64_t key = wedge_mix(e->obj, (uint64_t)slot << 16 | e->kind) | 1;
    for (uint32_t p = 0; p < 8; p++) {
        struct wedge_last *l = &h->last[(key + p) % WEDGE_MAX_LAST];
        uint64_t k = atomic_load_explicit(&l->key, memory_order_relaxed);
        if (k == 0) {
            uint64_t zero = 0;
            if (!atomic_compare_exchange_strong(&l->key, &zero, key) && zero != key)
                continue;
            l->slot = slot;
            if (!atomic_load_explicit(&h->last_used, memory_order_relaxed))
                atomic_store_explicit(&h->last_used, 1, memory_order_relaxed);
        } else if (k != key) {
            continue;
        }
        l->ev[1] = l->ev[0];
        l->ev[0] = *e;
        return;
    }
    /* full: a conclusion may no longer take a missing join for granted (cli/conclude.c) */
    atomic_fetch_or_explicit(&h->last_used, WEDGE_LAST_DROPPED, memory_order_relaxed);
}

/* An allocation by the target's own code (a system library's are its business): the block
 * a conclusion names a heap address by (wedge_protocol.h, allocs[]). */
void wedge_note_alloc(uint64_t site, const void *p, uint64_t size)
{
    struct wedge_shm_header *h = wedge_g.shm;
    if (!h || !p || !wedge_g.active || wedge_site_in_system_module(site))
        return;
    wedge_ensure_registered(); /* a thread's first call may be this one: its slot */
    uint32_t i = atomic_fetch_add_explicit(&h->n_allocs, 1, memory_order_relaxed);
    struct wedge_alloc *a = &h->allocs[i % WEDGE_MAX_ALLOCS];
    atomic_store_explicit(&a->seq, 0, memory_order_relaxed);
    a->addr = (uint64_t)(uintptr_t)p;
    a->site = site;
    a->size = size > 0xffffffffu ? 0xffffffffu : (uint32_t)size;
    a->slot = (uint32_t)wedge_self.slot;
    /* accesses recorded from here on have a seq >= this */
    atomic_store_explicit(&a->seq, atomic_load(&h->seq) + 1, memory_order_release);
}

struct wedge_event *wedge_record_event(unsigned kind, uint64_t site, const void *obj,
                                      uint64_t aux, unsigned action, uint32_t action_arg,
                                      int with_stack)
{
    wedge_ensure_registered();
    struct wedge_thread_slot *s = my_slot();
    if (!s)
        return NULL;
    wedge_cov_note(kind, site, obj);
    uint64_t head = atomic_load_explicit(&s->head, memory_order_relaxed);
    struct wedge_event *e = &s->ring[head % WEDGE_RING_EVENTS];
    e->seq = 0; /* a reader after a crash sees a torn entry as empty */
    e->site = site;
    e->obj = (uint64_t)(uintptr_t)obj;
    e->aux = aux;
    e->kind = (uint16_t)kind;
    e->action = (uint8_t)action;
    e->action_arg = action_arg;
    e->nstack = with_stack ? (uint8_t)capture_stack(e->stack, WEDGE_STACK_DEPTH) : 0;
    e->seq = atomic_fetch_add_explicit(&wedge_g.shm->seq, 1, memory_order_relaxed) + 1;
    atomic_store_explicit(&s->head, head + 1, memory_order_release);
    if (kind == WEDGE_EV_MEM_READ || kind == WEDGE_EV_MEM_WRITE || kind == WEDGE_EV_JOIN)
        keep_last(e, (uint32_t)wedge_self.slot);
    if (action != WEDGE_ACT_NONE &&
        atomic_load_explicit(&wedge_g.shm->n_decisions, memory_order_relaxed) <
            WEDGE_MAX_DECISIONS) {
        uint32_t i = atomic_fetch_add_explicit(&wedge_g.shm->n_decisions, 1,
                                               memory_order_relaxed);
        if (i < WEDGE_MAX_DECISIONS) {
            struct wedge_decision *d = &wedge_g.shm->decisions[i];
            d->site = site;
            d->obj = e->obj;
            d->slot = (uint32_t)wedge_self.slot;
            d->kind = (uint16_t)kind;
            d->action = (uint8_t)action;
            d->action_arg = action_arg;
            /* noise points draw at index++ just before they record */
            d->index = kind == WEDGE_EV_THREAD_START ? WEDGE_DECISION_START
                                                     : (uint32_t)(wedge_self.index - 1);
            atomic_store_explicit((_Atomic uint64_t *)&d->seq, e->seq, memory_order_release);
        }
    }
    return e;
}

/* Note a site where wedge acted, once per run (a short scan: the set stays small). */
void wedge_note_acted(unsigned kind, uint64_t site, unsigned action)
{
    struct wedge_shm_header *h = wedge_g.shm;
    if (!h || !site)
        return;
    uint32_t n = atomic_load_explicit(&h->n_acted, memory_order_acquire);
    if (n > WEDGE_MAX_ACTED)
        n = WEDGE_MAX_ACTED;
    for (uint32_t i = 0; i < n; i++)
        if (atomic_load_explicit(&h->acted[i].site, memory_order_relaxed) == site)
            return;
    uint32_t i = atomic_fetch_add(&h->n_acted, 1);
    if (i >= WEDGE_MAX_ACTED)
        return;
    h->acted[i].kind = kind;
    h->acted[i].action = action;
    atomic_store_explicit(&h->acted[i].site, site, memory_order_release);
}

void wedge_record(unsigned kind, uint64_t site, const void *obj, uint64_t aux, unsigned action,
                  uint32_t action_arg, int with_stack)
{
    wedge_record_event(kind, site, obj, aux, action, action_arg, with_stack);
    if (action != WEDGE_ACT_NONE)
        wedge_note_acted(kind, site, action);
}

/* ------------------------------------------------------------------------------------------ */
/* init */

static void attach_shm(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        wedge_log("cannot open shared memory ", path);
        return;
    }
    void *p = mmap(NULL, WEDGE_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        wedge_log("cannot map shared memory ", path);
        return;
    }
    struct wedge_shm_header *h = p;
    if (h->magic != WEDGE_SHM_MAGIC || h->version != WEDGE_PROTOCOL_VERSION ||
        h->max_threads != WEDGE_MAX_THREADS || h->ring_events != WEDGE_RING_EVENTS) {
        wedge_log("shared memory of another protocol version: ", path);
        munmap(p, WEDGE_SHM_SIZE);
        return;
    }
    wedge_g.shm = h;
}

/* Our entry in the run's process table; the CLI kills every pid listed there at the end. */
static void register_proc(int32_t parent)
{
    struct wedge_shm_header *h = wedge_g.shm;
    if (!h)
        return;
    uint32_t i = atomic_fetch_add(&h->nprocs, 1);
    if (i >= WEDGE_MAX_PROCS) {
        wedge_g.proc_index = WEDGE_MAX_PROCS - 1; /* shared, untidy but bounded */
        return;
    }
    h->procs[i].pid = (int32_t)getpid();
    h->procs[i].parent = parent;
    h->procs[i].ordinal = wedge_g.proc_ordinal;
    h->procs[i].flags = 0;
    wedge_g.proc_index = i;
}

/* What each run sets up from its environment: in wedge_init, and in a fork server's child
 * (forksrv.c) once the runner gave it its run's variables.  Single-threaded. */
static void init_run(void)
{
    const char *tok = getenv(WEDGE_ENV_TOKEN);
    if (tok && *tok) {
        char err[160];
        if (wedge_token_parse(tok, &wedge_g.token, err, sizeof err) == 0) {
            wedge_g.active = 1;
            wedge_g.serial = wedge_g.token.mode == WEDGE_MODE_SERIAL;
            wedge_g.memory = (wedge_g.token.opts & WEDGE_OPT_MEMORY) != 0;
        } else {
            wedge_log("bad WEDGE_TOKEN, passing through: ", err);
        }
    }
    wedge_sites_parse_allowed(getenv(WEDGE_ENV_SITES));
    wedge_steps_parse_allowed(getenv(WEDGE_ENV_STEPS));
    wedge_steps_from_token(wedge_g.active ? &wedge_g.token : NULL);
    wedge_decisions_parse_allowed(getenv(WEDGE_ENV_DECISIONS));
    const char *shm = getenv(WEDGE_ENV_SHM);
    if (shm && *shm)
        attach_shm(shm);
    const char *proc = getenv(WEDGE_ENV_PROC);
    if (wedge_g.shm) {
        register_proc(-1);
        wedge_g.proc_ordinal = wedge_g.proc_index;
    }
    if (proc && *proc)
        wedge_g.proc_ordinal = (uint32_t)strtoul(proc, NULL, 10);

    if (wedge_g.active) /* without a token nothing is recorded: no module table needed */
        wedge_sites_init();
    wedge_noise_init();
    atomic_store(&wedge_g.next_thread_ordinal, 1);
    if (wedge_g.shm)
        wedge_run_flag(WEDGE_RUN_ATTACHED, NULL);
    wedge_thread_register(0);
    wedge_set_passive(!wedge_g.active && !wedge_g.prelude);
}

struct wedge_hot wedge_hot = {
    .pthread_mutex_lock = wedge_mutex_lock_body,
    .pthread_mutex_unlock = wedge_mutex_unlock_body,
    .malloc = wedge_malloc_body,
    .calloc = wedge_calloc_body,
};

void wedge_set_passive(int passive)
{
    /* passive comes after init: the real functions are resolved */
    wedge_hot.pthread_mutex_lock = passive ? wedge_real.pthread_mutex_lock : wedge_mutex_lock_body;
    wedge_hot.pthread_mutex_unlock =
        passive ? wedge_real.pthread_mutex_unlock : wedge_mutex_unlock_body;
    wedge_hot.malloc = passive ? wedge_real.malloc : wedge_malloc_body;
    wedge_hot.calloc = passive ? wedge_real.calloc : wedge_calloc_body;
    wedge_g.passive = passive;
}

/* The heavy part of a run's set-up, after init_state is 2 (wrappers called from here pass
 * through, depth > 0). */
static void init_run_modes(void)
{
    if (wedge_g.active) {
        wedge_self.depth++;
        if (wedge_g.memory) {
            wedge_unwinder_load(); /* stacks may be taken in the trap handler */
            wedge_mem_init();
        }
        wedge_sanitizer_init();
        if (wedge_g.serial)
            wedge_serial_init();
        wedge_self.depth--;
    }
}

void wedge_init(void)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&wedge_g.init_state, &expected, 1)) {
        /* another thread initializes: wait for it (init is short and never blocks) */
        while (atomic_load(&wedge_g.init_state) == 1)
            wedge_sys(SYS_sched_yield, 0, 0, 0, 0);
        return;
    }
    wedge_resolve_all();
    const char *log = getenv(WEDGE_ENV_LOG);
    wedge_g.log = log && log[0] == '1';
    wedge_forksrv_init(); /* reads and drops WEDGE_FORKSRV: no run of its own then */
    init_run();
    atomic_store_explicit(&wedge_g.init_state, 2, memory_order_release);
    init_run_modes();
}

void wedge_init_forked_run(void)
{
    /* The server ran no run: nothing of a run to undo but the thread registration. */
    wedge_g.active = wedge_g.serial = wedge_g.memory = 0;
    wedge_g.shm = NULL;
    wedge_g.proc_index = wedge_g.proc_ordinal = 0;
    atomic_store(&wedge_g.forks, 0);
    wedge_self.registered = 0;
    wedge_self.index = 0;
    wedge_self.depth++; /* what init_run calls (open, mmap of the run's memory) passes through */
    init_run();
    wedge_self.depth--;
    init_run_modes();
}

void wedge_after_fork_child(uint32_t child_ordinal)
{
    int32_t parent = (int32_t)wedge_g.proc_index;
    wedge_g.proc_ordinal = child_ordinal;
    register_proc(parent);
    wedge_run_flag(WEDGE_RUN_FORKED, NULL);
    wedge_noise_after_fork_child();
    wedge_sites_after_fork_child();
    atomic_store(&wedge_g.next_thread_ordinal, 1);
    atomic_store(&wedge_g.forks, 0);
    /* the forking thread is the child's only thread: it becomes its main thread */
    wedge_self.registered = 0;
    wedge_thread_register(0);
    if (wedge_g.memory)
        wedge_mem_after_fork_child();
    if (wedge_g.serial)
        wedge_serial_after_fork_child();
}

__attribute__((constructor(101))) static void wedge_constructor(void)
{
    if (atomic_load(&wedge_g.init_state) == 0)
        wedge_init();
}
