/* coverage.c - schedule coverage: a cheap abstraction of what a run's interleaving did.
 *
 * For each object the program synchronizes on or accesses through watched memory, the shim
 * keeps the last write-like event (site, thread).  When another thread then touches the same
 * object, the ordered pair (that site, this site) plus whether each was a write is hashed
 * into one bit of the run's coverage bitmap (header.cov): reads-from pairs for trapped
 * reads, write-write and lock hand-off orders for the rest.  Addresses never enter the hash
 * (sites are module + offset), so the same interleaving sets the same bits in every run, and
 * a run that sets a bit no earlier run of the campaign set has shown new behaviour
 * (cli/portfolio.c rewards its arm).
 *
 * The table is per process and lossy: an object finds its entry among COV_PROBES slots from
 * the hash of its stable name (wedge_obj_key), and one that finds none takes the first slot's, the
 * object there only losing a pair.  Hashed on the address, which objects collided (and so
 * which pairs a run recorded) changed with ASLR from one run of the same seed to the next.
 * Threads of a noise-mode run update it concurrently without a lock (relaxed atomics): a torn
 * entry costs one wrong bit of feedback, never correctness.  No allocation, no locks: it runs
 * at every event, also from the trap handler. */
#include "shim.h"
#include "wedge_stream.h"

#define COV_TABLE 4096u /* power of two */
#define COV_PROBES 4u

struct cov_last {
    _Atomic uint64_t obj;
    _Atomic uint64_t site;
    _Atomic uint32_t thread;   /* shm slot + 1 of the last writer, 0: none */
    _Atomic uint32_t write;    /* the last event was write-like */
    _Atomic uint32_t flags;    /* its WEDGE_RF_PAIR_* (an atomic write) */
    _Atomic uint32_t acq;      /* its thread's wedge_self.acq_n if inside a critical section */
};
static struct cov_last cov_table[COV_TABLE];

/* 0: not an access to a shared object; 1: read-like; 2: write-like (every synchronization
 * operation orders the threads that meet at its object, as a write would). */
static int cov_class(unsigned kind)
{
    switch (kind) {
    case WEDGE_EV_MEM_READ:
        return 1;
    case WEDGE_EV_MEM_WRITE:
    case WEDGE_EV_MUTEX_LOCK:
    case WEDGE_EV_MUTEX_TRYLOCK:
    case WEDGE_EV_MUTEX_UNLOCK:
    case WEDGE_EV_RWLOCK_RDLOCK:
    case WEDGE_EV_RWLOCK_WRLOCK:
    case WEDGE_EV_RWLOCK_UNLOCK:
    case WEDGE_EV_COND_WAIT:
    case WEDGE_EV_COND_SIGNAL:
    case WEDGE_EV_COND_BROADCAST:
    case WEDGE_EV_SEM_WAIT:
    case WEDGE_EV_SEM_POST:
    case WEDGE_EV_BARRIER_WAIT:
    case WEDGE_EV_SPIN_LOCK:
    case WEDGE_EV_SPIN_UNLOCK:
    case WEDGE_EV_ONCE:
        return 2;
    default:
        return 0;
    }
}

/* A reads-from pair of a trapped read into the run's table (header.rf): each distinct pair
 * once, the first threads that showed it.  Claimed by a compare-and-swap on its key, so the
 * threads of a noise run may race; linear probing, a pair that finds no entry in a few
 * probes is counted and lost. */
static void rf_note(struct wedge_shm_header *h, uint64_t wsite, uint64_t rsite, uint32_t wthread,
                    uint32_t flags, uint32_t wacq, uint64_t okey, const void *obj)
{
    uint64_t key = wedge_mix(wedge_mix(wsite, 0x7266u), rsite) | 1u;
    for (uint32_t i = 0; i < 8; i++) {
        struct wedge_rf_pair *e = &h->rf[(key + i) & (WEDGE_RF_PAIRS - 1u)];
        uint64_t k = atomic_load_explicit(&e->key, memory_order_relaxed);
        if (k == key)
            return;
        if (k == 0 && atomic_compare_exchange_strong_explicit(&e->key, &k, key,
                                                              memory_order_relaxed,
                                                              memory_order_relaxed)) {
            e->write_site = wsite;
            e->read_site = rsite;
            e->write_thread = wthread;
            e->read_thread = wedge_self.ordinal;
            e->flags = flags;
            e->write_acq = wacq;
            e->read_acq = wedge_self.in_cs ? wedge_self.acq_n : 0;
            e->obj_key = okey;
            e->page = wedge_mem_page_key(obj);
            atomic_fetch_add_explicit(&h->n_rf, 1, memory_order_release);
            return;
        }
        if (k == key)
            return;
    }
    atomic_fetch_add_explicit(&h->rf_dropped, 1, memory_order_relaxed);
}

/* A futex word the program named (header.futex_key): each distinct stable name once.  The
 * campaign tells a lock's word from lock-free data by it (cli/portfolio.c, "Lock-free code"). */
