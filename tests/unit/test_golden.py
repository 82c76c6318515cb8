"""The model's numbers change only together with ``MODEL_VERSION`` (see ``tests.golden``)."""

from __future__ import annotations

import json

from salessim.model import MODEL_VERSION

from ..golden import GOLDEN, fingerprint


def test_numbers_change_only_with_the_model_version() -> None:
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))
    now = fingerprint()
    if recorded["model_version"] != MODEL_VERSION:
        raise AssertionError(
            f"MODEL_VERSION is {MODEL_VERSION} but the golden output was recorded for "
            f"{recorded['model_version']}: record it again with python -m tests.golden")
    changed = [name for name in now["runs"] if now["runs"][name] != recorded["runs"].get(name)]
    assert now["digest"] == recorded["digest"], (
        f"the model's numbers changed ({', '.join(changed)}) but MODEL_VERSION is still "
        f"{MODEL_VERSION}: raise salessim.model.MODEL_VERSION, so that results stores do not "
        "serve replications of the old model, and record again with python -m tests.golden")
