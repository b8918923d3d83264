#!/bin/sh
# Debian packages the integration and browser tests need: a real WordPress
# (php's built-in server + MariaDB) and headless Chromium. Installs only what
# is missing, and only as root; otherwise says which tests will be skipped.
set -eu
PACKAGES="wordpress php-cli php-mysql wordpress-theme-twentytwentyone wordpress-theme-twentytwentythree chromium chromium-driver"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "missing Debian packages:$missing (WordPress and browser tests will be skipped; install them as root)"
  fi
fi
# The local database servers and Redis the tests use: start them if they are stopped.
if [ "$(id -u)" = 0 ]; then
  if command -v pg_ctlcluster >/dev/null && ! pg_isready -q -h 127.0.0.1 2>/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  if command -v redis-server >/dev/null && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no || true
  fi
  if command -v mariadbd >/dev/null && ! mysqladmin -uroot status >/dev/null 2>&1; then
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do mysqladmin -uroot status >/dev/null 2>&1 && break; sleep 1; done
  fi
fi
