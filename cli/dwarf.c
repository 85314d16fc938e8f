/* dwarf.c - code lines and data names from DWARF, with elfutils (libdw/libdwfl).
 *
 * One offline Dwfl per module file, opened on first use and kept for the life of the CLI:
 * opening costs a few milliseconds (libc with its separate debug file: tens), a lookup then
 * microseconds, with no child process.  Separate debug files are found the standard way
 * (.gnu_debuglink, /usr/lib/debug/.build-id), never over the network: debuginfod is switched
 * off while a module is opened (DEBUGINFOD_URLS is put back afterwards, for the targets).
 *
 * Offsets are module offsets as the shim records them (address minus the load bias), which
 * are the ELF's own virtual addresses; Dwfl lays an offline module at its own bias, added here.
 *
 * What degrades: no DWARF -> the ELF symbol table's function name with module+offset; no
 * symbol table (stripped) -> NULL, and the caller prints module+offset.
 */
#define _GNU_SOURCE
#include "cli.h"

#ifdef WEDGE_HAVE_LIBDW

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct dw_var {
    uint64_t lo, size;
    const char *name;
    Dwarf_Die type;
    int has_type;
    int external;
};

struct dw_file {
    char *path;
    Dwfl *dwfl;
    Dwfl_Module *mod;
    Dwarf_Addr bias;
    int vars_loaded;
    struct dw_var *vars;
    size_t nvars, cap;
};

static struct dw_file *files;
static size_t nfiles;

static char *debuginfo_path;
static const Dwfl_Callbacks offline_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

static struct dw_file *file_for(const char *path)
{
    for (size_t i = 0; i < nfiles; i++)
        if (strcmp(files[i].path, path) == 0)
            return files[i].mod ? &files[i] : NULL;
    struct dw_file *n = realloc(files, (nfiles + 1) * sizeof *n);
    if (!n)
        return NULL;
    files = n;
    struct dw_file *f = &files[nfiles++];
    memset(f, 0, sizeof *f);
    f->path = strdup(path);
    if (!f->path)
        return NULL;
    /* no network lookups of debug info: a report must not wait on a server */
    const char *urls = getenv("DEBUGINFOD_URLS");
    char *saved = urls ? strdup(urls) : NULL;
    unsetenv("DEBUGINFOD_URLS");
    f->dwfl = dwfl_begin(&offline_callbacks);
    if (f->dwfl) {
        dwfl_report_begin(f->dwfl);
        f->mod = dwfl_report_offline(f->dwfl, path_base_name(path), path, -1);
        dwfl_report_end(f->dwfl, NULL, NULL);
        if (f->mod) {
            Dwarf_Addr b = 0;
            if (!dwfl_module_getelf(f->mod, &b))
                f->mod = NULL;
            f->bias = b;
            if (f->mod)
                dwfl_module_getdwarf(f->mod, &b); /* find the debug file now, env still off */
        }
    }
    if (saved) {
        setenv("DEBUGINFOD_URLS", saved, 1);
        free(saved);
    }
    return f->mod ? f : NULL;
}

static const char *die_file(Dwarf_Die *cu, Dwarf_Word idx)
{
    Dwarf_Files *fs;
    size_t n;
    if (dwarf_getsrcfiles(cu, &fs, &n) != 0 || idx >= n)
        return NULL;
    return dwarf_filesrc(fs, idx, NULL, NULL);
}

/* The CU whose code holds addr.  libdw finds it through .debug_aranges, which clang does not
 * emit (and elfutils before 0.189 does not make up for): then each CU's own ranges. */
static Dwarf_Die *cu_of(struct dw_file *f, Dwarf_Addr addr, Dwarf_Addr *bias)
{
    Dwarf_Die *cu = dwfl_module_addrdie(f->mod, addr, bias);
    if (cu)
        return cu;
    while ((cu = dwfl_module_nextcu(f->mod, cu, bias)) != NULL)
        if (dwarf_haspc(cu, addr - *bias) == 1)
            return cu;
    return NULL;
}

