#!/bin/sh
# Starts one Kafka node: the shared server.properties plus this node's id, listeners and keystore.
# The keystore password comes from a Compose secret and is written only into the container's /tmp.
set -eu
: "${NODE_ID:?NODE_ID is required}" "${CLUSTER_ID:?CLUSTER_ID is required (see .env.example)}"
umask 077
config=/tmp/server.properties
password=$(cat /run/secrets/kafka_keystore_password)
cp /etc/backbone/kafka/server.properties "$config"
cat >>"$config" <<PROPERTIES
node.id=${NODE_ID}
advertised.listeners=CLIENT://kafka-${NODE_ID}:9092,INTERNAL://kafka-${NODE_ID}:9094
ssl.keystore.location=/run/secrets/kafka_keystore
ssl.keystore.password=${password}
ssl.key.password=${password}
PROPERTIES
# The health check (compose.yaml) talks to this node as itself over the INTERNAL listener.
cat >/tmp/client.properties <<PROPERTIES
security.protocol=SSL
ssl.truststore.type=PEM
ssl.truststore.location=/run/secrets/kafka_ca
ssl.keystore.type=PKCS12
ssl.keystore.location=/run/secrets/kafka_keystore
ssl.keystore.password=${password}
PROPERTIES
# Formats the log directory on first start only; a formatted one is left as it is.
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$CLUSTER_ID" --config "$config"
exec /opt/kafka/bin/kafka-server-start.sh "$config"
