/* forks_daemon: double-forks a grandchild that calls setsid() (leaving the run's process group
 * and session) and sleeps 60 s; the parent exits 0 at once.  After a campaign nothing of it
 * may be left running. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    pid_t child = fork();
    if (child < 0) {
        perror("forks_daemon: fork");
        return 2;
    }
    if (child == 0) {
        if (setsid() < 0)
            _exit(1);
        pid_t grandchild = fork();
        if (grandchild < 0)
            _exit(1);
        if (grandchild == 0) {
            /* the daemon: detached from the terminal's output, as daemons are */
            freopen("/dev/null", "w", stdout);
            sleep(60);
            _exit(0);
        }
        _exit(0);
    }
    int st;
    waitpid(child, &st, 0);
    return 0;
}
