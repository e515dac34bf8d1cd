#!/bin/bash
# StarRocks bootstrap, idempotent: root password, compute nodes (registered and alive before any
# query), the SQL files of sql/starrocks with ${VARS} filled from this task's environment (credentials
# stay out of the files), then a read through each thing the FE accepts without looking at it.
# `bootstrap.sh lake-check` runs after the jobs created the lake: the catalog must list its tables.
#
# What a StarRocks 3.3 FE answers, and so what this script may rely on
# (../shared/reference/starrocks-fe-observed.md, tests/contracts/starrocks-fe):
# - any SELECT, even `SELECT 1`, fails with "Backend node not found" until a compute node is alive:
#   logins are checked with SHOW FRONTENDS, which the FE answers alone;
# - CREATE TABLE fails with no compute node: nodes are registered and awaited first;
# - `CREATE EXTERNAL CATALOG IF NOT EXISTS` / `DROP CATALOG IF EXISTS` are syntax errors on early 3.3
#   builds: SHOW CATALOGS decides;
# - storage volumes and catalogs are accepted without contacting the object store: each is read after.
set -euo pipefail
q() { mysql -h "$FE_HOST" -P 9030 -uroot --connect-timeout=5 "$@"; }
works() { MYSQL_PWD="$1" q -N -e "SHOW FRONTENDS" >/dev/null 2>&1; }
fail() { echo "StarRocks bootstrap: $*" >&2; exit 1; }

# Column $1 of every row of a SHOW statement's batch output (header line names the columns).
col_of() {
  awk -F'\t' -v want="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == want) c = i; if (!c) exit 2; next } { print $c }'
}

login() {
  # Root's password is FE metadata, replicated to every FE (followers and observers added later
  # replay it): setting it once on the cluster sets it everywhere.
  # It is, in order: already the current one; the one being rotated away from
  # (rtdw:starrocksRootPasswordPrevious); or empty on a fresh FE. The latter two are replaced.
  local previous="${STARROCKS_ROOT_PASSWORD_PREVIOUS:-}" n=0
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
    sleep "${RETRY_SECONDS:-2}"
  done
  export MYSQL_PWD="$STARROCKS_ROOT_PASSWORD"
}

compute_nodes() {
  local listed cn alive missing deadline
  listed=$(q -B -e "SHOW COMPUTE NODES" | col_of IP) || fail "SHOW COMPUTE NODES has no IP column"
  for cn in $COMPUTE_NODES; do
    # A node's entrypoint may have registered it already; adding it again is an error, not a no-op.
    grep -qxF "$cn" <<<"$listed" || q -e "ALTER SYSTEM ADD COMPUTE NODE '$cn:9050'"
  done
  deadline=$(($(date +%s) + ${CN_WAIT_SECONDS:-600}))
  while :; do
    alive=$(q -B -e "SHOW COMPUTE NODES" | awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "IP") ip = i; if ($i == "Alive") a = i }; next } $a == "true" { print $ip }')
    missing=""
    for cn in $COMPUTE_NODES; do grep -qxF "$cn" <<<"$alive" || missing="$missing $cn"; done
    [ -z "$missing" ] && break
    [ "$(date +%s)" -lt "$deadline" ] || fail "compute node(s)$missing registered but not alive after ${CN_WAIT_SECONDS:-600} s (SHOW COMPUTE NODES: Alive=false); tables need live compute nodes"
    sleep "${RETRY_SECONDS:-2}"
  done
}

run_sql_files() {
  local f catalog catalogs
  for f in "${SQL_DIR:-/task/sql}"/*.sql; do
    # A catalog's properties (endpoint, keys) can only be set by creating it: the one there is replaced.
    # Dropping an external catalog touches no data.
    for catalog in $(sed -n 's/^CREATE EXTERNAL CATALOG \([A-Za-z0-9_]*\).*/\1/p' "$f"); do
      catalogs=$(q -B -e "SHOW CATALOGS" | col_of Catalog)
      if grep -qxF "$catalog" <<<"$catalogs"; then q -e "DROP CATALOG $catalog"; fi
    done
    # Comment lines are dropped before ${NAME}s are filled: a comment may name a variable.
    perl -ne 'next if /^\s*--/; s/\$\{(\w+)\}/exists $ENV{$1} ? $ENV{$1} : die "$ARGV: \${$1} is not set\n"/ge; print' "$f" | q --default-character-set=utf8mb4 ||
      fail "$(basename "$f") failed (the statement is in the message above)"
  done
}

# The FE accepted the storage volume without looking at it: a table on it is written and read back,
# so a wrong endpoint, bucket or key fails this task instead of the first load.
check_storage_volume() {
  local out
  out=$(q -N -e "CREATE DATABASE IF NOT EXISTS rtdw_meta;
CREATE TABLE IF NOT EXISTS rtdw_meta.volume_check (id INT NOT NULL, checked_at DATETIME) PRIMARY KEY (id) DISTRIBUTED BY HASH (id) BUCKETS 1;
INSERT INTO rtdw_meta.volume_check VALUES (1, now());
SELECT count(*) FROM rtdw_meta.volume_check WHERE id = 1;" 2>&1) ||
    fail "the default storage volume (s3://$STARROCKS_BUCKET/ at $S3_ENDPOINT) could not be written and read back: $out"
  [ "$(tail -1 <<<"$out")" = "1" ] || fail "the default storage volume (s3://$STARROCKS_BUCKET/ at $S3_ENDPOINT) read back $(tail -1 <<<"$out") rows instead of 1"
}

# Listing the catalog's databases reads the warehouse path on the object store.
check_catalog_reads() {
  q -N -e "SHOW DATABASES FROM paimon" 2>&1 || fail "the Paimon catalog cannot list its warehouse $PAIMON_WAREHOUSE at $S3_ENDPOINT (above)"
}

# After the jobs created the lake: every lake table is listed through the catalog. A catalog on a
# path the jobs do not write lists nothing, and would fail every StarRocks query on the lake.
lake_check() {
  local deadline missing db table dbs tables
  deadline=$(($(date +%s) + ${LAKE_WAIT_SECONDS:-300}))
  while :; do
    missing=""
    dbs=$(q -N -e "SHOW DATABASES FROM paimon" 2>&1) || dbs=""
    for table in $LAKE_TABLES; do
      db=${table%%.*}
      if ! grep -qxF "$db" <<<"$dbs"; then missing="$missing $table"; continue; fi
      tables=$(q -N -e "SHOW TABLES FROM paimon.$db" 2>/dev/null || true)
      grep -qxF "${table#*.}" <<<"$tables" || missing="$missing $table"
    done
    [ -z "$missing" ] && break
    [ "$(date +%s)" -lt "$deadline" ] || fail "the Paimon catalog (warehouse $PAIMON_WAREHOUSE) does not list$missing after ${LAKE_WAIT_SECONDS:-300} s; it lists databases: $(tr '\n' ' ' <<<"$dbs")"
    sleep "${RETRY_SECONDS:-2}"
  done
  echo "StarRocks sees the lake: $(wc -w <<<"$LAKE_TABLES") table(s) under $PAIMON_WAREHOUSE"
}

login
if [ "${1:-}" = "lake-check" ]; then
  lake_check
  exit 0
fi
compute_nodes
run_sql_files
check_storage_volume
check_catalog_reads >/dev/null
echo "StarRocks bootstrap done: $(wc -w <<<"$COMPUTE_NODES") compute node(s) alive, storage volume written and read, catalog reads $PAIMON_WAREHOUSE"
