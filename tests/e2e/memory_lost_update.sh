#!/bin/bash
# memory_lost_update.sh WEDGE TARGETS SHIM RUNS
# --detect lost-update: the stale-write oracle fires on router_history (outcome kind
# lost_update) and never on its fixed twin.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
RUNS=${1:-500}

run 300 "$WEDGE" run --mode serial --detect lost-update -n "$RUNS" --stop-after 3 -q --json bug.json --out rbug -- "$TARGETS/router_history"
expect_rc "router_history --detect lost-update" 1
expect_json "lost_update outcome" bug.json "any(r['outcome']['kind'] == 'lost_update' for r in j['reproductions'])"
expect_output "report names the lost update" 'lost.update'

run 300 "$WEDGE" run --mode serial --detect lost-update -n "$RUNS" -q --json fixed.json --out rfixed -- "$TARGETS/router_history_fixed"
expect_rc "router_history_fixed --detect lost-update" 0
expect_json "fixed: no reproduction" fixed.json "j['reproductions'] == []"
expect_json "fixed: all runs" fixed.json "j['runs'] == $RUNS"
e2e_finish
