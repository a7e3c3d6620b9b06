#!/usr/bin/env bash
# Runs every runbook in playbooks/ against a fresh EWS sandbox and checks what
# happened from the sandbox's delivery log, not only from Ansible's output:
# each draft is delivered exactly once, dry runs and re-runs deliver nothing.
# Then the runbooks that do not rely on EWS delegates again over Microsoft Graph, nothing changed but
# the EWS_* variables (EWS_API=graph and the sandbox's demo app registration).
#
#   tests/runbooks/run_all.sh            (uses .venv: `make venv` first)
#   VENV=.venv-next tests/runbooks/run_all.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
VENV=${VENV:-.venv}
case $VENV in /*) bin=$VENV/bin ;; *) bin=$root/$VENV/bin ;; esac

# The sandbox package, also when the venv was made before sandbox/ was installed into it.
export PYTHONPATH=$root/sandbox${PYTHONPATH:+:$PYTHONPATH}

if [ -z "${EWS_ADMIN_URL:-}" ]; then
  # The collection as Ansible finds it (the same link `make collection` makes).
  mkdir -p build/collections/ansible_collections/exchange
  ln -sfn "$root" build/collections/ansible_collections/exchange/ews
  # The sandbox's facts (its Graph and demo app registration too), for the Graph pass below.
  mkdir -p build/logs/runbooks
  export RUNBOOKS_SANDBOX_FACTS=$root/build/logs/runbooks/sandbox.yml
  exec "$bin/python" tests/utils/with_sandbox.py --integration-config "$RUNBOOKS_SANDBOX_FACTS" -- bash "$0" "$@"
fi

export ANSIBLE_COLLECTIONS_PATH=$root/build/collections
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0
log_dir=$root/build/logs/runbooks
mkdir -p "$log_dir"
failures=0 passed=0 step=0

deliveries() {  # deliveries SUBJECT_SUBSTRING [FIELD=VALUE]: messages the sandbox delivered with it
  "$bin/python" - "$@" <<'PY'
import os, sys
from ews_sandbox.testing import AdminClient
admin = AdminClient(os.environ["EWS_ADMIN_URL"], os.environ.get("EWS_CA_PATH"))
admin.wait_for_outbox()  # sending is asynchronous: count once every submitted message is delivered
entries = admin.deliveries()
entries = [entry for entry in entries if sys.argv[1] in (entry.get("subject") or "")]
for condition in sys.argv[2:]:
    field, _, value = condition.partition("=")
    entries = [entry for entry in entries if str(entry.get(field)) == value]
print(len(entries))
PY
}

run() {  # run NAME EXPECTED_CHANGED PLAYBOOK [ARGS...]: run a runbook, check its exit code and recap
  local name=$1 expect_changed=$2 playbook=$3; shift 3
  step=$((step + 1))
  local log
  log=$log_dir/$(printf '%02d' $step)-$name.log
  if ! "$bin/ansible-playbook" "playbooks/$playbook" "$@" > "$log" 2>&1; then
    echo "FAIL $name: ansible-playbook exited non-zero"; tail -n 40 "$log"; failures=$((failures + 1)); return 0
  fi
  local changed
  changed=$(sed -n 's/^localhost *: .*changed=\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  if [ "$expect_changed" = yes ] && [ "${changed:-0}" = 0 ]; then
    echo "FAIL $name: expected a change, the recap says changed=0 ($log)"; failures=$((failures + 1)); return 0
  fi
  if [ "$expect_changed" = no ] && [ "${changed:-0}" != 0 ]; then
    echo "FAIL $name: expected no change, the recap says changed=$changed ($log)"; failures=$((failures + 1)); return 0
  fi
  echo "ok   $name (changed=${changed:-0})"; passed=$((passed + 1))
}

expect_deliveries() {  # expect_deliveries WHAT SUBJECT COUNT [FIELD=VALUE...]
  local what=$1 subject=$2 count=$3 got; shift 3
  got=$(deliveries "$subject" "$@")
  if [ "$got" = "$count" ]; then
    echo "ok   $what: $got delivered"; passed=$((passed + 1))
  else
    echo "FAIL $what: $got message(s) with subject '$subject' $* delivered, expected $count"; failures=$((failures + 1))
  fi
}

# The variables docs/awx.md names for each runbook are the ones it reads (its play vars).
step=$((step + 1))
if "$bin/python" - <<'PY'
import re, sys, yaml
documented = {}
for line in open("docs/awx.md", encoding="utf-8"):
    match = re.match(r"\| `exchange\.ews\.(\w+)` \|.*\| (.*) \|\s*$", line)
    if match:
        documented[match.group(1)] = set(re.findall(r"`(\w+)`", match.group(2)))
problems = []
for name, variables in sorted(documented.items()):
    play = yaml.safe_load(open("playbooks/%s.yml" % name, encoding="utf-8"))[0]
    read = {var for var in play.get("vars", {}) if not var.startswith("ansible_")}
    if read != variables:
        problems.append("%s: docs name %s, the runbook reads %s" % (name, sorted(variables), sorted(read)))
import glob, os
undocumented = sorted(set(os.path.basename(p)[:-4] for p in glob.glob("playbooks/*.yml")) - set(documented))
if undocumented:
    problems.append("runbooks missing from docs/awx.md: %s" % ", ".join(undocumented))
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
then echo "ok   docs/awx.md names the variables each runbook reads"; passed=$((passed + 1))
else echo "FAIL docs/awx.md and the runbooks' variables differ"; failures=$((failures + 1)); fi

# demo: draft, lookup, send, re-send unchanged (the play asserts it too).
# A dry run reports changed (what a real run would send) and delivers nothing.
run demo yes demo.yml
expect_deliveries "demo sent once" "exchange.ews demo" 1
# Twice in a row like every runbook: the demo names a new draft each run (its key has the time), so the second
# run passes too and sends its own draft, one delivery per run.
run demo-again yes demo.yml
expect_deliveries "demo run twice, one delivery per run" "exchange.ews demo" 2

# prepare today, dry-run, send tomorrow, re-send.
weekly=(-e '{"report_key": "runbook-weekly", "report_subject": "Runbook weekly 19", "report_to": "bob@sandbox.test"}')
run prepare_draft yes prepare_draft.yml "${weekly[@]}"
run prepare_draft-again no prepare_draft.yml "${weekly[@]}"
run dry_run yes dry_run.yml -e '{"dry_run_subject_contains": "Runbook weekly"}'
run dry_run-again yes dry_run.yml -e '{"dry_run_subject_contains": "Runbook weekly"}'
expect_deliveries "dry run, twice, sent nothing" "Runbook weekly 19" 0
run send_prepared_draft yes send_prepared_draft.yml -e report_key=runbook-weekly
expect_deliveries "prepared draft sent once" "Runbook weekly 19" 1
run send_prepared_draft-again no send_prepared_draft.yml -e report_key=runbook-weekly
expect_deliveries "prepared draft still sent once" "Runbook weekly 19" 1

# a report with a file attached: sent once however often the job runs; a dry run of a new key sends nothing.
report_file=$log_dir/runbook-report.csv
printf 'week,sent\n19,42\n' > "$report_file"
report=(-e "{\"report_key\": \"runbook-report\", \"report_subject\": \"Runbook report\", \"report_to\": \"bob@sandbox.test\",
  \"report_attachments\": [{\"path\": \"$report_file\"}]}")
run send_report yes send_report.yml "${report[@]}"
run send_report-again no send_report.yml "${report[@]}"
expect_deliveries "report sent once" "Runbook report" 1

# approved drafts: two approved, one not.
for n in 1 2; do
  run "prepare_approved-$n" yes prepare_draft.yml -e "{\"report_key\": \"approved-$n\", \"report_subject\": \"Approved report $n\",
    \"report_to\": \"bob@sandbox.test\", \"report_categories\": [\"Approved\"]}"
done
run prepare_unapproved yes prepare_draft.yml \
  -e '{"report_key": "unapproved", "report_subject": "Unapproved report", "report_to": "bob@sandbox.test"}'
run send_approved_drafts yes send_approved_drafts.yml
expect_deliveries "approved drafts sent" "Approved report" 2
expect_deliveries "unapproved draft kept" "Unapproved report" 0
run send_approved_drafts-again no send_approved_drafts.yml
expect_deliveries "approved drafts still sent once" "Approved report" 2

# on behalf: alice prepares, bob (her delegate) sends from her mailbox.
run prepare_board_pack yes prepare_draft.yml \
  -e '{"report_key": "board-pack", "report_subject": "Board pack", "report_to": "bob@sandbox.test"}'
EWS_USERNAME=bob EWS_PASSWORD=Passw0rd-bob \
  run send_on_behalf yes send_on_behalf.yml -e '{"principal": "alice@sandbox.test", "draft_subject": "Board pack"}'
expect_deliveries "sent on behalf once, from alice's mailbox" "Board pack" 1 mailbox=alice@sandbox.test from=alice@sandbox.test
EWS_USERNAME=bob EWS_PASSWORD=Passw0rd-bob \
  run send_on_behalf-again no send_on_behalf.yml -e '{"principal": "alice@sandbox.test", "draft_subject": "Board pack"}'
expect_deliveries "sent on behalf still once" "Board pack" 1

# Every runbook under --check --diff: it passes, reports what a real run would do, sends nothing.
run demo-check yes demo.yml --check --diff
run prepare_draft-check yes prepare_draft.yml --check --diff \
  -e '{"report_key": "runbook-check", "report_subject": "Runbook check", "report_to": "bob@sandbox.test"}'
run prepare_draft-for-check yes prepare_draft.yml \
  -e '{"report_key": "runbook-check", "report_subject": "Runbook check", "report_to": "bob@sandbox.test"}'
run send_prepared_draft-check yes send_prepared_draft.yml --check --diff -e report_key=runbook-check
run send_approved_drafts-check no send_approved_drafts.yml --check --diff
EWS_USERNAME=bob EWS_PASSWORD=Passw0rd-bob \
  run send_on_behalf-check no send_on_behalf.yml --check --diff \
  -e '{"principal": "alice@sandbox.test", "draft_subject": "Board pack"}'
run dry_run-check yes dry_run.yml --check --diff -e '{"dry_run_subject_contains": "Runbook check"}'
run send_report-check no send_report.yml --check --diff "${report[@]}"
run send_report-check-new yes send_report.yml --check --diff \
  -e '{"report_key": "runbook-report-check", "report_subject": "Runbook check report", "report_to": "bob@sandbox.test"}'
expect_deliveries "check mode sent nothing" "Runbook check" 0
expect_deliveries "the report still sent once" "Runbook report" 1
expect_deliveries "the demo in check mode sent nothing" "exchange.ews demo" 2

# A prepared key that does not exist fails the job, unless told otherwise.
run_fails() {  # run_fails NAME PLAYBOOK [ARGS...]: the runbook must fail
  local name=$1 playbook=$2; shift 2
  step=$((step + 1))
  local log
  log=$log_dir/$(printf '%02d' $step)-$name.log
  if "$bin/ansible-playbook" "playbooks/$playbook" "$@" > "$log" 2>&1; then
    echo "FAIL $name: expected the runbook to fail ($log)"; failures=$((failures + 1))
  else
    echo "ok   $name (failed as it should)"; passed=$((passed + 1))
  fi
}
run_fails send_prepared_draft-unknown-key send_prepared_draft.yml -e report_key=never-prepared
run send_prepared_draft-unknown-key-allowed no send_prepared_draft.yml -e report_key=never-prepared \
  -e report_fail_if_missing=false

# --- the same runbooks over Microsoft Graph (docs/exchange-online.md): only the EWS_* variables change --------
if [ -n "${RUNBOOKS_SANDBOX_FACTS:-}" ]; then
  mapfile -t graph_env < <("$bin/python" - "$RUNBOOKS_SANDBOX_FACTS" <<'PY'
import sys, yaml
facts = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
graph = facts["ews_graph"]
# The app has no mailbox of its own: it works on alice's, as the EWS pass (EWS_USERNAME) did. The sandbox stands in
# for the global cloud's identity platform and Graph (EWS_AUTHORITY, EWS_GRAPH_URL).
for name, value in (("EWS_API", "graph"), ("EWS_TENANT_ID", graph["tenant_id"]), ("EWS_CLIENT_ID", graph["client_id"]),
                    ("EWS_CLIENT_SECRET", graph["client_secret"]), ("EWS_IMPERSONATE", facts["ews_users"]["alice"]["smtp"]),
                    ("EWS_AUTHORITY", graph["authority"]), ("EWS_GRAPH_URL", graph["graph_url"])):
    print("%s=%s" % (name, value))
PY
  )
  graph_run() {  # graph_run NAME EXPECTED_CHANGED PLAYBOOK [ARGS...]: run with the Graph variables, then drop them
    local name=$1; shift
    export "${graph_env[@]}"
    run "graph-$name" "$@"
    unset "${graph_env[@]%%=*}"
  }

  graph_run demo yes demo.yml
  expect_deliveries "demo over Graph sent once (and the two EWS ones still once each)" "exchange.ews demo" 3
  # What EWS sent is sent: the same key over Graph finds the copy by its marker.
  graph_run send_report-sent-over-ews no send_report.yml "${report[@]}"
  expect_deliveries "the EWS report not sent again over Graph" "Runbook report" 1
  graph_weekly=(-e '{"report_key": "runbook-graph-weekly", "report_subject": "Runbook graph weekly", "report_to": "bob@sandbox.test"}')
  graph_run prepare_draft yes prepare_draft.yml "${graph_weekly[@]}"
  graph_run prepare_draft-again no prepare_draft.yml "${graph_weekly[@]}"
  graph_run dry_run yes dry_run.yml -e '{"dry_run_subject_contains": "Runbook graph weekly"}'
  expect_deliveries "dry run over Graph sent nothing" "Runbook graph weekly" 0
  graph_run send_prepared_draft yes send_prepared_draft.yml -e report_key=runbook-graph-weekly
  graph_run send_prepared_draft-again no send_prepared_draft.yml -e report_key=runbook-graph-weekly
  expect_deliveries "prepared draft sent once over Graph" "Runbook graph weekly" 1
  graph_run prepare_approved yes prepare_draft.yml -e '{"report_key": "graph-approved", "report_subject": "Graph approved report",
    "report_to": "bob@sandbox.test", "report_categories": ["Approved"]}'
  graph_run send_approved_drafts yes send_approved_drafts.yml
  graph_run send_approved_drafts-again no send_approved_drafts.yml
  expect_deliveries "approved draft sent once over Graph" "Graph approved report" 1
  expect_deliveries "the unapproved draft still kept" "Unapproved report" 0
  # The pass went over Graph indeed: the sandbox logged app tokens (the EWS pass signs in with NTLM) and Graph
  # $batch requests (each step of the protocol is one).
  step=$((step + 1))
  graph_requests=$("$bin/python" - <<'PY'
import os
from ews_sandbox.testing import AdminClient
entries = AdminClient(os.environ["EWS_ADMIN_URL"], os.environ.get("EWS_CA_PATH")).requests(since=0)
operations = [entry.get("operation") for entry in entries]
print(min(operations.count("Token"), operations.count("Batch")))
PY
  )
  if [ "$graph_requests" -ge 10 ]; then
    echo "ok   the Graph pass went over Graph: at least $graph_requests tokens and \$batch requests"; passed=$((passed + 1))
  else
    echo "FAIL the Graph pass made $graph_requests token or \$batch requests, expected one per run (10 or more)"
    failures=$((failures + 1))
  fi
else
  echo "skip the Graph pass: no sandbox facts (RUNBOOKS_SANDBOX_FACTS), the sandbox was started elsewhere"
fi

echo "runbooks: $passed passed, $failures failed"
[ "$failures" = 0 ]
