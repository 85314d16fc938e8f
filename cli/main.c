/* main.c - wedge: command dispatch, --help, help COMMAND, --version. */
#define _GNU_SOURCE
#include "cli.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void general_help(FILE *f)
{
    fputs("usage: wedge COMMAND [OPTIONS] [TOKEN] -- PROGRAM [ARGS...]\n\n"
          "Reruns an unmodified multithreaded program under seeded interleavings (LD_PRELOAD\n"
          "shim libwedge.so) and reports the seeds that made it fail, with the interleaving.\n\n"
          "commands:\n"
          "  run       [OPTIONS] -- PROGRAM [ARGS...]        a campaign: many runs, many seeds\n"
          "  replay    [OPTIONS] TOKEN -- PROGRAM [ARGS...]  one seed again, with its "
          "interleaving\n"
          "  minimize  [OPTIONS] TOKEN -- PROGRAM [ARGS...]  the smallest schedule that still "
          "fails\n"
          "  help COMMAND                                   options of COMMAND\n\n"
          "  wedge --version | wedge --help\n\n",
          f);
    options_exit_help(f);
}

static enum wedge_command parse_command(const char *s)
{
    if (strcmp(s, "run") == 0)
        return CMD_RUN;
    if (strcmp(s, "replay") == 0)
        return CMD_REPLAY;
    if (strcmp(s, "minimize") == 0)
        return CMD_MINIMIZE;
    return CMD_NONE;
}

/* A crash of wedge itself must not leave 3 MB files in /dev/shm (the next wedge would clean
 * them, but there may be no next one). */
static void on_fatal(int sig)
{
    shm_destroy_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

int main(int argc, char **argv)
{
    atexit(shm_destroy_all);
    struct sigaction sa = { .sa_handler = on_fatal, .sa_flags = SA_RESETHAND };
    sigemptyset(&sa.sa_mask);
    /* SIGINT/SIGTERM/SIGHUP are handled by the runner (summary first); these end wedge. */
    static const int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGQUIT,
                                 SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU, SIGXFSZ };
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        sigaction(fatal[i], &sa, NULL);

    if (argc < 2) {
        general_help(stderr);
        return WEDGE_EXIT_USAGE;
    }
    const char *cmd_s = argv[1];
    if (strcmp(cmd_s, "--help") == 0 || strcmp(cmd_s, "-h") == 0) {
        general_help(stdout);
        return 0;
    }
    if (strcmp(cmd_s, "--version") == 0 || strcmp(cmd_s, "version") == 0) {
        printf("wedge %s (protocol %u)\n", WEDGE_VERSION, WEDGE_PROTOCOL_VERSION);
        return 0;
    }
    if (strcmp(cmd_s, "help") == 0) {
        if (argc == 2) {
            general_help(stdout);
            return 0;
        }
        enum wedge_command c = parse_command(argv[2]);
        if (c == CMD_NONE || argc > 3) {
            usage_error("help: unknown command '%s' (expected run, replay or minimize)", argv[2]);
            return WEDGE_EXIT_USAGE;
        }
        options_help(stdout, c);
        return 0;
    }
    enum wedge_command cmd = parse_command(cmd_s);
    if (cmd == CMD_NONE) {
        usage_error("unknown command '%s' (expected run, replay, minimize, help; see wedge "
                    "--help)", cmd_s);
        return WEDGE_EXIT_USAGE;
    }
    struct wedge_config cfg;
    /* argv[1] (the command) plays argv[0] for getopt */
    if (options_parse(cmd, argc - 1, argv + 1, &cfg) != 0) {
        options_free(&cfg);
        return WEDGE_EXIT_USAGE;
    }
    int status = WEDGE_EXIT_USAGE;
    switch (cmd) {
    case CMD_RUN:
        status = cmd_run(&cfg);
        break;
    case CMD_REPLAY:
        status = cmd_replay(&cfg);
        break;
    case CMD_MINIMIZE:
        status = cmd_minimize(&cfg);
        break;
    default:
        break;
    }
    options_free(&cfg);
    return status;
}
