"""Masked rounds (``TaskConfig(privacy="masked")``): the engine's side of crypto/masking.py.

A round of a masked task runs in four steps, each read from or written to the ledger:

1. every participant advertises a fresh masking key for the round (``advertiseMaskingKey``),
   derived from its account key and the round, so a restarted kernel derives it again;
2. once every eligible participant advertised (or the key window closed), each masks its
   encoded update against its peers among the round's advertisers (``round_graph``: a sparse
   random graph, or in a valued task its group mates) and commits it as usual;
   Before it submits, each also deals (``RoundKeys.dealShares``) Feldman-checked Shamir shares of
   its masking secret and self secret to its peers, each sealed to its peer;
3. once the aggregate is committed, each included participant reveals its self-mask seed and its
   pair seeds with the advertisers whose updates are not in the sum (a blob, digest on-chain),
   with the shares it holds that the sum allows: of its included peers' self secrets and of its
   absent peers' masking secrets, never both of one party;
4. the key holder decrypts the sum (a valued task: each group's sum) and removes what the
   reveals say the masks left in it; an included party that stays silent is unmasked from its
   peers' shares once ``TaskConfig.recovery_threshold`` of them revealed (``round_reveals``).

The key holder can still decrypt any single ciphertext, but gets values uniform modulo t.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..crypto import BfvFixedPointScheme, EncryptionScheme
from ..crypto.masking import (
    MaskingError,
    MaskingKey,
    Reveal,
    ShareBundle,
    deal_shares,
    lone_parties,
    mask_for,
    open_share,
    peer_graph,
    recover_reveal,
    recover_secret,
    residual_masks,
    reveal_for,
    round_context,
)
from ..storage import StorageError
from .errors import FederationError, RoundNotReadyError, step

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from .task import FederatedTask


@dataclass(frozen=True)
class KeyWindow:
    """Where a round's masking-key advertisement stands."""

    advertised: int
    eligible: int
    deadline_block: int
    closed: bool


def context(task: FederatedTask, round_number: int) -> bytes:
    federation = task.federation
    return round_context(
        federation.ledger.chain_id,
        str(federation.registry.contract.address),
        task.task_id,
        round_number,
    )


def masking_key(task: FederatedTask, account: LocalAccount, round_number: int) -> MaskingKey:
    """The party's masking key for the round (derived again after any restart)."""
    return MaskingKey.derive(bytes(account.key), context(task, round_number))


def key_window(task: FederatedTask, round_number: int) -> KeyWindow:
    registry = task.federation.registry
    masked_round = registry.masked_round(task.task_id, round_number)
    eligible = task.round_state(round_number).eligible_participants
    block = task.federation.ledger.block_number()
    closed = (
        masked_round.advertised_count >= eligible
        or block >= masked_round.advertisement_deadline_block
    )
    return KeyWindow(
        masked_round.advertised_count, eligible, masked_round.advertisement_deadline_block, closed
    )


def advertised_keys(task: FederatedTask, round_number: int) -> dict[str, bytes]:
    """The round's masking keys by advertiser, each key once: a key advertised again by another
    account (a replay: that account cannot know its secret) is left out, so that no one masks
    against it and no one reveals a seed with it (it would be the original owner's seed)."""
    keys: dict[str, bytes] = {}
    seen: set[bytes] = set()
    for address, public in task.federation.registry.masking_keys(
        task.task_id, round_number
    ).items():
        if public not in seen:
            keys[address] = public
            seen.add(public)
    return keys


def replayers(task: FederatedTask, round_number: int) -> set[str]:
    """The accounts that advertised a key someone advertised before them in the round."""
    every = task.federation.registry.masking_keys(task.task_id, round_number)
    return set(every) - set(advertised_keys(task, round_number))


def update_mask(
    task: FederatedTask,
    key: MaskingKey,
    peers: set[bytes],
    round_number: int,
    length: int,
    modulus: int,
) -> np.ndarray:
    """What the party holding ``key`` adds to its encoded update: masks against its ``peers``
    (``own_key_and_peers``)."""
    return mask_for(key, peers, length, modulus, context(task, round_number))


def own_key_and_peers(
    task: FederatedTask, account: LocalAccount, round_number: int
) -> tuple[MaskingKey, set[bytes]]:
    """The party's masking key for the round, checked to be the one it advertised, and its
    mask peers: read once for what a party masks and deals."""
    keys, graph = round_peers(task, round_number)
    key = masking_key(task, account, round_number)
    if keys.get(str(account.address)) != key.public:
        raise MaskingKeyMissingError(task.task_id, round_number)
    return key, graph[key.public]


