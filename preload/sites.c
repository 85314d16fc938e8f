/* sites.c - where an event happened: module + offset (stable under ASLR), whether that is a
 * system library, and where wedge may act (WEDGE_SITES).  Also the fork gate, which keeps
 * fork away from the sections here and in stack capture that take locks.
 *
 * Runs inside the target: lookups are lock-free and signal-safe (the _nolock variants).
 */
#define _GNU_SOURCE
#include "shim.h"

#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

/* ------------------------------------------------------------------------------------------ */
/* sites: module + offset.  A snapshot of the loaded modules' segments, refreshed on a miss
 * (a dlopen'ed library).  Readers use the current table without locks; a refresh builds the
 * other table and publishes it. */

#define MAX_RANGES 512
struct range {
    uintptr_t lo, hi, bias;
    int module; /* index in shm->modules, or -1 */
};
struct range_table {
    int n;
    struct range r[MAX_RANGES];
};
/* The fork gate.  libunwind and the module-table refresh take locks (libunwind's own mutex,
 * the run's module spin lock); a fork while another thread holds one would leave the child
 * waiting forever on a lock whose owner does not exist there.  fork closes the gate and waits
 * for those sections to drain; they are skipped (no stack, no refresh) while it is closed. */
static _Atomic int gate_closed;
static _Atomic int gate_users;

int wedge_gate_enter(void)
{
    if (atomic_load(&gate_closed))
        return 0;
    atomic_fetch_add(&gate_users, 1);
    if (atomic_load(&gate_closed)) {
        atomic_fetch_sub(&gate_users, 1);
        return 0;
    }
    return 1;
}

void wedge_gate_leave(void)
{
    atomic_fetch_sub(&gate_users, 1);
}

void wedge_fork_prepare(void)
{
    atomic_store(&gate_closed, 1);
    while (atomic_load(&gate_users))
        wedge_sys(SYS_sched_yield, 0, 0, 0, 0);
}

void wedge_fork_done(int child)
{
    if (child)
        atomic_store(&gate_users, 0);
    atomic_store(&gate_closed, 0);
}

static struct range_table tables[2];
static _Atomic(struct range_table *) current_table;
static _Atomic int refreshing;
static char exe_path[WEDGE_MODULE_PATH];

static int module_index(const char *path, uint64_t bias)
{
    struct wedge_shm_header *h = wedge_g.shm;
    if (!h || !*path)
        return -1;
    /* Modules are shared by all processes of the run: find or append under a spin lock. */
    while (atomic_exchange_explicit(&h->module_lock, 1, memory_order_acquire))
        ;
    uint32_t n = atomic_load(&h->nmodules);
    int found = -1;
    for (uint32_t i = 0; i < n; i++)
        if (strncmp(h->modules[i].path, path, WEDGE_MODULE_PATH) == 0) {
            found = (int)i;
            break;
        }
    if (found >= 0 && h->modules[found].bias != bias) {
        /* loaded elsewhere in this process than in the one that registered it */
        uint32_t nb = atomic_load(&h->n_module_biases), k;
        for (k = 0; k < nb && k < WEDGE_MAX_MODULE_BIASES; k++)
            if (h->module_biases[k].module == (uint32_t)found &&
                h->module_biases[k].bias == bias)
                break;
        if (k == nb && nb < WEDGE_MAX_MODULE_BIASES) {
            h->module_biases[nb].module = (uint32_t)found;
            h->module_biases[nb].proc = wedge_g.proc_index;
            h->module_biases[nb].bias = bias;
            atomic_store(&h->n_module_biases, nb + 1);
        }
    }
    if (found < 0 && n < WEDGE_MAX_MODULES) {
        size_t len = strlen(path);
        if (len >= WEDGE_MODULE_PATH)
            len = WEDGE_MODULE_PATH - 1;
        memcpy(h->modules[n].path, path, len);
        h->modules[n].path[len] = 0;
        h->modules[n].bias = bias;
        atomic_store(&h->nmodules, n + 1);
        found = (int)n;
    }
    atomic_store_explicit(&h->module_lock, 0, memory_order_release);
    return found;
}

