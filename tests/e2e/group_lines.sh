#!/bin/bash
# group_lines.sh WEDGE TARGETS SHIM
# A campaign whose 100 runs all fail alike prints one line for the group as it is found, not a
# line per reproduction (the summary at the end lists the group once more).
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
# --pass-exit 1: trivial_ok's exit 0 counts as a failure, the same in every run
run 200 "$WEDGE" run -n 100 --mode serial --pass-exit 1 --seed 1 -q --json run.json --out reports -- "$TARGETS/trivial_ok"
expect_rc "100 failing runs" 1
expect_json "100 reproductions in one group" run.json "len(j['reproductions']) == 100 and len(j['groups']) == 1"
N=$(grep -c '^group ' "$OUT")
TOK=$(grep -c 'w1\.serial\.' "$OUT")
# one group line; tokens appear on it and in the summary's first/replay lines only
if [ "$N" -eq 1 ] && [ "$TOK" -le 4 ]; then
    pass "one group line ($N), $TOK lines with a token"
else
    fail "$N group lines and $TOK lines with a token for 100 reproductions of one group"
    show_output
fi
e2e_finish