def round_peers(
    task: FederatedTask, round_number: int
) -> tuple[dict[str, bytes], dict[bytes, set[bytes]]]:
    """The round's masking keys by advertiser and who masks with whom: read once, passed on."""
    keys = advertised_keys(task, round_number)
    return keys, round_graph(task, round_number, keys)


def round_graph(
    task: FederatedTask, round_number: int, keys: dict[str, bytes]
) -> dict[bytes, set[bytes]]:
    """Who masks with whom in the round (by masking key), the same for everyone who reads the
    chain: a sparse random graph over the advertisers, or, in a valued task, each party's group
    mates (``valuation.masking_groups``), so that the masks cancel within every group sum the key
    holder decrypts and never across groups."""
    from . import valuation  # valuation draws its groups with this module's seed

    if not valuation.valued(task):
        return peer_graph(keys.values(), graph_seed(task, round_number))
    graph: dict[bytes, set[bytes]] = {}
    for group in valuation.masking_groups(task, round_number, sorted(keys)):
        for member in group:
            graph[keys[member]] = {keys[mate] for mate in group if mate != member}
    return graph


def graph_seed(task: FederatedTask, round_number: int) -> bytes:
    """The on-chain randomness the round's peer graph is drawn from: the hash of the block that
    opened the round (every party reads the same one)."""
    block_hash = task.federation.ledger.block_hash(_opening_block(task, round_number)) or ""
    return bytes.fromhex(block_hash.removeprefix("0x")) + context(task, round_number)


def _opening_block(task: FederatedTask, round_number: int) -> int:
    """The number of the block that opened the round."""
    (opened,) = task.federation.registry.event_logs(
        "RoundOpened", taskId=task.task_id, round=round_number
    )
    return int(opened["blockNumber"])


def reveal_bytes(task: FederatedTask, account: LocalAccount, round_number: int) -> bytes:
    """The party's reveal for the round's committed sum, with the shares it holds that the sum
    allows: of its included peers' self secrets, of its absent peers' masking secrets. A share
    that does not open is left out (its dealer's other peers' shares stand in for it); whoever
    rebuilds a secret checks each share it uses against its dealer's commitments."""
    keys, graph = round_peers(task, round_number)
    included, absent_peers = _included_and_absent_peers(task, round_number, keys, graph)
    if str(account.address) not in included:
        raise MaskingError("only a party whose update is in the sum reveals its masks")
    key = masking_key(task, account, round_number)
    round_context_bytes = context(task, round_number)
    self_shares: dict[bytes, tuple[int, int]] = {}
    secret_shares: dict[bytes, tuple[int, int]] = {}
    if shares_dealt(task):
        peers = graph[key.public]
        bundles, _ = checked_bundles(task, round_number, keys, graph, peers)
        in_sum = set(included.values())
        for peer in peers:
            bundle = bundles.get(peer)
            if bundle is None:
                continue
            try:
                x, secret_share, self_share = open_share(
                    bundle, key, round_context_bytes, check=False
                )
            except MaskingError:
                continue
            if peer in in_sum:
                self_shares[peer] = (x, self_share)
            else:
                secret_shares[peer] = (x, secret_share)
    reveal = reveal_for(
        key, absent_peers[key.public], round_context_bytes, self_shares, secret_shares
    )
    return reveal.to_bytes()


LONE_IN_SUM = "none of its mask peers is in the sum, so revealing its masks would unmask its update"


def lone_in_sum(task: FederatedTask, round_number: int, summed: Sequence[str]) -> set[str]:
    """The parties of ``summed`` to leave out so that every party left has a mask peer in the
    sum: one whose peers are all absent would reveal its self seed and every pair seed of its
    masks, and its update could be read alone (a sparse graph after many dropouts, or a
    valued group whose mates all dropped). Leaving one out can leave another alone: repeated
    until none is."""
    keys, graph = round_peers(task, round_number)
    lone = lone_parties(graph, {keys[address] for address in summed if address in keys})
    return {address for address in summed if keys.get(address) in lone}


# -- Shamir shares: a silent party never stalls the round -----------------------------------------


def shares_dealt(task: FederatedTask) -> bool:
    """Whether the task's parties deal Shamir shares each round: every masked task with round
    keys (its RoundKeys contract records the bundles)."""
    from . import round_keys

    return round_keys.uses_round_keys(task)


def recovery_threshold(task: FederatedTask, peers: int) -> int:
    """How many of a party's ``peers`` must reveal their shares to rebuild its secrets: the
    task's ``recovery_threshold`` fraction of them, rounded up, at least one."""
    return max(1, math.ceil(task.config.recovery_threshold * peers - 1e-9)) if peers else 0


