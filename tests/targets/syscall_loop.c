/* syscall_loop [global]: a correct, system-call-heavy program for scripts/bench/real-programs
 * (the cost of a system call while memory is watched): two threads each make 200000 stat()
 * calls, into a struct on the stack (or, with "global", into a global one: memory that may
 * be watched) and 200000 getppid() calls, then exit 0.  Built with -fno-plt -z now. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ITER 200000

static struct stat st[2];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long total;

static int global;

static void *loop(void *arg)
{
    long k = (long)arg, n = 0;
    struct stat mine, *into = global ? &st[k] : &mine; /* no global read in the loop */
    for (int i = 0; i < ITER; i++) {
        if (stat("/", into) == 0)
            n++;
        n += getppid() > 0;
    }
    pthread_mutex_lock(&mu);
    total += n;
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t[2];
    global = argc > 1 && strcmp(argv[1], "global") == 0;
    for (long k = 0; k < 2; k++)
        pthread_create(&t[k], NULL, loop, (void *)k);
    for (int k = 0; k < 2; k++)
        pthread_join(t[k], NULL);
    if (total != 4L * ITER) {
        printf("syscall_loop: %ld calls succeeded of %ld\n", total, 4L * ITER);
        return 1;
    }
    return 0;
}
