/* wedge_proc.h - the process tree of a run, shared by the runner's supervisor (cli/runner.c)
 * and the shim's fork server (preload/forksrv.c): both are child subreapers that end a run by
 * killing every process under them. */
#ifndef WEDGE_PROC_H
#define WEDGE_PROC_H

#include <sys/types.h>

/* SIGKILL every descendant of process `pid` (all its threads' children, recursively, through
 * /proc/PID/task/TID/children); returns how many were signalled.  Killing top-down lets no
 * process fork a new one unseen for long; whatever is forked meanwhile is found on the
 * caller's next round.  No allocation but opendir's: fine in a single-threaded process. */
int wedge_kill_descendants(pid_t pid);

#endif
