#!/bin/sh
# Run every unit test binary and every script test (tests/t_*.sh), add up
# their "N passed, N failed" lines and print the total as the last line.
# Usage: tests/run.sh BUILDDIR CC SANITIZE ZLIB test-binaries...
B=$1; CC=$2; SAN=$3; ZLIB=$4; shift 4
total_p=0; total_f=0; broken=""
run_one() { # name, command...
    name=$1; shift
    out=$("$@" 2>&1); rc=$?
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -z "$line" ]; then
        printf '%s\n' "$out"
        echo "== $name: no result line (exit $rc)"
        total_f=$((total_f + 1)); broken="$broken $name"; return
    fi
    p=$(echo "$line" | sed 's/ passed.*//'); f=$(echo "$line" | sed 's/.*passed, \([0-9]*\) failed.*/\1/')
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    if [ "$f" -ne 0 ]; then printf '%s\n' "$out"; broken="$broken $name"; fi
    echo "== $name: $line"
    total_p=$((total_p + p)); total_f=$((total_f + f))
}
for t in "$@"; do
    run_one "$(basename "$t")" "$t"
done
for s in tests/t_*.sh; do
    [ -f "$s" ] || continue
    # the public surface (exports, install, pkg-config consumers) is that of
    # the plain build; a sanitized library cannot be linked by a plain consumer
    if [ "$SAN" = "1" ] && [ "$(basename "$s")" = "t_surface.sh" ]; then
        echo "== t_surface.sh: skipped under SANITIZE=1 (run by the plain 'make check')"; continue
    fi
    run_one "$(basename "$s")" env B="$B" CC="$CC" SANITIZE="$SAN" ZLIB="$ZLIB" sh "$s"
done
for s in tests/t_*.py; do
    [ -f "$s" ] || continue
    run_one "$(basename "$s")" env B="$B" /usr/bin/python3 "$s"
done
[ -n "$broken" ] && echo "failing:$broken"
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
