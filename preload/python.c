/* python.c - CPython: the interpreter's function calls as scheduling points in serial mode.
 *
 * Why: CPython hands its GIL over only at an eval-breaker check (a function's entry, a loop's
 * back edge, after a call into C) after a waiting thread's timed wait expired and asked for
 * it.  In serial mode "this timed wait times out now" is a strategy choice (serial.c), but the
 * strategy is only asked at scheduling points, and a thread holding the GIL reaches almost
 * none: CPython allocates small objects from its own arenas, not malloc.  The GIL then moved
 * only at the checks that follow the few points there were (a threading.Lock's sem_post), and
 * never inside a check-then-act window of Python code: router_history.py was found in 0 of
 * 100 serial runs.  A Python function call is the event that precedes the check at the
 * callee's entry: made a scheduling point, a waiter may time out there and the holder drops
 * the GIL at that check, inside the window.
 *
 * How: a profile function (PyEval_SetProfile, CPython's public C API, in every release since
 * 2.x) whose call events are points.  It is set per thread with the GIL held: in the thread
 * that first creates a thread (threading.Thread.start calls pthread_create holding the GIL),
 * and, through threading's documented profile hook (threading.setprofile: each thread the
 * module starts calls sys.setprofile with it), in every thread threading starts: the hook is
 * a built-in function that replaces itself with the C profile function at its first call.
 * No Python code runs inside the shim (attributes are set, not assigned through Python).
 *
 * Left alone: a program that profiles itself (sys.getprofile() or threading.getprofile() not
 * None: its profiler keeps working, and the run gets only the points it had); threads started
 * with _thread directly (no hook: the points they had).  Serial mode only: in noise mode a
 * yield of the GIL holder changes nothing (the GIL stays with it), and noise mode's early
 * expiry of the GIL wait is what works there (timeouts.c).
 *
 * The CPython symbols are looked up in the process (python3 exports its C API for extension
 * modules); a process without them is not a CPython one and is left alone.
 */
#define _GNU_SOURCE
#include "shim.h"

#include <dlfcn.h>

/* The stable ABI's types, without Python.h (no build dependency on python3-dev) */
typedef struct py_object py_object;
typedef py_object *(*py_cfunction)(py_object *self, py_object *args);
struct py_method_def {
    const char *ml_name;
    py_cfunction ml_meth;
    int ml_flags;
    const char *ml_doc;
};
#define PY_METH_VARARGS 0x0001
#define PY_TRACE_CALL 0
#define PY_TRACE_C_CALL 4
typedef int (*py_tracefunc)(py_object *obj, void *frame, int what, py_object *arg);

static struct {
    int (*IsInitialized)(void);
    int (*GILState_Check)(void);
    void *(*GILState_GetThisThreadState)(void);
    void *(*ThreadState_UncheckedGet)(void); /* 3.11's private name; may be missing */
    void (*Eval_SetProfile)(py_tracefunc, py_object *);
    py_object *(*Import_GetModule)(py_object *name);
    py_object *(*Unicode_FromString)(const char *);
    py_object *(*Object_GetAttrString)(py_object *, const char *);
    int (*Object_SetAttrString)(py_object *, const char *, py_object *);
    py_object *(*Object_CallNoArgs)(py_object *);
    py_object *(*CFunction_NewEx)(struct py_method_def *, py_object *, py_object *);
    void (*DecRef)(py_object *);
    void (*IncRef)(py_object *);
    void (*Err_Clear)(void);
    py_object *None;
} py;

static _Atomic int attached; /* 0 not tried, 1 tried (hooked or not) */

static int profile(py_object *obj, void *frame, int what, py_object *arg)
{
    (void)obj;
    (void)frame;
    (void)arg;
    /* calls (of Python functions and of built-ins): the eval-breaker check of the callee's
     * entry, or the one after the built-in returns, comes next */
    if (what != PY_TRACE_CALL && what != PY_TRACE_C_CALL)
        return 0;
    if (!wedge_enter())
        return 0;
    if (wedge_g.serial)
        wedge_serial_point(WEDGE_EV_PY_CALL, wedge_site_of(WEDGE_CALLER_PC()), NULL,
                           (uint64_t)what);
    wedge_leave();
    return 0;
}

/* threading's profile hook, called as hook(frame, event, arg) at a new thread's first
 * event: from then on the thread calls the C profile function directly (no Python call, no
 * frame locals built per event).  threading._profile_hook keeps this object alive. */
