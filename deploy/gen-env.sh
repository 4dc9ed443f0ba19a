#!/bin/sh
# Write a .env for docker-compose.yml with a fresh random value for every secret of .env.example,
# and one admin API key, printed once (only its SHA-256 is stored).
#
#   sh deploy/gen-env.sh [FILE]        (default FILE: .env next to docker-compose.yml)
#
# Refuses to overwrite an existing file: secrets already in use (InfluxDB's and the broker's
# passwords) must be changed deliberately, service by service (docs/deployment.md).
set -eu

out="${1:-$(dirname "$0")/../.env}"
if [ -e "$out" ]; then
    echo "gen-env: $out exists; not overwriting it" >&2
    exit 1
fi

random_secret() {
    # 32 random bytes as hex: no character that needs quoting in .env, YAML or a password file
    od -An -tx1 -N32 /dev/urandom | tr -d ' \n'
}

api_key="va_$(random_secret)"
api_hash="$(printf '%s' "$api_key" | sha256sum | cut -d ' ' -f 1)"

umask 077
{
    echo "# written by deploy/gen-env.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ); see .env.example"
    for name in INFLUXDB_ADMIN_PASSWORD INFLUXDB_USER_PASSWORD INFLUXDB_READ_USER_PASSWORD GRAFANA_ADMIN_PASSWORD \
        MQTT_PASSWORD_GW_HOPITAL_NORD MQTT_PASSWORD_GW_CITADELLE MQTT_PASSWORD_GW_SAINT_LEU \
        MQTT_PASSWORD_GW_GARE_LA_VALLEE MQTT_PASSWORD_INGEST_1 MQTT_PASSWORD_INGEST_2 MQTT_PASSWORD_API \
        MQTT_PASSWORD_ALERTS MQTT_PASSWORD_ALARMS_READER MQTT_PASSWORD_SIMULATORS ALERTS_WEBHOOK_SECRET \
        ALERTS_SMTP_PASSWORD; do
        echo "$name=$(random_secret)"
    done
    echo "VA_API_KEYS='[{name: admin, role: admin, sha256: $api_hash}]'"
} >"$out"

echo "wrote $out (mode 0600)"
echo "admin API key, shown once (store it in your password manager): $api_key"
