"""Shared fixtures: a fresh emulator per test and a signing client for it."""

from __future__ import annotations

import pytest
from emuclient import Api

from tcfaceid.emulator import Config, Emulator


@pytest.fixture
def emu():
    with Emulator(Config(port=0)) as e:
        yield e


@pytest.fixture
def client(emu: Emulator):
    c = Api(emu.endpoint, clock=emu.now)
    yield c
    c.close()


def code(resp: dict) -> str:
    """The Error.Code of a Response, or "" for a success."""
    return resp.get("Error", {}).get("Code", "")
