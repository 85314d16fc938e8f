/* target.c - find PROGRAM and check, before the first run, everything that would make every
 * run fail for a reason that is not the program's: so that such input is a usage error (exit
 * 2) with a clear message instead of a thousand "reproductions". */
#define _GNU_SOURCE
#include "cli.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Search PATH like execvp does; the default PATH when unset is the one glibc uses. */
static char *search_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    char *first_found = NULL;
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        char *cand;
        /* An empty PATH element means the current directory. */
        if (asprintf(&cand, "%.*s%s%s", (int)n, n ? p : ".", "/", name) < 0)
            return NULL;
        struct stat st;
        if (stat(cand, &st) == 0 && !S_ISDIR(st.st_mode)) {
            if (access(cand, X_OK) == 0) {
                free(first_found);
                return cand;
            }
            /* Remember a non-executable match, so that the error says "not executable". */
            if (!first_found)
                first_found = cand;
            else
                free(cand);
        } else {
            free(cand);
        }
        if (!colon)
            break;
        p = colon + 1;
    }
    return first_found;
}

/* Does the ELF file have a PT_INTERP (a dynamic loader that honours LD_PRELOAD)?
 * Returns 1 yes, 0 no, -1 not an ELF file we can read. */
static int elf_has_interp(int fd)
{
    unsigned char ident[EI_NIDENT];
    if (pread(fd, ident, sizeof ident, 0) != (ssize_t)sizeof ident ||
        memcmp(ident, ELFMAG, SELFMAG) != 0)
        return -1;
    /* The header fields differ in width by class; p_type is the first 32-bit word of a
     * program header in both, so one walk serves. */
    uint64_t phoff;
    unsigned phnum, phentsize;
    if (ident[EI_CLASS] == ELFCLASS64) {
        Elf64_Ehdr eh;
        if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh)
            return -1;
        phoff = eh.e_phoff;
        phnum = eh.e_phnum;
        phentsize = eh.e_phentsize;
    } else if (ident[EI_CLASS] == ELFCLASS32) {
        Elf32_Ehdr eh;
        if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh)
            return -1;
        phoff = eh.e_phoff;
        phnum = eh.e_phnum;
        phentsize = eh.e_phentsize;
    } else {
        return -1;
    }
    for (unsigned i = 0; i < phnum; i++) {
        uint32_t type;
        if (pread(fd, &type, sizeof type, (off_t)(phoff + (uint64_t)i * phentsize)) !=
            (ssize_t)sizeof type)
            return -1;
        if (type == PT_INTERP)
            return 1;
    }
    return 0;
}

int target_resolve(struct wedge_config *cfg)
{
    const char *name = cfg->argv[0];
    char *path = strchr(name, '/') ? strdup(name) : search_path(name);
    struct stat st;
    if (!path || stat(path, &st) != 0) {
        usage_error("%s: not found%s", name,
                    strchr(name, '/') ? "" : " in PATH (give a path like ./prog)");
        free(path);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        usage_error("%s: is a directory, not a program", name);
        free(path);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0) {
        usage_error("%s: not executable", name);
        free(path);
        return -1;
    }
    if (!cfg->baseline && (st.st_mode & (S_ISUID | S_ISGID))) {
        usage_error("%s: setuid: the loader ignores LD_PRELOAD for setuid/setgid programs", name);
        free(path);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        usage_error("%s: cannot read: %s", name, strerror(errno));
        free(path);
        return -1;
    }
    char head[256] = { 0 };
    ssize_t n = pread(fd, head, sizeof head - 1, 0);
    int interp = -1;
    if (n >= 2 && head[0] == '#' && head[1] == '!') {
        /* A script: the kernel runs its interpreter, which must exist (else every run would
         * fail with ENOENT, which looks like a missing script). */
        char *p = head + 2;
        while (*p == ' ' || *p == '\t')
            p++;
        p[strcspn(p, " \t\r\n")] = 0;
        if (!*p || access(p, X_OK) != 0) {
            usage_error("%s: interpreter '%s' not found or not executable", name, p);
            close(fd);
            free(path);
            return -1;
        }
        interp = 1;
    } else {
        interp = elf_has_interp(fd);
    }
    close(fd);
    if (interp < 0) {
        usage_error("%s: not an ELF executable or a #! script", name);
        free(path);
        return -1;
    }
    if (interp == 0 && !cfg->baseline) {
        usage_error("%s: statically linked: LD_PRELOAD cannot work (link it dynamically)", name);
        free(path);
        return -1;
    }
    cfg->program = path;
    if (interp == 1 && head[0] != '#')
        return target_sanitizers(cfg);
    return 0;
}

