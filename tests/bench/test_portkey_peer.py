"""The Portkey bench peer (bench/portkey, ``portkey`` in bench/gateways.py).

Its pins are checked without Node; the gateway itself only runs where bench/portkey/setup.sh installed
it, since bench peers are optional on a machine.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
import pytest

from bench.gateways import GATEWAYS, PORTKEY_DIR, GatewayContext, GatewaySkipped, portkey, portkey_argv, portkey_version
from bench.loadgen import STREAM_END
from bench.procs import serve
from bench.run import fake_upstream_spec

GATEWAY_VERSION = "1.15.2"
# The gateway's own v1.15.2 package-lock.json; a newer @hono/node-server answers every stream with a 500.
HONO_NODE_SERVER_VERSION = "1.13.5"
INSTALLED = portkey_version(PORTKEY_DIR) is not None
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Benchmark prompt."}], "max_tokens": 8}
STREAM_BODY = {**BODY, "stream": True, "stream_options": {"include_usage": True}}
LOOPBACK_HEX = "0100007F"
TCP_LISTEN = "0A"


def test_the_peer_is_registered_and_pinned_exactly_in_package_json_and_its_lock() -> None:
    manifest = json.loads((PORTKEY_DIR / "package.json").read_text())
    lock = json.loads((PORTKEY_DIR / "package-lock.json").read_text())["packages"]

    assert GATEWAYS["portkey"] is portkey
    pins = manifest["dependencies"]
    assert pins["@portkey-ai/gateway"] == GATEWAY_VERSION
    assert pins["@hono/node-server"] == HONO_NODE_SERVER_VERSION
    assert lock[""]["dependencies"] == pins
    for name, version in pins.items():
        assert version[0].isdigit(), f"{name} floats: {version}"
        assert lock[f"node_modules/{name}"]["version"] == version, name
    # Nothing nested under the gateway: it runs on the pinned, hoisted copies.
    assert not [path for path in lock if path.startswith("node_modules/@portkey-ai/gateway/node_modules/")]
    assert all(entry.get("integrity", "").startswith("sha512-") for path, entry in lock.items() if path)


def test_the_gateway_runs_one_node_process_on_loopback_with_the_installed_entry_point() -> None:
    argv = portkey_argv(PORTKEY_DIR, "/usr/bin/node", 18_000)

    assert argv[:3] == ("/usr/bin/node", "--import", (PORTKEY_DIR / "loopback.mjs").as_uri())
    assert (PORTKEY_DIR / "loopback.mjs").is_file()
    assert argv[3].endswith("node_modules/@portkey-ai/gateway/build/start-server.js")
    assert argv[4:] == ("--port=18000", "--headless")


async def test_without_node_modules_the_gateway_is_skipped_with_how_to_install_it(tmp_path: Path) -> None:
    context = GatewayContext(upstream_base_url="http://127.0.0.1:9/v1", work_dir=tmp_path, portkey_dir=tmp_path)

    with pytest.raises(GatewaySkipped, match=re.escape("bench/portkey/setup.sh")):
        async with portkey(context):
            pass


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp) with a socket listening on ``port``."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == TCP_LISTEN and int(hex_port, 16) == port:
                addresses.add(address)
    return addresses


@pytest.mark.skipif(not INSTALLED, reason="bench/portkey/node_modules absent: bash bench/portkey/setup.sh")
async def test_portkey_passes_the_upstream_body_and_sse_events_through_byte_for_byte(tmp_path: Path) -> None:
    async with serve(fake_upstream_spec(tmp_path)) as upstream:
        upstream_base_url = f"{upstream.url}/v1"
        context = GatewayContext(upstream_base_url=upstream_base_url, work_dir=tmp_path)
        async with portkey(context) as gateway, aiohttp.ClientSession() as session:
            assert _listening_addresses(int(gateway.base_url.rsplit(":", 1)[1].split("/")[0])) == {LOOPBACK_HEX}
            for body in (BODY, STREAM_BODY):
                async with session.post(f"{upstream_base_url}/chat/completions", json=body) as direct:
                    expected = await direct.read()
                url = f"{gateway.base_url}/chat/completions"
                async with session.post(url, json=body, headers=gateway.headers) as routed:
                    assert routed.status == 200, await routed.text()
                    assert await routed.read() == expected

    assert expected.endswith(STREAM_END)
    assert expected.count(b"data: ") > 3
