"""Which typed function calls which chaincode transaction (a test keeps it complete)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fedledger.contract import credits, enrichment, parties, prediction, training

__all__ = ["TRANSACTIONS"]

TRANSACTIONS: Mapping[str, Callable[..., Any]] = {
    # parties and advertisements
    "RegisterParty": parties.register_party,
    "GetParty": parties.get_party,
    "ListParties": parties.list_parties,
    "CreateAdvertisement": parties.create_advertisement,
    "UpdateAdvertisement": parties.update_advertisement,
    "WithdrawAdvertisement": parties.withdraw_advertisement,
    "GetAdvertisement": parties.get_advertisement,
    "ListAdvertisements": parties.list_advertisements,
    "GetHistory": parties.get_history,
    # training
    "ProposeTask": training.propose_task,
    "ApproveTask": training.approve_task,
    "GetTask": training.get_task,
    "ListTasks": training.list_tasks,
    "PutModelWeights": training.put_model_weights,
    "GetModelWeights": training.get_model_weights,
    "PutKeyEnvelope": training.put_key_envelope,
    "GetKeyEnvelope": training.get_key_envelope,
    "OpenRound": training.open_round,
    "CloseRound": training.close_round,
    "FailRound": training.fail_round,
    "GetRound": training.get_round,
    "ListRounds": training.list_rounds,
    "GetAggregate": training.get_aggregate,
    "SubmitUpdate": training.submit_update,
    "GetUpdate": training.get_update,
    "SubmitDecryptionShare": training.submit_decryption_share,
    "GetDecryptionShare": training.get_decryption_share,
    "GetDecryptionShares": training.get_decryption_shares,
    "ReportResult": training.report_result,
    "GetCurrentModel": training.get_current_model,
    # credits
    "Mint": credits.mint,
    "Transfer": credits.transfer,
    "BalanceOf": credits.balance_of,
    "TotalSupply": credits.total_supply,
    "TokenInfo": credits.token_info,
    "TokenAudit": credits.token_audit,
    # enrichment
    "ProposePlan": enrichment.propose_plan,
    "ApprovePlan": enrichment.approve_plan,
    "GetPlan": enrichment.get_plan,
    "SettlePlan": enrichment.settle_plan,
    "SealPlanModel": enrichment.seal_plan_model,
    "GetPlanModel": enrichment.get_plan_model,
    "DeliverEnrichment": enrichment.deliver_enrichment,
    "GetEnrichmentEnvelope": enrichment.get_enrichment_envelope,
    "ReportEnrichment": enrichment.report_enrichment,
    # prediction
    "CreateOffer": prediction.create_offer,
    "WithdrawOffer": prediction.withdraw_offer,
    "GetOffer": prediction.get_offer,
    "ListOffers": prediction.list_offers,
    "RequestPrediction": prediction.pay_for,
    "GetPredictionRequest": prediction.get_request,
    "SubmitReceipt": prediction.submit_receipt,
    "GetPredictionReceipt": prediction.get_receipt,
    "ReclaimPrediction": prediction.reclaim,
    "RecordDispute": prediction.record_dispute,
    "GetDispute": prediction.get_dispute,
}
