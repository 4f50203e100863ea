"""``python -m clinic``: staff accounts, retention, backups and the action proxy
(see ``clinic/cli.py``)."""

import sys

from clinic.cli import main

sys.exit(main())