/* A code line: libdw's, else from the CU found by its ranges (as cu_of) */
static const char *line_of(struct dw_file *f, Dwarf_Die *cu, Dwarf_Addr addr, Dwarf_Addr bias,
                           int *lineno)
{
    Dwfl_Line *line = dwfl_module_getsrc(f->mod, addr);
    if (line)
        return dwfl_lineinfo(line, NULL, lineno, NULL, NULL, NULL);
    Dwarf_Line *l = cu ? dwarf_getsrc_die(cu, addr - bias) : NULL;
    if (!l || dwarf_lineno(l, lineno) != 0)
        return NULL;
    return dwarf_linesrc(l, NULL, NULL);
}

char *dwarf_describe_code(const char *path, uint64_t off)
{
    struct dw_file *f = file_for(path);
    if (!f)
        return NULL;
    Dwarf_Addr addr = off + f->bias;
    char *s = NULL;
    size_t n = 0;
    FILE *acc = open_memstream(&s, &n);
    if (!acc)
        return NULL;
    int frames = 0;
    Dwarf_Addr cubias;
    Dwarf_Die *cu = cu_of(f, addr, &cubias);
    int lineno = 0;
    const char *lfile = line_of(f, cu, addr, cubias, &lineno);
    if (cu) {
        /* dwarf_getscopes continues from an inlined body into its abstract definition, not
         * into its caller: take the innermost function scope from it, then walk out through
         * the physical nesting with dwarf_getscopes_die, one inlined body at a time. */
        Dwarf_Die *scopes = NULL;
        int ns = dwarf_getscopes(cu, addr - cubias, &scopes);
        Dwarf_Die fn;
        int have = 0;
        for (int i = 0; i < ns && !have; i++) {
            int tag = dwarf_tag(&scopes[i]);
            if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
                fn = scopes[i];
                have = 1;
            }
        }
        free(scopes);
        const char *file = lfile;
        int lno = lineno;
        while (have && frames < 8) {
            int tag = dwarf_tag(&fn);
            const char *name = dwarf_diename(&fn);
            if (frames == 1)
                fputs(" inlined in ", acc);
            else if (frames > 1)
                fputs(", ", acc);
            if (file && lno > 0)
                fprintf(acc, "%s (%s:%d)", name ? name : "??", path_base_name(file), lno);
            else
                fprintf(acc, "%s (%s+0x%" PRIx64 ")", name ? name : "??", path_base_name(path),
                        off);
            frames++;
            if (tag != DW_TAG_inlined_subroutine)
                break;
            Dwarf_Attribute a;
            Dwarf_Word cf = 0, cl = 0;
            file = NULL;
            lno = 0;
            if (dwarf_formudata(dwarf_attr(&fn, DW_AT_call_file, &a), &cf) == 0)
                file = die_file(cu, cf);
            if (dwarf_formudata(dwarf_attr(&fn, DW_AT_call_line, &a), &cl) == 0)
                lno = (int)cl;
            Dwarf_Die *outer = NULL;
            int no = dwarf_getscopes_die(&fn, &outer);
            have = 0;
            for (int i = 1; i < no && !have; i++) {
                int t = dwarf_tag(&outer[i]);
                if (t == DW_TAG_subprogram || t == DW_TAG_inlined_subroutine) {
                    fn = outer[i];
                    have = 1;
                }
            }
            free(outer);
        }
    }
    if (!frames) {
        /* no DWARF here: the symbol table's name, with a line if the line table has one */
        const char *name = dwfl_module_addrname(f->mod, addr);
        if (name && lfile && lineno > 0)
            fprintf(acc, "%s (%s:%d)", name, path_base_name(lfile), lineno);
        else if (name)
            fprintf(acc, "%s (%s+0x%" PRIx64 ")", name, path_base_name(path), off);
        else
            frames = -1;
    }
    fclose(acc);
    if (frames < 0) {
        free(s);
        return NULL;
    }
    return s;
}

/* ---------------------------------------------------------------------------------------- */
/* data: variables with a static address (globals, file and function statics) */

