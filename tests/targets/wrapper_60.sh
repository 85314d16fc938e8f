#!/bin/bash
# wrapper_60.sh PROGRAM [ARGS...]: a wrapper in front of a real program, shaped like a
# version-manager shim (pyenv, asdf): it spawns about 60 short processes (true, sed, cat, a
# command substitution's subshell) to find out what to run, then execs PROGRAM.  Each of them
# is single-threaded and talks to nobody: wedge must not make the run pay for them.
set -e
[ $# -ge 1 ] || { echo "usage: wrapper_60.sh PROGRAM [ARGS...]" >&2; exit 2; }
version=
for i in $(seq 1 14); do
    /bin/true
    version=$(echo "3.11.$i" | sed 's/\./_/g')
    cat /dev/null
done
[ "$version" = "3_11_14" ] || { echo "wrapper_60.sh: version lookup failed: $version" >&2; exit 3; }
exec "$@"
