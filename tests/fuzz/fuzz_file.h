/* Fuzz targets whose readers take a path: the input bytes go to a scratch
 * file of this process first. */
#ifndef TC_FUZZ_FILE_H
#define TC_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Writes data to a scratch file and returns its path (static). The path
 * reaches messages and comparisons the fuzzer traces, so reproducible runs
 * (TERRACL_FUZZ_SCRATCH set, a folder of their own) use a fixed name;
 * otherwise the process id keeps parallel runs apart. */
static const char *fuzz_write_file(const uint8_t *data, size_t size, const char *suffix)
{
    static char path[512];
    const char *fixed = getenv("TERRACL_FUZZ_SCRATCH");
    const char *dir = getenv("TMPDIR");
    if (fixed != NULL && *fixed != '\0')
        snprintf(path, sizeof path, "%s/input%s", fixed, suffix);
    else
        snprintf(path, sizeof path, "%s/terracl-fuzz-%ld%s", dir && *dir ? dir : "/tmp",
                 (long)getpid(), suffix);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        abort();
    if (size > 0 && fwrite(data, 1, size, f) != size)
        abort();
    if (fclose(f) != 0)
        abort();
    return path;
}

#endif /* TC_FUZZ_FILE_H */