static void add_var(struct dw_file *f, Dwarf_Die *die)
{
    Dwarf_Attribute a;
    if (dwarf_hasattr(die, DW_AT_declaration))
        return;
    if (!dwarf_attr(die, DW_AT_location, &a))
        return;
    Dwarf_Op *ops;
    size_t nops;
    if (dwarf_getlocation(&a, &ops, &nops) != 0 || nops != 1 || ops[0].atom != DW_OP_addr)
        return;
    const char *name = dwarf_diename(die);
    if (!name)
        return;
    struct dw_var v = { .lo = ops[0].number, .name = name };
    Dwarf_Attribute ta;
    if (dwarf_formref_die(dwarf_attr_integrate(die, DW_AT_type, &ta), &v.type)) {
        v.has_type = 1;
        Dwarf_Word sz;
        if (dwarf_aggregate_size(&v.type, &sz) == 0)
            v.size = sz;
    }
    Dwarf_Attribute ea;
    bool ext = false;
    if (dwarf_attr_integrate(die, DW_AT_external, &ea))
        dwarf_formflag(&ea, &ext);
    v.external = ext;
    if (!v.size)
        v.size = 1;
    if (f->nvars == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        struct dw_var *n = realloc(f->vars, cap * sizeof *n);
        if (!n)
            return;
        f->vars = n;
        f->cap = cap;
    }
    f->vars[f->nvars++] = v;
}

static void walk(struct dw_file *f, Dwarf_Die *die, int depth)
{
    Dwarf_Die child;
    if (depth > 16 || dwarf_child(die, &child) != 0)
        return;
    do {
        int tag = dwarf_tag(&child);
        if (tag == DW_TAG_variable)
            add_var(f, &child);
        else if (tag == DW_TAG_subprogram || tag == DW_TAG_lexical_block ||
                 tag == DW_TAG_namespace)
            walk(f, &child, depth + 1);
    } while (dwarf_siblingof(&child, &child) == 0);
}

static void load_vars(struct dw_file *f)
{
    f->vars_loaded = 1;
    Dwarf_Die *cu = NULL;
    Dwarf_Addr b;
    while ((cu = dwfl_module_nextcu(f->mod, cu, &b)) != NULL)
        walk(f, cu, 0);
}

static int peel(Dwarf_Die *t)
{
    for (int i = 0; i < 16; i++) {
        int tag = dwarf_tag(t);
        if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type &&
            tag != DW_TAG_restrict_type && tag != DW_TAG_atomic_type)
            return tag;
        Dwarf_Attribute a;
        if (!dwarf_formref_die(dwarf_attr(t, DW_AT_type, &a), t))
            return -1;
    }
    return -1;
}

/* Append ".member[3].x" for the byte at `off` inside an object of type t; *leaf: the size of
 * the innermost part named. */
