/* process.c - fork, the exec family, and signal handler registration.
 *
 * A forked child is a new process of the same run: it gets its own entry in the run's process
 * table (the CLI kills every listed pid at the end, daemons included) and its own decision
 * stream, derived from the parent's ordinal and the fork's index, so it does not depend on
 * which process forked first.  exec keeps the shim: the new image inherits WEDGE_* and
 * LD_PRELOAD as this process received them, put back into an environment that dropped them
 * (clearenv, unsetenv, a program's own envp or LD_PRELOAD); a static or setuid child, which no
 * LD_PRELOAD reaches, is reported.
 */
#include "shim.h"
#include "wedge_sanitizers.h"
#include "wedge_stream.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

extern char **environ;

/* A new process of the run: a point, and the child's ordinal, derived from ours and the
 * fork's index so that it does not depend on which process forked first. */
static uint32_t fork_point(uint64_t site)
{
    uint32_t n = atomic_fetch_add(&wedge_g.forks, 1) + 1;
    uint32_t child = (uint32_t)wedge_mix(wedge_g.proc_ordinal, n) | 1u; /* never 0 (main) */
    if (wedge_g.serial)
        wedge_serial_point(WEDGE_EV_FORK, site, NULL, child);
    else
        wedge_noise_point(WEDGE_EV_FORK, site, NULL, child);
    return child;
}

WEDGE_EXPORT pid_t fork(void)
{
    if (!wedge_enter())
        return REAL(fork)();
    uint32_t child = fork_point(wedge_site_of(WEDGE_CALLER_PC()));
    wedge_fork_prepare();
    pid_t pid = REAL(fork)();
    wedge_fork_done(pid == 0);
    if (pid == 0)
        wedge_after_fork_child(child);
    wedge_leave();
    return pid;
}

/* ---- exec ---- */

#define MAX_ENV 4096
#define VAR_LEN 1024
#define PRELOAD_LEN (2 * VAR_LEN)

/* The protocol's variables as this process received them (WEDGE_ENV_VARS with the EXEC flag,
 * and LD_PRELOAD): a program may clear its environment (clearenv, unsetenv("LD_PRELOAD"))
 * or pass one of its own to exec, and its child must still run under the shim. */
static struct carried {
    const char *name;
    unsigned flags;
    int set;
    char value[VAR_LEN];
} carried[] = {
#define X(name, flags) { name, flags, 0, "" },
    WEDGE_ENV_VARS(X)
#undef X
};
static char preload_value[PRELOAD_LEN];
static int captured;

static void capture_env(void)
{
    if (captured)
        return;
    captured = 1;
    for (size_t k = 0; k < sizeof carried / sizeof carried[0]; k++) {
        carried[k].set = 0;
        const char *v = getenv(carried[k].name);
        if ((carried[k].flags & WEDGE_ENVF_EXEC) && v && strlen(v) < VAR_LEN) {
            wedge_fmt_str(carried[k].value, v);
            carried[k].set = 1;
        }
    }
    const char *v = getenv("LD_PRELOAD");
    if (v && strlen(v) < PRELOAD_LEN)
        wedge_fmt_str(preload_value, v);
}

/* A run forked by the fork server got its own variables at main (forksrv.c): what an exec
 * carries is theirs, not the server's. */
void wedge_exec_env_recapture(void)
{
    captured = 0;
    capture_env();
}

/* At load, before the program's main can change its environment. */
__attribute__((constructor)) static void capture_env_at_load(void)
{
    capture_env();
}

static int has_var(char *const envp[], const char *name, size_t len)
{
    for (int i = 0; envp && envp[i]; i++)
        if (strncmp(envp[i], name, len) == 0 && envp[i][len] == '=')
            return 1;
    return 0;
}

/* The next item of a preload list (separated by ':' or ' ', as ld.so takes them). */
static const char *next_item(const char *p, size_t *len)
{
    while (*p == ':' || *p == ' ')
        p++;
    size_t n = 0;
    while (p[n] && p[n] != ':' && p[n] != ' ')
        n++;
    *len = n;
    return n ? p : NULL;
}

static int item_has(const char *item, size_t len, const char *what)
{
    size_t w = strlen(what);
    for (size_t i = 0; i + w <= len; i++)
        if (memcmp(item + i, what, w) == 0)
            return 1;
    return 0;
}

