#!/usr/bin/env bash
# Builds and runs every program under examples/ against an installed terracl
# at PREFIX, once through CMake's find_package and once through pkg-config.
#   tools/check_install.sh PREFIX
set -euo pipefail
prefix="$(cd "$1" && pwd)"
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export LD_LIBRARY_PATH="$prefix/lib:${LD_LIBRARY_PATH:-}"
for dir in examples/*/; do
  name="$(basename "$dir")"
  cmake -S "$dir" -B "$work/$name" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
  cmake --build "$work/$name" >/dev/null
  exe="$(find "$work/$name" -maxdepth 1 -type f -executable | head -n 1)"
  echo "example $name (find_package):"
  "$exe" "$dir"
  echo "example $name (pkg-config):"
  cc -std=c11 -o "$work/$name-pc" "$dir"/*.c \
    $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs terracl) -lm
  "$work/$name-pc" "$dir"
done
echo "install check: all examples built and ran"
