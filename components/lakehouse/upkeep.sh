#!/bin/sh
# The lakehouse upkeep (components/lakehouse/upkeep.ts), beside the SQL Gateway: every
# UPKEEP_EVERY_SECONDS, one gateway session runs the lines of UPKEEP_STATEMENTS, each
# "<label><TAB><JSON request body>": the catalog, then per table partition expiry, snapshot expiry
# and orphan-file removal. @OLDER_THAN@ becomes now - ORPHAN_OLDER_THAN_SECONDS (local time).
# A failed statement does not stop the others: the run names it and exits non-zero; the next run
# tries again. Logs name statements by their label only (the catalog's carries credentials), and
# quoted text in an error is masked for the same reason.
#   upkeep.sh          run forever
#   upkeep.sh --once   one run; exit 0 when every statement succeeded
set -u
GW="${SQL_GATEWAY_URL%/}"
TAB=$(printf '\t')

field() { sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p" | head -n 1; }

run_once() {
  # Paimon reads older_than in the gateway JVM's default time zone: the local one, as here (same pod).
  older=$(date -d "@$(( $(date +%s) - ORPHAN_OLDER_THAN_SECONDS ))" '+%Y-%m-%d %H:%M:%S') || return 1
  session=$(curl -sS --max-time 30 --retry 5 --retry-all-errors --retry-delay 2 -X POST -H 'Content-Type: application/json' \
    --data '{"sessionName":"rtdw-lakehouse-upkeep","properties":{"execution.runtime-mode":"batch","table.dml-sync":"true"}}' \
    "$GW/v3/sessions" | field sessionHandle)
  if [ -z "$session" ]; then echo "upkeep: the SQL Gateway at $GW opened no session"; return 1; fi
  total=0; failed=0
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    total=$((total + 1))
    label=${line%%"$TAB"*}
    body=$(printf '%s' "${line#*"$TAB"}" | sed "s/@OLDER_THAN@/$older/g")
    op=$(printf '%s' "$body" | curl -sS --max-time 60 -X POST -H 'Content-Type: application/json' --data-binary @- "$GW/v3/sessions/$session/statements" | field operationHandle)
    status=ERROR
    while [ -n "$op" ]; do
      status=$(curl -sS --max-time 30 "$GW/v3/sessions/$session/operations/$op/status" | field status)
      case "$status" in RUNNING | PENDING | INITIALIZED) sleep 1 ;; *) break ;; esac
    done
    result=""
    [ -n "$op" ] && result=$(curl -sS --max-time 60 "$GW/v3/sessions/$session/operations/$op/result/0?rowFormat=JSON")
    if [ "$status" = FINISHED ] && ! printf '%s' "$result" | grep -q '"errors"'; then
      echo "upkeep: ok      $label"
    else
      failed=$((failed + 1))
      why=$(printf '%s' "$result" | tr '\n' ' ' | sed "s/'[^']*'/'***'/g; s/\\\\n/ /g" | grep -o 'Caused by: [^"]*\|Exception: [^"]*' | tail -n 1 | cut -c 1-300)
      echo "upkeep: FAILED  $label (status ${status:-none}): ${why:-see the SQL Gateway's log}"
    fi
    [ -n "$op" ] && curl -sS --max-time 30 -X DELETE "$GW/v3/sessions/$session/operations/$op/close" >/dev/null 2>&1
  done <<EOF_STATEMENTS
$UPKEEP_STATEMENTS
EOF_STATEMENTS
  curl -sS --max-time 30 -X DELETE "$GW/v3/sessions/$session" >/dev/null 2>&1
  echo "upkeep: $total statements, $failed failed"
  [ "$failed" -eq 0 ]
}

if [ "${1:-}" = "--once" ]; then
  run_once
  exit $?
fi
while :; do
  run_once || true
  sleep "$UPKEEP_EVERY_SECONDS"
done
