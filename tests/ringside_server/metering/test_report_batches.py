"""ReportSender (report_batches.py): a round's reports go in one call per owning core, and a report
the core answers "not owner" for goes again alone (routed to its owner by SettleLeaseCalls)."""

from __future__ import annotations

from typing import Any, cast

from ringside.core.v1 import metering_pb2
from ringside_server.core_client import CoreClient
from ringside_server.core_routing import NOT_OWNER_CODE
from ringside_server.errors import RingsideError
from ringside_server.metering import report_batches
from ringside_server.metering.report_batches import ReportSender
from tests.ringside_server.metering.lease_fakes import REPORTS, SETTLE, FakeCore


class OwnedCore(FakeCore):
    """Two cores: accounts named `acct_b…` are the second's; `moved` leases answered "not owner"."""

    moved: set[str]

    def owner_address(self, account_id: str) -> str:
        return "core-b:50051" if account_id.startswith("acct_b") else ""

    async def internal_to(self, method: str, request: Any, account_id: str, timeout_s: float = 10.0) -> Any:
        self.requests.append((method, request))
        response = metering_pb2.SettleLeaseReportsResponse()
        for report in request.reports:
            if report.lease_id in self.moved:
                response.results.add(error_code=NOT_OWNER_CODE, error_message="another core's")
            else:
                response.results.add(answer=await self.internal(SETTLE, report))
        return response


def _reports(*leases: tuple[str, str]) -> list[tuple[str, metering_pb2.SettleLeaseCallsRequest]]:
    return [(account, metering_pb2.SettleLeaseCallsRequest(lease_id=lease_id)) for account, lease_id in leases]


async def test_one_call_per_owning_core_and_a_moved_lease_goes_alone() -> None:
    core = OwnedCore()
    core.moved = {"lse_a2"}
    sender = ReportSender(cast(CoreClient, core))

    outcomes = await sender.send(
        _reports(("acct_a", "lse_a1"), ("acct_b", "lse_b1"), ("acct_a", "lse_a2"), ("acct_b", "lse_b2"))
    )

    assert all(isinstance(outcome, metering_pb2.SettleLeaseCallsResponse) for outcome in outcomes)
    batches = [[report.lease_id for report in request.reports] for request in core.sent(REPORTS)]
    assert sorted(batches) == [["lse_a1", "lse_a2"], ["lse_b1", "lse_b2"]]
    # every report settled once, the moved one by a call of its own
    assert sorted(report.lease_id for report in core.sent(SETTLE)) == ["lse_a1", "lse_a2", "lse_b1", "lse_b2"]


async def test_past_the_bound_reports_take_more_calls_and_each_refusal_is_its_own(monkeypatch: Any) -> None:
    monkeypatch.setattr(report_batches, "MAX_REPORTS_PER_CALL", 2)
    core = FakeCore(report_error=RingsideError("service_unavailable", "down"))
    sender = ReportSender(cast(CoreClient, core))

    outcomes = await sender.send(_reports(*((f"acct_{n}", f"lse_{n}") for n in range(5))))

    assert len(core.sent(REPORTS)) == 2  # 5 reports, at most 2 a call: 2 calls, and one alone
    assert [type(outcome) for outcome in outcomes] == [RingsideError] * 5
