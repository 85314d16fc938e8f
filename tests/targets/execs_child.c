/* execs_child: without arguments it forks a child that execs /bin/true, waits for it, then
 * execs itself with the argument "child"; the re-executed image starts a thread, joins it and
 * exits 0.  The shim must survive exec (LD_PRELOAD is inherited) and the run must pass. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int touched;

static void *helper(void *arg)
{
    pthread_mutex_lock(&lock);
    touched = 1;
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        pthread_t t;
        pthread_create(&t, NULL, helper, NULL);
        pthread_join(t, NULL);
        if (!touched) {
            printf("execs_child: helper thread did not run\n");
            return 1;
        }
        return 0;
    }
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        printf("execs_child: /bin/true failed\n");
        return 1;
    }
    execl("/proc/self/exe", argv[0], "child", (char *)NULL);
    perror("execs_child: exec");
    return 1;
}
