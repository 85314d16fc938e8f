#!/bin/bash
# hostile_daemon.sh WEDGE TARGETS SHIM
# A target that leaves a setsid()'d grandchild sleeping 60 s behind: the runs pass, and after
# the campaign no daemon of it is left running.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
PROG=$(unique_copy forks_daemon) || { fail "copy target"; e2e_finish; }

run 120 "$WEDGE" run -n 10 -q --json run.json --out reports -- "$PROG"
expect_rc "daemon campaign" 0
expect_json "daemon runs pass" run.json "j['runs'] == 10 and j['reproductions'] == []"
no_process_left "after the daemon campaign" "$PROG"
e2e_finish
