"""``python -m clinic.rasa_main ARGS``: the ``rasa ARGS`` command without JAX in memory.

TensorFlow 2.12 requires ``jax`` (so it is installed) but imports it in one place only,
``tensorflow/lite/python/util.py``, inside ``try: from jax import ... except ImportError``,
for converting JAX functions to TensorFlow Lite. Rasa never does that, yet the import put
about 80 MB of JAX and jaxlib into every Rasa process. ``sys.modules["jax"] = None`` makes
that import raise ``ImportError`` (Python's documented way to block a module), so
TensorFlow takes its own no-JAX branch. Nothing else here imports JAX.

Rasa's calls to the action server go through the action proxy (``clinic/action_proxy.py``,
``endpoints.yml``), which bounds them by ``ACTION_TIMEOUT``; nothing of Rasa is changed here.
"""

from __future__ import annotations

import sys


def main() -> None:
    sys.modules["jax"] = None  # type: ignore[assignment]
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
