#!/bin/bash
# ci_examples.sh WEDGE TARGETS SHIM EXAMPLES_DIR
# The shipped CI examples (examples/ci/): the GitHub Actions workflow and the Kubernetes
# Indexed Job are valid YAML of the right shape, and their commands, run here (each shard a
# separate process, artifacts copied as the engines would, then merge), gate as promised:
# exit 0 for the fixed program, 1 for the racy one, and the merged report equals the
# unsharded campaign (proven in ci_gating.sh).
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
EX=$1
PY=/usr/bin/python3
LOCAL=$(dirname "$0")/ci_local.py
$PY -c 'import yaml' 2>/dev/null || skip_test "python3-yaml missing (scripts/setup installs it)"
# `wedge` on PATH for the manifests (the image has it installed)
mkdir -p bin && ln -sf "$WEDGE" bin/wedge
export PATH=$E2E_TMP/bin:$PATH

run 300 $PY "$LOCAL" github "$EX/github-actions.yml" gh-fixed WEDGE="$WEDGE" PROGRAM="$TARGETS/job_claim_fixed" RUNS=120
expect_rc "GitHub workflow, fixed program: the merge job passes" 0
expect_output "GitHub workflow: 4 shards ran" '^job shard \(matrix.shard=4\):'
expect_json "GitHub workflow: merged report of 4 shards" gh-fixed/merge/wedge.json "j['merged_from'] == 4 and j['runs'] == 120 and j['reproductions'] == []"
run 300 $PY "$LOCAL" github "$EX/github-actions.yml" gh-racy WEDGE="$WEDGE" PROGRAM="$TARGETS/job_claim" RUNS=120
expect_rc "GitHub workflow, racy program: the merge job fails the gate" 1
expect_json "GitHub workflow, racy: reproductions merged" gh-racy/merge/wedge.json "len(j['reproductions']) >= 1 and j['merged_from'] == 4"
if [ -f gh-racy/merge/wedge.xml ] && command -v xmllint >/dev/null; then
    run 30 xmllint --noout --schema "$(dirname "$0")/../junit/junit-10.xsd" gh-racy/merge/wedge.xml
    expect_rc "GitHub workflow: the merged JUnit validates" 0
fi

mkdir -p results
run 300 $PY "$LOCAL" k8s "$EX/k8s-indexed-job.yaml" k8s PROGRAM="$TARGETS/trivial_ok" RUNS=160 RESULTS="$E2E_TMP/results"
expect_rc "Kubernetes Indexed Job: merge passes" 0
expect_json "Kubernetes: 8 pods, 8 shards merged" results/wedge.json "j['merged_from'] == 8 and j['runs'] == 160"
expect_json "Kubernetes: the merged campaign" results/wedge.json "j['passed'] == 160 and j['campaign_runs'] == 160 and j['seed'] == '0000000000005eed'"

# malformed examples are caught: a matrix that does not match SHARDS
sed 's/shard: \[1, 2, 3, 4\]/shard: [1, 2, 3]/' "$EX/github-actions.yml" >bad.yml
run 60 $PY "$LOCAL" github bad.yml gh-bad WEDGE="$WEDGE"
expect_rc "a matrix of 3 for SHARDS=4 is refused" 10
e2e_finish
