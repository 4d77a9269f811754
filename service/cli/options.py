"""What the options given mean: the settings they make, and the problems with them named as the user
wrote them (``--top-k``, ``--k``, ``CITEQA_PRECISION``) rather than as fields."""

from __future__ import annotations

import argparse

from pydantic import ValidationError

from indexer.errors import ConfigurationError
from service.config import Settings


def settings_for(args: argparse.Namespace) -> Settings:
    """The settings of the environment with the options given on top; ``ConfigurationError`` naming each
    bad one as the user set it."""
    overrides = {
        key: value
        for key, value in vars(args).items()
        if key in Settings.model_fields and value is not None
    }
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigurationError(
            "; ".join(
                f"{_setting_source(args.command, str(problem['loc'][0]), overrides)}: {problem['msg']}"
                for problem in error.errors()
            )
        ) from None


def request_problem(error: ValidationError, command: argparse.ArgumentParser) -> str:
    """The first problem of a question or option in words, without pydantic's "Value error, " prefix."""
    problem = error.errors()[0]
    reason = problem["msg"].removeprefix("Value error, ")
    field = str(problem["loc"][0]) if problem["loc"] else ""
    if field == "question":
        return f"the question {reason}"
    return f"{_option_of(command, field) or '--' + field.replace('_', '-')}: {reason}"


def _setting_source(command: argparse.ArgumentParser, field: str, given: dict[str, object]) -> str:
    """Where a setting came from, as the user wrote it: the command's option (``--top-k``, ``--k``), or
    the environment variable (``CITEQA_TOP_K``)."""
    return (field in given and _option_of(command, field)) or f"CITEQA_{field.upper()}"


def _option_of(command: argparse.ArgumentParser, field: str) -> str | None:
    """The option of ``command`` that sets ``field`` as the user writes it (``--k`` for ``top_k`` in eval)."""
    for action in command._actions:
        if action.dest == field and action.option_strings:
            return action.option_strings[-1]
    return None
