#!/usr/bin/env bash
# Installs the real services the test suite runs against, from Debian's packages, when missing:
# mosquitto (broker), influxdb 1.6 (influxd), chromium (dashboard tests), poppler-utils (PDF check),
# openssl (certificates of the mutual-TLS tests), stress-ng (a CPU hog to run the suite under load:
# `stress-ng --cpu 2 --timeout 600 & make test`), prometheus (its promtool checks and unit-tests the
# exported alerting rules: tests/alerts/test_prometheus_rules.py).
# Needs root or sudo only when something is missing.
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v influxd   >/dev/null 2>&1 || [ -x /usr/bin/influxd ]    || need+=(influxdb)
command -v chromium  >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm  >/dev/null 2>&1 || need+=(poppler-utils)
command -v openssl   >/dev/null 2>&1 || need+=(openssl)
command -v stress-ng >/dev/null 2>&1 || need+=(stress-ng)
command -v promtool  >/dev/null 2>&1 || need+=(prometheus)
if [ ${#need[@]} -eq 0 ]; then
  echo "test services present: mosquitto influxd chromium pdftoppm openssl stress-ng promtool"
  exit 0
fi
echo "installing missing test services: ${need[*]}"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
  echo "error: ${need[*]} missing and neither root nor sudo available to install them" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian's packages may try to start system services; the tests run their own processes.
echo "installed: ${need[*]}"
