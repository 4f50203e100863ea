"""``python -m clinic``: staff accounts and retention (see ``clinic/cli.py``)."""

import sys

from clinic.cli import main

sys.exit(main())
