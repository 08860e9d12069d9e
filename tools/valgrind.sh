#!/usr/bin/env bash
# Run the whole test suite under valgrind memcheck against a -O0 -g build of the extension.
# Fails on any memcheck error (invalid read/write, use of uninitialised memory, bad free) and on
# any leak whose allocation stack passes through lineprof's extension.
#
#   tools/valgrind.sh [python] [pytest args...]     (default: python3)
set -euo pipefail
source "$(dirname "$0")/scratch_tree.sh" "${1:-python3}"
shift || true
CFLAGS="-O0 -g" "$vpy" setup.py -q build_ext --inplace >build.log 2>&1 || { cat build.log; exit 1; }
echo "valgrind: $("$vpy" -c 'import sys; print(sys.version.split()[0])')"
status=0
# --fair-sched=yes: valgrind runs one thread at a time, and without a fair hand-over a thread
# waiting for the GIL can starve for minutes (the test that enables and disables from another
# thread took 43 s, and in one CI run most of an hour; 0.9 s with it).
LINEPROF_UNDER_VALGRIND=1 PYTHONMALLOC=malloc valgrind --tool=memcheck --fair-sched=yes \
    --error-exitcode=99 --leak-check=full \
    --show-leak-kinds=definite,possible --errors-for-leak-kinds=none --num-callers=40 \
    --log-file=valgrind.log "$vpy" -m pytest -q -p no:cacheprovider "${@:-tests}" || status=$?
grep -E "ERROR SUMMARY|definitely lost|possibly lost" valgrind.log | tail -3
if [ "$status" = 99 ]; then
    echo "memcheck errors:"; grep -B2 -A30 "^==[0-9]*== [A-Z][a-z]" valgrind.log | head -150
    exit 1
fi
# Loss records (blank-line separated) whose stack mentions our extension.
ours=$(awk -v RS= '/are (definitely|possibly) lost/ && /_lineprof/' valgrind.log)
if [ -n "$ours" ]; then
    echo "leaks from lineprof's extension:"; echo "$ours" | head -150
    exit 1
fi
exit "$status"
