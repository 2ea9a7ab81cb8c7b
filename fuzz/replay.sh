#!/bin/sh
# Replay every fuzz corpus through its harness (built with fuzz/standalone.c
# under ASan+UBSan). Usage: fuzz/replay.sh BUILDDIR name...
# Ends with the total "N passed, N failed" line.
B=$1; shift
tp=0; tf=0
for n in "$@"; do
    dir=fuzz/corpus/$n
    if [ ! -d "$dir" ] || [ -z "$(ls -A "$dir" 2>/dev/null)" ]; then
        echo "== fuzz_$n: no corpus in $dir"; tf=$((tf + 1)); continue
    fi
    out=$("$B/fuzz_$n" "$dir" 2>&1); rc=$?
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed' | tail -n 1)
    if [ $rc -ne 0 ] || [ -z "$line" ]; then
        printf '%s\n' "$out" | tail -n 40
        echo "== fuzz_$n: FAILED (exit $rc)"; tf=$((tf + 1)); continue
    fi
    echo "== fuzz_$n: $line"
    tp=$((tp + $(echo "$line" | sed 's/ passed.*//')))
done
echo "$tp passed, $tf failed"
[ $tf -eq 0 ]
