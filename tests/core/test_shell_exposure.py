"""Which server addresses make the app reachable from other machines (the warning banner)."""

import pytest

from ui.shell import listens_beyond_this_machine


@pytest.mark.parametrize("address, exposed", [
    ("127.0.0.1", False), ("127.0.0.5", False), ("localhost", False), ("::1", False),
    (None, True), ("", True), ("0.0.0.0", True), ("::", True), ("192.168.1.20", True), ("myhost.example", True),
])
def test_listens_beyond_this_machine(address, exposed):
    assert listens_beyond_this_machine(address) is exposed
