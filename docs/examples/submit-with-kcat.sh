#!/usr/bin/env bash
# Submit a consultation on the ingress topic from the command line, with kcat and openssl only.
#
#   TOKEN=<agency id>.<secret> BOOTSTRAP=127.0.0.1:9092 docs/examples/submit-with-kcat.sh
#
# The record is signed with the agency's secret: header `signature` = hex HMAC-SHA256 of "<ce_id>\n<value>".
# This example sends an anonymous consultation, so there is no personal part to seal; to include one,
# seal it to intake's public key with a libsodium binding (see the Python example in the README).
# It prints the ce_id; intake answers with ConsultationReceived, or SubmissionRejected keyed by your agency.
set -euo pipefail
: "${TOKEN:?set TOKEN to your agency token}"
BOOTSTRAP=${BOOTSTRAP:-127.0.0.1:9092}
AGENCY=${TOKEN%%.*}
SECRET=${TOKEN#*.}
CE_ID=$(cat /proc/sys/kernel/random/uuid)
VALUE=$(printf '{"receiving_agency":"%s","staff_id":"kcat-1","channel":"phone","district":"%s","domains":["elderly"],"urgency":"normal"}' \
        "$AGENCY" "${DISTRICT:-katase}")
SIGNATURE=$(printf '%s\n%s' "$CE_ID" "$VALUE" | openssl dgst -sha256 -hmac "$SECRET" -hex | awk '{print $NF}')

printf '%s\n' "$VALUE" | kcat -P -b "$BOOTSTRAP" -t intake.submissions.v1 -k "$AGENCY" \
  -H "ce_id=$CE_ID" -H "ce_type=jp.fujisawa.welfare.intake.consultation.submitted.v1" \
  -H "ce_source=/agencies/$AGENCY" -H "ce_specversion=1.0" -H "content-type=application/json" \
  -H "agency=$AGENCY" -H "signature=$SIGNATURE"
echo "$CE_ID"