static void name_inside(FILE *acc, Dwarf_Die t, uint64_t off, uint64_t *leaf, int depth)
{
    Dwarf_Word sz;
    if (dwarf_aggregate_size(&t, &sz) == 0)
        *leaf = sz;
    if (depth > 8)
        return;
    int tag = peel(&t);
    if (tag == DW_TAG_structure_type || tag == DW_TAG_union_type || tag == DW_TAG_class_type) {
        Dwarf_Die m;
        if (dwarf_child(&t, &m) != 0)
            goto rest;
        do {
            if (dwarf_tag(&m) != DW_TAG_member)
                continue;
            Dwarf_Attribute a;
            Dwarf_Word moff = 0, msz = 0;
            if (dwarf_attr(&m, DW_AT_data_member_location, &a) &&
                dwarf_formudata(&a, &moff) != 0)
                continue;
            Dwarf_Die mt;
            if (!dwarf_formref_die(dwarf_attr(&m, DW_AT_type, &a), &mt) ||
                dwarf_aggregate_size(&mt, &msz) != 0)
                continue;
            if (off >= moff && off < moff + msz) {
                const char *nm = dwarf_diename(&m);
                fprintf(acc, ".%s", nm ? nm : "?");
                name_inside(acc, mt, off - moff, leaf, depth + 1);
                return;
            }
        } while (dwarf_siblingof(&m, &m) == 0);
    } else if (tag == DW_TAG_array_type) {
        Dwarf_Die et, sub;
        Dwarf_Attribute a;
        Dwarf_Word esz;
        if (!dwarf_formref_die(dwarf_attr(&t, DW_AT_type, &a), &et) ||
            dwarf_aggregate_size(&et, &esz) != 0 || esz == 0)
            goto rest;
        uint64_t dims[8];
        int nd = 0;
        if (dwarf_child(&t, &sub) == 0)
            do {
                if (dwarf_tag(&sub) != DW_TAG_subrange_type || nd == 8)
                    continue;
                Dwarf_Word cnt = 0, ub;
                if (dwarf_formudata(dwarf_attr(&sub, DW_AT_count, &a), &cnt) != 0 &&
                    dwarf_formudata(dwarf_attr(&sub, DW_AT_upper_bound, &a), &ub) == 0)
                    cnt = ub + 1;
                dims[nd++] = cnt ? cnt : 1;
            } while (dwarf_siblingof(&sub, &sub) == 0);
        if (nd == 0)
            dims[nd++] = 1;
        uint64_t stride = esz;
        for (int i = 1; i < nd; i++)
            stride *= dims[i];
        uint64_t rem = off;
        for (int i = 0; i < nd; i++) {
            fprintf(acc, "[%" PRIu64 "]", rem / stride);
            rem %= stride;
            if (i + 1 < nd)
                stride /= dims[i + 1];
        }
        *leaf = esz;
        name_inside(acc, et, rem, leaf, depth + 1);
        return;
    }
rest:
    if (off)
        fprintf(acc, "+%" PRIu64, off);
}

/* A type of the system's headers (pthread_mutex_t, FILE): its insides are no name a reader
 * of the program knows.  Looks through typedefs and qualifiers. */
static int system_type(Dwarf_Die t)
{
    for (int i = 0; i < 16; i++) {
        const char *file = dwarf_decl_file(&t);
        if (file && (strncmp(file, "/usr/", 5) == 0))
            return 1;
        int tag = dwarf_tag(&t);
        if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type &&
            tag != DW_TAG_restrict_type && tag != DW_TAG_atomic_type)
            return 0;
        Dwarf_Attribute a;
        if (!dwarf_formref_die(dwarf_attr(&t, DW_AT_type, &a), &t))
            return 0;
    }
    return 0;
}

/* An object used whole (a lock) at the start of a variable of type t: the part that is the
 * object, through the program's own structs' first members and arrays' first elements, down
 * to a type of the system's headers ("a.lock", "locks[0]"; a pthread_mutex_t variable: just
 * its name). */
static void name_whole(FILE *acc, Dwarf_Die t, uint64_t *leaf, int depth)
{
    Dwarf_Word sz;
    if (dwarf_aggregate_size(&t, &sz) == 0)
        *leaf = sz;
    if (depth > 8 || system_type(t))
        return;
    int tag = peel(&t);
    Dwarf_Die m;
    Dwarf_Attribute a;
    if (tag == DW_TAG_structure_type || tag == DW_TAG_class_type) {
        if (dwarf_child(&t, &m) != 0)
            return;
        do {
            Dwarf_Word moff = 0;
            Dwarf_Die mt;
            if (dwarf_tag(&m) != DW_TAG_member ||
                (dwarf_attr(&m, DW_AT_data_member_location, &a) && dwarf_formudata(&a, &moff) != 0) ||
                moff != 0 || !dwarf_formref_die(dwarf_attr(&m, DW_AT_type, &a), &mt))
                continue;
            const char *nm = dwarf_diename(&m);
            fprintf(acc, ".%s", nm ? nm : "?");
            name_whole(acc, mt, leaf, depth + 1);
            return;
        } while (dwarf_siblingof(&m, &m) == 0);
    } else if (tag == DW_TAG_array_type) {
        Dwarf_Die et;
        if (!dwarf_formref_die(dwarf_attr(&t, DW_AT_type, &a), &et))
            return;
        int nd = 0;
        if (dwarf_child(&t, &m) == 0)
            do
                if (dwarf_tag(&m) == DW_TAG_subrange_type)
                    nd++;
            while (dwarf_siblingof(&m, &m) == 0);
        for (int i = 0; i < (nd ? nd : 1); i++)
            fputs("[0]", acc);
        name_whole(acc, et, leaf, depth + 1);
    }
}

