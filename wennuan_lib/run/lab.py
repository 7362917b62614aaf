"""The executed notebooks in JupyterLab: the classes and the hook that `make lab`'s server is configured with
(setup.sh names them in the venv's jupyter_server_config.json), so that opening and saving notebooks in Lab
leaves the checkout as it was.

The run itself signs each notebook it executes (`kernel.trust`), so that Lab opens it trusted, its tables
interactive at once; nothing here is imported by a run (the server's classes take 0.04–0.05 s to import).
"""

from __future__ import annotations

from pathlib import Path

# --- the Jupyter server of `make lab` (named in the venv's jupyter_server_config.json by setup.sh) ----

try:  # the server's classes: only where the server runs (a run needs none of this)
    from jupyter_server.services.contents.filecheckpoints import AsyncFileCheckpoints
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
    from traitlets import default
except ImportError:  # pragma: no cover - jupyterlab is a dependency
    AsyncFileCheckpoints = AsyncMappingKernelManager = object

    def default(_):
        return lambda f: f


def lasting_folder(root: Path, folder: Path) -> Path:
    """The folder a kernel opened for a notebook in `folder` starts in: the deepest of its folders, from the
    server's `root` down, that the next run does not remove. A run's results live in
    outputs/<year>/runs/<id>/, removed two runs later; the analyst reaches them through shortcuts
    (outputs/<year>/notebooks → runs/<id>/notebooks). A kernel started there would lose its working folder
    (FileNotFoundError on os.getcwd() and every relative path); it starts in outputs/<year>/ instead, where
    data/, report/ … lead to the current run's."""
    from wennuan_lib.base import catalog

    root, folder = Path(root), Path(folder)
    try:
        parts = folder.relative_to(root).parts
    except ValueError:
        return folder
    lasting = root
    for name in parts:
        step = lasting / name
        if step.is_symlink() or name == catalog.layout().runs:
            break
        lasting = step
    return lasting


class KernelManager(AsyncMappingKernelManager):
    """Jupyter's kernel manager, with kernels started in a folder that runs never remove (lasting_folder)."""

    def cwd_for_path(self, path, **kwargs):
        return str(lasting_folder(Path(self.root_dir), Path(super().cwd_for_path(path, **kwargs))))


CHECKPOINTS = "wennuan-checkpoints"  # under the user's Jupyter data folder (jupyter --data-dir)


def checkpoint_root(project: Path) -> Path:
    """Where Lab's checkpoints (the copy File > Revert goes back to) of a project's files are kept: outside
    the project, one folder per project (the same relative paths of two copies never meet)."""
    import hashlib

    from jupyter_core.paths import jupyter_data_dir

    key = hashlib.sha256(str(Path(project).resolve()).encode()).hexdigest()[:16]
    return Path(jupyter_data_dir()) / CHECKPOINTS / key


class Checkpoints(AsyncFileCheckpoints):
    """Jupyter's checkpoints, kept outside the project (checkpoint_root) instead of a .ipynb_checkpoints
    folder beside each notebook: nothing appears in the checkout, nor in a run's folder of outputs/."""

    @default("root_dir")
    def _root_dir_default(self):
        root = checkpoint_root(Path(self.parent.root_dir))
        root.mkdir(parents=True, exist_ok=True)
        return str(root)

    def checkpoint_path(self, checkpoint_id, path):
        # the folder mirroring the file's own, made first (Jupyter would take a missing one for read-only and
        # keep the checkpoint in the system's temporary folder instead)
        Path(self._get_os_path(path=path.strip("/").rpartition("/")[0])).mkdir(parents=True, exist_ok=True)
        return super().checkpoint_path(checkpoint_id, path)


NOTEBOOK_KEEPS = (
    "kernelspec",
)  # the notebook metadata the project's notebooks carry (and language_info.name)
CELL_KEEPS = ("tags",)  # the cell metadata they carry: the `parameters` tag


def is_project_notebook(os_path: Path, api_path: str) -> bool:
    """A notebook of the project's notebooks/ (committed, run by the pipeline), not an executed record: its
    folder is notebooks/ at the top of the server's root, a real folder (the records are reached through the
    shortcut outputs/<year>/notebooks or under runs/)."""
    from wennuan_lib.base import config

    folder = Path(os_path).parent
    top = api_path.strip("/").split("/")[:-1] == ["notebooks"]
    return not folder.is_symlink() and (top or folder.resolve() == (config.ROOT / "notebooks").resolve())


def strip(nb: dict) -> dict:
    """A notebook as the project commits it: no outputs, no execution counts, and none of the metadata Lab
    adds on save (kernel versions, widget state, cell timing, collapsed or scrolled views)."""
    meta = nb.get("metadata", {})
    kept = {k: meta[k] for k in NOTEBOOK_KEEPS if k in meta}
    if "name" in meta.get("language_info", {}):
        kept["language_info"] = {"name": meta["language_info"]["name"]}
    nb["metadata"] = kept
    for cell in nb.get("cells", []):
        cell["metadata"] = {k: v for k, v in cell.get("metadata", {}).items() if k in CELL_KEEPS}
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return nb


def pre_save(model, path, contents_manager, **kwargs):
    """The server's pre-save hook (FileContentsManager.pre_save_hook, set by setup.sh): a project notebook
    saved in Lab is written as committed (strip), so that saving never leaves changes in the checkout. Its
    outputs stay in the open Lab tab until it is closed; the executed notebooks under outputs/ keep theirs."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    if is_project_notebook(Path(contents_manager._get_os_path(path)), path):
        strip(model["content"])
