#!/bin/bash
# Converges Kafka's users and ACLs to the declared ones (components/pipelines/kafkaAccess.ts).
#   ACCESS_FILE (default /task/access.txt): `user <name>` and
#     `allow <user> <topic|group|transactional-id|cluster> <literal|prefixed> <name> <Operation>` lines
#   KAFKA_USER_PASSWORDS: `<name> <password>` lines, one per declared user (secret)
# Each declared user gets its SCRAM-SHA-512 credential (set every run: same password, fresh salt);
# missing ACLs are added before stale ones are removed, so a running client never loses a right it
# keeps; a SCRAM user no longer declared (but admin) loses its credential and every ACL.
# Talks to the internal listener as the super user (SASL/PLAIN; TLS where ADMIN_SECURITY_PROTOCOL says so).
set -euo pipefail
set -f  # no globbing: `*` is an ACL wildcard here, never a file name
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cfg=$work/admin.properties
printf '%s\n' "security.protocol=${ADMIN_SECURITY_PROTOCOL:-SASL_PLAINTEXT}" "sasl.mechanism=PLAIN" \
  "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"${KAFKA_ADMIN_PASSWORD}\";" > "$cfg"
if [ -n "${ADMIN_TRUSTSTORE_PEM_FILE:-}" ]; then
  printf '%s\n' "ssl.truststore.type=PEM" "ssl.truststore.location=$ADMIN_TRUSTSTORE_PEM_FILE" >> "$cfg"
fi
bin=${KAFKA_BIN:-/opt/kafka/bin}
access=${ACCESS_FILE:-/task/access.txt}
configs() { "$bin/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP" --command-config "$cfg" "$@"; }
acls() { "$bin/kafka-acls.sh" --bootstrap-server "$BOOTSTRAP" --command-config "$cfg" "$@"; }

n=0
until configs --describe --entity-type users >/dev/null 2>&1; do
  n=$((n + 1))
  [ "$n" -lt 90 ] || { echo "Kafka at $BOOTSTRAP did not answer within 3 minutes" >&2; exit 1; }
  sleep 2
done

# The resource flags of kafka-acls for one type and several names: --topic a --topic b ..., --cluster.
resource_args() {
  local rtype=$1 ptype=$2; shift 2
  case "$rtype" in
    TOPIC) for n in "$@"; do printf -- '--topic %s ' "$n"; done ;;
    GROUP) for n in "$@"; do printf -- '--group %s ' "$n"; done ;;
    TRANSACTIONAL_ID) for n in "$@"; do printf -- '--transactional-id %s ' "$n"; done ;;
    CLUSTER) printf -- '--cluster ' ;;
    *) echo "unknown resource type $rtype" >&2; return 1 ;;
  esac
  [ "$rtype" = CLUSTER ] || printf -- '--resource-pattern-type %s' "$(echo "$ptype" | tr 'A-Z' 'a-z')"
}
# DESCRIBE_CONFIGS (as --list prints it) -> DescribeConfigs (as --operation takes it).
pascal() { echo "$1" | awk -F_ '{ s = ""; for (i = 1; i <= NF; i++) s = s toupper(substr($i, 1, 1)) tolower(substr($i, 2)); print s }'; }
# Canonical key of one ACL: user TYPE PATTERN name OPERATION, as kafka-acls --list prints them.
key() { printf '%s %s %s %s %s\n' "$1" "$(echo "$2" | tr 'a-z-' 'A-Z_')" "$(echo "$3" | tr 'a-z' 'A-Z')" "$4" "$(echo "$5" | sed 's/\([a-z]\)\([A-Z]\)/\1_\2/g' | tr 'a-z' 'A-Z')"; }
# Applies keys (stdin) with `kafka-acls $1`, one call per user, operation and resource type.
apply() {
  awk '{ g = $1 " " $2 " " $3 " " $5; names[g] = names[g] " " $4 } END { for (g in names) print g names[g] }' |
    while read -r user rtype ptype op names; do
      # shellcheck disable=SC2046,SC2086  # the flags are words by design; names are [A-Za-z0-9._*-]
      acls "$1" --force --allow-principal "User:$user" --operation "$(pascal "$op")" $(resource_args "$rtype" "$ptype" $names) >/dev/null
      for n in $names; do echo "${2:-} ACL: $user $rtype $ptype $n $op"; done
    done
}
# Every ALLOW ACL on the broker of a principal other than admin, as keys.
current_acls() {
  acls --list | awk '
    /^Current ACLs for resource/ {
      match($0, /resourceType=[A-Z_]+/); rt = substr($0, RSTART + 13, RLENGTH - 13)
      match($0, /name=[^,]+/); nm = substr($0, RSTART + 5, RLENGTH - 5)
      match($0, /patternType=[A-Z]+/); pt = substr($0, RSTART + 12, RLENGTH - 12)
      next
    }
    /principal=User:/ {
      match($0, /principal=User:[^,]+/); u = substr($0, RSTART + 15, RLENGTH - 15)
      match($0, /operation=[A-Z_]+/); op = substr($0, RSTART + 10, RLENGTH - 10)
      match($0, /permissionType=[A-Z]+/); perm = substr($0, RSTART + 15, RLENGTH - 15)
      if (perm == "ALLOW" && u != "admin") print u, rt, pt, nm, op
    }' | sort -u
}

grep '^user ' "$access" | awk '{print $2}' | sort -u > "$work/users"
: > "$work/desired"
while read -r kind user rtype ptype name op; do
  [ "$kind" = allow ] || continue
  grep -qx "$user" "$work/users" || { echo "$access: ACL for undeclared user $user" >&2; exit 1; }
  key "$user" "$rtype" "$ptype" "$name" "$op" >> "$work/desired"
done < "$access"
sort -u "$work/desired" -o "$work/desired"
current_acls > "$work/actual"
# Missing rights first, so that a running client never loses one it keeps.
comm -13 "$work/actual" "$work/desired" | apply --add added

# kafka-configs takes a SCRAM credential only as --add-config (its --add-config-file rejects the
# key), so the password is an argument of this short-lived process; its errors are shown redacted.
while read -r user; do
  pw=$(printf '%s\n' "$KAFKA_USER_PASSWORDS" | awk -v u="$user" '$1 == u {print $2}')
  [ -n "$pw" ] || { echo "no password given for Kafka user $user" >&2; exit 1; }
  if ! configs --alter --entity-type users --entity-name "$user" --add-config "SCRAM-SHA-512=[iterations=8192,password=$pw]" >/dev/null 2>"$work/err"; then
    echo "setting the SCRAM credential of Kafka user $user failed:" >&2
    sed "s/$pw/<redacted>/g" "$work/err" >&2
    exit 1
  fi
done < "$work/users"

# Users holding a SCRAM credential now; those no longer declared lose it.
configs --describe --entity-type users | sed -n "s/^SCRAM credential configs for user-principal '\([^']*\)'.*/\1/p" | sort -u > "$work/scram-users"
while read -r user; do
  [ "$user" = admin ] && continue
  grep -qx "$user" "$work/users" && continue
  configs --alter --entity-type users --entity-name "$user" --delete-config SCRAM-SHA-512 >/dev/null
  echo "Kafka user $user is no longer declared: its credential is removed"
done < "$work/scram-users"

# Every right not declared now goes: of declared users and of removed ones alike.
comm -23 "$work/actual" "$work/desired" | apply --remove removed
echo "Kafka access converged: $(wc -l < "$work/users") users, $(wc -l < "$work/desired") ACLs"
