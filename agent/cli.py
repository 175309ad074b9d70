"""`radagent`: the command-line door. Each capability adds its commands in `agent/commands/`."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="radagent",
    help="A local, tool-calling assistant for medical imaging. Outputs marked SYNTHETIC are not for diagnosis.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module exposes register(app). Order is the order of `radagent --help`.
COMMAND_MODULES = (
    "agent.commands.core",
    "agent.commands.knowledge",
    "agent.commands.imaging",
    "agent.commands.generative",
    "agent.commands.perception",
    "agent.commands.restoration",
    "agent.commands.reports",
    "agent.commands.review",
    "agent.commands.ui",
    "agent.commands.train",
    "agent.commands.bench",
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
