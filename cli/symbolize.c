/* symbolize.c - sites (module + offset) to "function (file:line)", and data addresses to
 * names ("hist.len", "global in router_history").
 *
 * Code lines come from DWARF through libdw (dwarf.c) when wedge is built with it; without it,
 * from binutils addr2line, as follows.  One persistent `addr2line -a -f -C -i -e MODULE` per
 * module, fed offsets on stdin: starting
 * addr2line costs tens of milliseconds, a lookup in a running one microseconds.  -a echoes each
 * address before its frames; since -i may print several frames per address, we follow every
 * address with a sentinel (offset 0, the ELF header, never code) whose echo marks the end of
 * the real address's frames.  Results are cached per (module, offset).  Anything going wrong
 * (no addr2line, no debug info, "??") falls back to "module+0xoff".
 */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct sym_entry {
    uint64_t off;
    char *text;
};

struct sym_module {
    char *path;
    pid_t pid;
    FILE *to, *from;
    int dead;
    struct sym_entry *cache;
    size_t ncache, cap;
};

static struct sym_module *mods;
static size_t nmods;

const char *path_base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void start_addr2line(struct sym_module *m)
{
    int in[2], out[2];
    m->dead = 1;
    if (pipe2(in, O_CLOEXEC) != 0)
        return;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        execlp("addr2line", "addr2line", "-a", "-f", "-C", "-i", "-e", m->path, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    if (pid < 0) {
        close(in[1]);
        close(out[0]);
        return;
    }
    m->pid = pid;
    m->to = fdopen(in[1], "w");
    m->from = fdopen(out[0], "r");
    if (!m->to || !m->from) {
        if (m->to)
            fclose(m->to);
        else
            close(in[1]);
        if (m->from)
            fclose(m->from);
        else
            close(out[0]);
        m->to = m->from = NULL;
        return;
    }
    m->dead = 0;
}

static struct sym_module *module_for(const char *path)
{
    for (size_t i = 0; i < nmods; i++)
        if (strcmp(mods[i].path, path) == 0)
            return &mods[i];
    struct sym_module *n = realloc(mods, (nmods + 1) * sizeof *mods);
    if (!n)
        return NULL;
    mods = n;
    struct sym_module *m = &mods[nmods++];
    memset(m, 0, sizeof *m);
    m->path = strdup(path);
    m->pid = -1;
    if (!m->path || access(path, R_OK) != 0)
        m->dead = 1;
    else if (!dwarf_available())
        start_addr2line(m);
    return m;
}

static int read_line(FILE *f, char *buf, size_t len)
{
    if (!fgets(buf, (int)len, f))
        return -1;
    buf[strcspn(buf, "\n")] = 0;
    return 0;
}

/* "file:line (discriminator 2)" -> "file:line" with the directory dropped. */
static void tidy_location(const char *in, char *out, size_t len)
{
    const char *b = path_base_name(in);
    size_t n = strcspn(b, " ");
    snprintf(out, len, "%.*s", (int)n, b);
}

/* Ask addr2line; returns a malloc'd description or NULL. */
static char *lookup(struct sym_module *m, uint64_t off)
{
    if (m->dead)
        return NULL;
    if (dwarf_available())
        return dwarf_describe_code(m->path, off);
    if (fprintf(m->to, "0x%" PRIx64 "\n0x0\n", off) < 0 || fflush(m->to) != 0) {
        m->dead = 1;
        return NULL;
    }
    char line[4096], func[1024], loc[1024];
    char *result = NULL;
    size_t rlen = 0;
    FILE *acc = open_memstream(&result, &rlen);
    if (!acc)
        return NULL;
    int frames = 0, ok = 0;
    /* the echo of our address */
    if (read_line(m->from, line, sizeof line) != 0 || strncmp(line, "0x", 2) != 0)
        goto broken;
    for (;;) {
        if (read_line(m->from, line, sizeof line) != 0)
            goto broken;
        if (strncmp(line, "0x", 2) == 0)
            break; /* the sentinel's echo: our frames are done */
        size_t fl = strlen(line) < sizeof func ? strlen(line) : sizeof func - 1;
        memcpy(func, line, fl);
        func[fl] = 0;
        if (read_line(m->from, line, sizeof line) != 0)
            goto broken;
        tidy_location(line, loc, sizeof loc);
        int known_func = strcmp(func, "??") != 0;
        int known_loc = strncmp(loc, "??", 2) != 0;
        if (known_func || known_loc) {
            if (frames == 0)
                ok = 1;
            if (frames == 1)
                fputs(" inlined in", acc); /* -i: later frames are the callers it was inlined in */
            else if (frames > 1)
                fputs(",", acc);
            if (frames > 0)
                fputc(' ', acc);
            if (known_loc)
                fprintf(acc, "%s (%s)", func, loc);
            else
                fprintf(acc, "%s (%s+0x%" PRIx64 ")", func, path_base_name(m->path), off);
        }
        frames++;
    }
    /* the sentinel's own frame */
    if (read_line(m->from, line, sizeof line) != 0 || read_line(m->from, line, sizeof line) != 0)
        goto broken;
    fclose(acc);
    if (!ok) {
        free(result);
        return NULL;
    }
    return result;
broken:
    fclose(acc);
    free(result);
    m->dead = 1;
    return NULL;
}

/* Into path: the file of the module a site lies in.  0 if the site's module is unknown or
 * has no path. */
static int site_module_path(const struct wedge_shm_header *h, uint64_t site,
                            char path[WEDGE_MODULE_PATH + 1])
{
    int mod = WEDGE_SITE_MODULE(site);
    path[0] = 0;
    if (!h || mod < 0 || mod >= (int)WEDGE_MAX_MODULES || (uint32_t)mod >= atomic_load(&h->nmodules))
        return 0;
    memcpy(path, h->modules[mod].path, WEDGE_MODULE_PATH);
    path[WEDGE_MODULE_PATH] = 0;
    return path[0] != 0;
}

const char *symbolize(const struct wedge_shm_header *h, uint64_t site, int is_return)
{
    static char fallback[8][256];
    static int fb_next;
    int mod = WEDGE_SITE_MODULE(site);
    uint64_t off = WEDGE_SITE_OFFSET(site);
    char *fb = fallback[fb_next++ % 8];
    if (site == 0) {
        snprintf(fb, 256, "?");
        return fb;
    }
    uint32_t nmod = h ? atomic_load(&h->nmodules) : 0;
    if (mod < 0 || (uint32_t)mod >= nmod || mod >= (int)WEDGE_MAX_MODULES) {
        snprintf(fb, 256, "0x%" PRIx64, site); /* an address outside every known module */
        return fb;
    }
    char path[WEDGE_MODULE_PATH + 1];
    site_module_path(h, site, path);
    snprintf(fb, 256, "%s+0x%" PRIx64, path_base_name(path), off);
    struct sym_module *m = path[0] ? module_for(path) : NULL;
    if (!m)
        return fb;
    /* A return address points after the call; the call itself is one byte before. */
    uint64_t q = is_return && off > 0 ? off - 1 : off;
    for (size_t i = 0; i < m->ncache; i++)
        if (m->cache[i].off == q)
            return m->cache[i].text ? m->cache[i].text : fb;
    char *text = lookup(m, q);
    if (m->ncache == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        struct sym_entry *c = realloc(m->cache, cap * sizeof *c);
        if (!c) {
            free(text);
            return fb;
        }
        m->cache = c;
        m->cap = cap;
    }
    m->cache[m->ncache++] = (struct sym_entry){ q, text };
    return text ? text : fb;
}

/* A heap address: the block of the target's own allocations (the shim's allocs[] ring) that
 * covers it, the latest one if the address was reused; named by its allocation site and the
 * offset into it.  0 if found. */
static int heap_block(const struct wedge_shm_header *h, uint64_t addr, struct data_name *out)
{
    if (!h)
        return -1;
    uint32_t n = atomic_load(&h->n_allocs);
    if (n > WEDGE_MAX_ALLOCS)
        n = WEDGE_MAX_ALLOCS;
    const struct wedge_alloc *best = NULL;
    for (uint32_t i = 0; i < n; i++) {
        const struct wedge_alloc *a = &h->allocs[i];
        uint64_t seq = atomic_load(&a->seq);
        uint64_t size = a->size ? a->size : 1;
        if (seq && addr >= a->addr && addr - a->addr < size &&
            (!best || seq > atomic_load(&best->seq)))
            best = a;
    }
    if (!best)
        return -1;
    out->found = 1;
    out->storage = "heap";
    out->size = best->size;
    out->block_site = best->site;
    out->block_offset = addr - best->addr;
    out->block_thread = best->slot;
    char path[WEDGE_MODULE_PATH + 1];
    int have_path = site_module_path(h, best->site, path);
    if (have_path)
        snprintf(out->module, sizeof out->module, "%s", path_base_name(path));
    int w = snprintf(out->name, sizeof out->name,
                     "heap block of %u bytes allocated at %s, offset %" PRIu64, best->size,
                     symbolize(h, best->site, 1), out->block_offset);
    /* its type where the allocation's line declares the pointer it goes to (the site is a
     * return address: the call is a byte before) */
    if (have_path && WEDGE_SITE_OFFSET(best->site) > 0 && w > 0 && (size_t)w < sizeof out->name &&
        dwarf_alloc_type(path, WEDGE_SITE_OFFSET(best->site) - 1, out->block_offset,
                         out->block_type, sizeof out->block_type, out->block_member,
                         sizeof out->block_member) == 0) {
        if (out->block_member[0])
            snprintf(out->name + w, sizeof out->name - (size_t)w, " (`%.100s` of a %.100s)",
                     out->block_member, out->block_type);
        else
            snprintf(out->name + w, sizeof out->name - (size_t)w, " (a %.100s)", out->block_type);
    }
    return 0;
}

/* The frame the owner of a stack logged when it handed over an address in it (the shim's
 * frames[] ring: pthread_create's argument), covering addr: the latest such.  NULL if none. */
static const struct wedge_frame *frame_of_slot(const struct wedge_shm_header *h, uint32_t slot,
                                               uint64_t addr)
{
    uint32_t n = atomic_load(&h->n_frames);
    if (n > WEDGE_MAX_FRAMES)
        n = WEDGE_MAX_FRAMES;
    const struct wedge_frame *best = NULL;
    for (uint32_t i = 0; i < n; i++) {
        const struct wedge_frame *f = &h->frames[i];
        uint64_t seq = atomic_load(&f->seq);
        if (seq && f->slot == slot && addr >= f->sp && addr < f->cfa &&
            (!best || seq > atomic_load(&best->seq)))
            best = f;
    }
    return best;
}

/* A stack address: the thread whose stack holds it, the one with the nearest top above it
 * within its stack's size (stacks do not interleave; each slot records its top and size).
 * Named by the local variable that covers it in the frame that holds it, where the owner
 * logged that frame and DWARF locates a variable there ("a.lock" in main's frame); else by
 * the frame's function; else by the thread and the depth below its top.  0 if found. */
static int stack_slot(const struct wedge_shm_header *h, uint64_t addr, int whole,
                      struct data_name *out)
{
    if (!h)
        return -1;
    uint32_t nt = atomic_load(&h->nthreads);
    if (nt > WEDGE_MAX_THREADS)
        nt = WEDGE_MAX_THREADS;
    int best = -1;
    uint64_t best_depth = 0;
    for (uint32_t i = 0; i < nt; i++) {
        const struct wedge_thread_slot *s = wedge_shm_slot((struct wedge_shm_header *)h, i);
        if (!atomic_load(&s->used) || !s->stack_top || addr >= s->stack_top)
            continue;
        uint64_t depth = s->stack_top - addr;
        if (depth <= s->stack_size && (best < 0 || depth < best_depth)) {
            best = (int)i;
            best_depth = depth;
        }
    }
    if (best < 0)
        return -1;
    const struct wedge_thread_slot *s = wedge_shm_slot((struct wedge_shm_header *)h, (uint32_t)best);
    out->found = 1;
    out->storage = "stack";
    out->stack_thread = (uint32_t)best;
    char owner[64];
    snprintf(owner, sizeof owner, "T%d (%s)", best, s->ordinal == 0 ? "main thread" : "created thread");
    const struct wedge_frame *f = frame_of_slot(h, (uint32_t)best, addr);
    char path[WEDGE_MODULE_PATH + 1];
    struct dw_local l;
    if (f && site_module_path(h, f->site, path) &&
        dwarf_describe_local(path, WEDGE_SITE_OFFSET(f->site), f, addr, whole, &l) == 0) {
        snprintf(out->function, sizeof out->function, "%s", l.function);
        snprintf(out->frame_at, sizeof out->frame_at, "%s", symbolize(h, f->site, 0));
        snprintf(out->module, sizeof out->module, "%s", path_base_name(path));
        if (l.variable[0]) {
            out->local = 1;
            out->size = l.size;
            snprintf(out->name, sizeof out->name, "%s", l.variable);
            snprintf(out->declared, sizeof out->declared, "%s", l.declared);
        } else {
            snprintf(out->name, sizeof out->name,
                     "stack slot of %s in the frame of %.100s, %" PRIu64 " bytes below its top",
                     owner, out->frame_at, f->cfa - addr);
        }
        return 0;
    }
    snprintf(out->name, sizeof out->name, "stack slot of %s, %" PRIu64 " bytes below its top",
             owner, best_depth);
    return 0;
}

const char *data_name_text(const struct data_name *d, char *buf, size_t len)
{
    if (d->local && d->declared[0])
        snprintf(buf, len, "`%s` in %s's frame (%s)", d->name, d->function, d->declared);
    else if (d->local)
        snprintf(buf, len, "`%s` in %s's frame", d->name, d->function);
    else if (d->block_site || (d->found && d->storage && strcmp(d->storage, "stack") == 0))
        snprintf(buf, len, "a %s", d->name);
    else
        snprintf(buf, len, "`%s`", d->name);
    return buf;
}

/* The module loaded at the highest bias <= addr (by the process that registered it, or by
 * another process of the run at a bias of its own): a data
 * address belongs to it if its DWARF or symbol table knows the offset. */
int symbolize_data(const struct wedge_shm_header *h, uint64_t addr, int whole,
                   struct data_name *out)
{
    memset(out, 0, sizeof *out);
    uint32_t nmod = h ? atomic_load(&h->nmodules) : 0;
    if (nmod > WEDGE_MAX_MODULES)
        nmod = WEDGE_MAX_MODULES;
    uint32_t nbias = h ? atomic_load(&h->n_module_biases) : 0;
    if (nbias > WEDGE_MAX_MODULE_BIASES)
        nbias = WEDGE_MAX_MODULE_BIASES;
    /* each module at each bias a process of the run loaded it at */
    struct cand { int mod; uint64_t bias; } order[WEDGE_MAX_MODULES + WEDGE_MAX_MODULE_BIASES];
    int n = 0;
    for (uint32_t i = 0; i < nmod; i++)
        if (h->modules[i].bias <= addr && h->modules[i].path[0])
            order[n++] = (struct cand){ (int)i, h->modules[i].bias };
    for (uint32_t i = 0; i < nbias; i++) {
        const struct wedge_module_bias *b = &h->module_biases[i];
        if (b->module < nmod && b->bias <= addr && h->modules[b->module].path[0])
            order[n++] = (struct cand){ (int)b->module, b->bias };
    }
    /* nearest base first */
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && order[k].bias > order[k - 1].bias; k--) {
            struct cand t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    for (int i = 0; i < n && i < 4; i++) {
        const struct wedge_module *m = &h->modules[order[i].mod];
        char path[WEDGE_MODULE_PATH + 1];
        memcpy(path, m->path, WEDGE_MODULE_PATH);
        path[WEDGE_MODULE_PATH] = 0;
        uint64_t size = 0;
        int ext = 0;
        if (dwarf_describe_data(path, addr - order[i].bias, whole, out->name, sizeof out->name,
                                &size, &ext) == 0) {
            snprintf(out->module, sizeof out->module, "%s", path_base_name(path));
            out->size = size;
            out->storage = ext ? "global" : "static";
            out->found = 1;
            return 0;
        }
    }
    /* no name: module+offset if the address lies in a module's image (a stripped program's
     * globals), else the bare address (heap, stacks) */
    for (int i = 0; i < n; i++) {
        const struct wedge_module *m = &h->modules[order[i].mod];
        char path[WEDGE_MODULE_PATH + 1];
        memcpy(path, m->path, WEDGE_MODULE_PATH);
        path[WEDGE_MODULE_PATH] = 0;
        if (dwarf_module_contains(path, addr - order[i].bias)) {
            snprintf(out->name, sizeof out->name, "%.100s+0x%" PRIx64, path_base_name(path),
                     addr - order[i].bias);
            snprintf(out->module, sizeof out->module, "%s", path_base_name(path));
            return -1;
        }
    }
    if (heap_block(h, addr, out) == 0 || stack_slot(h, addr, whole, out) == 0)
        return 0;
    snprintf(out->name, sizeof out->name, "0x%" PRIx64, addr);
    return -1;
}

int symbolize_owns(pid_t pid)
{
    for (size_t i = 0; i < nmods; i++)
        if (mods[i].pid == pid)
            return 1;
    return 0;
}

void symbolize_shutdown(void)
{
    for (size_t i = 0; i < nmods; i++) {
        struct sym_module *m = &mods[i];
        if (m->to)
            fclose(m->to); /* EOF on stdin: addr2line exits */
        if (m->from)
            fclose(m->from);
        if (m->pid > 0)
            waitpid(m->pid, NULL, 0);
        for (size_t k = 0; k < m->ncache; k++)
            free(m->cache[k].text);
        free(m->cache);
        free(m->path);
    }
    free(mods);
    mods = NULL;
    nmods = 0;
    dwarf_shutdown();
}
