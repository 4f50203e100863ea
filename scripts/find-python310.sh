#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 needs >=3.8,<3.11).
# Looks at $PYTHON310, python3.10 on PATH, pyenv's versions, then /usr/bin.
set -u
candidates=()
[ -n "${PYTHON310:-}" ] && candidates+=("$PYTHON310")
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for p in $(ls -d "$root"/versions/3.10.*/bin/python 2>/dev/null | sort -rV); do candidates+=("$p"); done
fi
for p in "$HOME"/.pyenv/versions/3.10.*/bin/python /usr/bin/python3.10 /usr/local/bin/python3.10; do
  [ -x "$p" ] && candidates+=("$p")
done
for p in "${candidates[@]}"; do
  if [ -x "$p" ] && "$p" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
    echo "$p"
    exit 0
  fi
done
cat >&2 <<'MSG'
error: no Python 3.10 interpreter found. Rasa 3.6 runs on Python 3.8-3.10 only.
Install one, for example:
  pyenv install 3.10.13          (with pyenv)
  apt-get install python3.10 python3.10-venv   (Debian/Ubuntu, where packaged)
or point PYTHON310 at an existing interpreter: make PYTHON310=/path/to/python3.10 run
MSG
exit 1