void wedge_shm_set_add(_Atomic uint64_t *set, uint32_t size, uint64_t key,
                       _Atomic uint32_t *count, _Atomic uint32_t *dropped)
{
    uint64_t base = wedge_mix(key, 0x667574u);
    for (uint32_t i = 0; i < 8; i++) {
        _Atomic uint64_t *e = &set[(base + i) & (size - 1u)];
        uint64_t k = atomic_load_explicit(e, memory_order_relaxed);
        if (k == key)
            return;
        if (k == 0 && atomic_compare_exchange_strong_explicit(e, &k, key, memory_order_relaxed,
                                                              memory_order_relaxed)) {
            if (count)
                atomic_fetch_add_explicit(count, 1, memory_order_release);
            return;
        }
        if (k == key)
            return;
    }
    atomic_fetch_add_explicit(dropped, 1, memory_order_relaxed);
}

void wedge_futex_note(const void *addr)
{
    struct wedge_shm_header *h = wedge_g.shm;
    if (!h || !addr)
        return;
    uint64_t key = wedge_obj_key(addr);
    if (key)
        wedge_shm_set_add(h->futex_key, WEDGE_FUTEX_WORDS, key, &h->n_futex, &h->futex_dropped);
}

/* An object's name that does not move under ASLR: a watched heap block's identity and offset,
 * module + offset for the program's globals; the address itself for what is neither (a
 * stack, the C library's heap: those may still collide differently from run to run). */
uint64_t wedge_obj_key(const void *obj)
{
    uint64_t k = wedge_mem_ident(obj);
    return k ? k : wedge_site_of_nolock(obj);
}

/* The entry of the object at address o whose stable name is key. */
static struct cov_last *cov_entry(uint64_t o, uint64_t key)
{
    uint64_t base = wedge_mix(key, 0x636f76u);
    for (uint32_t i = 0; i < COV_PROBES; i++) {
        struct cov_last *l = &cov_table[(base + i) & (COV_TABLE - 1u)];
        uint64_t held = atomic_load_explicit(&l->obj, memory_order_relaxed);
        if (held == o || held == 0)
            return l;
    }
    return &cov_table[base & (COV_TABLE - 1u)];
}

void wedge_cov_note(unsigned kind, uint64_t site, const void *obj)
{
    struct wedge_shm_header *h = wedge_g.shm;
    int cls = cov_class(kind);
    if (!h || !obj || !cls || wedge_self.slot < 0)
        return;
    uint64_t o = (uint64_t)(uintptr_t)obj;
    uint32_t me = (uint32_t)wedge_self.slot + 1u;
    uint64_t key = wedge_obj_key(obj);
    struct cov_last *l = cov_entry(o, key);
    int same = atomic_load_explicit(&l->obj, memory_order_relaxed) == o;
    if (kind == WEDGE_EV_MEM_READ) {
        /* reads-from: another thread's write, or none seen (the entry is another object's or
         * holds only reads): the initial value, as far as this lossy table knows */
        uint32_t prev = same ? atomic_load_explicit(&l->thread, memory_order_relaxed) : 0;
        int from_write = same && atomic_load_explicit(&l->write, memory_order_relaxed);
        if (!from_write)
            rf_note(h, 0, site, 0, 0, 0, key, obj);
        else if (prev != me && prev - 1u < WEDGE_MAX_THREADS)
            /* the object's name also for a write's pair: the campaign matches an atomic
             * write's object against the run's futex words */
            rf_note(h, atomic_load_explicit(&l->site, memory_order_relaxed), site,
                    wedge_shm_slot(h, prev - 1u)->ordinal,
                    atomic_load_explicit(&l->flags, memory_order_relaxed),
                    atomic_load_explicit(&l->acq, memory_order_relaxed), key, obj);
    }
    if (same) {
        uint32_t prev_w = atomic_load_explicit(&l->write, memory_order_relaxed);
        if (atomic_load_explicit(&l->thread, memory_order_relaxed) != me && prev_w) {
            uint64_t prev_site = atomic_load_explicit(&l->site, memory_order_relaxed);
            uint64_t pair = wedge_mix(wedge_mix(prev_site, site), (uint64_t)cls);
            uint32_t bit = (uint32_t)(pair & (WEDGE_COV_WORDS * 64u - 1u));
            atomic_fetch_or_explicit(&h->cov[bit / 64u], 1ull << (bit % 64u),
                                     memory_order_relaxed);
        }
        /* a read leaves the last write in place: later reads pair with it too */
        if (cls == 1)
            return;
    }
    atomic_store_explicit(&l->obj, o, memory_order_relaxed);
    atomic_store_explicit(&l->site, site, memory_order_relaxed);
    atomic_store_explicit(&l->thread, me, memory_order_relaxed);
    atomic_store_explicit(&l->write, cls == 2, memory_order_relaxed);
    atomic_store_explicit(&l->flags,
                          kind == WEDGE_EV_MEM_WRITE && wedge_self.mem_atomic ? WEDGE_RF_PAIR_ATOMIC
                                                                              : 0u,
                          memory_order_relaxed);
    atomic_store_explicit(&l->acq, wedge_self.in_cs ? wedge_self.acq_n : 0u, memory_order_relaxed);
}