/* A sanitizer runtime must come first in the list, or the program refuses to start. */
static int is_sanitizer(const char *item, size_t len)
{
#define IS_RUNTIME(id, stem, symbol, name, first) item_has(item, len, stem) ||
    return WEDGE_SANITIZER_RUNTIMES(IS_RUNTIME) item_has(item, len, WEDGE_SANITIZER_CLANG_STEM);
#undef IS_RUNTIME
}

static char *append_item(char *p, char *end, const char *item, size_t len, int *first)
{
    if ((size_t)(end - p) < len + 2)
        return p;
    if (!*first)
        *p++ = ':';
    memcpy(p, item, len);
    p += len;
    *p = 0;
    *first = 0;
    return p;
}

/* LD_PRELOAD for the new image, when the program passes one without libwedge: its
 * sanitizer runtimes, then libwedge (the entry this process was preloaded with), then the
 * rest of the program's list.  Returns 0 if there is nothing to add. */
static int merge_preload(const char *user, char *out, size_t size)
{
    const char *self = NULL, *it;
    size_t self_len = 0, len;
    for (const char *p = preload_value; (it = next_item(p, &len)) != NULL; p = it + len)
        if (item_has(it, len, "libwedge")) {
            self = it;
            self_len = len;
        }
    if (!self)
        return 0;
    for (const char *p = user; (it = next_item(p, &len)) != NULL; p = it + len)
        if (item_has(it, len, "libwedge"))
            return 0; /* still there */
    char *o = wedge_fmt_str(out, "LD_PRELOAD="), *end = out + size;
    int first = 1;
    for (const char *p = user; (it = next_item(p, &len)) != NULL; p = it + len)
        if (is_sanitizer(it, len))
            o = append_item(o, end, it, len, &first);
    o = append_item(o, end, self, self_len, &first);
    for (const char *p = user; (it = next_item(p, &len)) != NULL; p = it + len)
        if (!is_sanitizer(it, len))
            o = append_item(o, end, it, len, &first);
    return 1;
}

/* A sanitizer runtime the new image needs (rt, its DT_NEEDED name) put first in its preload
 * list, as the runtime insists (a wrapper script that execs an ASan build, whose own
 * LD_PRELOAD holds only libwedge).  Into out (which may be list's own buffer): returns 0 if
 * the list already has it. */
static int runtime_first(const char *list, const char *rt, char *out, size_t size)
{
    char tmp[PRELOAD_LEN];
    size_t rlen = strlen(rt), base = 0, len;
    while (base < rlen && rt[base] != '.')
        base++; /* "libasan" of "libasan.so.8": any build of that runtime already listed */
    const char *it;
    for (const char *p = list; (it = next_item(p, &len)) != NULL; p = it + len) {
        size_t k = 0;
        for (size_t i = 0; i < len; i++) /* the item's file name, after its last '/' */
            if (it[i] == '/')
                k = i + 1;
        if (len - k >= base && memcmp(it + k, rt, base) == 0)
            return 0;
    }
    if (strlen(list) + rlen + 2 >= sizeof tmp || 11 + rlen + 1 + strlen(list) + 1 > size)
        return 0;
    char *o = wedge_fmt_str(tmp, rt);
    if (*list) {
        o = wedge_fmt_str(o, ":");
        wedge_fmt_str(o, list);
    }
    o = wedge_fmt_str(out, "LD_PRELOAD=");
    wedge_fmt_str(o, tmp);
    return 1;
}

/* Build into out[] the environment for the new image: envp, with our variables added from
 * what this process started with where envp lacks them, libwedge put back into its
 * LD_PRELOAD, and WEDGE_PROC set to the new image's process ordinal. */