static int collect(struct dl_phdr_info *info, size_t size, void *data)
{
    struct range_table *t = data;
    const char *name = info->dlpi_name;
    if (!name || !*name)
        name = exe_path; /* the main program */
    if (strstr(name, "linux-vdso"))
        return 0;
    int mod = -2;
    for (int i = 0; i < info->dlpi_phnum && t->n < MAX_RANGES; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        if (mod == -2)
            mod = module_index(name, info->dlpi_addr);
        struct range *r = &t->r[t->n++];
        r->lo = info->dlpi_addr + ph->p_vaddr;
        r->hi = r->lo + ph->p_memsz;
        r->bias = info->dlpi_addr;
        r->module = mod;
    }
    return 0;
}

static void refresh_modules(void)
{
    if (!wedge_gate_enter())
        return;
    if (atomic_exchange(&refreshing, 1)) {
        wedge_gate_leave();
        return; /* someone else is at it; this lookup stays unknown */
    }
    struct range_table *cur = atomic_load(&current_table);
    struct range_table *next = cur == &tables[0] ? &tables[1] : &tables[0];
    next->n = 0;
    dl_iterate_phdr(collect, next);
    atomic_store(&current_table, next);
    atomic_store(&refreshing, 0);
    wedge_gate_leave();
}

static uint64_t lookup_site(uintptr_t pc, int may_refresh)
{
    for (int pass = 0; pass < 2; pass++) {
        struct range_table *t = atomic_load(&current_table);
        if (t)
            for (int i = 0; i < t->n; i++)
                if (pc >= t->r[i].lo && pc < t->r[i].hi)
                    return t->r[i].module >= 0 ? WEDGE_SITE(t->r[i].module, pc - t->r[i].bias)
                                               : (uint64_t)pc;
        if (!may_refresh)
            break;
        refresh_modules();
    }
    return (uint64_t)pc; /* module 0xffff: an absolute address */
}

uint64_t wedge_site_of(const void *pc)
{
    return lookup_site((uintptr_t)pc, 1);
}

uint64_t wedge_site_of_nolock(const void *pc)
{
    return lookup_site((uintptr_t)pc, 0);
}

/* What a module is, decided once per module of the run from its path (the table is shared
 * by the run's processes and only grows, so an index keeps its path). */
enum { MOD_KNOWN = 1, MOD_SYSTEM = 2, MOD_SANITIZER = 4, MOD_SHIM = 8 };

static int module_kind(uint64_t site)
{
    static _Atomic uint8_t kind[WEDGE_MAX_MODULES];
    int mod = WEDGE_SITE_MODULE(site);
    if (!wedge_g.shm || mod < 0 || mod >= (int)WEDGE_MAX_MODULES)
        return MOD_KNOWN | MOD_SYSTEM; /* an absolute address: no module of the program */
    uint8_t k = atomic_load_explicit(&kind[mod], memory_order_relaxed);
    if (!k) {
        const char *path = wedge_g.shm->modules[mod].path;
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        k = MOD_KNOWN;
        /* System libraries: the C library, the loader, and anything under /lib, /usr/lib. */
        if (strstr(path, "libwedge.so") != NULL)
            k |= MOD_SYSTEM | MOD_SHIM;
        if (strncmp(path, "/lib", 4) == 0 || strncmp(path, "/usr/lib", 8) == 0)
            k |= MOD_SYSTEM;
        if (strncmp(base, "lib", 3) == 0 && strstr(base, "san.so"))
            k |= MOD_SANITIZER;
        atomic_store_explicit(&kind[mod], k, memory_order_relaxed);
    }
    return k;
}

/* Both signal-safe: a load once the module has been seen. */
int wedge_site_in_system_module(uint64_t site)
{
    return (module_kind(site) & MOD_SYSTEM) != 0;
}

int wedge_site_in_sanitizer(uint64_t site)
{
    return (module_kind(site) & MOD_SANITIZER) != 0;
}

int wedge_site_in_shim(uint64_t site)
{
    return (module_kind(site) & MOD_SHIM) != 0;
}

int wedge_pc_in_system_module(const void *pc)
{
    return wedge_site_in_system_module(lookup_site((uintptr_t)pc, 0));
}

void wedge_sites_init(void)
{
    ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
    exe_path[n > 0 ? n : 0] = 0;
    refresh_modules();
}

void wedge_sites_after_fork_child(void)
{
    atomic_store(&refreshing, 0);
}

/* Sites where wedge may act (WEDGE_SITES, set by `wedge minimize` and `replay --sites`):
 * an empty list allows every site. */
#define MAX_ALLOWED_SITES 64
static uint64_t allowed_sites[MAX_ALLOWED_SITES];
static int n_allowed_sites;

