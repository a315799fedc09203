#!/bin/sh
# Runs once after the brokers are healthy: creates the topics (kafka/topics.txt), sets the services'
# SCRAM passwords (from the environment) and adds the ACLs (kafka/acls.txt). Safe to run again:
# existing topics are kept, passwords are replaced, existing ACLs are added again as no-ops.
#
# Agencies' passwords are not set here: the operators issue them one by one (docs/runbook.md,
# "Rotate an agency's credentials"). Their ACLs exist from the start.
set -eu
umask 077
bin=/opt/kafka/bin
here=/etc/backbone/kafka
bootstrap=kafka-1:9094,kafka-2:9094,kafka-3:9094
admin=/tmp/admin.properties
password=$(cat /run/secrets/kafka_keystore_password)
cat >"$admin" <<PROPERTIES
security.protocol=SSL
ssl.truststore.type=PEM
ssl.truststore.location=/run/secrets/kafka_ca
ssl.keystore.type=PKCS12
ssl.keystore.location=/run/secrets/kafka_admin_keystore
ssl.keystore.password=${password}
PROPERTIES

grep -v '^#' "$here/topics.txt" | while read -r name partitions configs; do
    set -- --topic "$name" --partitions "$partitions" --replication-factor 3
    for config in $(echo "$configs" | tr ',' ' '); do set -- "$@" --config "$config"; done
    "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --command-config "$admin" --create --if-not-exists "$@"
done

for service in intake referral meetings notify audit; do
    variable="KAFKA_PASSWORD_$(echo "$service" | tr '[:lower:]' '[:upper:]')"
    eval "secret=\${$variable:?$variable is required}"
    # shellcheck disable=SC2154 # set by the eval above
    "$bin/kafka-configs.sh" --bootstrap-server "$bootstrap" --command-config "$admin" --alter \
        --entity-type users --entity-name "svc-$service" --add-config "SCRAM-SHA-512=[password=$secret]"
done

grep -v '^#' "$here/acls.txt" | while read -r kind resource operations principals; do
    set -- "--$kind" "$resource" --resource-pattern-type literal
    for operation in $(echo "$operations" | tr ',' ' '); do set -- "$@" --operation "$operation"; done
    for principal in $principals; do set -- "$@" --allow-principal "User:$principal"; done
    "$bin/kafka-acls.sh" --bootstrap-server "$bootstrap" --command-config "$admin" --add --force "$@" >/dev/null
done
echo "kafka-init: topics, service principals and ACLs are in place"
