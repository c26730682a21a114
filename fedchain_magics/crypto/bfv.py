"""BFV over fixed point: the default scheme (exact sums, about 16 bytes per parameter).

Each value x is quantized to ``round(x * 2**resolution_bits)`` (default 24 bits: a step of
6e-8), stored modulo the plain modulus t (negatives as ``t - |q|``) and encrypted with
TenSEAL's BFV batching, one value per slot, 8192 slots per ciphertext. Sums are exact modulo t
and decrypt through a centred lift (``v > t // 2 -> v - t``), so the only error is each party's
rounding: at most ``parties * 2**-(resolution_bits + 1)`` per coordinate.

Nothing in BFV warns when a sum leaves (-t/2, t/2): it would silently wrap. So a context fixes
``max_parties`` and ``encrypt()`` refuses any |x| above ``capacity / max_parties`` (capacity =
``((t - 1) // 2) / 2**resolution_bits``, about 32768 by default), and a running sum refuses
more than ``max_parties`` parties. ``generate()`` also checks that a fresh ciphertext's noise
budget survives ``max_parties`` additions (with the defaults: up to 1024 parties).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import tenseal as ts
import tenseal.sealapi as sealapi

from ._container import ContextRecord
from ._tenseal import PUBLIC_ONLY, check_context_matches, load_tenseal_context, one_line
from .errors import CorruptCiphertextError, InvalidContextError
from .scheme import EncryptionScheme

#: Noise-budget bits a sum of ``max_parties`` fresh ciphertexts must keep (worst case: the same
#: ciphertext added ``max_parties`` times costs log2(max_parties) bits).
NOISE_MARGIN_BITS = 2


class BfvFixedPointScheme(EncryptionScheme):
    """Exact additive encryption of fixed-point vectors (TenSEAL BFV)."""

    name: ClassVar[str] = "bfv-fixed-point"
    _overflow_remedy: ClassVar[str] = (
        "or generate a context with a smaller max_parties or resolution_bits"
    )

    def __init__(
        self,
        tenseal_context: Any,
        public_tenseal: bytes,
        *,
        poly_modulus_degree: int,
        coeff_mod_bit_sizes: Sequence[int],
        plain_modulus_bits: int,
        resolution_bits: int,
        max_parties: int,
    ) -> None:
        self._poly_modulus_degree = poly_modulus_degree
        self._coeff_mod_bit_sizes = list(coeff_mod_bit_sizes)
        self._plain_modulus_bits = plain_modulus_bits
        self._plain_modulus = batching_prime(poly_modulus_degree, plain_modulus_bits)
        if not isinstance(resolution_bits, int) or not 0 <= resolution_bits <= 52:
            raise InvalidContextError(
                f"resolution_bits must be an integer in [0, 52], got {resolution_bits!r}; "
                "the default 24 gives a quantization step of 6e-8"
            )
        self._resolution_bits = resolution_bits
        check_context_matches(
            tenseal_context,
            {
                "scheme": "BFV",
                "poly_modulus_degree": poly_modulus_degree,
                "coeff_mod_bit_sizes": self._coeff_mod_bit_sizes,
                "plain_modulus": self._plain_modulus,
            },
        )
        super().__init__(tenseal_context, public_tenseal, max_parties=max_parties)
        if self._half_modulus // max_parties < 1:
            raise InvalidContextError(
                f"max_parties {max_parties} leaves no room per party under a "
                f"{plain_modulus_bits}-bit plain modulus; lower max_parties"
            )

    @classmethod
    def generate(
        cls,
        *,
        poly_modulus_degree: int = 8192,
        coeff_mod_bit_sizes: Sequence[int] = (60, 60),
        plain_modulus_bits: int = 40,
        resolution_bits: int = 24,
        max_parties: int = 100,
    ) -> BfvFixedPointScheme:
        """Make fresh keys (secret key included). Defaults: 128-bit security, 16 bytes/param.

        ``plain_modulus_bits`` picks the batching prime t (must stay well below the
        coefficient primes); ``resolution_bits`` the fixed-point step ``2**-resolution_bits``;
        ``max_parties`` how many updates a sum may hold.
        """
        plain_modulus = batching_prime(poly_modulus_degree, plain_modulus_bits)
        try:
            context = ts.context(
                ts.SCHEME_TYPE.BFV,
                poly_modulus_degree=poly_modulus_degree,
                plain_modulus=plain_modulus,
                coeff_mod_bit_sizes=list(coeff_mod_bit_sizes),
            )
        except Exception as error:  # TenSEAL: ValueError for insecure or invalid parameters
            raise InvalidContextError(
                f"TenSEAL refused BFV poly_modulus_degree={poly_modulus_degree}, "
                f"coeff_mod_bit_sizes={list(coeff_mod_bit_sizes)} ({one_line(error)}); "
                "use the defaults (8192, [60, 60])"
            ) from error
        scheme = cls(
            context,
            context.serialize(**PUBLIC_ONLY),
            poly_modulus_degree=poly_modulus_degree,
            coeff_mod_bit_sizes=coeff_mod_bit_sizes,
            plain_modulus_bits=plain_modulus_bits,
            resolution_bits=resolution_bits,
            max_parties=max_parties,
        )
        scheme._check_noise_headroom()
        return scheme

    @classmethod
    def _from_record(cls, record: ContextRecord) -> BfvFixedPointScheme:
        """Rebuild from a parsed context container (used by ``load_scheme``)."""
        parameters = record.parameters
        context = load_tenseal_context(record)
        return cls(
            context,
            record.public_tenseal,
            poly_modulus_degree=parameters["poly_modulus_degree"],
            coeff_mod_bit_sizes=parameters["coeff_mod_bit_sizes"],
            plain_modulus_bits=parameters["plain_modulus_bits"],
            resolution_bits=parameters["resolution_bits"],
            max_parties=parameters["max_parties"],
        )

    # ----- capacity ---------------------------------------------------------------------------

    @property
    def slots_per_ciphertext(self) -> int:
        return self._poly_modulus_degree

    @property
    def plain_modulus(self) -> int:
        """The batching prime t: sums are exact modulo t."""
        return self._plain_modulus

    @property
    def _half_modulus(self) -> int:
        return (self._plain_modulus - 1) // 2

    @property
    def capacity(self) -> float:
        return self._half_modulus / 2**self._resolution_bits

    def max_abs_value_per_party(self, max_parties: int | None = None) -> float:
        parties = self.max_parties if max_parties is None else max_parties
        # An integer bound on the quantized value keeps parties x bound <= (t - 1) / 2 exactly.
        return (self._half_modulus // parties) / 2**self._resolution_bits

    def _parameters(self) -> dict[str, Any]:
        return {
            "poly_modulus_degree": self._poly_modulus_degree,
            "coeff_mod_bit_sizes": self._coeff_mod_bit_sizes,
            "plain_modulus_bits": self._plain_modulus_bits,
            "plain_modulus": self._plain_modulus,
            "resolution_bits": self._resolution_bits,
            "max_parties": self.max_parties,
        }

    # ----- encoding and noise -----------------------------------------------------------------

    def _encode(self, values: np.ndarray) -> np.ndarray:
        # |values| <= max_abs_value_per_party() was checked, so this fits in int64 exactly.
        quantized = np.rint(values * 2.0**self._resolution_bits).astype(np.int64)
        return np.mod(quantized, self._plain_modulus)

    def _encrypt_chunk(self, encoded: np.ndarray) -> Any:
        return ts.bfv_vector(self._context, encoded)

    def _load_chunk(self, data: bytes) -> Any:
        return ts.bfv_vector_from(self._context, data)

    def _decrypt_chunks(self, vectors: Sequence[Any]) -> np.ndarray:
        decryptor = self._decryptor()
        for index, vector in enumerate(vectors):
            for ciphertext in vector.ciphertext():
                if decryptor.invariant_noise_budget(ciphertext) == 0:
                    raise CorruptCiphertextError(
                        f"ciphertext {index} has no noise budget left, so it would decrypt to "
                        "garbage; a sender added a malformed ciphertext: re-aggregate without it"
                    )
        raw = np.concatenate([np.asarray(vector.decrypt(), dtype=np.int64) for vector in vectors])
        # TenSEAL already returns centred values; lifting again is a no-op kept for clarity.
        centred = np.where(raw > self._plain_modulus // 2, raw - self._plain_modulus, raw)
        return centred.astype(np.float64) / 2.0**self._resolution_bits

    def _decryptor(self) -> Any:
        return sealapi.Decryptor(self._context.seal_context().data, self._context.secret_key().data)

    def _check_noise_headroom(self) -> None:
        """Refuse a max_parties whose worst-case sum would exhaust the noise budget."""
        probe = self._encrypt_chunk(np.zeros(1, dtype=np.int64))
        fresh_bits = min(self._decryptor().invariant_noise_budget(c) for c in probe.ciphertext())
        needed_bits = math.ceil(math.log2(self.max_parties)) + NOISE_MARGIN_BITS
        if fresh_bits < needed_bits:
            largest = 2 ** max(fresh_bits - NOISE_MARGIN_BITS, 0)
            raise InvalidContextError(
                f"max_parties {self.max_parties} needs {needed_bits} bits of noise budget but a "
                f"fresh ciphertext has {fresh_bits} with coeff_mod_bit_sizes "
                f"{self._coeff_mod_bit_sizes}; use max_parties <= {largest} or larger "
                "coefficient primes"
            )


def batching_prime(poly_modulus_degree: int, bits: int) -> int:
    """The largest ``bits``-bit prime t = 1 mod 2N that allows batching (SEAL's choice)."""
    try:
        return int(sealapi.PlainModulus.Batching(poly_modulus_degree, bits).value())
    except Exception as error:  # SEAL: no such prime, or invalid degree/bit count
        raise InvalidContextError(
            f"no {bits}-bit batching prime for poly_modulus_degree {poly_modulus_degree} "
            f"({one_line(error)}); use plain_modulus_bits=40 with poly_modulus_degree=8192"
        ) from error