void wedge_sites_parse_allowed(const char *s)
{
    n_allowed_sites = 0; /* a fork server's child parses its run's list again */
    while (s && *s && n_allowed_sites < MAX_ALLOWED_SITES) {
        char *end;
        uint64_t v = strtoull(s, &end, 16);
        if (end == s)
            break;
        allowed_sites[n_allowed_sites++] = v;
        s = *end == ',' ? end + 1 : end;
    }
    if (n_allowed_sites == 0 && s && *s)
        allowed_sites[n_allowed_sites++] = ~0ull; /* malformed: allow nothing, never crash */
}

int wedge_site_allowed(uint64_t site)
{
    if (WEDGE_LIKELY(n_allowed_sites == 0))
        return 1;
    for (int i = 0; i < n_allowed_sites; i++)
        if (allowed_sites[i] == site)
            return 1;
    return 0;
}

/* Serial steps where a preemption may be injected (WEDGE_STEPS, set by `wedge minimize` and
 * `replay --steps`): ranges "a-b" or single steps, comma-separated; unset allows all. */
#define MAX_ALLOWED_STEPS 64
static struct { uint64_t lo, hi; } allowed_steps[MAX_ALLOWED_STEPS];
static int n_allowed_steps, steps_restricted;

void wedge_steps_parse_allowed(const char *s)
{
    steps_restricted = 0; /* a fork server's child parses its run's list again */
    n_allowed_steps = 0;
    if (!s)
        return;
    steps_restricted = 1; /* set, even empty or malformed: allow only what parses */
    while (*s && n_allowed_steps < MAX_ALLOWED_STEPS) {
        char *end;
        uint64_t lo = strtoull(s, &end, 10), hi = lo;
        if (end == s)
            break;
        if (*end == '-') {
            const char *h = end + 1;
            hi = strtoull(h, &end, 10);
            if (end == h)
                break;
        }
        allowed_steps[n_allowed_steps].lo = lo;
        allowed_steps[n_allowed_steps++].hi = hi;
        s = *end == ',' ? end + 1 : end;
    }
}

/* Noise decisions wedge may take (WEDGE_DECISIONS, set by `wedge minimize`, and a token's
 * DECISIONS field): unset allows all; both set, a decision must be in both. */
#define MAX_ALLOWED_DECISIONS 64
static struct wedge_decision_ref allowed_decisions[MAX_ALLOWED_DECISIONS];
static int n_allowed_decisions = -1; /* -1: unrestricted */

void wedge_decisions_parse_allowed(const char *s)
{
    n_allowed_decisions = -1; /* a fork server's child parses its run's list again */
    if (!s)
        return;
    n_allowed_decisions = wedge_decisions_parse(s, strlen(s), allowed_decisions,
                                                MAX_ALLOWED_DECISIONS, NULL, 0);
    if (n_allowed_decisions < 0)
        n_allowed_decisions = 0; /* malformed: allow nothing, never crash */
}

int wedge_decision_allowed(uint64_t index)
{
    uint32_t ix = index >= WEDGE_DECISION_START ? WEDGE_DECISION_START : (uint32_t)index;
    if (WEDGE_UNLIKELY(wedge_g.token.has_decisions) &&
        !wedge_decision_listed(wedge_g.token.decisions, wedge_g.token.ndecisions,
                               wedge_g.proc_ordinal, wedge_self.ordinal, ix))
        return 0;
    if (WEDGE_LIKELY(n_allowed_decisions < 0))
        return 1;
    return wedge_decision_listed(allowed_decisions, (size_t)n_allowed_decisions,
                                 wedge_g.proc_ordinal, wedge_self.ordinal, ix);
}

/* The token's own STEPS field (a minimized token): a second list, so that WEDGE_STEPS (a
 * minimize trial of a minimized token) can only narrow it further. */
static const struct wedge_token *token_steps;

void wedge_steps_from_token(const struct wedge_token *t)
{
    token_steps = t && t->has_steps ? t : NULL;
}

int wedge_step_allowed(uint64_t step)
{
    if (WEDGE_UNLIKELY(token_steps != NULL)) {
        int in = 0;
        for (uint32_t i = 0; i < token_steps->nsteps && !in; i++)
            in = step >= token_steps->steps[i].lo && step <= token_steps->steps[i].hi;
        if (!in)
            return 0;
    }
    if (WEDGE_LIKELY(!steps_restricted))
        return 1;
    for (int i = 0; i < n_allowed_steps; i++)
        if (step >= allowed_steps[i].lo && step <= allowed_steps[i].hi)
            return 1;
    return 0;
}
