#!/usr/bin/env bash
# Trains a model when data/, domain.yml, config.yml or the spaCy pipeline's
# sources are newer than the newest model in models/; prints the training time.
set -euo pipefail
cd "$(dirname "$0")/.."
newest=$(ls -t models/*.tar.gz 2>/dev/null | head -n 1 || true)
if [ -n "$newest" ] && [ -z "$(find data domain.yml config.yml clinic/nlu -type f -newer "$newest" | head -n 1)" ]; then
  echo "model is up to date: $newest (no training needed)"
  exit 0
fi
start=$(date +%s%N)
.venv/bin/rasa train --fixed-model-name "clinic-$(date +%Y%m%d-%H%M%S)" --out models
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
printf 'training time: %d.%d s\n' $((ms / 1000)) $(((ms % 1000) / 100))