/* A variable's name and the part of it at `inside` (bytes from its start); *leaf: its size */
static void name_in_var(FILE *acc, const char *name, Dwarf_Die *type, int has_type,
                        uint64_t inside, int whole, uint64_t *leaf)
{
    fputs(name, acc);
    if (has_type && whole && inside == 0)
        name_whole(acc, *type, leaf, 0);
    else if (has_type)
        name_inside(acc, *type, inside, leaf, 0);
    else if (inside)
        fprintf(acc, "+%" PRIu64, inside);
}

int dwarf_describe_data(const char *path, uint64_t off, int whole, char *buf, size_t len,
                        uint64_t *size, int *external)
{
    struct dw_file *f = file_for(path);
    if (!f)
        return -1;
    if (!f->vars_loaded)
        load_vars(f);
    for (size_t i = 0; i < f->nvars; i++) {
        const struct dw_var *v = &f->vars[i];
        if (off < v->lo || off >= v->lo + v->size)
            continue;
        char *s = NULL;
        size_t n = 0;
        FILE *acc = open_memstream(&s, &n);
        if (!acc)
            return -1;
        uint64_t leaf = v->size;
        Dwarf_Die t = v->type;
        name_in_var(acc, v->name, &t, v->has_type, off - v->lo, whole, &leaf);
        fclose(acc);
        snprintf(buf, len, "%s", s ? s : v->name);
        free(s);
        *size = leaf;
        *external = v->external;
        return 0;
    }
    /* no DWARF variable: the symbol table's object symbol, with the offset into it */
    GElf_Sym sym;
    GElf_Off soff;
    const char *name = dwfl_module_addrinfo(f->mod, off + f->bias, &soff, &sym, NULL, NULL,
                                            NULL);
    if (name && GELF_ST_TYPE(sym.st_info) == STT_OBJECT) {
        if (soff)
            snprintf(buf, len, "%s+%" PRIu64, name, (uint64_t)soff);
        else
            snprintf(buf, len, "%s", name);
        *size = sym.st_size;
        *external = GELF_ST_BIND(sym.st_info) == STB_GLOBAL;
        return 0;
    }
    return -1;
}

/* ---------------------------------------------------------------------------------------- */
/* stack: a function's local variables, located off its frame's CFA */

static const char *die_name_of(Dwarf_Die *d)
{
    Dwarf_Attribute a;
    return dwarf_formstring(dwarf_attr_integrate(d, DW_AT_name, &a));
}

/* The out-of-line function whose code holds pc (what has a frame of its own): a DW_TAG_subprogram
 * with code of a CU, or of a namespace or class in it (C++). */
static int physical_function(Dwarf_Die *scope, Dwarf_Addr pc, Dwarf_Die *out, int depth)
{
    Dwarf_Die c;
    if (depth > 8 || dwarf_child(scope, &c) != 0)
        return 0;
    do {
        int tag = dwarf_tag(&c);
        if (tag == DW_TAG_subprogram && dwarf_haspc(&c, pc) == 1) {
            *out = c;
            return 1;
        }
        if ((tag == DW_TAG_namespace || tag == DW_TAG_class_type ||
             tag == DW_TAG_structure_type) && physical_function(&c, pc, out, depth + 1))
            return 1;
    } while (dwarf_siblingof(&c, &c) == 0);
    return 0;
}

struct local_match {
    Dwarf_Addr pc;
    int64_t rel;
    int have, inscope;
    Dwarf_Die die, type;
    int has_type;
    int64_t start;
    uint64_t size;
};

