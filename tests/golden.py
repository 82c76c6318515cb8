"""The golden output: a fingerprint of the model's numbers, tied to ``MODEL_VERSION``.

A results store keys replications by the scenario and ``MODEL_VERSION``: if the model's
numbers changed while the version stayed, a store would serve replications of the old
model as if they were new. ``tests/unit/test_golden.py`` recomputes the fingerprint and
compares it with the recorded one; after a deliberate change of the model, raise
``salessim.model.MODEL_VERSION`` and record again::

    python -m tests.golden

The fingerprint is every KPI of a few short runs of the shipped structures, written to
ten significant digits (so that the last bits of a library's special functions do not
count, while any change of the model's logic does), and the shape of their event logs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import salessim as ss
from salessim.model import MODEL_VERSION

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "golden.json"
SCENARIOS = ("regional.yaml", "product.yaml", "hybrid.yaml", "changes/iron-triangle.yaml")
SEED = 20261201


def fingerprint() -> dict[str, Any]:
    """The numbers of short runs of the shipped structures, and their digest."""
    runs: dict[str, Any] = {}
    for name in SCENARIOS:
        sc = ss.load_scenario(ROOT / "scenarios" / name).with_changes(
            {"calendar.horizon_days": 70.0, "calendar.warmup_days": 10.0})
        res = ss.run(sc, replications=2, seed=SEED, executor="serial", progress=False)
        kpis = {k: [f"{v:.10g}" for v in res.kpis[k]] for k in res.kpis.columns}
        events = res.events
        runs[name] = {"kpis": kpis, "activities": len(events),
                      "outcomes": events["outcome"].value_counts().sort_index().to_dict()}
    text = json.dumps(runs, sort_keys=True)
    return {"model_version": MODEL_VERSION, "seed": SEED,
            "digest": hashlib.sha256(text.encode("utf-8")).hexdigest(), "runs": runs}


def record() -> None:
    """Write the fingerprint of the model as it is now."""
    GOLDEN.write_text(json.dumps(fingerprint(), indent=1, sort_keys=True) + "\n",
                      encoding="utf-8")


if __name__ == "__main__":
    record()
    print(f"recorded {GOLDEN} for MODEL_VERSION {MODEL_VERSION}")
