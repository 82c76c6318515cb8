"""The ``salessim`` command: thin fronts over the Python API, one module per command.

``COMMANDS`` names each command, its one-line help and the function of its module that
adds its arguments to its parser and sets ``func`` to the function that runs it
(returning the exit status). A command's module is imported only when that command is
parsed: between them the commands import pandas, matplotlib, jinja2 and the simulation,
which ``salessim validate`` and ``salessim --help`` do not need. Bad input prints one
message and exits with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import salessim
from salessim.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
)
from salessim.scenario import ScenarioError


@dataclass(frozen=True)
class Command:
    """A command of ``salessim``, known without importing the module that runs it.

    Attributes:
        name: What is typed: ``salessim NAME ...``.
        help: Its line in ``salessim --help``.
        arguments: ``module:function``; the function takes the command's parser, adds
            the arguments and sets ``func``.
    """

    name: str
    help: str
    arguments: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Import the command's module and let it fill in its parser."""
        module, function = self.arguments.split(":")
        add: Callable[[argparse.ArgumentParser], None] = getattr(
            importlib.import_module(module), function)
        add(parser)


COMMANDS = (
    Command("validate", "check scenario, exercise, answer and sweep files and say what is "
                        "wrong", "salessim.cli.validate:add_arguments"),
    Command("run", "run a scenario and print its KPIs with 95%% intervals",
            "salessim.cli.run:add_arguments"),
    Command("compare", "run scenarios on common random numbers and compare them with the "
                       "first", "salessim.cli.experiments:add_compare_arguments"),
    Command("sweep", "run variants of a scenario from a grid file and compare each with it",
            "salessim.cli.experiments:add_sweep_arguments"),
    Command("optimise", "search the levers of a scenario for the best settings within a "
                        "budget, and recommend one with a stated confidence",
            "salessim.cli.optimise:add_arguments"),
    Command("report", "run scenarios and write one self-contained HTML report",
            "salessim.cli.report:add_arguments"),
    Command("calibrate", "calibrate a scenario from a CRM export and check it against the "
                         "export", "salessim.cli.calibrate:add_arguments"),
    Command("exercise", "training: show an exercise, score answers, serve the trainees' page",
            "salessim.cli.exercise:add_arguments"),
)
"""The commands, in the order ``salessim --help`` lists them."""

if TYPE_CHECKING:
    _SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:  # not subscriptable at run time
    _SubParsers = argparse._SubParsersAction


class _Commands(_SubParsers):
    """The subcommand action: a command's arguments are added when it is chosen."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pending: dict[str, Command] = {}

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: str | Sequence[Any] | None, option_string: str | None = None) -> None:
        command = self.pending.pop(values[0], None) if values else None
        if command is not None:
            command.add_arguments(self.choices[command.name])
        super().__call__(parser, namespace, values, option_string)


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
    except (OSError, ValueError) as err:
        print(f"salessim: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RuntimeError as err:
        # Imported here: salessim.runner loads the simulation and pandas, and only the
        # commands that simulate can raise this (they have imported it already).
        from salessim.runner import ReplicationError

        if not isinstance(err, ReplicationError):
            raise
        print(f"salessim: {err}", file=sys.stderr)
        return EXIT_FAILED
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
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                action=_Commands)
    assert isinstance(sub, _Commands)  # add_subparsers makes the action class it is given
    for command in COMMANDS:
        sub.add_parser(command.name, help=command.help)
        sub.pending[command.name] = command
    return parser


def _exit() -> None:  # pragma: no cover - console-script shim
    sys.exit(main())
