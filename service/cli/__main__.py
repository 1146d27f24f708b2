"""`python -m neardup.service.cli`: the `neardup` command."""

import sys

from . import main

sys.exit(main())
