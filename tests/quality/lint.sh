#!/usr/bin/env bash
# Lint and docs checks, all offline:
#   ansible-lint         production profile, the collection and every runbook (.ansible-lint)
#   changelog            antsibull-changelog lint: the fragments are valid
#   plugin docs          antsibull-docs lint-collection-docs --plugin-docs (schemas, M()/O() references)
#   docsite              antsibull-docs sphinx-init + build.sh, Sphinx with -W (intersphinx off:
#                        references into docs.ansible.com stay unresolved offline and are not errors)
# Tools: requirements/quality.txt in build/venv-quality (tests/quality/venv.sh). Logs: build/logs/quality/.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
root=$PWD
tests/quality/venv.sh || exit 1
export PATH=$root/build/venv-quality/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$root/build/collections ANSIBLE_NOCOLOR=1 NO_COLOR=1
mkdir -p build/collections/ansible_collections/exchange build/logs/quality
ln -sfn "$root" build/collections/ansible_collections/exchange/ews
collection=$root/build/collections/ansible_collections/exchange/ews  # antsibull wants this path
logs=$root/build/logs/quality
passed=0 failed=0

check() {  # check NAME COMMAND...: run in the collection's path, log, count
  local name=$1; shift
  local started=$SECONDS
  if (cd "$collection" && "$@") > "$logs/$name.log" 2>&1; then
    echo "ok   $name ($((SECONDS - started))s)"; passed=$((passed + 1))
  else
    echo "FAIL $name ($((SECONDS - started))s), $logs/$name.log:"; tail -n 60 "$logs/$name.log"; failed=$((failed + 1))
  fi
}

docsite() {
  local dest=$root/build/docsite
  rm -rf "$dest" && mkdir -p "$root/build" && mkdir -m 700 "$dest"
  antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error \
    --dest-dir "$dest" exchange.ews || return
  cat >> "$dest/conf.py" <<'CONF'

# Offline build (tests/quality/lint.sh): no intersphinx inventories from the network, so the
# references into docs.ansible.com that antsibull-docs writes cannot resolve; the collection's own
# references are checked by `antsibull-docs lint-collection-docs --plugin-docs`.
extensions = [extension for extension in extensions if extension != 'sphinx.ext.intersphinx']
intersphinx_mapping = {}
suppress_warnings = ['ref.ref']
CONF
  "$dest/build.sh" && test -f "$dest/build/html/send_item_module.html"
}

check ansible-lint ansible-lint --nocolor --profile production
check changelog antsibull-changelog lint
check plugin-docs antsibull-docs lint-collection-docs --plugin-docs .
check docsite docsite
echo "lint: $passed passed, $failed failed"
[ "$failed" = 0 ]
