/* sanitizer.c - programs built with ASan, TSan, LSan or UBSan.
 *
 * Before the first run: which sanitizer runtimes the program needs (DT_NEEDED of its ELF
 * file, or a runtime linked into the executable, as clang does by default).  A shared
 * runtime that owns malloc insists on coming first in the preload list (gcc 12's libasan
 * refuses to start otherwise; liblsan quietly keeps wedge's constructor from running), so
 * runs get LD_PRELOAD=RUNTIME:libwedge.so[:the user's].  ThreadSanitizer builds are refused
 * (target.c says why).
 *
 * While a run streams its output: a sanitizer report (ASan's "==PID==ERROR: AddressSanitizer:
 * heap-use-after-free ...", TSan's "WARNING: ThreadSanitizer: data race", UBSan's "SUMMARY:
 * UndefinedBehaviorSanitizer") is the run's failure: its kind and first frames name the
 * outcome and key the failure group, and the report's lines are kept for wedge's report.
 */
#define _GNU_SOURCE
#include "cli.h"

#include <ctype.h>
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *prefix; /* DT_NEEDED name prefix */
    const char *symbol; /* a symbol of a runtime linked into the executable */
    const char *name;
    unsigned flag;
    int owns_malloc;
} runtimes[] = {
#define RUNTIME(id, stem, symbol, name, first) { stem, symbol, name, SAN_##id, first },
    WEDGE_SANITIZER_RUNTIMES(RUNTIME)
#undef RUNTIME
};
#define NRUNTIMES (sizeof runtimes / sizeof runtimes[0])

/* Read the section headers' string-bearing sections we need: .dynamic + its string table
 * for DT_NEEDED, .dynsym + .dynstr for the runtime's symbols.  64-bit ELF only (the shim is
 * x86-64); anything unreadable is "no sanitizer", never an error. */
static void scan_elf(int fd, struct san_info *si)
{
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
        eh.e_shnum == 0 || eh.e_shnum > 4096)
        return;
    Elf64_Shdr *sh = calloc(eh.e_shnum, sizeof *sh);
    if (!sh)
        return;
    if (pread(fd, sh, eh.e_shnum * sizeof *sh, (off_t)eh.e_shoff) != (ssize_t)(eh.e_shnum * sizeof *sh)) {
        free(sh);
        return;
    }
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        if (sh[i].sh_type != SHT_DYNAMIC && sh[i].sh_type != SHT_DYNSYM)
            continue;
        if (sh[i].sh_link >= eh.e_shnum || sh[i].sh_size > (64u << 20))
            continue;
        const Elf64_Shdr *strs = &sh[sh[i].sh_link];
        if (strs->sh_size > (64u << 20))
            continue;
        char *str = malloc(strs->sh_size + 1);
        char *tab = malloc(sh[i].sh_size);
        if (!str || !tab ||
            pread(fd, str, strs->sh_size, (off_t)strs->sh_offset) != (ssize_t)strs->sh_size ||
            pread(fd, tab, sh[i].sh_size, (off_t)sh[i].sh_offset) != (ssize_t)sh[i].sh_size) {
            free(str);
            free(tab);
            continue;
        }
        str[strs->sh_size] = 0;
        if (sh[i].sh_type == SHT_DYNAMIC) {
            const Elf64_Dyn *d = (const Elf64_Dyn *)tab;
            for (size_t k = 0; k < sh[i].sh_size / sizeof *d && d[k].d_tag != DT_NULL; k++) {
                if (d[k].d_tag != DT_NEEDED || d[k].d_un.d_val >= strs->sh_size)
                    continue;
                const char *name = str + d[k].d_un.d_val;
                for (size_t r = 0; r < NRUNTIMES; r++)
                    if (strncmp(name, runtimes[r].prefix, strlen(runtimes[r].prefix)) == 0 &&
                        !(si->flags & runtimes[r].flag)) {
                        si->flags |= runtimes[r].flag;
                        if (runtimes[r].owns_malloc && !si->preload[0])
                            snprintf(si->preload, sizeof si->preload, "%s", name);
                    }
            }
        } else {
            const Elf64_Sym *s = (const Elf64_Sym *)tab;
            for (size_t k = 0; k < sh[i].sh_size / sizeof *s; k++) {
                if (s[k].st_name >= strs->sh_size || s[k].st_shndx == SHN_UNDEF)
                    continue;
                const char *name = str + s[k].st_name;
                for (size_t r = 0; r < NRUNTIMES; r++)
                    if (strcmp(name, runtimes[r].symbol) == 0) {
                        si->flags |= runtimes[r].flag;
                        si->linked_in = 1;
                    }
            }
        }
        free(str);
        free(tab);
    }
    free(sh);
}

void san_detect(const char *path, struct san_info *si)
{
    memset(si, 0, sizeof *si);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    scan_elf(fd, si);
    close(fd);
}

