"""RINGSIDE_EDGE_WORKERS without a stack: its bound and error, the edge roles `ringside up` makes
of it, and how the supervisor tells one edge process listening from another on the same port.
`ringside up` running two edges is tests/test_up_edge_workers.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ringside_cli.listening import listens
from ringside_cli.supervisor import EDGE_METRICS_DIR, edge_roles
from ringside_server.observability.metrics import MULTIPROC_DIR_VARIABLE
from ringside_server.settings import Settings

COMMAND = ["ringside", "edge"]


@pytest.mark.parametrize(("given", "said"), [("0", "greater than or equal to 1"), ("65", "less than or equal to 64")])
@pytest.mark.parametrize("command", [["edge"], ["status"], ["customers", "list"]], ids="-".join)
def test_an_edge_count_out_of_bounds_is_refused_in_one_line(
    tmp_path: Path, given: str, said: str, command: list[str]
) -> None:
    """By a role, by `status` and by an API command alike: one line naming the variable, exit 2."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("RINGSIDE_")}
    done = subprocess.run(
        [sys.executable, "-m", "ringside_cli", *command],
        env={**env, "RINGSIDE_DATA_DIR": str(tmp_path), "RINGSIDE_EDGE_WORKERS": given},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert done.stderr.strip() == f"ringside: RINGSIDE_EDGE_WORKERS is refused: Input should be {said}"
    assert "Traceback" not in done.stderr + done.stdout


def test_one_edge_is_the_edge_of_before(tmp_path: Path) -> None:
    (edge,) = edge_roles(Settings(data_dir=tmp_path, http_port=8123), COMMAND)

    assert (edge.name, edge.kind, edge.port, edge.shares_port, edge.extra_env) == ("edge", "edge", 8123, False, {})


def test_several_edges_share_the_port_and_add_up_their_metrics(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, http_port=8123, edge_workers=3, environment={})

    edges = edge_roles(settings, COMMAND)

    assert [edge.name for edge in edges] == ["edge-1", "edge-2", "edge-3"]
    assert {(edge.kind, edge.port, edge.shares_port) for edge in edges} == {("edge", 8123, True)}
    assert {edge.extra_env[MULTIPROC_DIR_VARIABLE] for edge in edges} == {str(tmp_path.resolve() / EDGE_METRICS_DIR)}


def test_an_operators_metrics_directory_is_kept(tmp_path: Path) -> None:
    chosen = {MULTIPROC_DIR_VARIABLE: str(tmp_path / "mine")}  # in every role's environment already
    settings = Settings(data_dir=tmp_path, edge_workers=2, environment=chosen)

    assert [edge.extra_env for edge in edge_roles(settings, COMMAND)] == [{}, {}]


def test_listens_names_the_process_holding_the_port() -> None:
    with socket.socket() as listener, socket.socket() as other:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        other.bind(("127.0.0.1", 0))  # bound, not listening
        port, idle_port = listener.getsockname()[1], other.getsockname()[1]

        assert listens(os.getpid(), port)
        assert not listens(os.getpid(), idle_port)
        assert not listens(os.getppid(), port)
