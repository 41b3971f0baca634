"""The app's frame: a warning banner whenever other machines can reach the app."""

import pytest
from streamlit import config

from tests.app.views import open_view

pytestmark = pytest.mark.slow


@pytest.fixture
def server_address():
    before = config.get_option("server.address")
    yield lambda value: config.set_option("server.address", value)
    config.set_option("server.address", before)


def banner(at) -> list[str]:
    return [w.value for w in at.warning if "other machines can reach it" in w.value]


def test_no_banner_on_loopback(server_address):
    server_address("127.0.0.1")
    assert banner(open_view("home")) == []


def test_banner_when_listening_on_every_interface(server_address):
    server_address("0.0.0.0")
    at = open_view("home")
    assert len(banner(at)) == 1 and "0.0.0.0" in banner(at)[0]
