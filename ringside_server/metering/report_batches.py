"""One report round's reports in one call per core (issue 24): SettleLeaseReports carries the
report of every due lease that core owns, instead of a SettleLeaseCalls call for each.

Leases of different accounts may live on different cores (core_routing.py): the reports are grouped
by the owner this edge knows for each lease's account, and each group goes to that owner. A report
the core answers "not owner" for (its lease's partition moved) goes again alone by SettleLeaseCalls,
which the routing sends to the owner. An older core (a rolling upgrade) does not know the method:
every report goes alone, as before, for OLD_CORE_RETRY_S before a round tries one call again.
"""

from __future__ import annotations

import asyncio
import logging
import time

from ringside.core.v1 import metering_pb2
from ringside_server.core_client import CoreClient, Unimplemented
from ringside_server.core_routing import NOT_OWNER_CODE
from ringside_server.errors import RingsideError

log = logging.getLogger("ringside.edge.leases")
MAX_REPORTS_PER_CALL = 100  # the core takes 200 (core/rpc/metering.py)
OLD_CORE_RETRY_S = 60.0
# A report's answer, or why it failed (the lease's report is sent again in a later round).
Outcome = metering_pb2.SettleLeaseCallsResponse | RingsideError


class ReportSender:
    """Sends a round's reports, one call per owning core; each report answered on its own."""

    def __init__(self, core: CoreClient) -> None:
        self._core = core
        self._alone_until = 0.0  # an older core answered: reports go alone until then

    async def send(self, reports: list[tuple[str, metering_pb2.SettleLeaseCallsRequest]]) -> list[Outcome]:
        """Each (lease's account, report) → its answer or its error, in order."""
        if len(reports) == 1 or time.monotonic() < self._alone_until:
            return list(await asyncio.gather(*(self._alone(report) for _, report in reports)))
        groups: dict[str, list[int]] = {}
        for index, (account, _) in enumerate(reports):
            groups.setdefault(self._core.owner_address(account), []).append(index)
        outcomes: list[Outcome] = [RingsideError("internal_error", "Not sent.")] * len(reports)
        chunks = [
            group[at : at + MAX_REPORTS_PER_CALL]
            for group in groups.values()
            for at in range(0, len(group), MAX_REPORTS_PER_CALL)
        ]
        await asyncio.gather(*(self._together(reports, chunk, outcomes) for chunk in chunks))
        return outcomes

    async def _alone(self, report: metering_pb2.SettleLeaseCallsRequest) -> Outcome:
        try:
            return await self._core.internal(self._core.metering.SettleLeaseCalls, report)
        except RingsideError as error:
            return error

    async def _each_alone(
        self,
        reports: list[tuple[str, metering_pb2.SettleLeaseCallsRequest]],
        indexes: list[int],
        outcomes: list[Outcome],
    ) -> None:
        answers = await asyncio.gather(*(self._alone(reports[index][1]) for index in indexes))
        for index, answer in zip(indexes, answers, strict=True):
            outcomes[index] = answer

    async def _together(
        self, reports: list[tuple[str, metering_pb2.SettleLeaseCallsRequest]], chunk: list[int], outcomes: list[Outcome]
    ) -> None:
        if len(chunk) == 1:
            await self._each_alone(reports, chunk, outcomes)
            return
        request = metering_pb2.SettleLeaseReportsRequest(reports=[reports[index][1] for index in chunk])
        try:
            # Routed by its first lease's account: a core that does not serve it answers "not owner"
            # for the whole call, which goes again to the owner it names.
            response = await self._core.internal_to(
                self._core.metering.SettleLeaseReports, request, reports[chunk[0]][0]
            )
        except Unimplemented:
            self._alone_until = time.monotonic() + OLD_CORE_RETRY_S
            log.info("the core has no SettleLeaseReports (an older core): reports go one lease a call")
            await self._each_alone(reports, chunk, outcomes)
            return
        except RingsideError as error:
            for index in chunk:
                outcomes[index] = error
            return
        moved: list[int] = []
        results = list(response.results)
        for position, index in enumerate(chunk):
            if position >= len(results):
                outcomes[index] = RingsideError("internal_error", "The core answered no result for this report.")
            elif results[position].HasField("answer"):
                outcomes[index] = results[position].answer
            elif results[position].error_code == NOT_OWNER_CODE:
                moved.append(index)  # its lease is another core's now: alone, routed to it
            else:
                outcomes[index] = RingsideError(results[position].error_code, results[position].error_message)
        if moved:
            await self._each_alone(reports, moved, outcomes)
