/*
 * The first runtimes of a process created from several threads at once:
 * device discovery and the driver's first use must be safe without any
 * runtime made beforehand (the other tests create one before starting
 * threads, which hides the problem). Each round is a fresh process (this
 * program run again with --round N) that has never touched OpenCL; in it 2
 * to 4 threads wait at a barrier,
 * then each creates a runtime, adds two vectors on the device and checks
 * the result. The parent never calls OpenCL itself.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "graph/tensor.h"
#include "ops/elementwise.h"
#include "terracl/terracl.h"

#define MAX_THREADS 4

static pthread_barrier_t g_barrier;

struct job {
    int ok, no_device;
    char why[4400];
};

static void *first_use(void *arg)
{
    struct job *j = arg;
    terracl_error err = {0};
    terracl_runtime *rt = NULL;
    pthread_barrier_wait(&g_barrier);
    terracl_status st = terracl_runtime_create(NULL, &rt, &err);
    if (st == TERRACL_ERR_NO_DEVICE) {
        j->no_device = 1;
        snprintf(j->why, sizeof j->why, "%s", err.message);
        return NULL;
    }
    float a[64], b[64], out[64];
    for (int i = 0; i < 64; i++) {
        a[i] = (float)i;
        b[i] = 0.5f * (float)i;
    }
    int64_t dims[1] = {64};
    struct tc_tensor ta = {0}, tb = {0};
    if (st == TERRACL_OK)
        st = tc_tensor_alloc(rt, 1, dims, &ta, &err);
    if (st == TERRACL_OK)
        st = tc_tensor_alloc(rt, 1, dims, &tb, &err);
    if (st == TERRACL_OK)
        st = tc_tensor_upload(rt, &ta, a, &err);
    if (st == TERRACL_OK)
        st = tc_tensor_upload(rt, &tb, b, &err);
    if (st == TERRACL_OK)
        st = tc_op_add(rt, &ta, &tb, &ta, &err);
    if (st == TERRACL_OK)
        st = tc_tensor_download(rt, &ta, out, &err);
    j->ok = st == TERRACL_OK;
    for (int i = 0; j->ok && i < 64; i++)
        j->ok = out[i] == 1.5f * (float)i;
    if (!j->ok)
        snprintf(j->why, sizeof j->why, "%s: %s", terracl_status_name(st),
                 st == TERRACL_OK ? "wrong sum" : err.message);
    tc_tensor_free(&ta);
    tc_tensor_free(&tb);
    terracl_runtime_destroy(rt);
    return NULL;
}

/* One round in the calling (fresh) process: 0 ok, 77 no device, 1 failed. */
static int round_in_child(int nthreads)
{
    pthread_t th[MAX_THREADS];
    struct job jobs[MAX_THREADS];
    memset(jobs, 0, sizeof jobs);
    pthread_barrier_init(&g_barrier, NULL, (unsigned)nthreads);
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, first_use, &jobs[i]) != 0)
            return 1;
    for (int i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    int no_device = 0, failed = 0;
    for (int i = 0; i < nthreads; i++) {
        no_device += jobs[i].no_device;
        if (!jobs[i].ok && !jobs[i].no_device) {
            fprintf(stderr, "thread %d of %d: %s\n", i, nthreads, jobs[i].why);
            failed = 1;
        }
    }
    if (no_device == nthreads) {
        printf("skipped: %s\n", jobs[0].why);
        return 77;
    }
    if (no_device > 0) {
        /* Some threads saw a device and others did not: the race itself. */
        for (int i = 0; i < nthreads; i++)
            if (jobs[i].no_device)
                fprintf(stderr, "thread %d of %d: no device: %s\n", i, nthreads, jobs[i].why);
        return 1;
    }
    return failed;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--round") == 0)
        return round_in_child(atoi(argv[2]));
    int rounds = 0, failures = 0;
    for (int r = 0; r < 6; r++) {
        int nthreads = 2 + r % 3; /* 2, 3, 4, 2, 3, 4 */
        char count[8];
        snprintf(count, sizeof count, "%d", nthreads);
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            /* exec, not just fork: a fresh process in every respect
             * (sanitizer runtimes included). */
            char *args[] = {argv[0], "--round", count, NULL};
            execv("/proc/self/exe", args);
            _exit(127);
        }
        int status = 0;
        if (waitpid(pid, &status, 0) != pid) {
            perror("waitpid");
            return 1;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
            return 77;
        rounds++;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            failures++;
            fprintf(stderr, "round %d (%d threads): %s %d\n", r, nthreads,
                    WIFSIGNALED(status) ? "killed by signal" : "exit status",
                    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        }
    }
    printf("first use from several threads: %d rounds, %d failed\n", rounds, failures);
    return failures ? 1 : 0;
}
