#!/usr/bin/env bash
# Trains a model when data/, domain.yml, config.yml or the spaCy pipeline's
# sources are newer than the newest model in models/; prints the training time.
#
# Two of `rasa train`'s own flags keep it from doing work that changes nothing here:
# --skip-validation  the checks it skips are exactly `rasa data validate` (the same
#                    rasa.cli.utils.validate_files, same defaults), which `make validate`
#                    runs and `make test` runs before training.
# --augmentation 0   augmented story trackers are read only by TEDPolicy; RulePolicy,
#                    MemoizationPolicy and the clinic's own policies drop them, so the
#                    trained model is the same. Generating, fingerprinting and caching
#                    them took about 25 s of CPU per training. Drop this flag if
#                    config.yml ever gets a TEDPolicy (bench/run.py trains without it).
set -euo pipefail
cd "$(dirname "$0")/.."
newest=$(ls -t models/*.tar.gz 2>/dev/null | head -n 1 || true)
if [ -n "$newest" ] && [ -z "$(find data domain.yml config.yml clinic/nlu -type f -newer "$newest" | head -n 1)" ]; then
  echo "model is up to date: $newest (no training needed)"
  exit 0
fi
start=$(date +%s%N)
.venv/bin/python -m clinic.rasa_main train --skip-validation --augmentation 0 \
  --fixed-model-name "clinic-$(date +%Y%m%d-%H%M%S)" --out models
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
printf 'training time: %d.%d s\n' $((ms / 1000)) $(((ms % 1000) / 100))
