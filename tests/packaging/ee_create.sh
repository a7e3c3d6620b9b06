#!/usr/bin/env bash
# Execution environment check, from a clean checkout, without a container engine:
#  1. build the collection tarball and install it into a scratch collections path;
#  2. `ansible-builder introspect` must find the Python and system packages that
#     meta/execution-environment.yml declares (what an EE build installs);
#  3. `ansible-builder create` must accept docs/examples/execution-environment.yml
#     (the definition users copy) and write a build context with the collection in it.
# Tools come from requirements/quality.txt (build/venv-quality, tests/quality/venv.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
tests/quality/venv.sh
bin=$root/build/venv-quality/bin
work=$root/build/ee
rm -rf "$work" && mkdir -p "$work/dist" "$work/collections" "$work/definition"

fail() { echo "ee_create: FAIL: $*" >&2; exit 1; }

"$bin/ansible-galaxy" collection build --force --output-path "$work/dist" . > /dev/null
tarball=$(ls "$work"/dist/exchange-ews-*.tar.gz)
ANSIBLE_COLLECTIONS_PATH="$work/collections" "$bin/ansible-galaxy" collection install --offline --force -p "$work/collections" "$tarball" > /dev/null

"$bin/ansible-builder" introspect --sanitize "$work/collections" \
  --write-pip "$work/pip.txt" --write-bindep "$work/bindep.txt" > "$work/introspect.log"
for package in zeep requests-ntlm; do
  grep -qi "^$package" "$work/pip.txt" || fail "introspect found no $package (see $work/pip.txt)"
done
grep -q "libxml2" "$work/bindep.txt" || fail "introspect found no libxml2 (see $work/bindep.txt)"

# The EE ranges admit the versions the test suite pins (requirements/runtime.txt).
"$bin/python" - <<'PY' || fail "meta/ee-requirements.txt does not admit requirements/runtime.txt's pins"
from packaging.requirements import Requirement

def read(path):
    lines = (line.split("#")[0].strip() for line in open(path, encoding="utf-8"))
    return {Requirement(line).name.lower(): Requirement(line) for line in lines if line}

ranges, pins = read("meta/ee-requirements.txt"), read("requirements/runtime.txt")
assert set(ranges) == set(pins), (sorted(ranges), sorted(pins))
for name, pin in pins.items():
    version = next(iter(pin.specifier)).version
    assert ranges[name].specifier.contains(version), (name, version, str(ranges[name].specifier))
PY

# Lower bounds only: an upper cap in a collection's requirements blocks other collections' upgrades.
if grep -vE '^\s*(#|$)' meta/ee-requirements.txt | grep -qE '(<|==|~=|!=)'; then
  fail "meta/ee-requirements.txt caps a version: $(grep -vE '^\s*(#|$)' meta/ee-requirements.txt | grep -E '(<|==|~=|!=)' | tr '\n' ' ')"
fi

# The Python headers bindep names for compiling are those of the definition's interpreter.
"$bin/python" - <<'PY' || fail "meta/ee-bindep.txt does not name the -devel package of the EE definition's Python"
import yaml
definition = yaml.safe_load(open("docs/examples/execution-environment.yml", encoding="utf-8"))
python = definition["dependencies"]["python_interpreter"]["package_system"]
bindep = [line.split("#")[0].split() for line in open("meta/ee-bindep.txt", encoding="utf-8")]
devel = [words[0] for words in bindep if words and words[0].startswith("python") and words[0].endswith("-devel")]
assert devel == [python + "-devel"], (devel, python)
PY

# The users' definition, with its galaxy requirements pointed at the tarball just built.
cp docs/examples/execution-environment.yml "$work/definition/"
cat > "$work/definition/collections-requirements.yml" <<REQ
---
collections:
  - name: $tarball
    type: file
REQ
"$bin/ansible-builder" create -f "$work/definition/execution-environment.yml" \
  -c "$work/context" --output-filename Containerfile > "$work/create.log"
test -f "$work/context/Containerfile" || fail "no Containerfile in $work/context"
grep -q "ansible-galaxy collection install" "$work/context/Containerfile" \
  || fail "the Containerfile installs no collections"
grep -q "exchange-ews" "$work/context/_build/requirements.yml" \
  || fail "the build context does not carry the collection requirements"
echo "ee_create: OK (introspection: $(grep -c . "$work/pip.txt") Python and $(grep -c . "$work/bindep.txt") system requirement lines; context in build/ee/context)"