static char **exec_env(char *const envp[], char **out, char vars[][VAR_LEN], char *preload,
                       const char *rt, uint32_t ordinal)
{
    int n = 0, v = 0, pre = -1, asan_opts = -1;
    capture_env();
    for (int i = 0; envp && envp[i]; i++) {
        if (n >= MAX_ENV - 16)
            return (char **)envp; /* too large to copy on the stack: leave it alone */
        if (strncmp(envp[i], WEDGE_ENV_PROC "=", sizeof WEDGE_ENV_PROC) == 0)
            continue;
        if (strncmp(envp[i], "LD_PRELOAD=", 11) == 0)
            pre = n;
        if (strncmp(envp[i], "ASAN_OPTIONS=", 13) == 0)
            asan_opts = n;
        out[n++] = envp[i];
    }
    for (size_t k = 0; k < sizeof carried / sizeof carried[0]; k++) {
        const struct carried *c = &carried[k];
        size_t len = strlen(c->name);
        if (!c->set || has_var(envp, c->name, len) || len + strlen(c->value) + 2 > VAR_LEN)
            continue;
        char *p = wedge_fmt_str(vars[v], c->name);
        p = wedge_fmt_str(p, "=");
        wedge_fmt_str(p, c->value);
        out[n++] = vars[v++];
    }
    if (pre >= 0) {
        if (merge_preload(out[pre] + 11, preload, PRELOAD_LEN))
            out[pre] = preload;
    } else if (preload_value[0]) {
        char *p = wedge_fmt_str(preload, "LD_PRELOAD=");
        wedge_fmt_str(p, preload_value);
        pre = n;
        out[n++] = preload;
    }
    if (rt && rt[0] && pre >= 0 && runtime_first(out[pre] + 11, rt, preload, PRELOAD_LEN)) {
        out[pre] = preload;
        /* as the CLI does for the program it runs: wedge's defaults, then the program's own */
        const char *user = asan_opts >= 0 ? out[asan_opts] + 13 : "";
        if (item_has(rt, strlen(rt), "libasan") && strlen(user) + 40 < VAR_LEN) {
            char *p = wedge_fmt_str(vars[v], "ASAN_OPTIONS=" WEDGE_ASAN_DEFAULTS);
            if (*user) {
                p = wedge_fmt_str(p, ":");
                wedge_fmt_str(p, user);
            }
            if (asan_opts >= 0)
                out[asan_opts] = vars[v++];
            else
                out[n++] = vars[v++];
        }
    }
    char *p = wedge_fmt_str(vars[v], WEDGE_ENV_PROC "=");
    wedge_fmt_u64(p, ordinal);
    out[n++] = vars[v++];
    out[n] = NULL;
    return out;
}

#define RT_LEN 64

/* File offset of virtual address va in an image with these program headers, or -1. */
static off_t vaddr_offset(const Elf64_Phdr *ph, unsigned n, uint64_t va)
{
    for (unsigned i = 0; i < n; i++)
        if (ph[i].p_type == PT_LOAD && va >= ph[i].p_vaddr && va < ph[i].p_vaddr + ph[i].p_filesz)
            return (off_t)(ph[i].p_offset + (va - ph[i].p_vaddr));
    return -1;
}

/* Into rt: the DT_NEEDED name of a sanitizer runtime that must come first in the preload list
 * (libasan, liblsan, libhwasan), from the image's dynamic segment; "" if none.  Read in small
 * pieces on the stack: this runs in the target, just before its exec. */
static void needed_runtime(int fd, const Elf64_Phdr *ph, unsigned n, char *rt)
{
#define FIRST(id, stem, symbol, name, first_) first_ ? stem : NULL,
    static const char *const first[] = { WEDGE_SANITIZER_RUNTIMES(FIRST) };
#undef FIRST
    const Elf64_Phdr *dyn = NULL;
    for (unsigned i = 0; i < n; i++)
        if (ph[i].p_type == PT_DYNAMIC)
            dyn = &ph[i];
    if (!dyn)
        return;
    uint64_t strtab = 0, needed[32];
    unsigned nneeded = 0;
    Elf64_Dyn d[32];
    for (uint64_t off = 0; off < dyn->p_filesz && off < 64 * sizeof d; off += sizeof d) {
        ssize_t got = pread(fd, d, sizeof d, (off_t)(dyn->p_offset + off));
        if (got <= 0)
            break;
        for (size_t k = 0; k < (size_t)got / sizeof d[0]; k++) {
            if (d[k].d_tag == DT_NULL)
                goto done;
            if (d[k].d_tag == DT_STRTAB)
                strtab = d[k].d_un.d_ptr;
            else if (d[k].d_tag == DT_NEEDED && nneeded < 32)
                needed[nneeded++] = d[k].d_un.d_val;
        }
    }
done:;
    off_t base = strtab ? vaddr_offset(ph, n, strtab) : -1;
    for (unsigned i = 0; base >= 0 && i < nneeded; i++) {
        char name[RT_LEN];
        ssize_t got = pread(fd, name, sizeof name - 1, base + (off_t)needed[i]);
        if (got <= 0)
            continue;
        name[got] = 0;
        for (size_t r = 0; r < sizeof first / sizeof first[0]; r++)
            if (first[r] && strncmp(name, first[r], strlen(first[r])) == 0 &&
                strlen(name) < RT_LEN) {
                wedge_fmt_str(rt, name);
                return;
            }
    }
}

