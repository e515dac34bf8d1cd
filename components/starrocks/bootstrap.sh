#!/bin/bash
# StarRocks bootstrap, idempotent: root password, compute nodes, then the SQL files of sql/starrocks
# with ${VARS} filled from this task's environment (credentials stay out of the files).
set -euo pipefail
q() { mysql -h "$FE_HOST" -P 9030 -uroot --connect-timeout=5 "$@"; }
works() { MYSQL_PWD="$1" q -e "SELECT 1" >/dev/null 2>&1; }
# Root's password is FE metadata, replicated to every FE (followers and observers added later
# replay it): setting it once on the cluster sets it everywhere.
# It is, in order: already the current one; the one being rotated away from
# (rtdw:starrocksRootPasswordPrevious); or empty on a fresh FE. The latter two are replaced.
previous="${STARROCKS_ROOT_PASSWORD_PREVIOUS:-}"
n=0
while :; do
  if works "$STARROCKS_ROOT_PASSWORD"; then break; fi
  if [ -n "$previous" ] && works "$previous"; then
    MYSQL_PWD="$previous" q -e "SET PASSWORD FOR 'root' = PASSWORD('$STARROCKS_ROOT_PASSWORD')"
    echo "root password rotated; remove rtdw:starrocksRootPasswordPrevious"
    continue
  fi
  if works ""; then
    MYSQL_PWD="" q -e "SET PASSWORD FOR 'root' = PASSWORD('$STARROCKS_ROOT_PASSWORD')"
    continue
  fi
  n=$((n + 1))
  if [ "$n" -ge "${LOGIN_ATTEMPTS:-150}" ]; then
    echo "StarRocks FE at $FE_HOST:9030: root could not log in within 5 minutes with the current password, ${previous:+the previous one (rtdw:starrocksRootPasswordPrevious), }or an empty one (a fresh FE); if the password was changed outside the stack, set the one in use as rtdw:starrocksRootPasswordPrevious" >&2
    exit 1
  fi
  sleep 2
done
export MYSQL_PWD="$STARROCKS_ROOT_PASSWORD"
for cn in $COMPUTE_NODES; do
  q -e "ALTER SYSTEM ADD COMPUTE NODE '$cn:9050'" 2>&1 | grep -v -i "already exists\|Same backend" || true
done
for f in "${SQL_DIR:-/task/sql}"/*.sql; do
  perl -pe 's/\$\{(\w+)\}/exists $ENV{$1} ? $ENV{$1} : die "$ARGV: \${$1} is not set\n"/ge' "$f" | q --default-character-set=utf8mb4
done
echo "StarRocks bootstrap done: $(q -N -e 'SHOW COMPUTE NODES' | wc -l) compute node(s)"
