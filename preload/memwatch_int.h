/* memwatch_int.h - internals shared by the memwatch_*.c files (not part of the shim's API).
 *
 * Every page memwatch may protect has a struct mw_page: the pages of its own arena (heap
 * objects the target allocated from its own code) and the pages of the target's globals
 * (.data/.bss of the executable and of its non-system libraries, outside RELRO).
 *
 * Life of a page:
 *   OPEN   not protected; its accessors are not being learned right now.  Every page starts
 *          here (a fresh allocation is its allocator's business until it is shared), and a
 *          page learned as private comes back here.  Re-armed (-> LEARN) at each thread
 *          start and every MW_REARM_EVERY traps or allocations; with a token's PAGES field
 *          and no RF field, a page it does not name goes to DROP instead (wedge_token.h).
 *   LEARN  protected; each trap adds the thread to the page's set.  A second thread makes it
 *          shared: the seed then chooses WATCH or DROP (a page the PAGES field names: WATCH).  MW_LEARN_TRAPS traps by one thread
 *          alone send it back to OPEN (cheap for private data).
 *   WATCH  protected; every access traps, is tracked (pairs, stale writes) and is an
 *          interception point.
 *   DROP   not protected for the rest of the run (not chosen, over its share of the budget,
 *          or given to the kernel when there was no room to remember the call).
 *   OFF    not in use (a freed arena object).
 * The page is actually PROT_NONE iff its state is LEARN or WATCH, no thread is single-stepping
 * an access to it (pending), no intercepted system call is using it as a buffer (io), and the
 * process is not a serial-mode process with one live thread (solo: nothing can race).
 * All of this state changes only under mw_lock, with every signal blocked.
 */
#ifndef WEDGE_MEMWATCH_INT_H
#define WEDGE_MEMWATCH_INT_H

#include "shim.h"
#include "wedge_mw.h"

#include <ucontext.h>

#define MW_PAGE 4096u
#define MW_ARENA_PAGES 8192u      /* 32 MiB of address space, touched only as used */
#define MW_MAX_LIVE 2048u         /* arena pages in use at once; beyond, the real malloc */
#define MW_MAX_OBJ_PAGES 16u      /* larger objects go to the real malloc */
#define MW_MAX_GLOBAL 256u        /* global pages considered */
#define MW_MAX_RANGES 16u
#define MW_MAX_OPEN 1024u         /* OPEN pages remembered for re-arming */
#define MW_THREADS 256u
#define MW_LEVELS 4u              /* nested single steps (a signal handler touching a page) */
#define MW_STEP_PAGES 4u          /* pages one instruction may touch */
/* glibc's SIGCANCEL (__SIGRTMIN), the signal of asynchronous cancellation; glibc's sigaddset
 * refuses it, so masks are changed bit by bit (the first 64 signals: one word) */
#define MW_SIGCANCEL_BIT (1ull << (32 - 1))
#define MW_LEARN_TRAPS 4u
/* An explaining replay (WEDGE_WATCH_ALL): a page stays in LEARN, its accesses tracked, for up
 * to this many traps by one thread: the racing accesses may be a second thread's first ones,
 * after the first thread's long solo stretch (pct_depth3: B reads a_open at its first step,
 * after A's 100 locked steps on the same page), and a page sent back to OPEN would miss them
 * until its next re-arming. */
#define MW_LEARN_SOLO_TRAPS 1024u
#define MW_REARM_EVERY 128u
#define MW_CROWD 8u               /* threads on a watched page before its trap budget shrinks */
/* Alternate signal stacks smaller than this are replaced by one of ours in runs that may hold
 * an access (memwatch.c, sigaltstack); a hold is taken on no smaller one (memwatch_trap.c). */
#define MW_ALTSTACK (256u << 10)

enum mw_state { MW_OFF = 0, MW_OPEN, MW_LEARN, MW_WATCH, MW_DROP };

