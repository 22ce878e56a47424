#!/usr/bin/env bash
# The README's second command: set up, build, and run the whole test suite
# (ctest), then build the example program against the installed package.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
JOBS="$(nproc 2>/dev/null || echo 2)"
ctest --test-dir build --output-on-failure -j "$JOBS"

# The installed package must be usable from outside: install into a scratch
# prefix and build examples/ against it with find_package and pkg-config.
prefix="$(pwd)/build/install-check"
rm -rf "$prefix"
cmake --install build --prefix "$prefix" >/dev/null
tools/check_install.sh "$prefix"