/* A variable or parameter whose location at pc is one DW_OP_fbreg covering rel. */
static void try_local(Dwarf_Die *v, int inscope, struct local_match *m)
{
    Dwarf_Attribute a;
    Dwarf_Op *ops;
    size_t nops;
    if (!dwarf_attr(v, DW_AT_location, &a) ||
        dwarf_getlocation_addr(&a, m->pc, &ops, &nops, 1) != 1 || nops != 1 ||
        ops[0].atom != DW_OP_fbreg)
        return;
    int64_t start = (int64_t)ops[0].number;
    Dwarf_Die t;
    Dwarf_Attribute ta;
    int has_type = dwarf_formref_die(dwarf_attr_integrate(v, DW_AT_type, &ta), &t) != NULL;
    Dwarf_Word sz = 0;
    if (!has_type || dwarf_aggregate_size(&t, &sz) != 0 || sz == 0)
        sz = 1;
    if (m->rel < start || m->rel >= start + (int64_t)sz)
        return;
    /* a variable of a scope the pc is in beats one of a scope it is not in, whose slot the
     * compiler may have given to another variable by now */
    if (m->have && (m->inscope || !inscope))
        return;
    *m = (struct local_match){ .pc = m->pc, .rel = m->rel, .have = 1, .inscope = inscope,
                               .die = *v, .type = t, .has_type = has_type, .start = start,
                               .size = sz };
}

static void walk_locals(Dwarf_Die *scope, int inscope, struct local_match *m, int depth)
{
    Dwarf_Die c;
    if (depth > 16 || dwarf_child(scope, &c) != 0)
        return;
    do {
        int tag = dwarf_tag(&c);
        if (tag == DW_TAG_variable || tag == DW_TAG_formal_parameter) {
            try_local(&c, inscope, m);
        } else if (tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine) {
            /* a block without code ranges is as much in scope as its parent */
            int ranged = dwarf_hasattr(&c, DW_AT_low_pc) || dwarf_hasattr(&c, DW_AT_ranges);
            walk_locals(&c, inscope && (!ranged || dwarf_haspc(&c, m->pc) == 1), m, depth + 1);
        }
    } while (dwarf_siblingof(&c, &c) == 0);
}

/* The frame base a function's DW_AT_frame_base names, from the shim's record of the frame:
 * the CFA (gcc), the stack pointer at the frame's pc (clang with optimization) or the frame
 * pointer (clang -O0).  0 if it names something else. */
static int frame_base(const Dwarf_Op *op, size_t n, const struct wedge_frame *fr, uint64_t *base)
{
#if defined(__x86_64__)
    enum { REG_FP = 6, REG_SP = 7 };
#elif defined(__aarch64__)
    enum { REG_FP = 29, REG_SP = 31 };
#else
    enum { REG_FP = -1, REG_SP = -1 };
#endif
    if (n != 1)
        return -1;
    int64_t add = 0;
    int reg = -1;
    if (op->atom == DW_OP_call_frame_cfa) {
        *base = fr->cfa;
        return 0;
    } else if (op->atom >= DW_OP_reg0 && op->atom <= DW_OP_reg31) {
        reg = op->atom - DW_OP_reg0;
    } else if (op->atom >= DW_OP_breg0 && op->atom <= DW_OP_breg31) {
        reg = op->atom - DW_OP_breg0;
        add = (int64_t)op->number;
    }
    if (reg >= 0 && reg == REG_SP) {
        *base = fr->sp + (uint64_t)add;
        return 0;
    }
    if (reg >= 0 && reg == REG_FP && fr->fp) {
        *base = fr->fp + (uint64_t)add;
        return 0;
    }
    return -1;
}

