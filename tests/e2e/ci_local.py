#!/usr/bin/python3
"""ci_local.py - run the shipped CI examples' commands on this machine (tests/e2e/ci_examples.sh).

  ci_local.py github WORKFLOW.yml WORKDIR [NAME=VALUE...]
  ci_local.py k8s    MANIFEST.yaml WORKDIR [NAME=VALUE...]

Validates the file's structure (what the engine needs: a shard matrix of SHARDS entries with an
upload per shard and a merge job that needs them; an Indexed Job whose completions and
parallelism equal SHARDS and whose pods read JOB_COMPLETION_INDEX), then runs its commands
locally: every shard as a separate process, artifacts copied the way upload/download-artifact
or the shared volume would, then the merge.  NAME=VALUE overrides the example's environment
(the program, the run count, where wedge is).  Steps with id "build" are skipped: the test
uses the tree's own build.  Exit status: the merge command's (0 clean, 1 reproduced, 2 bad);
10 when the file is malformed.
"""
import glob
import os
import re
import shutil
import subprocess
import sys

import yaml


def die(msg):
    print("ci_local: " + msg)
    sys.exit(10)


def need(cond, msg):
    if not cond:
        die(msg)


def subst(text, matrix):
    def one(m):
        expr = m.group(1).strip()
        if expr.startswith("matrix.") and expr[7:] in matrix:
            return str(matrix[expr[7:]])
        die("unsupported expression ${{ %s }}" % expr)
    return re.sub(r"\$\{\{(.*?)\}\}", one, text)


def run_steps(job, env, cwd, matrix, artifacts):
    """GitHub's step semantics: a failed step skips the rest except `if: always()`."""
    failed = 0
    last_rc = 0
    for step in job["steps"]:
        cond = str(step.get("if", ""))
        if failed and "always()" not in cond:
            continue
        name = step.get("name") or step.get("uses") or step.get("id")
        if "uses" in step:
            action = step["uses"].split("@")[0]
            w = step.get("with", {})
            if action == "actions/checkout":
                pass
            elif action == "actions/upload-artifact":
                dest = os.path.join(artifacts, subst(w["name"], matrix))
                os.makedirs(dest, exist_ok=True)
                for p in subst(w["path"], matrix).split():
                    src = os.path.join(cwd, p)
                    if os.path.isdir(src):
                        shutil.copytree(src, os.path.join(dest, p.rstrip("/")), dirs_exist_ok=True)
                    elif os.path.exists(src):
                        shutil.copy(src, dest)
            elif action == "actions/download-artifact":
                need(w.get("merge-multiple") is True, "download-artifact without merge-multiple")
                dest = os.path.join(cwd, w["path"])
                os.makedirs(dest, exist_ok=True)
                for a in sorted(glob.glob(os.path.join(artifacts, w["pattern"]))):
                    shutil.copytree(a, dest, dirs_exist_ok=True)
            else:
                die("unknown action " + action)
            print("  step %s: emulated" % name)
            continue
        if step.get("id") == "build":
            print("  step %s: skipped (the tree's own build is used)" % name)
            continue
        script = subst(step["run"], matrix)
        rc = subprocess.call(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                             cwd=cwd, env=env)
        print("  step %s: exit %d" % (name, rc))
        last_rc = rc
        if rc:
            failed = rc
    return failed, last_rc


def github(path, work, overrides):
    wf = yaml.safe_load(open(path))
    need(isinstance(wf, dict) and "jobs" in wf, "no jobs")
    need(True in wf or "on" in wf, "no trigger (on:)")
    env = dict(os.environ)
    env.update({k: str(v) for k, v in wf.get("env", {}).items()})
    env.update(overrides)
    shards = int(env["SHARDS"])
    shard, merge = wf["jobs"].get("shard"), wf["jobs"].get("merge")
    need(shard and merge, "jobs shard and merge expected")
    values = shard["strategy"]["matrix"]["shard"]
    need(values == list(range(1, shards + 1)),
         "the matrix %r is not 1..SHARDS (%d)" % (values, shards))
    need(any(s.get("uses", "").startswith("actions/upload-artifact") for s in shard["steps"]),
         "the shard job uploads nothing")
    need(merge.get("needs") in ("shard", ["shard"]), "the merge job does not need the shards")
    need(any("merge" in s.get("run", "") for s in merge["steps"]), "no wedge merge step")
    artifacts = os.path.join(work, "artifacts")
    procs = []
    for k in values:
        cwd = os.path.join(work, "shard-%d" % k)
        os.makedirs(cwd, exist_ok=True)
        jenv = dict(env)
        jenv.update({n: subst(str(v), {"shard": k}) for n, v in shard.get("env", {}).items()})
        for n, v in overrides.items():
            if n in jenv and n not in shard.get("env", {}):
                jenv[n] = v
        print("job shard (matrix.shard=%d):" % k)
        failed, _ = run_steps(shard, jenv, cwd, {"shard": k}, artifacts)
        procs.append(failed)
    cwd = os.path.join(work, "merge")
    os.makedirs(cwd, exist_ok=True)
    print("job merge:")
    failed, rc = run_steps(merge, env, cwd, {}, artifacts)
    return rc


def k8s(path, work, overrides):
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    jobs = [d for d in docs if d.get("kind") == "Job"]
    need(len(jobs) == 2, "expected the campaign Job and the merge Job")
    camp, merge = jobs
    spec = camp["spec"]
    need(spec.get("completionMode") == "Indexed", "the campaign Job is not Indexed")
    c = spec["template"]["spec"]["containers"][0]
    cenv = {e["name"]: str(e["value"]) for e in c.get("env", [])}
    shards = int(cenv["SHARDS"])
    need(spec["completions"] == shards and spec["parallelism"] == shards,
         "completions/parallelism differ from SHARDS")
    script = " ".join(c["args"])
    need("--shard-from-env" in script and "JOB_COMPLETION_INDEX" in script,
         "the pods do not take their shard from JOB_COMPLETION_INDEX")
    for idx in range(shards):
        env = dict(os.environ)
        env.update(cenv)
        env.update(overrides)
        env["JOB_COMPLETION_INDEX"] = str(idx)  # what the Job controller sets
        rc = subprocess.call(c["command"] + [script], cwd=work, env=env)
        print("pod %d: exit %d" % (idx, rc))
    m = merge["spec"]["template"]["spec"]["containers"][0]
    env = dict(os.environ)
    env.update({e["name"]: str(e["value"]) for e in m.get("env", [])})
    env.update(overrides)
    rc = subprocess.call(m["command"] + [" ".join(m["args"])], cwd=work, env=env)
    print("merge: exit %d" % rc)
    return rc


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("github", "k8s"):
        print(__doc__)
        sys.exit(10)
    overrides = dict(a.split("=", 1) for a in sys.argv[4:])
    os.makedirs(sys.argv[3], exist_ok=True)
    fn = github if sys.argv[1] == "github" else k8s
    sys.exit(fn(sys.argv[2], sys.argv[3], overrides))


if __name__ == "__main__":
    main()
