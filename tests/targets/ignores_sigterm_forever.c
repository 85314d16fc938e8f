/* ignores_sigterm_forever: blocks SIGTERM (and SIGINT, SIGHUP) in every thread and sleeps
 * forever.  A runner that stops hung runs with SIGTERM only never gets rid of it. */
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

static void *sleeper(void *arg)
{
    for (;;)
        sleep(1);
    return NULL;
}

int main(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL); /* inherited by the thread below */
    pthread_t t;
    pthread_create(&t, NULL, sleeper, NULL);
    for (;;)
        sleep(1);
}
