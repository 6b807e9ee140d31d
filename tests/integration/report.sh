#!/usr/bin/env bash
# report.sh: the report page and the notifications, as a new user meets
# them: a registry with a password, a dry run with --html and --notify to a
# loopback receiver whose URL carries credentials and a token, the page
# rendered by headless Chromium, its figures against the JSON report's, the
# webhook's body read; --notify-on, a receiver that is down, a failed run;
# the pages of apply and plan; and the passwords and the token nowhere.
set -uo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness/lib.sh"
harness_tmpdir
require_regsweep
T=$HARNESS_TMP
export XDG_CACHE_HOME=$T/cache
unset REGSWEEP_REGISTRY REGSWEEP_USERNAME REGSWEEP_PASSWORD REGSWEEP_TOKEN REGSWEEP_CONFIG
unset REGSWEEP_NOTIFY REGSWEEP_NOTIFY_ON REGSWEEP_HTML DOCKER_CONFIG

CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[[ -x $CHROMIUM ]] || bail_out "headless Chromium is needed (Debian package: chromium)"

PASS=Reg-$(_harness_random_hex 12)
HOOKPASS=Hook-$(_harness_random_hex 12)
HOOKTOKEN=Tok$(_harness_random_hex 12)
registry_start --htpasswd "ops:$PASS" || bail_out "cannot start the registry"
export REGSWEEP_USERNAME=ops REGSWEEP_PASSWORD=$PASS
webhook_start "$T/hooks" || bail_out "cannot start the webhook receiver"
HOOK="http://hookuser:$HOOKPASS@127.0.0.1:$WEBHOOK_PORT/hooks/$HOOKTOKEN"

push_noise -q --repo noise --tag latest --layers 2 6 >/dev/null || bail_out "push_noise failed"
push_noise -q --repo app --distinct-tags v --created 2024-01-01T00:00:00Z --created-step 3600 4 \
	>/dev/null || bail_out "push_noise failed"

json_get() {
	/usr/bin/python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else ("null" if v is None else v))' "$@"
}

