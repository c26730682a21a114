"""The message contract shared with the JupyterLab sidebar: ``message_schema.json``.

The schema is the single source of truth; the TypeScript side checks it with ajv, this side with
``jsonschema`` (in the tests, and at runtime only when ``FEDCHAIN_SIDEBAR_VALIDATE=1``).
"""

from __future__ import annotations

import functools
import json
import os
from importlib import resources
from typing import Any

COMM_TARGET = "fedchain.ledger"
SCHEMA_VERSION = 4
VALIDATE_VARIABLE = "FEDCHAIN_SIDEBAR_VALIDATE"
"""Set to 1 to check every outgoing message against the schema (a debugging aid: slow)."""


class MessageSchemaError(ValueError):
    """A message the kernel was about to send breaks the sidebar's message schema."""


@functools.cache
def load_schema() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("message_schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validation_requested() -> bool:
    return os.environ.get(VALIDATE_VARIABLE, "").strip().lower() in {"1", "true", "yes", "on"}


def validate_message(message: dict[str, Any], definition: str = "kernel_to_frontend") -> None:
    """Raise :class:`MessageSchemaError` unless ``message`` is a valid ``definition``.

    ``definition`` names one of the schema's ``$defs`` (``kernel_to_frontend``, ``state``...).
    Needs the ``jsonschema`` package.
    """
    problems = list(_validator(definition).iter_errors(message))
    if problems:
        from jsonschema.exceptions import best_match

        worst = best_match(problems)
        deepest = max([worst, *(worst.context or [])], key=lambda error: len(error.absolute_path))
        where = "/".join(str(part) for part in deepest.absolute_path) or "(root)"
        raise MessageSchemaError(
            f"sidebar message breaks message_schema.json at {where}: {deepest.message}"
        )


@functools.cache
def _validator(definition: str) -> Any:
    try:
        import jsonschema
    except ImportError as error:  # pragma: no cover - a debugging aid only
        raise MessageSchemaError(
            "checking sidebar messages needs jsonschema: pip install jsonschema"
        ) from error

    schema = load_schema()
    if definition not in schema["$defs"]:
        raise KeyError(f"message_schema.json has no $defs/{definition}")
    wrapped = {key: value for key, value in schema.items() if key != "oneOf"}
    wrapped["$ref"] = f"#/$defs/{definition}"
    return jsonschema.Draft202012Validator(wrapped)
