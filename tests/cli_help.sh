#!/usr/bin/env bash
# Every sub-command that `terracl --help` lists answers -h and --help with its
# usage on stdout and exit status 0, names itself, and mentions every option
# its source file parses (string literals starting with "--"). A command
# added later is covered without touching this test.
#   cli_help.sh TERRACL_BINARY CLI_SOURCE_DIR
set -u
bin="$1"
src="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

"$bin" --help >"$work/top.txt" 2>"$work/top.err" || fail "terracl --help: exit $?"
# The lines after "commands:" up to the first blank line: "  NAME  summary".
commands=$(awk '/^commands:/ {on = 1; next} on && /^$/ {exit} on {print $1}' "$work/top.txt")
count=$(printf '%s\n' "$commands" | grep -c .)
if [ "$count" -lt 7 ]; then
  fail "terracl --help lists $count commands, expected at least 7:"; cat "$work/top.txt"
fi

for cmd in $commands; do
  for flag in --help -h; do
    "$bin" "$cmd" "$flag" >"$work/out.txt" 2>"$work/err.txt"
    rc=$?
    if [ "$rc" -ne 0 ]; then
      fail "terracl $cmd $flag: exit $rc, stderr:"; cat "$work/err.txt"; continue
    fi
    if [ ! -s "$work/out.txt" ]; then fail "terracl $cmd $flag: nothing on stdout"; continue; fi
    if ! grep -q "terracl $cmd" "$work/out.txt"; then
      fail "terracl $cmd $flag: the text does not name the command:"; cat "$work/out.txt"; continue
    fi
    passed=$((passed + 1))
  done
  # --help wins over other arguments, valid or not.
  if "$bin" "$cmd" --no-such-option --help >"$work/out.txt" 2>/dev/null && grep -q "terracl $cmd" "$work/out.txt"; then
    passed=$((passed + 1))
  else
    fail "terracl $cmd --no-such-option --help did not print the usage"
  fi
  # Every option the command's source parses is documented.
  "$bin" "$cmd" --help >"$work/out.txt" 2>/dev/null
  file="$src/cmd_$cmd.c"
  if [ -f "$file" ]; then
    for opt in $(grep -o '"--[a-z][a-z0-9-]*' "$file" | tr -d '"' | sort -u); do
      if grep -q -- "$opt" "$work/out.txt"; then passed=$((passed + 1)); else fail "terracl $cmd --help does not mention $opt"; fi
    done
  fi
done

# A usage error still goes to stderr with status 2.
"$bin" run --no-such-option >"$work/out.txt" 2>"$work/err.txt"
rc=$?
if [ "$rc" -eq 2 ] && [ ! -s "$work/out.txt" ] && grep -q usage "$work/err.txt"; then
  passed=$((passed + 1))
else
  fail "terracl run --no-such-option: exit $rc, expected 2 and the usage on stderr"
fi

echo "cli help: $passed passed, $failed failed ($count commands)"
[ "$failed" -eq 0 ]