/* The loader ignores LD_PRELOAD for a setuid/setgid program and a static one has no loader:
 * such a child runs without the shim, which the run's report says.  Into rt (RT_LEN bytes):
 * the sanitizer runtime the child needs first in its preload list, if any. */
static void check_child(const char *path, char *rt)
{
    struct stat st;
    rt[0] = 0;
    if (!path || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    const char *why = NULL;
    if (st.st_mode & (S_ISUID | S_ISGID)) {
        why = "setuid/setgid: the loader ignores LD_PRELOAD";
    } else {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return;
        Elf64_Ehdr eh;
        Elf64_Phdr ph[64];
        if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh &&
            memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
            eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum <= 64 &&
            pread(fd, ph, eh.e_phnum * sizeof ph[0], (off_t)eh.e_phoff) ==
                (ssize_t)(eh.e_phnum * sizeof ph[0])) {
            int interp = 0;
            for (unsigned i = 0; i < eh.e_phnum; i++)
                interp |= ph[i].p_type == PT_INTERP;
            if (!interp)
                why = "statically linked: no loader to preload the shim";
            else
                needed_runtime(fd, ph, eh.e_phnum, rt);
        }
        close(fd);
    }
    if (why) {
        char msg[WEDGE_MESSAGE_LEN];
        char *p = wedge_fmt_str(msg, "exec of ");
        size_t room = sizeof msg - 120;
        for (const char *s = path; *s && (size_t)(p - msg) < room; s++)
            *p++ = *s;
        p = wedge_fmt_str(p, ": ");
        p = wedge_fmt_str(p, why);
        wedge_fmt_str(p, "; the child runs without wedge");
        wedge_log(msg, NULL);
        wedge_run_flag(WEDGE_RUN_SHIM_ERROR, msg);
    }
}

/* The file execvpe will run: the first executable FILE on PATH (glibc's default without). */
static void check_child_on_path(const char *file, char *rt)
{
    rt[0] = 0;
    if (strchr(file, '/')) {
        check_child(file, rt);
        return;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/bin:/usr/bin";
    char buf[VAR_LEN];
    size_t flen = strlen(file);
    for (const char *p = path; *p;) {
        const char *e = strchr(p, ':');
        size_t dlen = e ? (size_t)(e - p) : strlen(p);
        if (dlen + flen + 2 < sizeof buf) {
            memcpy(buf, dlen ? p : ".", dlen ? dlen : 1);
            size_t k = dlen ? dlen : 1;
            buf[k++] = '/';
            memcpy(buf + k, file, flen + 1);
            if (access(buf, X_OK) == 0) {
                check_child(buf, rt);
                return;
            }
        }
        if (!e)
            break;
        p = e + 1;
    }
}

static void before_exec(uint64_t site)
{
    wedge_record(WEDGE_EV_EXEC, site, NULL, 0, WEDGE_ACT_NONE, 0, 0);
    wedge_run_flag(WEDGE_RUN_EXECED, NULL);
    if (wedge_g.memory)
        wedge_mem_stop(); /* the kernel reads argv and envp: no protected page may hold them */
}

WEDGE_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    if (!wedge_enter())
        return REAL(execve)(path, argv, envp);
    char *out[MAX_ENV];
    char vars[sizeof carried / sizeof carried[0] + 2][VAR_LEN], preload[PRELOAD_LEN], rt[RT_LEN];
    before_exec(wedge_site_of(WEDGE_CALLER_PC()));
    check_child(path, rt);
    int r = REAL(execve)(path, argv, exec_env(envp, out, vars, preload, rt, wedge_g.proc_ordinal));
    int saved = errno;
    wedge_leave();
    errno = saved;
    return r;
}

