"""CKKS: approximate additive encryption of float vectors (about 32 bytes per parameter).

Defaults are for addition only: poly_modulus_degree 8192, coefficient primes [60, 49] (one
60-bit data prime plus the special prime), scale 2**40, 4096 slots per ciphertext; the sum of
10 updates of N(0, 0.01) decrypts within about 1e-9. NVFlare's HE setting is
``CkksScheme.generate(coeff_mod_bit_sizes=(60, 40, 40))`` (about 58 bytes per parameter).

Capacity: SEAL refuses to encode values of ``2**(data_bits - 2 - scale_bits)`` or more
(``data_bits``: the primes but the last; 2**18 = 262144 for the defaults), and a sum past
that would decrypt wrongly. As for BFV, ``encrypt()`` refuses any |x| above
``capacity / max_parties`` and a running sum refuses more than ``max_parties`` parties.

The ring follows the model's size (``generate(parameter_count=...)``; see ``ring_for``): a
model of at most 2048 parameters gets N=4096 with the same primes [60, 49] and scale (one
ciphertext of about 66 KB instead of 131 KB), so the same capacity and precision (the error of
a 10-party sum measured 1e-8 at N=4096, 2e-8 at N=8192); larger models keep N=8192.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import tenseal as ts

from ._container import ContextRecord
from ._tenseal import PUBLIC_ONLY, check_context_matches, load_tenseal_context, one_line
from .errors import InvalidContextError
from .scheme import EncryptionScheme, checked_parameter_count

#: NVFlare's CKKS setting (poly 8192, coefficient primes [60, 40, 40], scale 2**40), for benchmarks.
NVFLARE_COEFF_MOD_BIT_SIZES = (60, 40, 40)
#: Today's ring, for large models and when the model's size is not given: N=8192 (4096 slots),
#: q = [60, 49] = 109 of the 218 bits 128-bit security allows at N=8192.
DEFAULT_POLY_MODULUS_DEGREE = 8192
DEFAULT_COEFF_MOD_BIT_SIZES = (60, 49)
#: The small ring, for a model whose parameters fit in one of its ciphertexts: N=4096 (2048
#: slots) with the same q = [60, 49] = 109 bits, exactly the 128-bit maximum at N=4096.
SMALL_POLY_MODULUS_DEGREE = 4096


class CkksScheme(EncryptionScheme):
    """Approximate additive encryption of float vectors (TenSEAL CKKS)."""

    name: ClassVar[str] = "ckks"
    _overflow_remedy: ClassVar[str] = (
        "or generate a context with a smaller max_parties or scale_bits"
    )

    def __init__(
        self,
        tenseal_context: Any,
        public_tenseal: bytes,
        *,
        poly_modulus_degree: int,
        coeff_mod_bit_sizes: Sequence[int],
        scale_bits: int,
        max_parties: int,
    ) -> None:
        self._poly_modulus_degree = poly_modulus_degree
        self._coeff_mod_bit_sizes = list(coeff_mod_bit_sizes)
        self._scale_bits = scale_bits
        check_context_matches(
            tenseal_context,
            {
                "scheme": "CKKS",
                "poly_modulus_degree": poly_modulus_degree,
                "coeff_mod_bit_sizes": self._coeff_mod_bit_sizes,
            },
        )
        primes = self._coeff_mod_bit_sizes
        data_bits = sum(primes[:-1]) if len(primes) > 1 else primes[0]
        if not isinstance(scale_bits, int) or not 1 <= scale_bits <= data_bits - 2:
            raise InvalidContextError(
                f"scale_bits={scale_bits!r} must be a positive integer at most {data_bits - 2} "
                f"with coeff_mod_bit_sizes {primes}; use scale_bits=40 with [60, 49]"
            )
        self._capacity_bits = data_bits - 2 - scale_bits
        tenseal_context.global_scale = 2.0**scale_bits
        super().__init__(tenseal_context, public_tenseal, max_parties=max_parties)

    @classmethod
    def generate(
        cls,
        *,
        poly_modulus_degree: int | None = None,
        coeff_mod_bit_sizes: Sequence[int] | None = None,
        scale_bits: int = 40,
        max_parties: int = 100,
        parameter_count: int | None = None,
    ) -> CkksScheme:
        """Make fresh keys (secret key included). Defaults: 128-bit security, 32 bytes/param.

        ``parameter_count`` (the model's size) picks the ring with ``ring_for`` when neither
        ``poly_modulus_degree`` nor ``coeff_mod_bit_sizes`` is given; None keeps N=8192.
        """
        parameter_count = checked_parameter_count(parameter_count)
        if poly_modulus_degree is None and coeff_mod_bit_sizes is None:
            poly_modulus_degree, coeff_mod_bit_sizes = cls.ring_for(parameter_count)
        poly_modulus_degree = poly_modulus_degree or DEFAULT_POLY_MODULUS_DEGREE
        coeff_mod_bit_sizes = coeff_mod_bit_sizes or DEFAULT_COEFF_MOD_BIT_SIZES
        try:
            context = ts.context(
                ts.SCHEME_TYPE.CKKS,
                poly_modulus_degree=poly_modulus_degree,
                coeff_mod_bit_sizes=list(coeff_mod_bit_sizes),
            )
        except Exception as error:  # TenSEAL: ValueError for insecure or invalid parameters
            raise InvalidContextError(
                f"TenSEAL refused CKKS poly_modulus_degree={poly_modulus_degree}, "
                f"coeff_mod_bit_sizes={list(coeff_mod_bit_sizes)} ({one_line(error)}); "
                "use the defaults (8192, [60, 49])"
            ) from error
        return cls(
            context,
            context.serialize(**PUBLIC_ONLY),
            poly_modulus_degree=poly_modulus_degree,
            coeff_mod_bit_sizes=coeff_mod_bit_sizes,
            scale_bits=scale_bits,
            max_parties=max_parties,
        )

    @staticmethod
    def ring_for(parameter_count: int | None) -> tuple[int, tuple[int, ...]]:
        """The ring ``(poly_modulus_degree, coeff_mod_bit_sizes)`` for a model of
        ``parameter_count`` parameters: N=4096 when they fit in one of its ciphertexts (2048
        slots), else (or when the size is unknown) N=8192; q=[60, 49] in both."""
        if parameter_count is not None and parameter_count <= SMALL_POLY_MODULUS_DEGREE // 2:
            return SMALL_POLY_MODULUS_DEGREE, DEFAULT_COEFF_MOD_BIT_SIZES
        return DEFAULT_POLY_MODULUS_DEGREE, DEFAULT_COEFF_MOD_BIT_SIZES

    @classmethod
    def _from_record(cls, record: ContextRecord) -> CkksScheme:
        """Rebuild from a parsed context container (used by ``load_scheme``)."""
        parameters = record.parameters
        context = load_tenseal_context(record)
        return cls(
            context,
            record.public_tenseal,
            poly_modulus_degree=parameters["poly_modulus_degree"],
            coeff_mod_bit_sizes=parameters["coeff_mod_bit_sizes"],
            scale_bits=parameters["scale_bits"],
            max_parties=parameters["max_parties"],
        )

    @property
    def slots_per_ciphertext(self) -> int:
        return self._poly_modulus_degree // 2

    @property
    def capacity(self) -> float:
        return 2.0**self._capacity_bits

    def max_abs_value_per_party(self, max_parties: int | None = None) -> float:
        parties = self.max_parties if max_parties is None else max_parties
        return self.capacity / parties

    def _parameters(self) -> dict[str, Any]:
        return {
            "poly_modulus_degree": self._poly_modulus_degree,
            "coeff_mod_bit_sizes": self._coeff_mod_bit_sizes,
            "scale_bits": self._scale_bits,
            "max_parties": self.max_parties,
        }

    def _encode(self, values: np.ndarray) -> np.ndarray:
        return values

    def _encrypt_chunk(self, encoded: np.ndarray) -> Any:
        return ts.ckks_vector(self._context, encoded, scale=2.0**self._scale_bits)

    def _load_chunk(self, data: bytes) -> Any:
        return ts.ckks_vector_from(self._context, data)

    def _decrypt_chunks(self, vectors: Sequence[Any]) -> np.ndarray:
        return np.concatenate(
            [np.asarray(vector.decrypt(), dtype=np.float64) for vector in vectors]
        )
