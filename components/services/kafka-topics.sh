#!/bin/bash
# Converges the declared topics (/task/topics.txt: name partitions retention.ms cleanup.policy).
# Creates missing ones; partitions only grow (Kafka cannot shrink them); configs are set every run.
set -euo pipefail
umask 077
cfg=$(mktemp)
trap 'rm -f "$cfg"' EXIT
printf '%s\n' "security.protocol=${ADMIN_SECURITY_PROTOCOL:-SASL_PLAINTEXT}" "sasl.mechanism=PLAIN" \
  "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"${KAFKA_ADMIN_PASSWORD}\";" > "$cfg"
if [ -n "${ADMIN_TRUSTSTORE_PEM_FILE:-}" ]; then
  printf '%s\n' "ssl.truststore.type=PEM" "ssl.truststore.location=$ADMIN_TRUSTSTORE_PEM_FILE" >> "$cfg"
fi
bin=${KAFKA_BIN:-/opt/kafka/bin}
topics() { "$bin/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" --command-config "$cfg" "$@"; }
n=0
until topics --list >/dev/null 2>&1; do
  n=$((n + 1))
  [ "$n" -lt 90 ] || { echo "Kafka at $BOOTSTRAP did not answer within 3 minutes" >&2; exit 1; }
  sleep 2
done
while read -r topic partitions retention policy; do
  [ -n "$topic" ] || continue
  current=$(topics --describe --topic "$topic" 2>/dev/null | sed -n 's/.*PartitionCount: *\([0-9]*\).*/\1/p' | head -1 || true)  # a missing topic makes --describe fail
  if [ -z "$current" ]; then
    topics --create --topic "$topic" --partitions "$partitions" --replication-factor "$REPLICATION_FACTOR" \
      --config "retention.ms=$retention" --config "cleanup.policy=$policy"
    continue
  fi
  if [ "$partitions" -gt "$current" ]; then
    topics --alter --topic "$topic" --partitions "$partitions"
  elif [ "$partitions" -lt "$current" ]; then
    echo "topic $topic has $current partitions; Kafka cannot shrink it to $partitions (left as is)" >&2
  fi
  "$bin/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP" --command-config "$cfg" --alter --entity-type topics \
    --entity-name "$topic" --add-config "retention.ms=$retention,cleanup.policy=$policy"
done < "${TOPICS_FILE:-/task/topics.txt}"
echo "topics converged"
