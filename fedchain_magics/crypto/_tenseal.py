"""Small helpers around TenSEAL contexts, shared by the schemes (private)."""

from __future__ import annotations

from typing import Any

import tenseal as ts

from ._container import ContextRecord
from .errors import InvalidContextError

#: How a context is serialized for participants and aggregators: no secret, galois or relin keys.
PUBLIC_ONLY = {
    "save_public_key": True,
    "save_secret_key": False,
    "save_galois_keys": False,
    "save_relin_keys": False,
}
#: How the key holder's context is serialized: as PUBLIC_ONLY plus the secret key.
WITH_SECRET = {**PUBLIC_ONLY, "save_secret_key": True}


def one_line(error: BaseException) -> str:
    """An exception as one line: its type and its whitespace-collapsed message."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def load_tenseal_context(record: ContextRecord) -> Any:
    """Rebuild the TenSEAL context of a record and check its keys match what it claims."""
    data = record.secret_tenseal if record.secret_tenseal is not None else record.public_tenseal
    try:
        context = ts.context_from(data)
    except Exception as error:
        raise InvalidContextError(
            f"TenSEAL cannot load the {record.scheme_name} context ({one_line(error)}); "
            "re-fetch the context bytes from the key holder"
        ) from error
    if bool(context.has_secret_key()) != (record.secret_tenseal is not None):
        raise InvalidContextError(
            "context's secret-key flag disagrees with its TenSEAL payload; "
            "re-fetch the context bytes from the key holder"
        )
    if not context.has_public_key():
        raise InvalidContextError(
            "context holds no public key, so nobody could encrypt with it; "
            "re-export it with scheme.public_context_bytes()"
        )
    return context


def seal_parameters(context: Any) -> dict[str, Any]:
    """The SEAL parameters of a TenSEAL context, to compare with a record's parameters."""
    parms = context.seal_context().data.key_context_data().parms()
    return {
        "scheme": str(parms.scheme()).rsplit(".", 1)[-1],
        "poly_modulus_degree": int(parms.poly_modulus_degree()),
        "coeff_mod_bit_sizes": [int(m.bit_count()) for m in parms.coeff_modulus()],
        "plain_modulus": int(parms.plain_modulus().value()),
    }


def check_context_matches(context: Any, expected: dict[str, Any]) -> None:
    """Raise InvalidContextError if the TenSEAL context differs from the declared parameters."""
    actual = seal_parameters(context)
    for key, value in expected.items():
        if actual[key] != value:
            raise InvalidContextError(
                f"context declares {key}={value!r} but its keys were made with {actual[key]!r}; "
                "re-fetch the context bytes from the key holder"
            )
