/* The pod sandbox's process: holds the pod's namespaces and reaps orphans until SIGTERM/SIGINT.
 * Built static (gcc -static) by .ci/cluster.sh into the cluster's sandbox image; the same job as Kubernetes' pause. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig) { (void) sig; _exit(0); }
static void reap(int sig) { (void) sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }

int main(int argc, char **argv) {
    if (argc > 1 && argv[1][0] == '-' && argv[1][1] == 'v') { puts("goodput-pause 1"); return 0; }
    if (getpid() != 1) fprintf(stderr, "pause: warning: not pid 1\n");
    struct sigaction term = {.sa_handler = stop}, child = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP};
    sigaction(SIGINT, &term, NULL);
    sigaction(SIGTERM, &term, NULL);
    sigaction(SIGCHLD, &child, NULL);
    for (;;) pause();
}