int target_sanitizers(struct wedge_config *cfg)
{
    san_detect(cfg->program, &cfg->san);
    unsigned f = cfg->san.flags;
    if (!f)
        return 0;
    if ((f & SAN_HWASAN)) {
        usage_error("%s: built with HWAddressSanitizer, which wedge does not support "
                    "(build with -fsanitize=address instead)", cfg->argv[0]);
        return -1;
    }
    if (f & SAN_TSAN) {
        /* Measured (gcc 12's libtsan, libtsan first in the preload list): TSan's own
         * background thread is started through the pthread_create that wedge interposes,
         * and runs of correct programs die with SIGSEGV in noise and serial mode alike.
         * Refusing is honest; a crash reported as the program's failure would not be. */
        usage_error("%s: built with ThreadSanitizer, which wedge does not support (TSan's runtime "
                    "crashes under wedge's shim); use a build without -fsanitize=thread "
                    "(ASan, UBSan and LSan builds work)", cfg->argv[0]);
        return -1;
    }
    if ((f & SAN_LSAN) && !(f & SAN_ASAN) && (cfg->opts & WEDGE_OPT_MEMORY)) {
        /* LeakSanitizer scans memory for pointers from a tracer task; pages that wedge
         * protects read as faults there, and correct programs are reported as leaking. */
        usage_error("%s: built with LeakSanitizer: --watch mem and --detect do not work with "
                    "LSan builds (noise and serial modes do)", cfg->argv[0]);
        return -1;
    }
    if (f & SAN_ASAN) {
        /* wedge's defaults first, so that the user's own ASAN_OPTIONS (detect_leaks=1 among
         * them) still win */
        const char *user = getenv("ASAN_OPTIONS");
        if (asprintf(&cfg->san_env, "ASAN_OPTIONS=" WEDGE_ASAN_DEFAULTS "%s%s", user && *user ? ":" : "",
                     user ? user : "") < 0)
            cfg->san_env = NULL;
    }
    return 0;
}

static int usable(const char *path)
{
    return access(path, R_OK) == 0;
}

int target_find_shim(struct wedge_config *cfg)
{
    const char *env = getenv(WEDGE_ENV_PRELOAD);
    if (env && *env) {
        if (!usable(env)) {
            usage_error("%s=%s: %s", WEDGE_ENV_PRELOAD, env, strerror(errno));
            return -1;
        }
        /* The loader needs an absolute path: the target may change directory. */
        char *abs = realpath(env, NULL);
        cfg->shim = abs ? abs : strdup(env);
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        usage_error("cannot find libwedge.so: /proc/self/exe: %s (set %s)", strerror(errno),
                    WEDGE_ENV_PRELOAD);
        return -1;
    }
    exe[n] = 0;
    char *dir = dirname(exe);
    /* Next to the binary; the build tree (build/cli/wedge, build/preload/libwedge.so); the
     * installed layouts (bin/wedge with lib/ or lib/wedge/). */
#ifndef WEDGE_INSTALL_LIBDIR
#define WEDGE_INSTALL_LIBDIR "lib"
#endif
    static const char *const rel[] = { "libwedge.so", "../preload/libwedge.so",
                                       "../" WEDGE_INSTALL_LIBDIR "/libwedge.so",
                                       "../lib/libwedge.so", "../lib/wedge/libwedge.so" };
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        char *cand;
        if (asprintf(&cand, "%s/%s", dir, rel[i]) < 0)
            return -1;
        if (usable(cand)) {
            char *abs = realpath(cand, NULL);
            free(cand);
            if (!abs)
                continue;
            cfg->shim = abs;
            return 0;
        }
        free(cand);
    }
    usage_error("cannot find libwedge.so next to %s, in ../preload, ../lib or ../lib/wedge "
                "(set %s=/path/to/libwedge.so)", dir, WEDGE_ENV_PRELOAD);
    return -1;
}

/* mkdir -p */
static int make_dirs(const char *dir)
{
    char *p = strdup(dir);
    if (!p)
        return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            free(p);
            errno = e;
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0777);
    int e = errno;
    free(p);
    if (rc != 0 && e != EEXIST) {
        errno = e;
        return -1;
    }
    return 0;
}

int target_check_out_dir(const char *dir)
{
    /* Check now, by writing, rather than losing the first reproduction's report later. */
    if (make_dirs(dir) != 0) {
        usage_error("cannot write to --out %s: %s", dir, strerror(errno));
        return -1;
    }
    char *probe;
    if (asprintf(&probe, "%s/.wedge-probe.%d", dir, (int)getpid()) < 0)
        return -1;
    int fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        usage_error("cannot write to --out %s: %s", dir, strerror(errno));
        free(probe);
        return -1;
    }
    /* A byte, not only the name: a full disk still creates empty files. */
    int e = write(fd, "\n", 1) == 1 ? 0 : errno ? errno : ENOSPC;
    if (close(fd) != 0 && !e)
        e = errno;
    unlink(probe);
    if (e) {
        usage_error("cannot write to --out %s: %s", dir, strerror(e));
        free(probe);
        return -1;
    }
    free(probe);
    return 0;
}
