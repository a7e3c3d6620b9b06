#!/usr/bin/env bash
# Make (or reuse) the quality venv: requirements/quality.txt plus the sandbox package.
# Prints nothing on success; the venv is build/venv-quality (QUALITY_VENV overrides).
#   tests/quality/venv.sh && build/venv-quality/bin/ansible-lint ...
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${QUALITY_VENV:-build/venv-quality}
PYTHON=${PYTHON:-python3.11}
stamp=$VENV/.installed
wanted=$(cat requirements/quality.txt requirements/runtime.txt sandbox/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  exit 0
fi
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
export PIP_DISABLE_PIP_VERSION_CHECK=1
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r requirements/quality.txt
# The sandbox's own pins are test.txt's; here its dependencies come from quality.txt.
"$VENV/bin/python" -m pip install -q --no-deps -e sandbox
echo "$wanted" > "$stamp"
