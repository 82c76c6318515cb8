"""``python -m salessim.cli``: the same as the ``salessim`` command."""

import sys

from salessim.cli import main

sys.exit(main())
