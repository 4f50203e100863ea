"""``python -m clinic``: staff accounts, retention and backups (see ``clinic/cli.py``)."""

import sys

from clinic.cli import main

sys.exit(main())
