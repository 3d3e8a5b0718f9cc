"""A lease's report carries the request-log entries of its calls (issue 24): they land in the
report's own commit, attributed as RecordRequests attributes them — and only to the lease's tenant:
an entry of another account's key riding the report is not recorded — on SQLite and PostgreSQL."""

from __future__ import annotations

import pathlib

from core.domain.requests import RequestLogEntry, RequestQuery
from core.server import open_core
from core.services import accounts, requests
from core.services.accounts import create_account
from core.services.core import Principal
from core.services.leases import settle_lease_calls
from core.services.requests import Caller
from ringside_server.ids import new_sortable_id
from tests.core.services.lease_calls import MODEL, lease_with_calls
from tests.core.store.conftest import core_settings

ROUTE = "/v1/chat/completions"


def _entry(request_id: str, api_key: str) -> tuple[Caller, RequestLogEntry]:
    entry = RequestLogEntry(request_id, "", False, None, ROUTE, MODEL, MODEL, 200, "", 12, 0, 0)
    return Caller(api_key, "", "", "", ""), entry


def _listed(account_id: str) -> Principal:
    return Principal(account_id=account_id, livemode=True, scopes=frozenset({"api:read"}))


async def test_a_reports_entries_land_in_its_commit_and_only_for_its_tenant(
    database: str, tmp_path: pathlib.Path
) -> None:
    core = await open_core(core_settings(tmp_path, database))
    try:
        new = await accounts.bootstrap(core)
        assert new is not None
        admin = Principal(account_id=new.account.id, livemode=True, scopes=frozenset(), admin=True)
        other = await create_account(core, admin, "another tenant")
        granted = await lease_with_calls(core, new.live_key.secret, "", 2)
        lease, ids, admissions, finished = granted.lease, granted.ids, granted.admissions, granted.finished
        foreign = new_sortable_id("req")  # another tenant's call, named in this lease's report
        entries = [*(_entry(i, new.live_key.secret) for i in ids), _entry(foreign, other.live_key.secret)]
        commits = core.writer.commits

        recorded, closed, kept = await settle_lease_calls(core, lease.id, finished, False, admissions, entries=entries)

        assert (recorded, closed, kept) == (2, False, 2)
        assert core.writer.commits == commits + 1  # the calls and their entries together
        mine, _ = await requests.list_requests(core, _listed(new.account.id), "", _query())
        assert sorted((row.request_id, row.route, row.status, row.settled_by) for row in mine) == sorted(
            (i, ROUTE, 200, "call") for i in ids
        )
        theirs, _ = await requests.list_requests(core, _listed(other.account.id), "", _query())
        assert theirs == []  # never recorded, not even under its own account: the report is not its

        # A repeated report (its answer lost): the entries already recorded are skipped, no error.
        again = await settle_lease_calls(core, lease.id, [], True, [], entries=entries[:1])
        assert again == (0, True, 1)
        mine, _ = await requests.list_requests(core, _listed(new.account.id), "", _query())
        assert len(mine) == 2
    finally:
        await core.writer.close()
        core.engine.dispose()


def _query() -> RequestQuery:
    return RequestQuery(
        customer_id=None, model="", status=0, since=0, until=0, limit=100, starting_after="", ending_before=""
    )
