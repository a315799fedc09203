#!/bin/sh
# Runs once, when the PostgreSQL data volume is new: one role and one database per service and for the
# workbench, each password from the environment (deploy/compose/.env). No service can reach another's
# database.
set -eu
for service in intake referral meetings notify audit workbench; do
    variable="PG_PASSWORD_$(echo "$service" | tr '[:lower:]' '[:upper:]')"
    eval "password=\${$variable:?$variable is required}"
    # shellcheck disable=SC2154 # set by the eval above
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -v name="$service" -v password="$password" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
done
