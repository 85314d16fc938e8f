#!/bin/bash
# hostile_exec.sh WEDGE TARGETS SHIM
# A target that forks+execs /bin/true and then re-execs itself: the runs pass.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
run 120 "$WEDGE" run -n 20 -q --json run.json --out reports -- "$TARGETS/execs_child"
expect_rc "exec campaign" 0
expect_json "exec runs pass" run.json "j['runs'] == 20 and j['reproductions'] == []"
e2e_finish
