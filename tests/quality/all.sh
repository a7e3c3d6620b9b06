#!/usr/bin/env bash
# Every check of the collection as users meet it, in one venv of its own
# (build/venv-quality from requirements/quality.txt), independent of .venv:
#   ee-create  tests/packaging/ee_create.sh     execution environment metadata and definition
#   tarball    tests/packaging/test_tarball.sh  the built collection, installed fresh, demo from it
#   runner     tests/runner (pytest)            a runbook through ansible-runner with AWX-injected credentials
#   runbooks   tests/runbooks/run_all.sh        every runbook against the sandbox
#   examples   tests/examples (pytest)          every YAML example of the docs and plugins, run against the sandbox
#   lint       tests/quality/lint.sh            ansible-lint production, changelog, plugin docs, docsite
# Logs: build/logs/quality-<step>.log. Exit status non-zero when any step fails.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
mkdir -p build/logs
passed=0 failed=0 failed_steps=()

step() {  # step NAME COMMAND...
  local name=$1; shift
  local started=$SECONDS log=build/logs/quality-$name.log
  if "$@" > "$log" 2>&1; then
    echo "[quality-$name] ok after $((SECONDS - started))s"; passed=$((passed + 1))
  else
    echo "[quality-$name] FAILED after $((SECONDS - started))s ($log)"; failed=$((failed + 1)); failed_steps+=("$name")
  fi
}

step venv tests/quality/venv.sh || true
if [ "$failed" != 0 ]; then
  tail -n 50 build/logs/quality-venv.log; echo "quality: $passed passed, $failed failed"; exit 1
fi
step ee-create tests/packaging/ee_create.sh
step tarball tests/packaging/test_tarball.sh
step runner build/venv-quality/bin/python -m pytest -q -p no:cacheprovider tests/runner
step runbooks env VENV=build/venv-quality tests/runbooks/run_all.sh
step examples build/venv-quality/bin/python -m pytest -q -p no:cacheprovider tests/examples
step lint tests/quality/lint.sh
for name in "${failed_steps[@]}"; do
  echo "==================== build/logs/quality-$name.log (last 80 lines)"
  tail -n 80 "build/logs/quality-$name.log"
done
echo "quality: $passed passed, $failed failed"
[ "$failed" = 0 ]
