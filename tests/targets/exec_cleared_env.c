/* exec_cleared_env: a program that drops its environment before it execs a racy child
 * (issue 7, item 6).  exec_cleared_env HOW, with HOW one of
 *   clearenv   clearenv(), then execv
 *   unsetenv   unsetenv("LD_PRELOAD"), then execvp
 *   preload    its own LD_PRELOAD (libm), then execv
 *   envp       execve with an environment array of its own (PATH only)
 *   spawn      posix_spawn with an environment array of its own (PATH only), then waitpid
 *              (glibc's posix_spawn forks and execs past the fork and exec wrappers)
 *   run PROG   clearenv(), then execv PROG (a static program, say: wedge says it is unfuzzed)
 * re-executes itself as "exec_cleared_env child": two threads each add 1 to a shared counter
 * 30 times, reading it in one critical section and writing it back in another (a lost
 * update when the other thread runs in between).  Natively the window between the unlock
 * and the lock is a few instructions and the child almost never fails; under wedge it does,
 * if the shim is still in the child.  The fixed twin (-DWEDGE_FIXED) adds in one critical
 * section.  The child exits 1 when an update was lost. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#define ADDS 30

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int counter;

static void *adder(void *arg)
{
    (void)arg;
    for (int i = 0; i < ADDS; i++) {
#ifdef WEDGE_FIXED
        pthread_mutex_lock(&mu);
        counter++;
        pthread_mutex_unlock(&mu);
#else
        pthread_mutex_lock(&mu);
        int v = counter;
        pthread_mutex_unlock(&mu);
        pthread_mutex_lock(&mu);
        counter = v + 1;
        pthread_mutex_unlock(&mu);
#endif
    }
    return NULL;
}

static int child(void)
{
    pthread_t t[2];
    for (int k = 0; k < 2; k++)
        pthread_create(&t[k], NULL, adder, NULL);
    for (int k = 0; k < 2; k++)
        pthread_join(t[k], NULL);
    if (counter != 2 * ADDS) {
        printf("exec_cleared_env: counter %d, expected %d\n", counter, 2 * ADDS);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return child();
    const char *how = argc > 1 ? argv[1] : "clearenv";
    char *args[] = { argv[0], "child", NULL };
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 2;
    self[n] = 0;
    if (strcmp(how, "clearenv") == 0) {
        clearenv();
        execv(self, args);
    } else if (strcmp(how, "unsetenv") == 0) {
        unsetenv("LD_PRELOAD");
        execvp(self, args);
    } else if (strcmp(how, "preload") == 0) {
        setenv("LD_PRELOAD", "libm.so.6", 1);
        execv(self, args);
    } else if (strcmp(how, "run") == 0 && argc > 2) {
        char *prog[] = { argv[2], NULL };
        clearenv();
        execv(argv[2], prog);
    } else if (strcmp(how, "spawn") == 0) {
        char *env[] = { "PATH=/usr/bin:/bin", NULL };
        pid_t pid;
        int st, rc = posix_spawn(&pid, self, NULL, NULL, args, env);
        if (rc != 0) {
            fprintf(stderr, "exec_cleared_env: posix_spawn: %s\n", strerror(rc));
            return 2;
        }
        if (waitpid(pid, &st, 0) != pid)
            return 2;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 2;
    } else if (strcmp(how, "envp") == 0) {
        char *env[] = { "PATH=/usr/bin:/bin", NULL };
        execve(self, args, env);
    } else {
        fprintf(stderr, "exec_cleared_env: unknown way %s\n", how);
        return 2;
    }
    perror("exec_cleared_env: exec");
    return 2;
}
