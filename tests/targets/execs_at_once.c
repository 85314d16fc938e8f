/* execs_at_once: a launcher - main execs the real program (itself, with "again") before doing
 * anything; the exec'd image runs two threads on a mutex and exits 0.  Correct: it must pass
 * every run, and a fork server saves nothing for it (wedge falls back to exec per run, once). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int count;

static void *bump(void *arg)
{
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&lock);
        count++;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "again") != 0) {
        execl("/proc/self/exe", argv[0], "again", (char *)NULL);
        perror("execs_at_once: exec");
        return 1;
    }
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, bump, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    if (count != 200) {
        printf("execs_at_once: count %d\n", count);
        return 1;
    }
    return 0;
}
