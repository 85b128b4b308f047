"""``python -m sidelog``."""

import sys

from sidelog.cli import main

sys.exit(main())