struct mw_page {
    uintptr_t addr;
    uint64_t ident;      /* stable identity for the seeded choice (site + order, or site) */
    uint64_t threads;    /* bit (thread index % 64) of each thread seen accessing it */
    uint32_t state;
    uint32_t pending;    /* threads single-stepping an access to it */
    uint32_t io;         /* intercepted system calls using it as a buffer */
    uint32_t traps;      /* traps in the current state */
    uint32_t pad0;
    uint8_t prot;        /* currently PROT_NONE */
    uint8_t is_global;
    uint8_t in_open;     /* listed in mw.open[] */
    uint8_t pinned;      /* a signal stack or thread stack: never protected while in use */
    /* arena bookkeeping */
    uint32_t obj_pages;  /* on an object's first page: its length in pages */
    uint32_t next_free;  /* free list link (first page index + 1) */
};

struct mw_step {
    uintptr_t pc;
    uintptr_t addr;
    uint32_t write;
    uint32_t npages;
    struct mw_page *pages[MW_STEP_PAGES];
    uint32_t size;       /* decoded access width, 0 unknown */
    uint8_t rmw, atomic;
    uint8_t cancel_blocked; /* SIGCANCEL blocked by us for the step (memwatch_trap.c) */
    uint8_t emulated;    /* carried out by the handler, not stepped */
};

struct mw_thread {
    uint32_t idx;
    int32_t slot;
    uint32_t nlv;
    char lock_sel;       /* our selector while we hold the lock */
    struct mw_step lv[MW_LEVELS];
    struct {
        uintptr_t lo, hi;
    } io[4];
};

struct mw_range {
    uintptr_t lo, hi;    /* page aligned */
    uint32_t first;      /* index of lo's page in mw.globals */
};

struct mw_state_all {
    _Atomic int on;            /* watching (cleared when the budget is spent, in a child) */
    int installed;             /* our SIGSEGV/SIGTRAP handlers are in place */
    int lost_update;           /* token asked for the stale-write oracle */
    int memfd;                 /* /proc/self/mem, to read the GOT without unprotecting */
    uintptr_t arena, arena_end;
    uint32_t bump;             /* arena pages handed out so far */
    uint32_t live;             /* arena pages in use */
    uint32_t free_head[MW_MAX_OBJ_PAGES + 1];
    uint32_t nglobals, nranges;
    uintptr_t glo, ghi;        /* span of all global ranges, for a quick test */
    struct mw_range ranges[MW_MAX_RANGES];
    struct mw_page globals[MW_MAX_GLOBAL];
    struct mw_page *open[MW_MAX_OPEN];
    uint32_t nopen;
    uint32_t nwatch, max_watch;
    int watch_all;               /* WEDGE_WATCH_ALL: no seeded drop of shared pages */
    int explaining;              /* WEDGE_WATCH_ALL itself: an explaining replay (cli/explain.c) */
    uint32_t learn_traps;        /* traps by one thread alone that send a LEARN page OPEN */
    uint8_t *xol;                /* an executable page for carried-out accesses (under the
                                    lock), NULL: every access stepped (WEDGE_MW_STEP=1) */
    uint64_t traps, budget, page_budget;
    uint32_t ticks;
    _Atomic uint32_t nthreads;
    /* Serial mode: threads of the target alive (made by pthread_create, not yet ended), 1 for
     * the main thread; counted by the token holder, so the same token changes it at the same
     * points.  While it is 1 no page is protected (solo). */
    uint32_t live_threads;
    int solo;
    uint32_t hold;             /* system calls running with every page opened (memwatch_sud.c) */
    int sud;                   /* syscall user dispatch is on (memwatch_sud.c) */
    uintptr_t sud_lo, sud_hi;  /* our code: system calls made from here are never dispatched */
    struct sigaction user[3];  /* the target's SIGSEGV, SIGTRAP, SIGSYS dispositions */
};

