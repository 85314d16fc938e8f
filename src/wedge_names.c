/* wedge_names.c - printable names of protocol enums. */
#include "wedge_protocol.h"

static const char *const kind_names[WEDGE_EV_KIND_COUNT] = {
    [WEDGE_EV_NONE] = "none",
    [WEDGE_EV_THREAD_START] = "thread_start",
    [WEDGE_EV_THREAD_EXIT] = "thread_exit",
    [WEDGE_EV_CREATE] = "pthread_create",
    [WEDGE_EV_JOIN] = "pthread_join",
    [WEDGE_EV_DETACH] = "pthread_detach",
    [WEDGE_EV_MUTEX_LOCK] = "mutex_lock",
    [WEDGE_EV_MUTEX_TRYLOCK] = "mutex_trylock",
    [WEDGE_EV_MUTEX_UNLOCK] = "mutex_unlock",
    [WEDGE_EV_RWLOCK_RDLOCK] = "rwlock_rdlock",
    [WEDGE_EV_RWLOCK_WRLOCK] = "rwlock_wrlock",
    [WEDGE_EV_RWLOCK_UNLOCK] = "rwlock_unlock",
    [WEDGE_EV_COND_WAIT] = "cond_wait",
    [WEDGE_EV_COND_SIGNAL] = "cond_signal",
    [WEDGE_EV_COND_BROADCAST] = "cond_broadcast",
    [WEDGE_EV_SEM_WAIT] = "sem_wait",
    [WEDGE_EV_SEM_POST] = "sem_post",
    [WEDGE_EV_BARRIER_WAIT] = "barrier_wait",
    [WEDGE_EV_SPIN_LOCK] = "spin_lock",
    [WEDGE_EV_SPIN_UNLOCK] = "spin_unlock",
    [WEDGE_EV_ONCE] = "pthread_once",
    [WEDGE_EV_YIELD] = "sched_yield",
    [WEDGE_EV_SLEEP] = "sleep",
    [WEDGE_EV_MALLOC] = "malloc",
    [WEDGE_EV_FREE] = "free",
    [WEDGE_EV_READ] = "read",
    [WEDGE_EV_WRITE] = "write",
    [WEDGE_EV_FSYNC] = "fsync",
    [WEDGE_EV_FCNTL_LOCK] = "fcntl_lock",
    [WEDGE_EV_FORK] = "fork",
    [WEDGE_EV_EXEC] = "exec",
    [WEDGE_EV_MEM_READ] = "mem_read",
    [WEDGE_EV_MEM_WRITE] = "mem_write",
    [WEDGE_EV_LOST_UPDATE] = "lost_update",
    [WEDGE_EV_WAKE] = "wake",
    [WEDGE_EV_BLOCKING_CALL] = "blocking_call",
    [WEDGE_EV_CANCEL] = "pthread_cancel",
    [WEDGE_EV_TESTCANCEL] = "pthread_testcancel",
    [WEDGE_EV_FUTEX_WAIT] = "futex_wait",
    [WEDGE_EV_FUTEX_WAKE] = "futex_wake",
    [WEDGE_EV_PY_CALL] = "python_call",
    [WEDGE_EV_RF_HOLD] = "rf_hold",
    [WEDGE_EV_RF_LOCK_HOLD] = "rf_lock_hold",
};

const char *wedge_event_kind_name(unsigned kind)
{
    if (kind < WEDGE_EV_KIND_COUNT && kind_names[kind])
        return kind_names[kind];
    return "?";
}

const char *wedge_action_name(unsigned action)
{
    switch (action) {
    case WEDGE_ACT_NONE: return "";
    case WEDGE_ACT_YIELD: return "yield";
    case WEDGE_ACT_SPIN: return "spin";
    case WEDGE_ACT_SLEEP: return "sleep";
    case WEDGE_ACT_PREEMPT: return "preempt";
    case WEDGE_ACT_WATCHDOG: return "watchdog";
    case WEDGE_ACT_RENDEZVOUS: return "rendezvous";
    default: return "?";
    }
}
