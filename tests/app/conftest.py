"""Page tests share one process, so they share the server's job registry: each test starts without
the jobs of the tests before it (a reloaded tab is meant to find them; another test is not)."""

import pytest

from ui import jobs


@pytest.fixture(autouse=True)
def no_jobs_from_other_tests():
    jobs.wait_all(600)
    jobs.forget_finished()
    yield
    jobs.wait_all(600)
    jobs.forget_finished()
