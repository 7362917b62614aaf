"""`pytest notebooks` alone runs the committed notebooks too (nbval): the tests' conftest first points their
default inputs and outputs into a temporary folder, so that nothing is written inside the checkout, and its
scheduler keeps the notebooks in one worker, in order."""

from tests.conftest import pytest_xdist_make_scheduler  # noqa: F401  (a hook, and the import's side effect)