static py_object *thread_hook(py_object *self, py_object *args)
{
    (void)self;
    (void)args;
    py.Eval_SetProfile(profile, NULL);
    py.IncRef(py.None);
    return py.None;
}

static struct py_method_def thread_hook_def = { "wedge_profile", thread_hook, PY_METH_VARARGS,
                                                "wedge: Python calls as scheduling points" };

static int resolve(void)
{
#define R(field, name)                                                                       \
    if (!(*(void **)&py.field = dlsym(RTLD_DEFAULT, name)))                                  \
        return 0;
    R(IsInitialized, "Py_IsInitialized")
    R(GILState_Check, "PyGILState_Check")
    R(GILState_GetThisThreadState, "PyGILState_GetThisThreadState")
    R(Eval_SetProfile, "PyEval_SetProfile")
    R(Import_GetModule, "PyImport_GetModule")
    R(Unicode_FromString, "PyUnicode_FromString")
    R(Object_GetAttrString, "PyObject_GetAttrString")
    R(Object_SetAttrString, "PyObject_SetAttrString")
    R(Object_CallNoArgs, "PyObject_CallNoArgs")
    R(CFunction_NewEx, "PyCFunction_NewEx")
    R(DecRef, "Py_DecRef")
    R(IncRef, "Py_IncRef")
    R(Err_Clear, "PyErr_Clear")
    R(None, "_Py_NoneStruct")
#undef R
    *(void **)&py.ThreadState_UncheckedGet = dlsym(RTLD_DEFAULT, "_PyThreadState_UncheckedGet");
    return 1;
}

/* 1 if the calling thread holds the GIL.  PyGILState_Check alone says 1 whenever its check
 * is disabled (once a subinterpreter exists): then the thread states must match. */
static int holds_gil(void)
{
    if (!py.IsInitialized() || !py.GILState_Check())
        return 0;
    if (!py.ThreadState_UncheckedGet)
        return 1;
    void *me = py.GILState_GetThisThreadState();
    return me && me == py.ThreadState_UncheckedGet();
}

/* sys.modules[name] (a new reference) or NULL: never imports (that would run Python code) */
static py_object *module(const char *name)
{
    py_object *n = py.Unicode_FromString(name);
    if (!n)
        return NULL;
    py_object *m = py.Import_GetModule(n);
    py.DecRef(n);
    return m;
}

/* 1 if mod.getter() is None (no profiler of the program's own) */
static int unprofiled(py_object *mod, const char *getter)
{
    py_object *f = py.Object_GetAttrString(mod, getter);
    if (!f)
        return 0;
    py_object *r = py.Object_CallNoArgs(f);
    py.DecRef(f);
    if (!r)
        return 0;
    int none = r == py.None;
    py.DecRef(r);
    return none;
}

static void hook_threads(void)
{
    py_object *sys = module("sys"), *threading = module("threading"), *hook = NULL;
    if (!sys || !threading || !unprofiled(sys, "getprofile") ||
        !unprofiled(threading, "getprofile"))
        goto out;
    hook = py.CFunction_NewEx(&thread_hook_def, NULL, NULL);
    if (!hook || py.Object_SetAttrString(threading, "_profile_hook", hook) != 0)
        goto out;
    py.Eval_SetProfile(profile, NULL);
    wedge_serial_dense();
    wedge_log("serial: CPython calls are scheduling points", NULL);
out:
    py.Err_Clear(); /* whatever failed: the program sees no exception of ours */
    if (hook)
        py.DecRef(hook); /* threading._profile_hook holds it */
    if (threading)
        py.DecRef(threading);
    if (sys)
        py.DecRef(sys);
}

void wedge_py_attach(void)
{
    if (!wedge_g.serial || atomic_load_explicit(&attached, memory_order_relaxed))
        return;
    /* only the first creation with the GIL held tries (a C thread creating threads before
     * the interpreter runs, or without the GIL, leaves it to a later one) */
    static int resolved; /* 0 not yet, 1 a CPython process, -1 not one */
    if (!resolved)
        resolved = resolve() ? 1 : -1;
    if (resolved < 0) {
        atomic_store(&attached, 1);
        return;
    }
    if (!holds_gil())
        return;
    if (atomic_exchange(&attached, 1))
        return;
    hook_threads();
}
