#!/usr/bin/env bash
# Starts the action server and the Rasa server on 127.0.0.1 with the newest
# model in models/, and the web app (demo page, widget, chat gateway) on
# $HOST:$PORT; Ctrl-C (or any process ending) stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
export HOST="${HOST:-127.0.0.1}" PORT="${PORT:-8000}"
export RASA_URL="${RASA_URL:-http://127.0.0.1:$RASA_PORT}"

# Both databases' files writable (else one line naming the path, and nothing starts),
# then the app database (bookings) at the newest schema before anything serves.
.venv/bin/python -m clinic.db.engine
.venv/bin/python -m clinic.db.migrate

pids=()
stop() {
  trap - EXIT INT TERM
  [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "clinic assistant stopped"
}
trap stop EXIT INT TERM

# clinic.rasa_main is `rasa` without JAX in memory (see that module).
# logging.yml: no visitor data in the logs (rasa_sdk spells its option --logging-config_file;
# PYTHONPATH lets Rasa import clinic.logs before it adds the project to its path)
SANIC_HOST=127.0.0.1 .venv/bin/python -m rasa_sdk --actions actions --port "$ACTION_PORT" \
  --logging-config_file logging.yml &
pids+=($!)
PYTHONPATH=. .venv/bin/python -m clinic.rasa_main run --interface 127.0.0.1 --port "$RASA_PORT" --model models \
  --credentials credentials.yml --endpoints endpoints.yml --logging-config-file logging.yml &
pids+=($!)
.venv/bin/python -m clinic.web &
pids+=($!)

echo "Web page and chat widget: http://$HOST:$PORT/  Rasa REST channel: http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook  actions: http://127.0.0.1:$ACTION_PORT (Ctrl-C stops)"
wait -n "${pids[@]}"
