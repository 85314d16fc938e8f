/* sigchld_ignored_ok: a constructor sets SIGCHLD to ignored (a daemon's way of never
 * reaping its children), then main forks a child it does not wait for and checks that the
 * disposition holds (waitpid finds no child to reap: the kernel reaped it) while two threads
 * count under a mutex.  Correct: it must pass every run.  A fork server, whose runs are its
 * children, must not inherit the ignored SIGCHLD (it could not wait for its runs) and the
 * program must still see it ignored. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long count;

__attribute__((constructor)) static void ignore_children(void)
{
    signal(SIGCHLD, SIG_IGN);
}

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&lock);
        count++;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    if (sigaction(SIGCHLD, NULL, &sa) != 0 || sa.sa_handler != SIG_IGN) {
        printf("sigchld_ignored_ok: SIGCHLD is not ignored in main\n");
        return 1;
    }
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0)
        _exit(0);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    /* ignored SIGCHLD: the child is reaped by the kernel; waitpid waits for it to go, then
     * fails with ECHILD */
    int st;
    if (waitpid(pid, &st, 0) != -1 || errno != ECHILD) {
        printf("sigchld_ignored_ok: the child was left to be reaped\n");
        return 1;
    }
    if (count != 200) {
        printf("sigchld_ignored_ok: count %ld\n", count);
        return 1;
    }
    return 0;
}
