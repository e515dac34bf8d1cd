#!/bin/bash
# Registers the stack's Flink home and session cluster in StreamPark, once: sign in as admin (the
# generated password), then create the Flink environment and the remote cluster if they are missing.
set -euo pipefail
api="$STREAMPARK_URL"
n=0
until curl -fsS -o /dev/null "$api"; do
  n=$((n + 1)); [ "$n" -lt 90 ] || { echo "StreamPark at $api did not answer within 3 minutes" >&2; exit 1; }; sleep 2
done
token=$(curl -fsS -X POST "$api/passport/signin" --data-urlencode "username=admin" \
  --data-urlencode "password=$STREAMPARK_ADMIN_PASSWORD" --data-urlencode "loginType=PASSWORD" \
  | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || { echo "StreamPark sign-in as admin failed" >&2; exit 1; }
call() { local path="$1"; shift; curl -fsS -X POST -H "Authorization: $token" "$api/$path" "$@"; }

if ! call flink/env/list | grep -q "\"flinkName\":\"$FLINK_NAME\""; then
  call flink/env/create --data-urlencode "flinkName=$FLINK_NAME" --data-urlencode "flinkHome=/opt/flink" \
    --data-urlencode "description=the stack's Flink image" >/dev/null
fi
version_id=$(call flink/env/list | sed -n "s/.*\"id\":\([0-9]*\),[^}]*\"flinkName\":\"$FLINK_NAME\".*/\1/p" | head -1)
[ -n "$version_id" ] || { echo "Flink environment $FLINK_NAME not found after creating it" >&2; exit 1; }
if ! call flink/cluster/list | grep -q "\"clusterName\":\"$CLUSTER_NAME\""; then
  call flink/cluster/create --data-urlencode "clusterName=$CLUSTER_NAME" --data-urlencode "executionMode=1" \
    --data-urlencode "address=$FLINK_REST_URL" --data-urlencode "versionId=$version_id" >/dev/null
fi
echo "StreamPark: Flink environment $FLINK_NAME and cluster $CLUSTER_NAME registered"
