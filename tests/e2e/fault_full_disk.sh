#!/bin/bash
# fault_full_disk.sh WEDGE TARGETS SHIM
# --out, --json and --junit on a full filesystem (issue 7, item 5): a report that cannot be
# written is said on stderr with its file and error, leaves no partial file, the JSON says
# which reports exist, and a campaign that kept no result never exits 0 or 1 (exit 2).
# Mounts a 64 KiB tmpfs of its own (skipped where mounting is not permitted).
source "$(dirname "$0")/lib.sh"
# Not root: a user and mount namespace of our own may mount a tmpfs all the same.
if [ "$(id -u)" -ne 0 ] && [ -z "${E2E_IN_USERNS:-}" ] && unshare -rm true 2>/dev/null; then
    E2E_IN_USERNS=1 exec unshare -rm -- bash "$0" "$@"
fi
e2e_init "$@"

MNT=$E2E_TMP/mnt
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=64k wedge-e2e-full "$MNT" 2>/dev/null; then
    skip_test "cannot mount a tmpfs here (needs root, CAP_SYS_ADMIN or user namespaces)"
fi
cleanup_mount() {
    cd / && umount "$MNT" 2>/dev/null
    e2e_cleanup
}
trap cleanup_mount EXIT
fill() { dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null; rm -f "$MNT/fill.$1"; }

# 1. A full disk at the start: found by the --out check, before any run.
dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null
run 60 "$WEDGE" run -n 4 -q --out "$MNT/out" -- /bin/sh -c 'exit 3'
expect_rc "full disk at start" 2
expect_output "full disk at start: says so" "cannot write to --out .*/out: No space left on device"
rm -f "$MNT/fill"

# 2. The disk fills during the campaign: run 0's report is kept, the runs after it fill the
# disk, so their reports cannot be written.  -j 1: the order is fixed.
SCRIPT='if [ -e "$1/started" ]; then dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null; else : > "$1/started"; fi; echo failing; exit 3'
run 120 "$WEDGE" run -n 4 -j 1 -q --out "$MNT/out" --json part.json -- /bin/sh -c "$SCRIPT" sh "$MNT"
expect_rc "disk fills mid-campaign: some reports kept" 1
expect_output "names the file and the error" "cannot write report $MNT/out/w1\.[^ ]*\.txt: No space left on device"
expect_output "counts the lost reports" "3 of 4 reproduction reports could not be written"
expect_json "JSON: one kept" part.json "j['reports_kept'] == 1 and j['reports_lost'] == 3"
expect_json "JSON: which exist" part.json "[r['report'] is not None for r in sorted(j['reproductions'], key=lambda r: r['run'])] == [True, False, False, False]"
expect_json "JSON: why not" part.json "all(r['report_error'] == 'No space left on device' for r in j['reproductions'] if r['report'] is None)"
kept=$(json part.json "[r['report'] for r in j['reproductions'] if r['report']][0]")
if [ -f "$kept" ] && grep -q '^replay: ' "$kept" && grep -q '^output' "$kept"; then
    pass "the kept report is whole"
else
    fail "the kept report $kept is missing or cut"
fi
n=$(ls -A "$MNT/out" | wc -l)
if [ "$n" -eq 1 ]; then pass "no partial report left"; else fail "$n files in --out (want 1)"; ls -la "$MNT/out"; fi
rm -rf "$MNT/out" "$MNT/started" "$MNT/fill"

# 3. No report at all can be kept: exit 2 and no "reports in" claim.  One page free, reports
# of about 5 KiB (30 long output lines).
mkdir -p "$MNT/out"
dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null
rm -f "$MNT/fill"
dd if=/dev/zero of="$MNT/fill" bs=4k count=$(( $(df --output=avail -k "$MNT" | tail -1) / 4 - 1 )) 2>/dev/null
LONG='for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30; do echo "line $i of a long output that makes the report bigger than one page of the disk"; done; exit 3'
run 120 "$WEDGE" run -n 3 -j 1 --out "$MNT/out" --json none.json -- /bin/sh -c "$LONG"
expect_rc "no report kept" 2
expect_output "no report kept: says so" "3 of 3 reproduction reports could not be written"
if grep -q "reports in" "$OUT"; then fail "summary claims reports in DIR"; show_output; else pass "summary makes no claim of reports"; fi
expect_json "JSON: none kept" none.json "j['reports_kept'] == 0 and all(r['report'] is None for r in j['reproductions'])"
n=$(ls -A "$MNT/out" | wc -l)
if [ "$n" -eq 0 ]; then pass "no empty or cut report left"; else fail "$n files left in --out"; fi
rm -f "$MNT/fill"

# 4. --json and --junit that cannot be written (no mount needed: /dev/full), and stdout.
run 60 "$WEDGE" run -n 3 -q --json /dev/full --out reports -- "$TARGETS/trivial_ok"
expect_rc "--json /dev/full on a passing campaign" 2
expect_output "--json /dev/full: says so" "cannot write /dev/full: No space left on device"
run 60 "$WEDGE" run -n 3 -q --junit /dev/full --out reports -- /bin/sh -c 'exit 3'
expect_rc "--junit /dev/full on a failing campaign" 2
expect_output "--junit /dev/full: says so" "cannot write /dev/full: No space left on device"
"$WEDGE" run -n 3 -q --out reports -- "$TARGETS/trivial_ok" >/dev/full 2>"$E2E_TMP/stdout.err"
RC=$?; OUT=/dev/null; ERR=$E2E_TMP/stdout.err
expect_rc "stdout on a full disk" 2
expect_output "stdout on a full disk: says so" "cannot write standard output: No space left on device"
e2e_finish
