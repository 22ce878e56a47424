/*
 * terracl_h5_probe (include/terracl/probe.h): decode an untrusted HDF5 file
 * in a child process first, so that a crash inside libhdf5 ends the child,
 * not the caller. The child writes the name of each object before it
 * decodes it to a pipe; when it dies, the last name says where.
 */
#include "terracl/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/checkpoint_internal.h"
#include "io/h5_util.h"

#if H5_VERSION_GE(1, 12, 0)
typedef H5L_info2_t probe_link_info;
#define probe_link_visit H5Lvisit2
#else
typedef H5L_info_t probe_link_info;
#define probe_link_visit H5Lvisit
#endif

struct child {
    int fd; /* progress pipe */
    int flags;
    const char *path;
};

/* "name\n" to the pipe; a short write only loses progress detail. */
static void say(const struct child *c, const char *name)
{
    char line[512];
    int n = snprintf(line, sizeof line, "%s\n", name);
    if (n > 0) {
        ssize_t w = write(c->fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        (void)w;
    }
}

static herr_t visit(hid_t group, const char *name, const probe_link_info *info, void *data)
{
    const struct child *c = data;
    if (info->type != H5L_TYPE_HARD)
        return 0; /* never followed by a run either */
    say(c, name);
    hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
    if (obj < 0)
        return 0;
    if (H5Iget_type(obj) == H5I_DATASET) {
        struct tc_h5_info hi;
        terracl_error err = {0};
        if (tc_h5_describe(obj, c->path, name, &hi, &err) == TERRACL_OK && hi.problem == NULL &&
            (c->flags & TERRACL_H5_PROBE_DATA) && tc_dtype_is_float(hi.dtype) && hi.numel > 0) {
            long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
            size_t bytes = hi.numel * sizeof(float); /* numel * 4 checked by describe's caller */
            if (hi.numel <= SIZE_MAX / sizeof(float) && pages > 0 && page > 0 &&
                bytes / (size_t)page < (size_t)pages / 2) {
                float *buf = malloc(bytes);
                terracl_status st = buf ? tc_h5_read_f32(obj, c->path, name, &hi, buf, &err)
                                        : TERRACL_OK;
                (void)st; /* errors are the real read's to report */
                free(buf);
            }
        }
    }
    H5Oclose(obj);
    H5Eclear2(H5E_DEFAULT);
    return 0;
}

static int run_child(const struct child *c)
{
    hid_t file;
    terracl_error err = {0};
    say(c, "(superblock)");
    if (tc_h5_open_read(c->path, "file", &file, &err) != TERRACL_OK)
        return 0; /* the real open will report it the same way */
    say(c, "(root attributes)");
    if (H5Aexists(file, "config") > 0) {
        hid_t attr = H5Aopen(file, "config", H5P_DEFAULT);
        if (attr >= 0) {
            hid_t type = H5Aget_type(attr), space = H5Aget_space(attr);
            if (type >= 0)
                H5Tclose(type);
            if (space >= 0)
                H5Sclose(space);
            H5Aclose(attr);
        }
    }
    H5Eclear2(H5E_DEFAULT);
    probe_link_visit(file, H5_INDEX_NAME, H5_ITER_INC, visit, (void *)c);
    say(c, "(closing)");
    H5Fclose(file);
    return 0;
}

/* Whether the file starts with the HDF5 signature at 0, 512, 1024, ...
 * (read directly: no HDF5 call in this process). */
static int looks_like_hdf5(const char *path)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int found = 0;
    for (off_t off = 0; off <= ((off_t)1 << 20) && !found; off = off ? off * 2 : 512) {
        unsigned char head[8];
        if (pread(fd, head, sizeof head, off) != (ssize_t)sizeof head)
            break;
        found = memcmp(head, sig, sizeof sig) == 0;
    }
    close(fd);
    return found;
}

terracl_status terracl_h5_probe(const char *path, int flags, int timeout_s, terracl_error *err)
{
    if (path == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_h5_probe: path is NULL");
    if (!looks_like_hdf5(path))
        return TERRACL_OK; /* not HDF5 (or unreadable): nothing HDF5 would decode */
    if (timeout_s <= 0)
        timeout_s = 60;
    int fds[2];
    if (pipe(fds) != 0)
        return tc_fail(err, TERRACL_ERR_INTERNAL, "probing '%s': pipe failed: %s", path,
                       strerror(errno));
    fflush(NULL); /* nothing buffered is written twice */
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return tc_fail(err, TERRACL_ERR_INTERNAL, "probing '%s': fork failed: %s", path,
                       strerror(e));
    }
    if (pid == 0) {
        close(fds[0]);
        alarm((unsigned)timeout_s);
        struct child c = {fds[1], flags, path};
        _exit(run_child(&c));
    }
    close(fds[1]);
    /* Keep the last complete line the child wrote. */
    char buf[4096], last[512] = "", line[512];
    size_t line_len = 0;
    for (;;) {
        ssize_t got = read(fds[0], buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        for (ssize_t i = 0; i < got; i++) {
            if (buf[i] == '\n') {
                line[line_len] = '\0';
                memcpy(last, line, line_len + 1);
                line_len = 0;
            } else if (line_len + 1 < sizeof line) {
                line[line_len++] = buf[i];
            }
        }
    }
    close(fds[0]);
    int status = 0;
    pid_t w;
    do {
        w = waitpid(pid, &status, 0);
    } while (w < 0 && errno == EINTR);
    if (w != pid)
        return tc_fail(err, TERRACL_ERR_INTERNAL, "probing '%s': waitpid failed: %s", path,
                       strerror(errno));
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (sig == SIGALRM)
            return tc_fail(err, TERRACL_ERR_FORMAT,
                           "'%s' is a malformed HDF5 file: decoding it did not finish within %d "
                           "s (at '%s')",
                           path, timeout_s, last);
        return tc_fail(err, TERRACL_ERR_FORMAT,
                       "'%s' is a malformed HDF5 file: the HDF5 library crashed (signal %d, %s) "
                       "while decoding '%s' (found by a probe in a child process; nothing was "
                       "read)",
                       path, sig, strsignal(sig), last);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return tc_fail(err, TERRACL_ERR_FORMAT,
                       "'%s' is a malformed HDF5 file: decoding it failed in a child process "
                       "(exit status %d) at '%s'",
                       path, WIFEXITED(status) ? WEXITSTATUS(status) : -1, last);
    return TERRACL_OK;
}
