/* Checks on an --output path before a run does any work. */
#ifndef TC_CLI_OUTPUT_PATH_H
#define TC_CLI_OUTPUT_PATH_H

#include <stddef.h>

/*
 * Returns 1 when `output` may be written, else prints one line on stderr
 * and returns 0. Refused: a folder that does not exist; an output that is
 * the same file as one of the run's `inputs` (NULL entries are skipped;
 * compared by device and inode, so a symbolic or hard link to an input is
 * caught); an existing output that is not a regular file (a FIFO, a device,
 * a folder), because the temporary-file-and-rename write would replace it
 * with a regular file; and an existing output without any write permission
 * bit, also for root, who could otherwise replace a file its owner marked
 * read-only.
 */
int tc_cli_output_ok(const char *output, const char *const *inputs, size_t n_inputs);

#endif /* TC_CLI_OUTPUT_PATH_H */
