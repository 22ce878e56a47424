/*
 * Untrusted HDF5 files.
 *
 * terracl validates what it reads from HDF5 through the library's API:
 * types, shapes, layouts (only contiguous, compact and chunked data stored
 * in the file itself; external storage, virtual datasets, soft and external
 * links are refused), chunk dimensions and filters, and sizes before any
 * allocation. What it cannot validate is HDF5's own decoding of a file's
 * metadata: libhdf5 (1.10 on Debian 12) can crash (SIGSEGV, SIGFPE) or hang
 * on some malformed object headers, B-trees or heaps, inside calls such as
 * H5Fopen or H5Dopen2, before any check of ours can run. No API-level
 * validation can prevent that in the same process.
 *
 * terracl_h5_probe contains it: it opens the file in a child process
 * (fork), visits every object reachable through hard links from the root,
 * opens each, reads each dataset's type, shape and storage properties (and
 * with TERRACL_H5_PROBE_DATA also its data) and the root "config"
 * attribute, and reports whether the child survived. A file that passes
 * was decoded without a crash in exactly the calls a run makes, so opening
 * it in the process afterwards is as safe as the probe was. The probe does
 * not make a malformed file readable, and it is only as good as the calls
 * it repeats: data read without TERRACL_H5_PROBE_DATA, or a different
 * libhdf5, may still meet a crash. `terracl run` probes its checkpoint and
 * input before opening them.
 *
 * Because it forks, call it before starting threads that use HDF5 (a child
 * of a multi-threaded process inherits locks held by other threads; the
 * child is stopped after `timeout_s` seconds in any case). Files that are
 * not HDF5 (safetensors checkpoints) pass without a child.
 */
#ifndef TERRACL_PROBE_H
#define TERRACL_PROBE_H

#include "terracl/export.h"
#include "terracl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    TERRACL_H5_PROBE_DATA = 1 /* also read every float dataset's data (bounded by host memory) */
};

/* TERRACL_OK when the child decoded the whole file without crashing or
 * timing out (problems it reported as errors are left for the real open to
 * report); TERRACL_ERR_FORMAT naming the file, the object being decoded and
 * the signal when HDF5 crashed or hung; TERRACL_ERR_IO / TERRACL_ERR_INTERNAL
 * when the probe itself could not run (fork, pipe). timeout_s <= 0 means 60. */
TERRACL_API terracl_status terracl_h5_probe(const char *path, int flags, int timeout_s,
                                            terracl_error *err);

#ifdef __cplusplus
}
#endif
#endif /* TERRACL_PROBE_H */
