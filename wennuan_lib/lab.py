"""The executed notebooks in JupyterLab: a notebook the run wrote is trusted, the way Jupyter's own trust
works.

JupyterLab shows a notebook's HTML and runs its scripts (the interactive tables of views.py) only when the
notebook is trusted: when its signature — an HMAC of its content with this user's Jupyter secret — is in the
user's signature database (nbformat.sign.NotebookNotary; `jupyter trust` does the same by hand). A notebook
carries no signature of its own, so the run signs each notebook it executes: opened in Lab, it is trusted,
its tables sortable and filterable at once. A copy (a step carried into the next run) has the same content
and stays trusted; a notebook changed by anything else is not.
"""

from __future__ import annotations

from pathlib import Path


def trust(notebook: Path) -> bool:
    """Sign an executed notebook for this user's Jupyter (as `jupyter trust` does). Never fails a run: a
    notebook that could not be signed (no home folder to write, a locked database) opens untrusted, with
    static tables, and Lab says so. True when signed."""
    try:
        import nbformat
        from nbformat.sign import NotebookNotary

        nb = nbformat.read(str(notebook), as_version=nbformat.NO_CONVERT)
        with NotebookNotary() as notary:
            notary.sign(nb)
            return notary.check_signature(nb)
    except Exception:  # noqa: BLE001 - trust is a convenience of the review, never a reason to fail a run
        return False
