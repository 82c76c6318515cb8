"""The ``salessim`` command: thin fronts over the Python API, one module per command.

Each command module has ``add_parser(subparsers)``, which registers the command and
sets ``func`` to the function that runs it (returning the exit status). Bad input
prints one message and exits with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

import salessim
from salessim.cli import calibrate, exercise, experiments, report, run, validate
from salessim.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
)
from salessim.runner import ReplicationError
from salessim.scenario import ScenarioError

COMMANDS = (validate, run, experiments, report, calibrate, exercise)
"""Command modules, in the order ``salessim --help`` lists them."""


class _Terminated(BaseException):
    """SIGTERM arrived: unwind like an interrupt, so temporary files are removed."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``salessim`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        status: int = args.func(args)
        return status
    except ScenarioError as err:
        print(str(err), file=sys.stderr)
        return EXIT_BAD_INPUT
    except ReplicationError as err:
        print(f"salessim: {err}", file=sys.stderr)
        return EXIT_FAILED
    except (OSError, ValueError) as err:
        print(f"salessim: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("salessim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Terminated:
        print("salessim: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salessim",
        description="Simulate sales processes and organisations from scenario files.",
    )
    parser.add_argument("--version", action="version", version=f"salessim {salessim.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def _exit() -> None:  # pragma: no cover - console-script shim
    sys.exit(main())
