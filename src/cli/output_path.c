/* --output checks (see output_path.h). */
#include "cli/output_path.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int folder_exists(const char *output)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", output);
    const char *dir = dirname(tmp);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "terracl: cannot write '%s': output folder '%s' does not exist\n", output,
                dir);
        return 0;
    }
    return 1;
}

int tc_cli_output_ok(const char *output, const char *const *inputs, size_t n_inputs)
{
    if (!folder_exists(output))
        return 0;
    struct stat out;
    /* stat follows symbolic links: a link to an input is that input. */
    if (stat(output, &out) != 0) {
        if (errno == ENOENT)
            return 1; /* a new file (or a dangling link, which the rename replaces) */
        fprintf(stderr, "terracl: cannot write '%s': %s\n", output, strerror(errno));
        return 0;
    }
    for (size_t i = 0; i < n_inputs; i++) {
        struct stat in;
        if (inputs[i] != NULL && stat(inputs[i], &in) == 0 && in.st_dev == out.st_dev &&
            in.st_ino == out.st_ino) {
            fprintf(stderr, "terracl: refusing to write '%s': it is the run's input '%s'\n", output,
                    inputs[i]);
            return 0;
        }
    }
    if (!S_ISREG(out.st_mode)) {
        fprintf(stderr,
                "terracl: refusing to write '%s': it exists and is not a regular file (a folder, "
                "FIFO or device would be replaced by a file)\n",
                output);
        return 0;
    }
    if ((out.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) == 0) {
        fprintf(stderr, "terracl: refusing to replace '%s': the file is read-only\n", output);
        return 0;
    }
    return 1;
}
