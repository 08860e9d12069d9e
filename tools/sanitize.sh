#!/usr/bin/env bash
# Build the extension with AddressSanitizer + UndefinedBehaviorSanitizer and run the whole test
# suite against it.  Any ASan report or UBSan finding fails the run.
#
#   tools/sanitize.sh [python] [pytest args...]     (default: python3, the whole suite)
#
# Leak detection is off here (CPython does not free everything at exit); leaks are covered by
# the reference-count and memory tests and by tools/valgrind.sh.
set -euo pipefail
source "$(dirname "$0")/scratch_tree.sh" "${1:-python3}"
shift || true
flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
CFLAGS="$flags" LDFLAGS="-fsanitize=address,undefined" "$vpy" setup.py -q build_ext --inplace \
    >build.log 2>&1 || { cat build.log; exit 1; }
preload="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
echo "sanitizers: $("$vpy" -c 'import sys; print(sys.version.split()[0])'), $flags"
LD_PRELOAD="$preload" \
    PYTHONMALLOC=malloc ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_init_order=1" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$vpy" -m pytest -q -p no:cacheprovider "${@:-tests}"
