"""Building schemes: ``generate_scheme`` by name, ``load_scheme`` from context bytes."""

from __future__ import annotations

from typing import Any

from ._container import ContextRecord, pack_context, unpack_context
from .bfv import BfvFixedPointScheme
from .ckks import CkksScheme
from .errors import InvalidContextError
from .scheme import EncryptionScheme

_SCHEMES: dict[str, type[BfvFixedPointScheme] | type[CkksScheme]] = {
    BfvFixedPointScheme.name: BfvFixedPointScheme,
    CkksScheme.name: CkksScheme,
}
#: Short names accepted by ``generate_scheme`` (task configurations say "bfv").
_SHORT_NAMES = {"bfv": BfvFixedPointScheme.name}


def generate_scheme(
    name: str,
    *,
    max_parties: int = 100,
    parameter_count: int | None = None,
    **parameters: Any,
) -> EncryptionScheme:
    """Make fresh keys for the scheme called ``name``: "bfv-fixed-point" (or "bfv", the
    default choice) or "ckks", for sums of up to ``max_parties`` updates.

    ``parameter_count`` is the model's size: a small model gets a smaller ring, so smaller
    ciphertexts at the same 128-bit security (see ``BfvFixedPointScheme.ring_for``); None
    keeps the ring sized for large models. The ring is recorded in the context, so every
    party loads the same one. Other ``parameters`` go to that class's ``generate()``."""
    scheme_class = _SCHEMES.get(_SHORT_NAMES.get(name, name))
    if scheme_class is None:
        known = ", ".join(repr(known) for known in [*_SCHEMES, *_SHORT_NAMES])
        raise InvalidContextError(f"unknown encryption scheme {name!r}; use one of {known}")
    return scheme_class.generate(
        max_parties=max_parties, parameter_count=parameter_count, **parameters
    )


def load_scheme(context_bytes: bytes) -> EncryptionScheme:
    """Rebuild the scheme a context blob is for, from ``public_context_bytes()`` (encrypt and
    sum only) or ``secret_context_bytes()`` (decrypt too).

    Raises ``InvalidContextError`` for bytes that are not an intact context of a known scheme.
    """
    record = unpack_context(context_bytes)
    scheme_class = _SCHEMES.get(record.scheme_name)
    if scheme_class is None:
        raise InvalidContextError(
            f"context is for unknown scheme {record.scheme_name!r} (known: "
            f"{', '.join(sorted(_SCHEMES))}); upgrade fedchain_magics to the version that wrote it"
        )
    try:
        scheme = scheme_class._from_record(record)
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidContextError(
            f"context parameters {record.parameters} are incomplete or malformed ({error!r}); "
            "re-fetch the context bytes from the key holder"
        ) from error
    public = pack_context(
        ContextRecord(record.scheme_name, record.parameters, record.public_tenseal, None)
    )
    if scheme.public_context_bytes() != public:
        raise InvalidContextError(
            "context parameters are not in the canonical form this version writes, so its "
            "SHA-256 would not match the key holder's; re-export it with public_context_bytes()"
        )
    return scheme
