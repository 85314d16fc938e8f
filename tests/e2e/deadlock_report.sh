#!/bin/bash
# deadlock_report.sh WEDGE TARGETS SHIM [RUN OPTIONS...]
# lock_order's two threads take lock_a and lock_b in opposite orders: the report's conclusion
# is the cycle, with both locks, both threads and the four acquisition lines (found in the
# source by their WEDGE-LINE markers).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
SRC=$HERE/../targets/lock_order.c
line() { grep -n "WEDGE-LINE: $1 " "$SRC" | cut -d: -f1; }
A1=$(line a_first); A2=$(line a_second); B1=$(line b_first); B2=$(line b_second)

run 200 "$WEDGE" run -n 500 --stop-after 1 --seed 5 --timeout 3s -q --json run.json --out reports "$@" -- "$TARGETS/lock_order"
expect_rc "lock_order campaign" 1
expect_json "deadlock conclusion" run.json "j['reproductions'][0]['conclusion']['kind'] == 'deadlock'"
expect_json "both locks named" run.json \
    "sorted(c['lock']['name'] for c in j['reproductions'][0]['conclusion']['cycle']) == ['lock_a', 'lock_b']"
expect_json "two threads, each holding one and waiting for the other" run.json \
    "len(set(c['holder'] for c in j['reproductions'][0]['conclusion']['cycle'])) == 2 and all(c['holder'] != c['waiter'] for c in j['reproductions'][0]['conclusion']['cycle'])"
# lock_a is held from a_first and waited for at b_second; lock_b held from b_first, waited at a_second
expect_json "acquisition and wait lines" run.json \
    "sorted((c['lock']['name'], c['acquired']['site'].split(':')[1].split(')')[0], c['wait_site'].split(':')[1].split(')')[0]) for c in j['reproductions'][0]['conclusion']['cycle']) == [('lock_a', '$A1', '$B2'), ('lock_b', '$B1', '$A2')]"
if grep -E '^group 1: .*deadlock: .*`lock_[ab]`.*`lock_[ab]`' "$OUT" >/dev/null; then
    pass "terminal group line names the cycle"
else
    fail "no group line naming both locks"
    show_output
fi
e2e_finish