def share_bundle_bytes(
    task: FederatedTask, key: MaskingKey, peers: set[bytes], round_number: int
) -> bytes | None:
    """The share bundle of the party holding ``key`` for the round, to its ``peers``
    (``own_key_and_peers``); None when it has no peer to share with."""
    if not peers:
        return None
    threshold = recovery_threshold(task, len(peers))
    return deal_shares(key, peers, threshold, context(task, round_number)).to_bytes()


def dealt_bundles(task: FederatedTask, round_number: int) -> dict[str, bytes]:
    """The round's share-bundle digests by dealer address."""
    from . import round_keys

    return round_keys.contract(task).share_bundles(
        task.task_id, round_number, _opening_block(task, round_number)
    )


def checked_bundles(
    task: FederatedTask,
    round_number: int,
    keys: dict[str, bytes],
    graph: dict[bytes, set[bytes]],
    dealers: set[bytes] | None = None,
) -> tuple[dict[bytes, ShareBundle], dict[str, str]]:
    """The round's usable share bundles by dealer key (of ``dealers`` only, if given: a party
    reads its peers', not the whole round's), and why each advertiser with peers has none (no
    bundle dealt, a blob missing or malformed, commitments that do not match its key, shares
    sealed to others than its peers, another threshold than the task's)."""
    digests = dealt_bundles(task, round_number)
    usable: dict[bytes, ShareBundle] = {}
    problems: dict[str, str] = {}
    for address, public in keys.items():
        peers = graph.get(public, set())
        if not peers or (dealers is not None and public not in dealers):
            continue
        digest = digests.get(address)
        if digest is None:
            problems[address] = "it dealt no Shamir shares to its peers"
            continue
        try:
            bundle = ShareBundle.from_bytes(task.federation.store.get(digest))
            bundle.check(public, peers, recovery_threshold(task, len(peers)))
        except (MaskingError, StorageError) as error:
            problems[address] = f"its share bundle is unusable: {error}"
            continue
        usable[public] = bundle
    return usable, problems


def unmaskable(task: FederatedTask, round_number: int) -> dict[str, str]:
    """The round's advertisers whose updates cannot go into a masked sum, with why: a replayed
    masking key (its masks cannot cancel), or shares that cannot be used."""
    problems = dict.fromkeys(replayers(task, round_number), "it replayed another's masking key")
    if shares_dealt(task):
        problems.update(checked_bundles(task, round_number, *round_peers(task, round_number))[1])
    return problems


def bfv(scheme: EncryptionScheme) -> BfvFixedPointScheme:
    """A masked task's scheme: BFV (the only one whose sums are exact modulo t)."""
    if not isinstance(scheme, BfvFixedPointScheme):
        raise MaskingError(f"masked updates need the BFV scheme, not {scheme.name}")
    return scheme


@dataclass(frozen=True)
class RoundReveals:
    """A round's reveals, read once: each included party's (by address), and for each of them
    its peers whose updates are not in the sum."""

    reveals: dict[str, Reveal]
    absent_peers: dict[bytes, set[bytes]]

    def unmask(
        self, residues: np.ndarray, modulus: int, members: Sequence[str] | None = None
    ) -> np.ndarray:
        """The decrypted sum's residues without the masks; ``members``: the sum is of these
        included parties only (a valued round's group), else of every included party."""
        chosen = self.reveals.values() if members is None else [self.reveals[m] for m in members]
        residual = residual_masks(chosen, self.absent_peers, residues.size, modulus)
        return np.mod(residues - residual, modulus)


def round_reveals(task: FederatedTask, round_number: int) -> RoundReveals:
    """The included parties' reveals of the round, each checked to be for the key it
    advertised; a party that has not revealed is rebuilt from its peers' revealed shares (once
    enough of them did), else the round waits for it."""
    registry = task.federation.registry
    keys, graph = round_peers(task, round_number)
    included, absent_peers = _included_and_absent_peers(task, round_number, keys, graph)
    digests = registry.mask_reveals(task.task_id, round_number)
    reveals = {}
    for address, public in included.items():
        if address not in digests:
            continue
        reveal = Reveal.from_bytes(task.federation.store.get(digests[address]))
        if reveal.public != public:
            raise MaskingError(
                f"the reveal of {address} is for another masking key than it advertised; "
                "it must reveal again"
            )
        reveals[address] = reveal
    silent = sorted(address for address in included if address not in reveals)
    if silent:
        rebuilt = None
        if reveals and shares_dealt(task):
            wanted = {included[address] for address in silent}
            wanted |= {peer for public in wanted for peer in absent_peers[public]}
            bundles, _ = checked_bundles(task, round_number, keys, graph, wanted)
            silent_keys = [included[address] for address in silent]
            rebuilt = _rebuilt_reveals(
                silent_keys, absent_peers, reveals, bundles, context(task, round_number)
            )
        if rebuilt is None:
            raise RevealsMissingError(task.task_id, round_number, len(silent), len(included))
        reveals.update(zip(silent, rebuilt, strict=True))
    return RoundReveals(reveals, absent_peers)


