#!/usr/bin/env bash
# Sets a stack's secret config from the CI secret store (environment variables), so no secret value
# is ever committed: SOURCE_PASSWORD -> rtdw:sourcePassword, ALERT_WEBHOOKS -> rtdw:alertWebhooks.
# Values go through stdin, never the command line. A variable that is unset is left alone.
set -euo pipefail
stack="${1:?usage: ci-stack-secrets.sh <stack>}"
cd "$(dirname "$0")/.."
set_secret() {
  local key="$1" value="$2"
  [ -n "$value" ] || return 0
  printf '%s' "$value" | npm run -s pulumi -- config set --secret "rtdw:$key" --stack "$stack"
}
set_secret sourcePassword "${SOURCE_PASSWORD:-}"
set_secret alertWebhooks "${ALERT_WEBHOOKS:-}"
