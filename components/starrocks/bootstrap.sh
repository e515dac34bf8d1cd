#!/bin/bash
# StarRocks bootstrap, idempotent: root password, compute nodes, then the SQL files of sql/starrocks
# with ${VARS} filled from this task's environment (credentials stay out of the files).
set -euo pipefail
q() { mysql -h "$FE_HOST" -P 9030 -uroot --connect-timeout=5 "$@"; }
n=0
until MYSQL_PWD="$STARROCKS_ROOT_PASSWORD" q -e "SELECT 1" >/dev/null 2>&1 || MYSQL_PWD="" q -e "SELECT 1" >/dev/null 2>&1; do
  n=$((n + 1)); [ "$n" -lt 150 ] || { echo "StarRocks FE at $FE_HOST:9030 did not answer within 5 minutes" >&2; exit 1; }; sleep 2
done
# A fresh FE has an empty root password: replace it before anything else.
if MYSQL_PWD="" q -e "SELECT 1" >/dev/null 2>&1; then
  MYSQL_PWD="" q -e "SET PASSWORD FOR 'root' = PASSWORD('$STARROCKS_ROOT_PASSWORD')"
fi
export MYSQL_PWD="$STARROCKS_ROOT_PASSWORD"
for cn in $COMPUTE_NODES; do
  q -e "ALTER SYSTEM ADD COMPUTE NODE '$cn:9050'" 2>&1 | grep -v -i "already exists\|Same backend" || true
done
for f in /task/sql/*.sql; do
  perl -pe 's/\$\{(\w+)\}/exists $ENV{$1} ? $ENV{$1} : die "$ARGV: \${$1} is not set\n"/ge' "$f" | q --default-character-set=utf8mb4
done
echo "StarRocks bootstrap done: $(q -N -e 'SHOW COMPUTE NODES' | wc -l) compute node(s)"
