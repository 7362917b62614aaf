"""The suite left the checkout as it found it: checked here, in whichever worker runs this file, and again
by tests/conftest.py's pytest_sessionfinish after every worker ended (that check fails the suite too)."""

from .conftest import OUTPUTS_BEFORE, STATUS_BEFORE, checkout_outputs, checkout_status


def test_the_suite_wrote_nothing_inside_the_checkout():
    assert checkout_status() == STATUS_BEFORE  # `git status --porcelain` as before the suite (clean on CI)
    assert (
        checkout_outputs() == OUTPUTS_BEFORE
    )  # outputs/ (ignored by git; real results may be there) untouched
