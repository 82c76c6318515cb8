"""Calibration from a CRM export, and the back-test that shows the result reproduces it.

``calibrate(mapping)`` reads the export a mapping file describes and returns a
``Calibration`` (its ``scenario``, the commented ``yaml``, the ``estimates``);
``backtest`` and ``holdout`` simulate it over the data's period and set it beside the
history.
"""

from salessim.calibration.backtest import Backtest, backtest, holdout, simulated_export
from salessim.calibration.calibrate import Calibration, calibrate, calibrate_data, cut

__all__ = ["Backtest", "Calibration", "backtest", "calibrate", "calibrate_data", "cut",
           "holdout", "simulated_export"]
