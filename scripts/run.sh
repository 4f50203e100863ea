#!/usr/bin/env bash
# Starts the action server, the action proxy Rasa calls it through and the Rasa server on
# 127.0.0.1 with the newest model in models/, and the web app (demo page, widget, chat
# gateway) on $HOST:$PORT, under supervisord (supervisord.conf): a process that dies is
# started again, the others keep serving. Runs in the foreground; Ctrl-C (or SIGTERM)
# stops all four.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
export HOST="${HOST:-127.0.0.1}" PORT="${PORT:-8000}"
export RASA_PORT="${RASA_PORT:-5005}" ACTION_PORT="${ACTION_PORT:-5055}"
export RASA_URL="${RASA_URL:-http://127.0.0.1:$RASA_PORT}"
export ACTION_PROXY_PORT="${ACTION_PROXY_PORT:-5056}"
export ACTION_SERVER_URL="${ACTION_SERVER_URL:-http://127.0.0.1:$ACTION_PORT}"
export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://127.0.0.1:$ACTION_PROXY_PORT/webhook}"
export TRACKER_STORE_URL="${TRACKER_STORE_URL:-sqlite:///var/tracker.db}"
export DATABASE_URL="${DATABASE_URL:-sqlite:///var/clinic.db}" LOCK_STORE_URL="${LOCK_STORE_URL:-memory://}"
# supervisord's pid file and supervisorctl's socket
CLINIC_RUN_DIR="$(mkdir -p "${CLINIC_RUN_DIR:-var/run}" && cd "${CLINIC_RUN_DIR:-var/run}" && pwd)"
export CLINIC_RUN_DIR

# Both databases' files writable (else one line naming the path, and nothing starts),
# then the app database (bookings) at the newest schema before anything serves.
.venv/bin/python -m clinic.db.engine
.venv/bin/python -m clinic.db.migrate

echo "Web page and chat widget: http://$HOST:$PORT/  Rasa REST channel: http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook  actions: http://127.0.0.1:$ACTION_PORT through the proxy on :$ACTION_PROXY_PORT (Ctrl-C stops)"
# python -m: the .venv/bin/supervisord script names the interpreter of the folder the
# environment was created in, and fails once .venv is moved or shared
exec .venv/bin/python -m supervisor.supervisord --nodaemon --configuration supervisord.conf