int dwarf_describe_local(const char *path, uint64_t off, const struct wedge_frame *frame,
                         uint64_t addr_in, int whole, struct dw_local *out)
{
    memset(out, 0, sizeof *out);
    struct dw_file *f = file_for(path);
    if (!f)
        return -1;
    Dwarf_Addr addr = off + f->bias, cubias;
    Dwarf_Die *cu = cu_of(f, addr, &cubias);
    Dwarf_Die fn;
    if (!cu || !physical_function(cu, addr - cubias, &fn, 0)) {
        /* no DWARF here: the symbol table's function, no variable */
        const char *name = dwfl_module_addrname(f->mod, addr);
        if (!name)
            return -1;
        snprintf(out->function, sizeof out->function, "%s", name);
        return 0;
    }
    const char *name = die_name_of(&fn);
    snprintf(out->function, sizeof out->function, "%s", name ? name : "??");
    /* the variables' DW_OP_fbreg offsets are from the frame base */
    Dwarf_Attribute a;
    Dwarf_Op *ops;
    size_t nops;
    uint64_t base;
    if (!dwarf_attr(&fn, DW_AT_frame_base, &a) ||
        dwarf_getlocation_addr(&a, addr - cubias, &ops, &nops, 1) != 1 ||
        frame_base(ops, nops, frame, &base) != 0)
        return 0;
    int64_t rel = (int64_t)(addr_in - base);
    struct local_match m = { .pc = addr - cubias, .rel = rel };
    walk_locals(&fn, 1, &m, 0);
    if (!m.have)
        return 0;
    const char *vname = die_name_of(&m.die);
    if (!vname)
        return 0;
    char *s = NULL;
    size_t n = 0;
    FILE *acc = open_memstream(&s, &n);
    if (!acc)
        return 0;
    uint64_t leaf = m.size;
    name_in_var(acc, vname, &m.type, m.has_type, (uint64_t)(rel - m.start), whole, &leaf);
    fclose(acc);
    snprintf(out->variable, sizeof out->variable, "%s", s ? s : vname);
    free(s);
    out->size = leaf;
    int line = 0;
    const char *file = dwarf_decl_file(&m.die);
    if (file && dwarf_decl_line(&m.die, &line) == 0 && line > 0)
        snprintf(out->declared, sizeof out->declared, "%s:%d", path_base_name(file), line);
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* heap: the type a block was allocated as */

/* "struct stats", "stats_t", "int": a type's name as the source spells it; 0 if it has one */
static int type_name(Dwarf_Die *t, char *buf, size_t len)
{
    const char *name = dwarf_diename(t);
    if (!name)
        return -1;
    switch (dwarf_tag(t)) {
    case DW_TAG_structure_type: snprintf(buf, len, "struct %s", name); break;
    case DW_TAG_union_type: snprintf(buf, len, "union %s", name); break;
    case DW_TAG_enumeration_type: snprintf(buf, len, "enum %s", name); break;
    default: snprintf(buf, len, "%s", name); break;
    }
    return 0;
}

struct alloc_match {
    const char *file;
    int line, n;
    Dwarf_Die pointee;
};

/* The variables declared on the allocation's line whose type is a pointer to a named type */
static void alloc_vars(Dwarf_Die *scope, struct alloc_match *m, int depth)
{
    Dwarf_Die c;
    if (depth > 16 || dwarf_child(scope, &c) != 0)
        return;
    do {
        int tag = dwarf_tag(&c);
        if (tag == DW_TAG_lexical_block) {
            alloc_vars(&c, m, depth + 1);
            continue;
        }
        int line = 0;
        const char *file = tag == DW_TAG_variable ? dwarf_decl_file(&c) : NULL;
        if (!file || dwarf_decl_line(&c, &line) != 0 || line != m->line ||
            strcmp(path_base_name(file), path_base_name(m->file)) != 0)
            continue;
        Dwarf_Attribute a;
        Dwarf_Die t, pt;
        if (!dwarf_formref_die(dwarf_attr_integrate(&c, DW_AT_type, &a), &t) ||
            peel(&t) != DW_TAG_pointer_type ||
            !dwarf_formref_die(dwarf_attr(&t, DW_AT_type, &a), &pt))
            continue;
        char nm[8];
        if (type_name(&pt, nm, sizeof nm) != 0)
            continue;
        m->pointee = pt;
        m->n++;
    } while (dwarf_siblingof(&c, &c) == 0);
}

int dwarf_alloc_type(const char *path, uint64_t off, uint64_t block_off, char *type,
                     size_t tlen, char *member, size_t mlen)
{
    type[0] = member[0] = 0;
    struct dw_file *f = file_for(path);
    if (!f)
        return -1;
    Dwarf_Addr addr = off + f->bias, cubias;
    Dwarf_Die *cu = cu_of(f, addr, &cubias);
    struct alloc_match m = { 0 };
    m.file = cu ? line_of(f, cu, addr, cubias, &m.line) : NULL;
    if (!m.file || m.line <= 0)
        return -1;
    /* the innermost function (or inlined body) holding the call: its variables, and its
     * abstract origin's (an inlined body's concrete variables may be gone) */
    Dwarf_Die *scopes = NULL;
    int ns = dwarf_getscopes(cu, addr - cubias, &scopes);
    for (int i = 0; i < ns; i++) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
            continue;
        alloc_vars(&scopes[i], &m, 0);
        Dwarf_Attribute a;
        Dwarf_Die origin;
        if (m.n == 0 &&
            dwarf_formref_die(dwarf_attr(&scopes[i], DW_AT_abstract_origin, &a), &origin))
            alloc_vars(&origin, &m, 0);
        break;
    }
    free(scopes);
    /* one such variable: `struct stats *s = calloc(1, sizeof *s);` (two on one line: which
     * one the block went to is not known) */
    if (m.n != 1 || type_name(&m.pointee, type, tlen) != 0)
        return -1;
    char *s = NULL;
    size_t n = 0;
    FILE *acc = open_memstream(&s, &n);
    if (acc) {
        Dwarf_Word tsz = 0;
        uint64_t rest = block_off, leaf = 0;
        if (dwarf_aggregate_size(&m.pointee, &tsz) == 0 && tsz && block_off >= tsz) {
            fprintf(acc, "[%" PRIu64 "]", block_off / tsz); /* an array of them */
            rest = block_off % tsz;
        }
        name_inside(acc, m.pointee, rest, &leaf, 0);
        fclose(acc);
        /* ".hits" -> "hits" */
        snprintf(member, mlen, "%s", s ? (s[0] == '.' ? s + 1 : s) : "");
        free(s);
    }
    return 0;
}

