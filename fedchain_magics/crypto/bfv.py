"""BFV over fixed point: the default scheme (exact sums, about 16 bytes per parameter).

Each value x is quantized to ``round(x * 2**resolution_bits)`` (default 24 bits: a step of
6e-8), stored modulo the plain modulus t (negatives as ``t - |q|``) and encrypted with
TenSEAL's BFV batching, one value per slot, N slots per ciphertext. Sums are exact modulo t
and decrypt through a centred lift (``v > t // 2 -> v - t``), so the only error is each party's
rounding: at most ``parties * 2**-(resolution_bits + 1)`` per coordinate.

Nothing in BFV warns when a sum leaves (-t/2, t/2): it would silently wrap. So a context fixes
``max_parties`` and ``encrypt()`` refuses any |x| above ``capacity / max_parties`` (capacity =
``((t - 1) // 2) / 2**resolution_bits``, about 32768 by default), and a running sum refuses
more than ``max_parties`` parties. ``generate()`` also checks that a fresh ciphertext's noise
budget survives ``max_parties`` additions (with the defaults: up to 1024 parties).

The ring follows the model's size (``generate(parameter_count=...)``; see ``ring_for``): a
model of at most 4096 parameters gets N=4096 (one ciphertext of about 62 KB instead of 131 KB
at N=8192), larger models and an unknown size keep N=8192, q=[60, 60]. Both rings are at 128-bit
security, with the same plain modulus (so the same capacity and per-party bound) and at least
the noise budget ``max_parties`` needs. The ring is recorded in the context's parameters, so
every party loads the same one, and contexts made before this choice load unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import tenseal as ts
import tenseal.sealapi as sealapi

from ._container import ContextRecord
from ._seal_wire import CiphertextWire
from ._tenseal import PUBLIC_ONLY, check_context_matches, load_tenseal_context, one_line
from .errors import (
    CorruptCiphertextError,
    InvalidContextError,
    InvalidUpdateError,
)
from .scheme import (
    MAX_COEFF_MODULUS_BITS,
    MAX_PRIME_BITS,
    EncryptionScheme,
    _as_update,
    checked_parameter_count,
)

#: Noise-budget bits a sum of ``max_parties`` fresh ciphertexts must keep (worst case: the same
#: ciphertext added ``max_parties`` times costs log2(max_parties) bits).
NOISE_MARGIN_BITS = 2

#: Today's ring, for large models and when the model's size is not given: N=8192, 8192 slots,
#: q = [60, 60] = 120 bits of the 218 that 128-bit security allows at N=8192; the data level is
#: the first 60-bit prime (the last is SEAL's special prime), so a fresh ciphertext keeps 12 bits
#: of noise budget over the 40-bit t: up to 1024 parties.
DEFAULT_POLY_MODULUS_DEGREE = 8192
DEFAULT_COEFF_MOD_BIT_SIZES = (60, 60)
#: The small ring, for a model whose parameters fit in one of its ciphertexts: N=4096, 4096
#: slots, q = [d, 109 - d] = 109 bits, exactly the 128-bit maximum at N=4096 (SEAL refuses
#: 110). The data prime d is sized by ``max_parties`` (see ``ring_for``); the special prime
#: takes the rest of the budget.
SMALL_POLY_MODULUS_DEGREE = 4096
#: Noise-budget bits a fresh ciphertext has below its data prime's bits with a 40-bit t: measured
#: 47 (93% of 700 ciphertexts) or 48 at N=4096 for d in 54..60, 48 at N=8192 with [60, 60].
FRESH_NOISE_LOSS_BITS = 48
#: The smallest data prime the small ring uses: 14 bits above the 40-bit t (a t close to the
#: coefficient primes decrypts garbage), 6 or 7 bits of fresh noise budget (up to 16 parties).
SMALL_RING_MIN_DATA_PRIME_BITS = 54


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
        self._ciphertext_wire: tuple[CiphertextWire | None] | None = None  # once known
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
        poly_modulus_degree: int | None = None,
        coeff_mod_bit_sizes: Sequence[int] | None = None,
        plain_modulus_bits: int = 40,
        resolution_bits: int = 24,
        max_parties: int = 100,
        parameter_count: int | None = None,
    ) -> BfvFixedPointScheme:
        """Make fresh keys (secret key included). Defaults: 128-bit security, 16 bytes/param.

        ``parameter_count`` (the model's size) picks the ring with ``ring_for`` when neither
        ``poly_modulus_degree`` nor ``coeff_mod_bit_sizes`` is given; None keeps N=8192,
        q=[60, 60]. ``plain_modulus_bits`` picks the batching prime t (must stay well below
        the coefficient primes); ``resolution_bits`` the fixed-point step
        ``2**-resolution_bits``; ``max_parties`` how many updates a sum may hold.
        """
        parameter_count = checked_parameter_count(parameter_count)
        chosen = poly_modulus_degree is None and coeff_mod_bit_sizes is None
        if chosen:
            poly_modulus_degree, coeff_mod_bit_sizes = cls.ring_for(parameter_count, max_parties)
        poly_modulus_degree = poly_modulus_degree or DEFAULT_POLY_MODULUS_DEGREE
        coeff_mod_bit_sizes = coeff_mod_bit_sizes or DEFAULT_COEFF_MOD_BIT_SIZES
        scheme = cls._generate(
            poly_modulus_degree,
            coeff_mod_bit_sizes,
            plain_modulus_bits=plain_modulus_bits,
            resolution_bits=resolution_bits,
            max_parties=max_parties,
        )
        # A chosen small ring whose fresh noise came out short (never seen in 700 tries) takes
        # one more bit on its data prime from its special prime: the total stays at 109 bits.
        while (
            chosen
            and poly_modulus_degree == SMALL_POLY_MODULUS_DEGREE
            and scheme._fresh_noise_budget_bits() < noise_bits_needed(max_parties)
            and coeff_mod_bit_sizes[0] < MAX_PRIME_BITS
        ):
            coeff_mod_bit_sizes = (coeff_mod_bit_sizes[0] + 1, coeff_mod_bit_sizes[1] - 1)
            scheme = cls._generate(
                poly_modulus_degree,
                coeff_mod_bit_sizes,
                plain_modulus_bits=plain_modulus_bits,
                resolution_bits=resolution_bits,
                max_parties=max_parties,
            )
        scheme._check_noise_headroom()
        return scheme

    @staticmethod
    def ring_for(parameter_count: int | None, max_parties: int) -> tuple[int, tuple[int, ...]]:
        """The ring ``(poly_modulus_degree, coeff_mod_bit_sizes)`` for a model of
        ``parameter_count`` parameters summed over up to ``max_parties`` parties.

        A model that fits in one N=4096 ciphertext gets N=4096 with a data prime of
        ``noise_bits_needed(max_parties) + 48`` bits (at least 54): the smallest whose fresh
        noise budget leaves the headroom ``max_parties`` needs, as ``generate()`` checks; the
        special prime takes the rest of the 109 bits. Larger models, an unknown size, and more
        parties than a 60-bit data prime holds (over 1024, which N=8192 refuses too) keep
        N=8192, q=[60, 60].
        """
        default = (DEFAULT_POLY_MODULUS_DEGREE, DEFAULT_COEFF_MOD_BIT_SIZES)
        if parameter_count is None or parameter_count > SMALL_POLY_MODULUS_DEGREE:
            return default
        if not isinstance(max_parties, int) or max_parties < 1:
            return default  # the constructor refuses it with its own message
        data_bits = max(
            SMALL_RING_MIN_DATA_PRIME_BITS, noise_bits_needed(max_parties) + FRESH_NOISE_LOSS_BITS
        )
        if data_bits > MAX_PRIME_BITS:
            return default
        total_bits = MAX_COEFF_MODULUS_BITS[SMALL_POLY_MODULUS_DEGREE]  # 109
        return SMALL_POLY_MODULUS_DEGREE, (data_bits, total_bits - data_bits)

    @classmethod
    def _generate(
        cls,
        poly_modulus_degree: int,
        coeff_mod_bit_sizes: Sequence[int],
        *,
        plain_modulus_bits: int,
        resolution_bits: int,
        max_parties: int,
    ) -> BfvFixedPointScheme:
        """Make keys for exactly these parameters (the noise headroom is not checked yet)."""
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
        return cls(
            context,
            context.serialize(**PUBLIC_ONLY),
            poly_modulus_degree=poly_modulus_degree,
            coeff_mod_bit_sizes=coeff_mod_bit_sizes,
            plain_modulus_bits=plain_modulus_bits,
            resolution_bits=resolution_bits,
            max_parties=max_parties,
        )

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

    # ----- masked updates (see masking.py) ----------------------------------------------------

    def encrypt_masked(self, values: npt.ArrayLike, mask: np.ndarray) -> bytes:
        """Encrypt ``values`` plus ``mask`` (values uniform modulo t, one per value): the blob
        decrypts to noise alone, and masks that cancel across parties leave an exact sum."""
        update = _as_update(values)
        self._check_bound(update)
        mask = np.asarray(mask, dtype=np.int64)
        if mask.shape != update.shape or mask.min(initial=0) < 0:
            raise InvalidUpdateError(
                f"a mask must hold {update.size} values in [0, t), one per value of the update"
            )
        return self._encrypt_encoded((self._encode(update) + mask) % self._plain_modulus)

    def decrypt_residues(self, blob: bytes) -> np.ndarray:
        """Decrypt a blob into its plaintext residues modulo t (no centring, no scaling): what
        masked sums are unmasked on, before :meth:`values_of`."""
        return self._residues(self._chunks_to_decrypt(blob))

    def values_of(self, residues: np.ndarray) -> np.ndarray:
        """Residues modulo t as the float values they encode (centred lift, then scale)."""
        residues = np.mod(np.asarray(residues, dtype=np.int64), self._plain_modulus)
        centred = np.where(
            residues > self._plain_modulus // 2, residues - self._plain_modulus, residues
        )
        return centred.astype(np.float64) / 2.0**self._resolution_bits

    def _load_chunk(self, data: bytes) -> Any:
        return ts.bfv_vector_from(self._context, data)

    def _wire(self) -> CiphertextWire | None:
        """Learned once from a fresh ciphertext of this context (see ``_seal_wire.py``).

        None where TenSEAL's compressed ciphertexts are smaller: with a data prime well below
        64 bits (the small ring's, for a model of one ciphertext) zstd saves a few percent, and
        summing one ciphertext through TenSEAL costs next to nothing. With 60-bit primes (the
        default ring) compression saves nothing and costs a decompression on every read.
        """
        if self._ciphertext_wire is None:
            probe = self._encrypt_chunk(np.zeros(1, dtype=np.int64)).serialize()
            data_level = self._context.seal_context().data.first_context_data().parms()
            moduli = [int(prime.value()) for prime in data_level.coeff_modulus()]
            wire = CiphertextWire(probe, moduli)
            self._ciphertext_wire = (wire if len(wire.uncompressed(probe)) <= len(probe) else None,)
        return self._ciphertext_wire[0]

    def _decrypt_chunks(self, vectors: Sequence[Any]) -> np.ndarray:
        return self.values_of(self._residues(vectors))

    def _residues(self, vectors: Sequence[Any]) -> np.ndarray:
        """The vectors' plaintexts modulo t, refusing a ciphertext whose noise ate its budget."""
        decryptor = self._decryptor()
        for index, vector in enumerate(vectors):
            for ciphertext in vector.ciphertext():
                if decryptor.invariant_noise_budget(ciphertext) == 0:
                    raise CorruptCiphertextError(
                        f"ciphertext {index} has no noise budget left, so it would decrypt to "
                        "garbage; a sender added a malformed ciphertext: re-aggregate without it"
                    )
        raw = np.concatenate([np.asarray(vector.decrypt(), dtype=np.int64) for vector in vectors])
        return np.mod(raw, self._plain_modulus)  # TenSEAL returns them centred

    def _decryptor(self) -> Any:
        return sealapi.Decryptor(self._context.seal_context().data, self._context.secret_key().data)

    def _fresh_noise_budget_bits(self) -> int:
        """The noise budget of a fresh ciphertext (a probe) under these keys."""
        probe = self._encrypt_chunk(np.zeros(1, dtype=np.int64))
        return min(self._decryptor().invariant_noise_budget(c) for c in probe.ciphertext())

    def _check_noise_headroom(self) -> None:
        """Refuse a max_parties whose worst-case sum would exhaust the noise budget."""
        fresh_bits = self._fresh_noise_budget_bits()
        needed_bits = noise_bits_needed(self.max_parties)
        if fresh_bits < needed_bits:
            largest = 2 ** max(fresh_bits - NOISE_MARGIN_BITS, 0)
            raise InvalidContextError(
                f"max_parties {self.max_parties} needs {needed_bits} bits of noise budget but a "
                f"fresh ciphertext has {fresh_bits} with coeff_mod_bit_sizes "
                f"{self._coeff_mod_bit_sizes}; use max_parties <= {largest} or larger "
                "coefficient primes"
            )


def noise_bits_needed(max_parties: int) -> int:
    """Noise-budget bits a fresh ciphertext needs so that a sum of ``max_parties`` decrypts."""
    return math.ceil(math.log2(max_parties)) + NOISE_MARGIN_BITS


def batching_prime(poly_modulus_degree: int, bits: int) -> int:
    """The largest ``bits``-bit prime t = 1 mod 2N that allows batching (SEAL's choice)."""
    try:
        return int(sealapi.PlainModulus.Batching(poly_modulus_degree, bits).value())
    except Exception as error:  # SEAL: no such prime, or invalid degree/bit count
        raise InvalidContextError(
            f"no {bits}-bit batching prime for poly_modulus_degree {poly_modulus_degree} "
            f"({one_line(error)}); use plain_modulus_bits=40 with poly_modulus_degree=8192"
        ) from error