WEDGE_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    if (!wedge_enter())
        return REAL(execvpe)(file, argv, envp);
    char *out[MAX_ENV];
    char vars[sizeof carried / sizeof carried[0] + 2][VAR_LEN], preload[PRELOAD_LEN], rt[RT_LEN];
    before_exec(wedge_site_of(WEDGE_CALLER_PC()));
    check_child_on_path(file, rt);
    int r = REAL(execvpe)(file, argv, exec_env(envp, out, vars, preload, rt, wedge_g.proc_ordinal));
    int saved = errno;
    wedge_leave();
    errno = saved;
    return r;
}

/* posix_spawn is a fork and an exec the wrappers above never see: the child gets the
 * environment an exec would give it, with its own ordinal (as a forked child's). */
static int spawn(const void *caller, int search, pid_t *pid, const char *file,
                 const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                 char *const argv[], char *const envp[])
{
    if (!wedge_enter())
        return search ? REAL(posix_spawnp)(pid, file, fa, attr, argv, envp)
                      : REAL(posix_spawn)(pid, file, fa, attr, argv, envp);
    char *out[MAX_ENV];
    char vars[sizeof carried / sizeof carried[0] + 2][VAR_LEN], preload[PRELOAD_LEN], rt[RT_LEN];
    uint32_t child = fork_point(wedge_site_of(caller));
    if (search)
        check_child_on_path(file, rt);
    else
        check_child(file, rt);
    char **env = exec_env(envp, out, vars, preload, rt, child);
    int r = search ? REAL(posix_spawnp)(pid, file, fa, attr, argv, env)
                   : REAL(posix_spawn)(pid, file, fa, attr, argv, env);
    wedge_leave();
    return r; /* an error number, errno untouched */
}

WEDGE_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                             const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    return spawn(WEDGE_CALLER_PC(), 0, pid, path, fa, attr, argv, envp);
}

WEDGE_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                              const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    return spawn(WEDGE_CALLER_PC(), 1, pid, file, fa, attr, argv, envp);
}

/* glibc's execv/execvp/execl* reach execve through internal calls that skip our wrapper,
 * so each is routed through ours. */
WEDGE_EXPORT int execv(const char *path, char *const argv[])
{
    return execve(path, argv, environ);
}

WEDGE_EXPORT int execvp(const char *file, char *const argv[])
{
    return execvpe(file, argv, environ);
}

#define MAX_ARGS 1024
#define COLLECT_ARGS(first, argv, ap)                                                        \
    do {                                                                                     \
        int n_ = 0;                                                                          \
        argv[n_++] = (char *)(first);                                                        \
        while (n_ < MAX_ARGS - 1 && (argv[n_] = va_arg(ap, char *)) != NULL)                  \
            n_++;                                                                            \
        argv[n_] = NULL;                                                                     \
    } while (0)

WEDGE_EXPORT int execl(const char *path, const char *arg, ...)
{
    char *argv[MAX_ARGS];
    va_list ap;
    va_start(ap, arg);
    COLLECT_ARGS(arg, argv, ap);
    va_end(ap);
    return execve(path, argv, environ);
}

WEDGE_EXPORT int execlp(const char *file, const char *arg, ...)
{
    char *argv[MAX_ARGS];
    va_list ap;
    va_start(ap, arg);
    COLLECT_ARGS(arg, argv, ap);
    va_end(ap);
    return execvpe(file, argv, environ);
}

WEDGE_EXPORT int execle(const char *path, const char *arg, ...)
{
    char *argv[MAX_ARGS];
    va_list ap;
    va_start(ap, arg);
    COLLECT_ARGS(arg, argv, ap);
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return execve(path, argv, envp);
}

/* ---- signal handlers: memory watching keeps its SIGSEGV/SIGTRAP handlers first ---- */

WEDGE_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    int rc;
    if (atomic_load(&wedge_g.init_state) == 2 && wedge_g.memory &&
        wedge_mem_sigaction(sig, act, old, &rc))
        return rc;
    return REAL(sigaction)(sig, act, old);
}

WEDGE_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
    if (atomic_load(&wedge_g.init_state) == 2 && wedge_g.memory) {
        struct sigaction act, old;
        memset(&act, 0, sizeof act);
        act.sa_handler = handler;
        act.sa_flags = SA_RESTART; /* BSD semantics, as glibc's signal() */
        int rc;
        if (wedge_mem_sigaction(sig, &act, &old, &rc))
            return rc == 0 ? old.sa_handler : SIG_ERR;
    }
    return REAL(signal)(sig, handler);
}
