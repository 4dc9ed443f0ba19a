#!/bin/sh
# Entrypoint of the broker container: build Mosquitto's password file from environment secrets,
# then run the broker (the container's command).
#
#   MOSQUITTO_USERS   space-separated USER=VARIABLE pairs: the password of USER is the value of the
#                     environment variable VARIABLE, e.g.
#                     "gw-saint-leu=MQTT_PASSWORD_GW_SAINT_LEU va-ingest-1=MQTT_PASSWORD_INGEST_1"
#   MOSQUITTO_RUN_DIR where the password file and the ACL copy go (default /mosquitto/run)
#   MOSQUITTO_ACL     the ACL to install (default /mosquitto/config/acl)
#
# A missing or empty password stops the container with a message naming the variable. The files
# are private (0600) to the broker's user; the secrets are removed from the environment of the
# broker process. A "va-healthcheck" user with a random password serves the container health check.
set -eu

fail() {
    echo "mosquitto entrypoint: $*" >&2
    exit 1
}

[ -n "${MOSQUITTO_USERS:-}" ] || fail "MOSQUITTO_USERS is empty: list USER=VARIABLE pairs (see .env.example)"
run_dir="${MOSQUITTO_RUN_DIR:-/mosquitto/run}"
acl_source="${MOSQUITTO_ACL:-/mosquitto/config/acl}"
[ -r "$acl_source" ] || fail "cannot read the ACL $acl_source"

umask 077
mkdir -p "$run_dir"
chmod 0700 "$run_dir"
passwd_file="$run_dir/passwd"
tmp_file="$run_dir/passwd.new"
: >"$tmp_file"

seen=" "
for entry in $MOSQUITTO_USERS; do
    user="${entry%%=*}"
    var="${entry#*=}"
    [ "$user" != "$entry" ] || fail "'$entry' in MOSQUITTO_USERS is not USER=VARIABLE"
    case "$user" in
        "" | *[!a-z0-9_-]*) fail "user name '$user' must be a lower-case id (a-z, 0-9, '-', '_')" ;;
    esac
    case "$var" in
        "" | [0-9]* | *[!A-Za-z0-9_]*) fail "'$var' (for user $user) is not a variable name" ;;
    esac
    case "$seen" in
        *" $user "*) fail "user $user is listed twice in MOSQUITTO_USERS" ;;
    esac
    seen="$seen$user "
    secret="$(printenv "$var" || true)"
    [ -n "$secret" ] || fail "$var (password of MQTT user $user) is not set"
    case "$secret" in
        *:*) fail "$var (password of MQTT user $user) contains ':', which Mosquitto's password file cannot hold" ;;
    esac
    printf '%s:%s\n' "$user" "$secret" >>"$tmp_file"
    unset "$var" || true
done

# the health check's own user: a fresh random password at every start, readable by root only
health_secret="$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
printf 'va-healthcheck:%s\n' "$health_secret" >>"$tmp_file"
printf '%s\n' "$health_secret" >"$run_dir/healthcheck.secret"
unset health_secret secret

mosquitto_passwd -U "$tmp_file"
mv -f "$tmp_file" "$passwd_file"
cp "$acl_source" "$run_dir/acl"
chmod 0600 "$passwd_file" "$run_dir/acl"

if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
    # the broker drops root for user mosquitto and re-reads these files on SIGHUP
    chown mosquitto:mosquitto "$run_dir" "$passwd_file" "$run_dir/acl"
fi

unset MOSQUITTO_USERS
exec "$@"