extern struct mw_state_all mw WEDGE_HIDDEN;
extern struct mw_page mw_pages[MW_ARENA_PAGES] WEDGE_HIDDEN;
extern struct mw_thread mw_threads[MW_THREADS] WEDGE_HIDDEN;
extern struct wedge_mw_tracker mw_tracker WEDGE_HIDDEN;

/* The lock: taken with every signal blocked (a handler of the target touching a watched page
 * must never find it held by its own thread). */
WEDGE_HIDDEN void mw_lock(uint64_t *saved_mask);
WEDGE_HIDDEN void mw_unlock(uint64_t saved_mask);
/* In our own handlers signals are already blocked. */
WEDGE_HIDDEN void mw_lock_raw(void);
WEDGE_HIDDEN void mw_unlock_raw(void);

WEDGE_HIDDEN struct mw_page *mw_page_of(uintptr_t addr);
WEDGE_HIDDEN void mw_sync_prot(struct mw_page *pg);       /* under the lock */
WEDGE_HIDDEN void mw_set_open(struct mw_page *pg);        /* under the lock */
WEDGE_HIDDEN void mw_rearm(void);                          /* under the lock */
WEDGE_HIDDEN int mw_listed(const struct mw_page *pg);      /* named by the token's PAGES */
WEDGE_HIDDEN void mw_tick(void);                           /* under the lock */
WEDGE_HIDDEN void mw_stop_all(void);                       /* under the lock */
WEDGE_HIDDEN struct mw_thread *mw_me(void);
WEDGE_HIDDEN void mw_install_handlers(void);
WEDGE_HIDDEN void mw_find_globals(void);
/* Open (+1) or close (-1) the pages of ours in [lo, lo+len) for a system call or an emulated
 * access (under the lock). */
WEDGE_HIDDEN void mw_open_range(uintptr_t lo, size_t len, int delta);
/* Pin the pages of ours in a range open for the rest of the run (takes the lock). */
WEDGE_HIDDEN void mw_pin_range(const void *p, size_t len);
/* The target's disposition of a signal we keep (memwatch_trap.c): what the kernel would have
 * done with a signal that is not ours.  which: 0 SIGSEGV, 1 SIGTRAP, 2 SIGSYS. */
WEDGE_HIDDEN void mw_chain(int which, int sig, siginfo_t *si, ucontext_t *uc);
/* Install one of our handlers with our own restorer (its rt_sigreturn is made from our code,
 * which syscall user dispatch lets through).  Returns 0 or -errno; old: the previous one. */
WEDGE_HIDDEN int mw_install(int sig, void (*fn)(int, siginfo_t *, void *), unsigned long flags,
                            uint64_t mask, struct sigaction *old);

/* Syscall user dispatch (memwatch_sud.c): every system call made outside the shim while some
 * page may be protected raises SIGSYS; its buffers are opened around the call. */
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000 /* the kernel's; glibc's headers keep it to themselves */
#endif
#define MW_SIGBIT(s) (1ull << ((s) - 1))
#define MW_OUR_SIGNALS (MW_SIGBIT(SIGSEGV) | MW_SIGBIT(SIGTRAP) | MW_SIGBIT(SIGSYS))
extern char mw_sel[MW_THREADS] WEDGE_HIDDEN; /* per memwatch thread: the selector byte */
WEDGE_HIDDEN void mw_sud_init(void);            /* main thread, after the handlers */
WEDGE_HIDDEN void mw_sud_thread(struct mw_thread *me); /* a new thread, before user code */
WEDGE_HIDDEN void mw_sud_off(void);             /* under the lock: watching stopped for good */
WEDGE_HIDDEN void mw_on_sigsys(int sig, siginfo_t *si, void *ctx);
/* Our own thread's selector: let its system calls through (our handlers, the lock). */
WEDGE_HIDDEN char mw_sel_pass(void);            /* returns the previous value */
WEDGE_HIDDEN void mw_sel_restore(char prev);

#endif
