#!/bin/bash
# demo_clean_clone.sh WEDGE TARGETS SHIM SOURCE_DIR
# The README's first command as a newcomer meets it: a fresh clone of this checkout's HEAD in
# a temporary folder, then scripts/demo there (which runs scripts/setup, builds what it needs
# and hunts the router_history race).  Asserts its exit status and its reproduction line.
# Fewer runs than the demo's default (WEDGE_DEMO_RUNS): the demo's own build is the cost.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
SRC=$1
unset WEDGE_PRELOAD     # the clone's demo must use the clone's shim, not this build's

command -v git >/dev/null || skip_test "git not installed"
git -C "$SRC" rev-parse --verify HEAD >/dev/null 2>&1 || skip_test "$SRC is not a git checkout"

run 60 git clone -q "$SRC" clone
expect_rc "git clone of HEAD" 0
# router_history reproduces in about 10-17% of noise runs (README): 150 runs miss it with
# probability below 1e-6; the campaign stops after 3 reproductions anyway.
run 400 env WEDGE_DEMO_RUNS=150 WEDGE_DEMO_PLAIN_RUNS=20 TMPDIR="$E2E_TMP" bash clone/scripts/demo
expect_rc "scripts/demo from a clean clone" 0
expect_output "set-up ran first" '^setup: '
expect_output "the campaign's reproduction line" '^run: [0-9]+ of [0-9]+ runs in .*: [0-9]+ passed, [1-9][0-9]* reproductions? in [1-9][0-9]* groups?$'
expect_output "the replay" '^reproduced [0-9]+ of 20$'
if [ -x clone/build/cli/wedge ] && [ -f clone/build/preload/libwedge.so ]; then
    pass "the demo built the clone's wedge and shim"
else
    fail "no wedge built in the clone"
fi
e2e_finish
