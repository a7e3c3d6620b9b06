#!/usr/bin/env bash
# The collection as users get it: build the release tarball, check what it holds
# (and what it must not), install it into a fresh virtualenv with only the runtime
# requirements and ansible-core, then read its docs and run its demo playbook
# (exchange.ews.demo, from the installed tarball) against a fresh EWS sandbox.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
PYTHON=${PYTHON:-python3.11}
work=$root/build/tarball
rm -rf "$work" && mkdir -p "$work/dist" "$work/collections"
failures=0 passed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*"; failures=$((failures + 1)); }

# The sandbox (and with_sandbox.py) run from the quality venv; nothing of it goes
# into the venv under test.
tests/quality/venv.sh
quality=$root/build/venv-quality/bin

# 1. Build.
"$quality/ansible-galaxy" collection build --force --output-path "$work/dist" . > "$work/build.log"
tarball=$(ls "$work"/dist/exchange-ews-*.tar.gz)
tar -tzf "$tarball" | sed 's|^\./||; s|/$||' | sort > "$work/contents.txt"
ok "built $(basename "$tarball") ($(wc -l < "$work/contents.txt") entries, $(du -k "$tarball" | cut -f1) KiB)"

# 2. Contents: development files stay out, what users need is in.
for unwanted in sandbox tests bench .ci Makefile requirements build .venv docs/dev .gitignore \
                .ansible-lint .yamllint .pytest_cache .sandbox-data; do
  if grep -qx -e "$unwanted" -e "$unwanted/.*" "$work/contents.txt"; then
    bad "the tarball holds $unwanted"
  fi
done
if grep -E '(^|/)(__pycache__|[^/]*\.pyc)$' "$work/contents.txt" > /dev/null; then bad "the tarball holds compiled Python"; fi
for wanted in MANIFEST.json FILES.json README.md meta/runtime.yml \
              plugins/modules/send_item.py plugins/modules/message.py plugins/lookup/draft_ids.py \
              meta/execution-environment.yml meta/ee-requirements.txt meta/ee-bindep.txt \
              meta/awx-credential-type.yml docs/awx.md docs/user-guide.md docs/send-a-report.md docs/exchange-online.md \
              playbooks/demo.yml playbooks/send_approved_drafts.yml playbooks/send_on_behalf.yml \
              playbooks/dry_run.yml playbooks/prepare_draft.yml playbooks/send_prepared_draft.yml \
              playbooks/send_report.yml; do
  grep -qx "$wanted" "$work/contents.txt" || bad "the tarball lacks $wanted"
done
[ "$failures" = 0 ] && ok "contents: no development files, every user-facing file"

# 3. A fresh venv: the runtime requirements and the floor ansible-core, nothing else.
core_pin=$(grep -E '^ansible-core==' requirements/dev.txt)
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements/runtime.txt "$core_pin" \
  > "$work/pip.log" 2>&1 || { cat "$work/pip.log"; bad "pip install into the fresh venv"; exit 1; }
export ANSIBLE_COLLECTIONS_PATH=$work/collections ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=0
export ANSIBLE_INVENTORY_UNPARSED_WARNING=0
"$work/venv/bin/ansible-galaxy" collection install --offline -p "$work/collections" "$tarball" > "$work/install.log"
ok "installed into a fresh venv ($core_pin)"

# 4. Docs, from the installed collection (exchange.ews.draft: the redirect's, which are message's).
for plugin in module:exchange.ews.send_item module:exchange.ews.message module:exchange.ews.draft \
              lookup:exchange.ews.draft_ids; do
  type=${plugin%%:*} name=${plugin#*:}
  if "$work/venv/bin/ansible-doc" -t "$type" "$name" > "$work/doc-$name.txt" 2>&1 \
     && grep -q "EXAMPLES" "$work/doc-$name.txt"; then
    ok "ansible-doc -t $type $name"
  else
    bad "ansible-doc -t $type $name"; tail -n 20 "$work/doc-$name.txt"
  fi
done

# 5. The demo playbook shipped in the tarball, against a sandbox.
if "$quality/python" tests/utils/with_sandbox.py -- \
     "$work/venv/bin/ansible-playbook" exchange.ews.demo > "$work/demo.log" 2>&1; then
  ok "ansible-playbook exchange.ews.demo (from the tarball) against the sandbox"
else
  bad "ansible-playbook exchange.ews.demo"; tail -n 40 "$work/demo.log"
fi

echo "tarball: $passed passed, $failures failed"
[ "$failures" = 0 ]
