"""The RoundReports contract's client: a valued round's group report (the key holder's) and each
validator's group scores, anchored by digest."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3.contract import Contract

from .artifacts import load_artifact
from .ledger import Ledger, TransactionResult

_SCORES_REPORTED = keccak(text="ScoresReported(uint256,uint32,address,bytes32)")
ZERO_DIGEST = bytes(32)


@dataclass(frozen=True)
class ScoreReport:
    """One validator's scores of one round's groups: where they are."""

    validator: str
    scores_digest: bytes
    block_number: int


class RoundReportsContract:
    """A deployed RoundReports bound to the ledger that signs for it."""

    def __init__(self, ledger: Ledger, address: str, *, first_block: int = 0) -> None:
        self.ledger = ledger
        self.address = to_checksum_address(address)
        self.first_block = first_block
        self.contract: Contract = ledger.web3.eth.contract(
            address=self.address, abi=load_artifact("RoundReports").abi
        )

    def report_groups(
        self, key_holder: LocalAccount, task_id: int, round_number: int, report_digest: bytes
    ) -> TransactionResult:
        function = self.contract.functions.reportGroups(task_id, round_number, report_digest)
        return self.ledger.transact(key_holder, function)

    def report_scores(
        self, validator: LocalAccount, task_id: int, round_number: int, scores_digest: bytes
    ) -> TransactionResult:
        function = self.contract.functions.reportScores(task_id, round_number, scores_digest)
        return self.ledger.transact(validator, function)

    def group_report(self, task_id: int, round_number: int) -> bytes | None:
        """The round's group report digest, or None before the key holder reported it."""
        digest = bytes(self.ledger.call(self.contract.functions.groupReport(task_id, round_number)))
        return None if digest == ZERO_DIGEST else digest

    def score_report(self, task_id: int, round_number: int, validator: str) -> bytes | None:
        function = self.contract.functions.scoreReport(
            task_id, round_number, to_checksum_address(validator)
        )
        digest = bytes(self.ledger.call(function))
        return None if digest == ZERO_DIGEST else digest

    def score_reports(self, task_id: int, round_number: int) -> list[ScoreReport]:
        """Every validator's score report for the round, in chain order."""
        topics = [
            _SCORES_REPORTED,
            task_id.to_bytes(32, "big"),
            round_number.to_bytes(32, "big"),
        ]
        logs = self.ledger.raw_logs(
            self.address, list(topics), self.first_block, self.ledger.block_number()
        )
        return [
            ScoreReport(
                validator=to_checksum_address(log.topics[3][-20:]),
                scores_digest=bytes(log.data[:32]),
                block_number=log.block_number,
            )
            for log in logs
        ]