const char *san_names(unsigned flags)
{
    static char buf[64];
    buf[0] = 0;
    for (unsigned i = 0; i < NRUNTIMES; i++)
        if (flags & runtimes[i].flag)
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", buf[0] ? "+" : "",
                     runtimes[i].name);
    return buf;
}

/* ---- reports in the output ---- */

/* Copy n bytes of src as a string into dst, cut to fit. */
static void copy_cut(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* "==1234==ERROR: AddressSanitizer: heap-use-after-free on address ..." -> tool, kind */
static int parse_header(const char *line, char *tool, size_t tl, char *kind, size_t kl)
{
    const char *p = line, *t = NULL;
    if (p[0] == '=' && p[1] == '=') {
        p += 2;
        while (isdigit((unsigned char)*p))
            p++;
        if (p[0] != '=' || p[1] != '=')
            return 0;
        p += 2;
        if (strncmp(p, "ERROR: ", 7) == 0)
            t = p + 7;
    } else if (strncmp(p, "WARNING: ThreadSanitizer: ", 26) == 0) {
        t = p + 9;
    } else if (strncmp(p, "SUMMARY: UndefinedBehaviorSanitizer: ", 37) == 0) {
        t = p + 9;
    }
    if (!t)
        return 0;
    const char *colon = strstr(t, "Sanitizer: ");
    if (!colon)
        return 0;
    copy_cut(tool, tl, t, (size_t)(colon - t) + 9);
    const char *k = colon + 11;
    if (strncmp(k, "attempting ", 11) == 0) /* "attempting double-free on 0x..." */
        k += 11;
    copy_cut(kind, kl, k, strcspn(k, " (\n"));
    return 1;
}

/* "    #0 0x7f... in free ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:52" */
static int parse_frame(const char *line, char *fn, size_t fl)
{
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '#' || !isdigit((unsigned char)p[1]))
        return 0;
    const char *in = strstr(p, " in ");
    if (!in)
        return 0;
    in += 4;
    copy_cut(fn, fl, in, strcspn(in, " \n"));
    return 1;
}

/* Frames of the runtime itself (interceptors, allocator) say nothing about the program. */
static int runtime_frame(const char *fn)
{
    return strncmp(fn, "__interceptor_", 14) == 0 || strncmp(fn, "__asan", 6) == 0 ||
           strncmp(fn, "__tsan", 6) == 0 || strncmp(fn, "__sanitizer", 11) == 0 ||
           strncmp(fn, "__lsan", 6) == 0 || strcmp(fn, "free") == 0 || strcmp(fn, "malloc") == 0 ||
           strcmp(fn, "calloc") == 0 || strcmp(fn, "realloc") == 0 ||
           strncmp(fn, "operator", 8) == 0;
}

void san_line(struct san_report *s, const char *line, size_t n)
{
    if (!s->found) {
        if (parse_header(line, s->f.tool, sizeof s->f.tool, s->f.kind, sizeof s->f.kind)) {
            s->found = 1;
            s->len = 0;
        } else if (strstr(line, ": runtime error: ") && !s->ubsan_line[0]) {
            /* UBSan's first line ("file.c:12:5: runtime error: ..."): its SUMMARY follows */
            copy_cut(s->ubsan_line, sizeof s->ubsan_line, line, n);
            return;
        } else {
            return;
        }
        if (s->ubsan_line[0] && strstr(s->f.tool, "UndefinedBehavior")) {
            /* UBSan prints its location before the summary: keep it as the report */
            size_t m = strlen(s->ubsan_line);
            memcpy(s->text, s->ubsan_line, m);
            s->text[m] = '\n';
            s->len = m + 1;
        }
    } else {
        char fn[96];
        if (!s->stack_done && s->f.nframes < SAN_FRAMES && parse_frame(line, fn, sizeof fn) &&
            !runtime_frame(fn))
            snprintf(s->f.frames[s->f.nframes++], sizeof s->f.frames[0], "%s", fn);
        if (n == 0 && s->f.nframes)
            s->stack_done = 1; /* the first stack is the one that keys the group */
        if (s->text_done || s->len >= sizeof s->text - 2)
            return;
        if (strncmp(line, "SUMMARY: ", 9) == 0)
            s->text_done = 1; /* kept, and the last line kept */
    }
    size_t room = sizeof s->text - 1 - s->len;
    size_t m = n < room ? n : room;
    memcpy(s->text + s->len, line, m);
    s->len += m;
    if (s->len < sizeof s->text - 1)
        s->text[s->len++] = '\n';
    s->text[s->len] = 0;
}

const char *san_summary(const struct san_report *s, char *buf, size_t len)
{
    if (!s->found)
        return NULL;
    snprintf(buf, len, "%s: %s%s%s", s->f.tool, s->f.kind, s->f.nframes ? " in " : "",
             s->f.nframes ? s->f.frames[0] : "");
    return buf;
}
