#!/bin/bash
# cmake_package.sh WEDGE TARGETS SHIM BUILD_DIR SAMPLE_DIR
# `cmake --install` of this build into a temporary prefix installs the program, the shim, the
# man page and the CMake package; the sample project (tests/cmake_package) finds it with
# find_package(wedge) and registers a campaign with wedge_add_test; its ctest fails while its
# program is racy and passes once fixed.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
BUILD=$1
SAMPLE=$2
unset WEDGE_PRELOAD     # the installed wedge must find the installed shim by itself
PREFIX=$E2E_TMP/prefix

run 120 cmake --install "$BUILD" --prefix "$PREFIX"
expect_rc "cmake --install" 0
for f in bin/wedge lib/libwedge.so share/man/man1/wedge.1 lib/cmake/wedge/wedgeConfig.cmake \
         lib/cmake/wedge/wedgeConfigVersion.cmake; do
    if [ -e "$PREFIX/$f" ]; then pass "installed $f"; else fail "not installed: $f"; fi
done
if grep -q '^\.TH WEDGE 1' "$PREFIX/share/man/man1/wedge.1" && grep -q -- '--max-rate' "$PREFIX/share/man/man1/wedge.1" &&
   grep -q 'WEDGE MERGE' "$PREFIX/share/man/man1/wedge.1"; then
    pass "the man page carries the help of every command"
else
    fail "man page content"
fi
run 60 "$PREFIX/bin/wedge" run -n 5 -q -- "$TARGETS/trivial_ok"
expect_rc "the installed wedge finds the installed shim" 0

# sample VARIANT FIXED: configure, build and ctest the sample project
sample() {
    local dir=$E2E_TMP/sample-$1
    run 120 cmake -S "$SAMPLE" -B "$dir" -DCMAKE_PREFIX_PATH="$PREFIX" -DSAMPLE_FIXED="$2"
    expect_rc "$1: configure (find_package(wedge))" 0
    run 120 cmake --build "$dir"
    expect_rc "$1: build" 0
    run 300 ctest --test-dir "$dir" --output-on-failure
}
sample racy OFF
expect_rc "racy: its ctest fails" 8
expect_output "racy: the campaign's reproduction in the test output" 'withdraw: 2 withdrawals of one balance'
expect_json "racy: wedge_add_test's JSON report" "$E2E_TMP/sample-racy/wedge/withdraw_race.json" "j['runs'] == 300 and len(j['reproductions']) >= 1 and j['seed'] == '0000000000005eed'"
sample fixed ON
expect_rc "fixed: its ctest passes" 0
expect_json "fixed: all 300 runs passed" "$E2E_TMP/sample-fixed/wedge/withdraw_race.json" "j['runs'] == 300 and j['reproductions'] == []"

# the version file refuses a wedge too old for the project
mkdir -p "$E2E_TMP/newer"
printf 'cmake_minimum_required(VERSION 3.20)\nproject(p NONE)\nfind_package(wedge 9.0 REQUIRED)\n' >"$E2E_TMP/newer/CMakeLists.txt"
run 60 cmake -S "$E2E_TMP/newer" -B "$E2E_TMP/newer/b" -DCMAKE_PREFIX_PATH="$PREFIX"
if [ "$RC" -ne 0 ] && grep -q 'version' "$ERR" "$OUT"; then pass "find_package(wedge 9.0) refused"; else fail "find_package(wedge 9.0): exit $RC"; fi
e2e_finish