# shot PAGE PNG: headless Chromium renders PAGE to PNG, offline; prints the
# PNG's width and height.
shot() {
	local profile
	profile=$(mktemp -d "$T/chromium.XXXXXX")
	HOME=$profile timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --disable-default-apps --user-data-dir="$profile/data" \
		--window-size=1280,2200 --screenshot="$2" "file://$1" >"$profile/log" 2>&1
	/usr/bin/python3 -c 'import struct,sys
d = open(sys.argv[1], "rb").read(24)
assert d[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
print("%dx%d" % struct.unpack(">II", d[16:24]))' "$2" 2>/dev/null
}

COMMON=(-r "$REG_URL" --storage-root "$REG_ROOT" --untagged-grace 0s --repos app --keep-last 2
	--per-repo)

# --- a dry run with --html and --notify ----------------------------------------------
run "$REGSWEEP" run "${COMMON[@]}" --dry-run -v -v --html "$T/dry.html" --report "$T/dry.json" \
	--notify "$HOOK"
printf '%s\n%s\n' "$RUN_STDOUT" "$RUN_STDERR" >"$T/dry.out"
is "$RUN_STATUS" 0 "run --dry-run --html --notify succeeds"
is "$(stat -c %a "$T/dry.html" 2>/dev/null)" 600 "the page is written, private (0600)"
check "the page's figures are the JSON report's; it loads nothing" \
	/usr/bin/python3 "$HARNESS_DIR/check-page.py" "$T/dry.html" "$T/dry.json"
like "$(cat "$T/dry.html")" 'data-key="before\.bytes" data-value="[1-9]' "the page has the bytes before"
like "$(cat "$T/dry.html")" '<svg role="img"' "and the chart, inline"
like "$(cat "$T/dry.html")" 'id="deletions"' "and the deletions"
is "$(shot "$T/dry.html" "$T/dry.png")" 1280x2200 "headless Chromium renders the page to PNG"

is "$(webhook_count)" 1 "the receiver got one POST"
B=$WEBHOOK_DIR/1.json
like "$(head -n 1 "$WEBHOOK_DIR/1.headers")" "^POST /hooks/$HOOKTOKEN " "to the URL's path"
like "$(cat "$WEBHOOK_DIR/1.headers")" $'Content-Type: application/json' "as JSON"
like "$(json_get "$B" text)" "^regsweep run on $REG_URL: done, dry run: [0-9]+ would be deleted, 0 failed$" \
	"with a text line for a chat"
for k in registry exit_code success dry_run before after change requests started finished; do
	is "$(json_get "$B" "$k")" "$(json_get "$T/dry.json" "$k")" "the body's '$k' is the report's"
done
is "$(json_get "$B" apply would_delete)" "$(json_get "$T/dry.json" apply would_delete)" \
	"the body's apply counts are the report's"
is "$(json_get "$B" outcome)" done "the outcome is named"

# --- --notify-on ----------------------------------------------------------------------
run "$REGSWEEP" run "${COMMON[@]}" --dry-run --notify "$HOOK" --notify-on failure
is "$RUN_STATUS" 0 "a successful run with --notify-on failure"
is "$(webhook_count)" 1 "sends nothing"
run "$REGSWEEP" run "${COMMON[@]}" --repos no-such-repo --untagged keep --dry-run --notify "$HOOK" \
	--notify-on change
is "$(webhook_count)" 1 "--notify-on change sends nothing when nothing would change"

# --- a failed run tells, with its own exit code ------------------------------------------
dead=$(_harness_free_port)
run "$REGSWEEP" run -r "http://127.0.0.1:$dead" --connect-timeout 2s --notify "$HOOK" \
	--notify-on failure --html "$T/failed.html"
printf '%s\n%s\n' "$RUN_STDOUT" "$RUN_STDERR" >"$T/failed.out"
is "$RUN_STATUS" 1 "a run that cannot reach its registry exits 1"
is "$(webhook_count)" 2 "and --notify-on failure tells"
is "$(json_get "$WEBHOOK_DIR/2.json" exit_code)" 1 "the body carries exit code 1"
like "$(json_get "$WEBHOOK_DIR/2.json" text)" 'failed \(exit 1\) at stats-before' "and says where it failed"
check "the failed run's page renders" /usr/bin/python3 "$HARNESS_DIR/check-page.py" "$T/failed.html"

# --- a receiver that is down: a warning, and the run's own exit code -----------------------
HOOK_DOWN="http://hookuser:$HOOKPASS@127.0.0.1:$(_harness_free_port)/hooks/$HOOKTOKEN"
run "$REGSWEEP" run "${COMMON[@]}" --dry-run --notify "$HOOK_DOWN" --timeout 5s
printf '%s\n%s\n' "$RUN_STDOUT" "$RUN_STDERR" >"$T/down.out"
is "$RUN_STATUS" 0 "a receiver that is down does not change the exit code"
like "$RUN_STDERR" 'warning: notification to http://hookuser:\*\*\*@127\.0\.0\.1:[0-9]+/\*\*\*: no answer \(tried twice\)' \
	"it is a warning, with the URL masked"
run "$REGSWEEP" run -r "http://127.0.0.1:$dead" --connect-timeout 2s --notify "$HOOK_DOWN"
is "$RUN_STATUS" 1 "nor that of a failed run"

# --- the real run: figures after --------------------------------------------------------------
run "$REGSWEEP" run "${COMMON[@]}" --html "$T/run.html" --report "$T/run.json" \
	--notify "$HOOK" --notify-on change --backup-dir "$T/backup"
printf '%s\n%s\n' "$RUN_STDOUT" "$RUN_STDERR" >"$T/run.out"
is "$RUN_STATUS" 0 "run --html --notify-on change succeeds"
check "its page's figures are the JSON report's" \
	/usr/bin/python3 "$HARNESS_DIR/check-page.py" "$T/run.html" "$T/run.json"
like "$(cat "$T/run.html")" 'data-key="after\.tags" data-value="' "with the figures after"
like "$(cat "$T/run.html")" 'class="after"' "and bars for after in the chart"
is "$(shot "$T/run.html" "$T/run.png")" 1280x2200 "headless Chromium renders it"
is "$(webhook_count)" 3 "a run that deleted something notifies under --notify-on change"
is "$(json_get "$WEBHOOK_DIR/3.json" change)" "$(json_get "$T/run.json" change)" \
	"the body's change is the report's"
like "$(json_get "$WEBHOOK_DIR/3.json" text)" ': done: [0-9.]+ [KMG]?i?B freed on disk, [1-9][0-9]* deleted, 0 failed$' \
	"the line says what was freed and deleted"

# --- apply and plan ------------------------------------------------------------------------------
push_noise -q --repo app2 --distinct-tags w --created 2024-01-01T00:00:00Z --created-step 3600 3 \
	>/dev/null
run "$REGSWEEP" apply -r "$REG_URL" --repos app2 --keep-last 1 --dry-run --html "$T/apply.html" \
	--notify "$HOOK"
is "$RUN_STATUS" 0 "apply --dry-run --html"
check "apply's page holds together" /usr/bin/python3 "$HARNESS_DIR/check-page.py" "$T/apply.html"
like "$(cat "$T/apply.html")" 'data-key="apply\.would_delete" data-value="2"' "and counts 2 would-be deletions"
is "$(json_get "$WEBHOOK_DIR/4.json" apply would_delete)" 2 "apply notifies with its counts"

"$REGSWEEP" stats --json -r "$REG_URL" --no-cache >"$T/stats.json" 2>/dev/null
run "$REGSWEEP" plan -r "$REG_URL" --repos app2 --keep-last 1 --html "$T/plan.html" --out "$T/plan.json" \
	--notify "$HOOK"
is "$RUN_STATUS" 0 "plan --html --out"
check "plan's page holds together" /usr/bin/python3 "$HARNESS_DIR/check-page.py" "$T/plan.html"
for k in repositories tags manifests blobs bytes; do
	like "$(cat "$T/plan.html")" "data-key=\"before\\.$k\" data-value=\"$(json_get "$T/stats.json" "$k")\"" \
		"the plan page's $k are those stats gives"
done
like "$(cat "$T/plan.html")" 'data-key="plan\.totals\.manifests_deleted" data-value="2"' \
	"the plan page has the plan's totals"
like "$(cat "$T/plan.html")" 'id="decisions"' "and every tag's decision"
is "$(json_get "$T/plan.json" format)" regsweep-plan "--out still writes the plan file"
is "$(shot "$T/plan.html" "$T/plan.png")" 1280x2200 "headless Chromium renders the plan page"
like "$(json_get "$WEBHOOK_DIR/5.json" text)" '^regsweep plan on .*: done: 2 manifests to delete \(2 tags\)' \
	"plan notifies what it would delete"

# --- the webhook URL's secrets: masked in config, nowhere in output ------------------------------
run "$REGSWEEP" config --notify "$HOOK"
like "$RUN_STDOUT" "notify +http://hookuser:\\*\\*\\*@127\\.0\\.0\\.1:$WEBHOOK_PORT/\\*\\*\\* " \
	"regsweep config shows the URL masked"
printf '%s\n' "$RUN_STDOUT" >"$T/config.out"
leaks=$(grep -l -e "$PASS" -e "$HOOKPASS" -e "$HOOKTOKEN" "$T"/*.out "$T"/*.html "$T"/*.json \
	"$WEBHOOK_DIR"/*.json 2>/dev/null || true)
is "$leaks" "" "no output, page, report or notification holds a password or the hook's token"
