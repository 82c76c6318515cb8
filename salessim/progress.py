"""Progress bars for long work: on a terminal or in a notebook, silent otherwise."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm
from tqdm.auto import tqdm as notebook_aware_tqdm

QUIET_FOR_S = 1.0
"""With the automatic choice, a bar appears only once work has taken this long (s)."""


def in_notebook() -> bool:
    """Whether the code runs in a Jupyter kernel."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def progress_bar(total: int, desc: str, show: bool | None, initial: int = 0) -> Any:
    """A tqdm bar counting finished replications.

    Args:
        total: Replications in all.
        desc: What is counted, shown before the bar.
        show: True always, False never, None when on a terminal or in a notebook and
            only once the work has taken more than a moment.
        initial: Replications already done (e.g. found in a results store).
    """
    notebook = in_notebook()
    enabled = show if show is not None else (notebook or sys.stderr.isatty())
    factory = notebook_aware_tqdm if notebook else tqdm
    return factory(total=total, initial=initial, desc=desc, unit="run", disable=not enabled,
                   delay=QUIET_FOR_S if show is None else 0.0, leave=False, file=sys.stderr,
                   dynamic_ncols=True)
