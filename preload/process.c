/* process.c - fork, the exec family, and signal handler registration.
 *
 * A forked child is a new process of the same run: it gets its own entry in the run's process
 * table (the CLI kills every listed pid at the end, daemons included) and its own decision
 * stream, derived from the parent's ordinal and the fork's index, so it does not depend on
 * which process forked first.  exec keeps the shim: the new image inherits WEDGE_* and
 * LD_PRELOAD, which are put back into an environment that dropped them.
 */
#include "shim.h"
#include "wedge_stream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

WEDGE_EXPORT pid_t fork(void)
{
    if (!wedge_enter())
        return REAL(fork)();
    uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
    uint32_t n = atomic_fetch_add(&wedge_g.forks, 1) + 1;
    uint32_t child = (uint32_t)wedge_mix(wedge_g.proc_ordinal, n) | 1u; /* never 0 (main) */
    if (wedge_g.serial)
        wedge_serial_point(WEDGE_EV_FORK, site, NULL, child);
    else
        wedge_noise_point(WEDGE_EV_FORK, site, NULL, child);
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

static int has_var(char *const envp[], const char *name, size_t len)
{
    for (int i = 0; envp && envp[i]; i++)
        if (strncmp(envp[i], name, len) == 0 && envp[i][len] == '=')
            return 1;
    return 0;
}

/* Build into out[] the environment for the new image: envp, with our variables added from
 * our own environment where envp lacks them, and WEDGE_PROC set to our ordinal. */
static char **exec_env(char *const envp[], char **out, char vars[][VAR_LEN])
{
    static const char *const keep[] = { "LD_PRELOAD", WEDGE_ENV_SHM, WEDGE_ENV_TOKEN,
                                        WEDGE_ENV_LOG };
    int n = 0, v = 0;
    for (int i = 0; envp && envp[i]; i++) {
        if (n >= MAX_ENV - 8)
            return (char **)envp; /* too large to copy on the stack: leave it alone */
        if (strncmp(envp[i], WEDGE_ENV_PROC "=", sizeof WEDGE_ENV_PROC) == 0)
            continue;
        out[n++] = envp[i];
    }
    for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++) {
        size_t len = strlen(keep[k]);
        const char *val = getenv(keep[k]);
        if (!val || has_var(envp, keep[k], len) || len + strlen(val) + 2 > VAR_LEN)
            continue;
        char *p = wedge_fmt_str(vars[v], keep[k]);
        p = wedge_fmt_str(p, "=");
        wedge_fmt_str(p, val);
        out[n++] = vars[v++];
    }
    char *p = wedge_fmt_str(vars[v], WEDGE_ENV_PROC "=");
    wedge_fmt_u64(p, wedge_g.proc_ordinal);
    out[n++] = vars[v++];
    out[n] = NULL;
    return out;
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
    char vars[6][VAR_LEN];
    before_exec(wedge_site_of(WEDGE_CALLER_PC()));
    int r = REAL(execve)(path, argv, exec_env(envp, out, vars));
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
    char vars[6][VAR_LEN];
    before_exec(wedge_site_of(WEDGE_CALLER_PC()));
    int r = REAL(execvpe)(file, argv, exec_env(envp, out, vars));
    int saved = errno;
    wedge_leave();
    errno = saved;
    return r;
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