int dwarf_module_contains(const char *path, uint64_t off)
{
    struct dw_file *f = file_for(path);
    Dwarf_Addr lo = 0, hi = 0;
    if (!f || !dwfl_module_info(f->mod, NULL, &lo, &hi, NULL, NULL, NULL, NULL))
        return 0;
    return off + f->bias >= lo && off + f->bias < hi;
}

void dwarf_shutdown(void)
{
    for (size_t i = 0; i < nfiles; i++) {
        if (files[i].dwfl)
            dwfl_end(files[i].dwfl);
        free(files[i].vars);
        free(files[i].path);
    }
    free(files);
    files = NULL;
    nfiles = 0;
}

int dwarf_available(void)
{
    return 1;
}

#else /* no libdw: symbolize.c uses addr2line for code; data stays module+offset */

#include <string.h>

char *dwarf_describe_code(const char *path, uint64_t off)
{
    (void)path;
    (void)off;
    return NULL;
}

int dwarf_describe_data(const char *path, uint64_t off, int whole, char *buf, size_t len,
                        uint64_t *size, int *external)
{
    (void)path, (void)off, (void)whole, (void)buf, (void)len, (void)size, (void)external;
    return -1;
}

int dwarf_describe_local(const char *path, uint64_t off, const struct wedge_frame *frame,
                         uint64_t addr, int whole, struct dw_local *out)
{
    (void)path, (void)off, (void)frame, (void)addr, (void)whole;
    memset(out, 0, sizeof *out);
    return -1;
}

int dwarf_alloc_type(const char *path, uint64_t off, uint64_t block_off, char *type,
                     size_t tlen, char *member, size_t mlen)
{
    (void)path, (void)off, (void)block_off, (void)tlen, (void)mlen;
    type[0] = member[0] = 0;
    return -1;
}

int dwarf_module_contains(const char *path, uint64_t off)
{
    (void)path;
    (void)off;
    return 0;
}

void dwarf_shutdown(void)
{
}

int dwarf_available(void)
{
    return 0;
}

#endif
