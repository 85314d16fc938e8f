/* Signals arriving while a thread is inside the shim's wrappers: the handler itself calls
 * intercepted, async-signal-safe functions (write, sem_post).  Must neither deadlock nor
 * crash, and every signal sent is handled. */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sem_t sem;
static int pipefd[2];
static volatile sig_atomic_t handled;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;

static void on_signal(int sig)
{
    char c = 'x';
    if (write(pipefd[1], &c, 1) == 1)
        handled++;
    sem_post(&sem);
}

static void *worker(void *arg)
{
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_cond_signal(&cond);
        pthread_mutex_unlock(&lock);
    }
    return arg;
}

int main(void)
{
    if (pipe(pipefd) || sem_init(&sem, 0, 0))
        return 2;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    int sent = 0;
    for (int i = 0; i < 200; i++) {
        pthread_kill(t, SIGUSR1);
        sent++;
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    pthread_join(t, NULL);
    /* every signal sent before the join was delivered (to the worker or, after it ended, not
     * at all: pthread_kill to a finished thread fails); count the handled ones */
    for (int i = 0; i < handled; i++)
        sem_wait(&sem);
    if (counter != 20200) {
        printf("counter %ld != 20200\n", counter);
        return 1;
    }
    if (handled == 0) {
        printf("no signal handled of %d sent\n", sent);
        return 1;
    }
    return 0;
}
