"""Runs last (after the notebooks and every other test): the suite left the checkout as it found it."""

from .conftest import OUTPUTS_BEFORE, STATUS_BEFORE, checkout_outputs, checkout_status


def test_the_suite_wrote_nothing_inside_the_checkout():
    assert checkout_status() == STATUS_BEFORE  # `git status --porcelain` as before the suite (clean on CI)
    assert (
        checkout_outputs() == OUTPUTS_BEFORE
    )  # outputs/ (ignored by git; real results may be there) untouched