def _rebuilt_reveals(
    silent: Sequence[bytes],
    absent_peers: dict[bytes, set[bytes]],
    reveals: dict[str, Reveal],
    bundles: dict[bytes, ShareBundle],
    round_context_bytes: bytes,
) -> list[Reveal] | None:
    """The reveals of the silent included parties (by key) rebuilt from the shares the others
    revealed, or None while too few shares are in for any of them."""
    rebuilt_secrets: dict[bytes, bytes] = {}
    rebuilt = []
    try:
        for public in silent:
            bundle = bundles.get(public)
            if bundle is None or not absent_peers[public] <= set(bundles):
                return None
            for peer in absent_peers[public] - set(rebuilt_secrets):
                shares = _shares_of(peer, (r.secret_shares for r in reveals.values()))
                rebuilt_secrets[peer] = recover_secret(bundles[peer], shares)
            self_shares = _shares_of(public, (r.self_shares for r in reveals.values()))
            absent = {peer: rebuilt_secrets[peer] for peer in absent_peers[public]}
            rebuilt.append(recover_reveal(bundle, self_shares, absent, round_context_bytes))
    except MaskingError:
        return None
    return rebuilt


def _shares_of(
    dealer: bytes, revealed: Iterable[Mapping[bytes, tuple[int, int]]]
) -> dict[int, int]:
    """The revealed shares (x -> share) of ``dealer``'s secret, from each reveal's map."""
    return dict(shares[dealer] for shares in revealed if dealer in shares)


def unmask(
    task: FederatedTask, round_number: int, residues: np.ndarray, modulus: int
) -> np.ndarray:
    """The decrypted sum of every included update, without the masks."""
    return round_reveals(task, round_number).unmask(residues, modulus)


def _included_and_absent_peers(
    task: FederatedTask,
    round_number: int,
    keys: dict[str, bytes],
    graph: dict[bytes, set[bytes]],
) -> tuple[dict[str, bytes], dict[bytes, set[bytes]]]:
    """The advertisers whose updates are in the round's sum (by address, with their keys), and
    for each of them its peers whose updates are not: the pairs whose masks do not cancel."""
    registry = task.federation.registry
    summed = {c.participant for c in registry.update_commitments(task.task_id, round_number)}
    included = {address: public for address, public in keys.items() if address in summed}
    absent = {public for address, public in keys.items() if address not in summed}
    return included, {public: graph[public] & absent for public in included.values()}


class MaskingKeyMissingError(FederationError):
    def __init__(self, task_id: int, round_number: int) -> None:
        super().__init__(
            f"this party advertised no masking key in round {round_number} of task {task_id}, "
            "so its update cannot be masked (keys are advertised when a party starts training, "
            "before the key window closes)",
            step("wait_next_round", task=task_id),
        )


class KeysStillOpenError(RoundNotReadyError):
    def __init__(self, task_id: int, round_number: int, window: KeyWindow) -> None:
        super().__init__(
            f"round {round_number} of task {task_id} still takes masking keys ({window.advertised} "
            f"of {window.eligible} parties advertised; each advertises when it starts training, "
            f"and keys close at block {window.deadline_block}): every party masks against the "
            "same peers, so updates wait for the rest",
            step("train_others", task=task_id),
        )


class RevealsMissingError(RoundNotReadyError):
    def __init__(self, task_id: int, round_number: int, waiting: int, included: int) -> None:
        super().__init__(
            f"{waiting} of the {included} parties in round {round_number}'s sum of task "
            f"{task_id} have not revealed their masks yet, and too few of their peers' shares "
            "are revealed to stand in for them, so the sum cannot be unmasked",
            step("reveal_masks", task=task_id),
        )


class RevealTooLateError(FederationError):
    def __init__(self, task_id: int, round_number: int) -> None:
        super().__init__(
            f"round {round_number} of task {task_id} is already unmasked and its model "
            "committed (the other parties' Shamir shares stood in for this workspace's "
            "parties), so there is nothing left to reveal",
            step("vote", task=task_id),
        )
