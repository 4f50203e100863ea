#!/usr/bin/env bash
# Starts the action server and the Rasa server on 127.0.0.1 with the newest
# model in models/; Ctrl-C (or either process ending) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var

pids=()
stop() {
  trap - EXIT INT TERM
  [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "clinic assistant stopped"
}
trap stop EXIT INT TERM

SANIC_HOST=127.0.0.1 .venv/bin/python -m rasa_sdk --actions actions --port "$ACTION_PORT" &
pids+=($!)
.venv/bin/rasa run --interface 127.0.0.1 --port "$RASA_PORT" --model models \
  --credentials credentials.yml --endpoints endpoints.yml &
pids+=($!)

echo "Rasa REST channel: http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook  actions: http://127.0.0.1:$ACTION_PORT (Ctrl-C stops)"
wait -n "${pids[@]}"
