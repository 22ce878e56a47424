#!/usr/bin/env bash
# The README's second command: set up, build, and run the whole test suite
# (ctest), then the same C tests again in an AddressSanitizer +
# UndefinedBehaviorSanitizer build, then build the example programs against
# the installed package.
#   TERRACL_SKIP_SANITIZE=1 tools/test.sh    skips the sanitizer pass
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
JOBS="$(nproc 2>/dev/null || echo 2)"
ctest --test-dir build --output-on-failure -j "$JOBS"

if [ "${TERRACL_SKIP_SANITIZE:-0}" != "1" ]; then
  echo "== sanitizer build (ASan + UBSan)"
  cmake -S . -B build-asan -DTERRACL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DTERRACL_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan -j "$JOBS" >/dev/null
  # The Python tools, the fuzzers (a clang build of their own) and the
  # rusticl subset (a second driver, not a second check of our memory use)
  # gain nothing from a second pass. LeakSanitizer's exit-time scan occasionally crashes
  # while the OpenCL driver's worker threads shut down ("Tracer caught
  # signal 11", after every check has passed; seen when the first test of
  # the pass builds its kernels into a cold program cache); a test is retried
  # up to twice for that, and a real failure fails every time.
  # Mesa's OpenCL drivers (installed for the rusticl tests) are loaded into
  # every process by the ICD loader and leak from libraries they unload at
  # exit, which LeakSanitizer cannot attribute to a module; this pass checks
  # terracl's own memory use, on PoCL alone when it is installed.
  asan_env=()
  if [ -f /etc/OpenCL/vendors/pocl.icd ]; then
    asan_env=(env OCL_ICD_VENDORS=/etc/OpenCL/vendors/pocl.icd)
  fi
  "${asan_env[@]}" ctest --test-dir build-asan --output-on-failure -j "$JOBS" \
    -LE "python|fuzz|rusticl" --repeat until-pass:3
fi

# A build without GDAL (for small devices): the library and the tool alone,
# checked to run models and to refuse GeoTIFF scenes by name.
echo "== build without GDAL (TERRACL_WITH_GDAL=OFF)"
cmake -S . -B build-nogdal -DTERRACL_WITH_GDAL=OFF -DTERRACL_WITH_MPI=OFF \
  -DTERRACL_BUILD_TESTS=OFF -DTERRACL_BUILD_BENCH=OFF >/dev/null
cmake --build build-nogdal -j "$JOBS" --target terracl_cli >/dev/null
# The Python the suite chose (tests/CMakeLists.txt), which has h5py.
tests/no_gdal_build.sh build-nogdal/terracl \
  "$(sed -n 's/^TERRACL_PYTHON:FILEPATH=//p' build/CMakeCache.txt)"

# The installed package must be usable from outside: install into a scratch
# prefix and build examples/ against it with find_package and pkg-config.
prefix="$(pwd)/build/install-check"
rm -rf "$prefix"
cmake --install build --prefix "$prefix" >/dev/null
tools/check_install.sh "$prefix"
