#!/usr/bin/env bash
# Makes the certificates the Compose installation's Kafka nodes use, into deploy/compose/certs/
# (ignored by git; keep a copy of ca.key somewhere safe and offline):
#   ca.crt                 the installation's own CA; services and agencies trust it
#   kafka-{1,2,3}.p12      each node's key and certificate (CN and DNS name kafka-N), PKCS#12
#   kafka-admin.p12        the super user certificate kafka-init uses over the mTLS listener
# The PKCS#12 files are protected with KAFKA_KEYSTORE_PASSWORD from deploy/compose/.env.
#
#   deploy/compose/make-certs.sh            (needs openssl)
#
# ASSUMPTION: a self-run CA is enough for one installation. Where the city has its own PKI, put its
# CA certificate in ca.crt and node certificates with the same names and subjects in the .p12 files.
set -euo pipefail
cd "$(dirname "$0")"
set -a
# shellcheck source=/dev/null
. ./.env
set +a
: "${KAFKA_KEYSTORE_PASSWORD:?set KAFKA_KEYSTORE_PASSWORD in deploy/compose/.env}"
mkdir -p certs
cd certs
umask 077
days=825  # the longest validity clients commonly accept for a server certificate

if [ ! -f ca.key ]; then
    openssl req -x509 -newkey rsa:3072 -sha256 -nodes -days 3650 -subj "/CN=fujisawa-backbone-kafka-ca" \
        -keyout ca.key -out ca.crt
fi
for name in kafka-1 kafka-2 kafka-3 kafka-admin; do
    [ -f "$name.p12" ] && continue
    openssl req -newkey rsa:3072 -sha256 -nodes -subj "/CN=$name" -keyout "$name.key" -out "$name.csr"
    openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" -sha256 \
        -extfile <(printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$name") -out "$name.crt"
    openssl pkcs12 -export -in "$name.crt" -inkey "$name.key" -certfile ca.crt -name "$name" \
        -passout env:KAFKA_KEYSTORE_PASSWORD -out "$name.p12"
    rm -f "$name.csr" "$name.key"
done
# The containers run as other users than the one running this script; the files are read-only to them.
chmod 0644 ca.crt ./*.p12
echo "certificates in $(pwd)"
