/* fork while other threads run, lock and allocate: the child (only the forking thread
 * survives) must be able to allocate, lock, print and exec; the parent must go on. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int stop;
static long work;

static void *busy(void *arg)
{
    while (!stop) {
        pthread_mutex_lock(&lock);
        work++;
        pthread_mutex_unlock(&lock);
        free(malloc(128));
    }
    return arg;
}

int main(void)
{
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, busy, NULL);
    int bad = 0;
    for (int k = 0; k < 8; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
            pthread_mutex_lock(&fresh);
            char *p = malloc(4096);
            snprintf(p, 4096, "child %d", k);
            pthread_mutex_unlock(&fresh);
            if (k % 2)
                execl("/bin/true", "true", (char *)NULL);
            _exit(p[0] == 'c' ? 0 : 1);
        }
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            bad++;
    }
    stop = 1;
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    if (bad)
        printf("%d children failed\n", bad);
    return bad ? 1 : 0;
}
