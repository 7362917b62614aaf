"""Content-addressed artifacts: whatever a step made from some inputs — a file's extraction, a unit's feedback
workbook, a chart, a report format — kept under the hash of those inputs and of the code that made it, so that
the same inputs are never made twice.

An entry holds data only (bytes, or JSON through a small codec that knows a fixed list of classes) and carries
an HMAC signature made with a secret that lives outside the outputs folder (in the user's home, or the file
named by WENNUAN_SECRET_FILE). An entry that is missing, damaged, unsigned or signed with another secret is a
miss: it is made again. Nothing read from the cache is ever executed, and a planted entry cannot change a
figure. The cache is never a source of truth: deleting it changes nothing but time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import hmac
import json
import os
import secrets
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from wennuan_lib import __version__
from wennuan_lib.base import config
from wennuan_lib.base.files import atomic_write_bytes

SECRET_ENV = "WENNUAN_SECRET_FILE"
DIGEST = 32
_secret: bytes | None = None


def secret_file() -> Path:
    if os.environ.get(SECRET_ENV):
        return Path(os.environ[SECRET_ENV])
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "wennuan" / "secret.key"


def forget_secret() -> None:
    """Read the secret again on next use (tests point WENNUAN_SECRET_FILE elsewhere)."""
    global _secret
    _secret = None


def secret() -> bytes:
    """This user's signing secret, made on first use (readable by the user only)."""
    global _secret
    if _secret is None:
        path = secret_file()
        try:
            data = path.read_bytes()
            if len(data) < 32:
                raise OSError("short")
        except OSError:
            data = secrets.token_bytes(32)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
            except FileExistsError:
                data = path.read_bytes()
            except OSError:
                pass  # no home to keep it in: the cache lasts for this process only
        _secret = data
    return _secret


def sign(data: bytes) -> bytes:
    return hmac.new(secret(), data, hashlib.sha256).digest()


# --- JSON codec: data only, a fixed list of classes ---------------------------------------------------------

_CLASSES: dict[str, type] = {}
_FIELDS: dict[str, frozenset[str]] = {}  # field names: 3,000 cached files rebuild ~100,000 objects


def register(*classes: type) -> None:
    """Dataclasses that may be stored (and rebuilt) by name."""
    for cls in classes:
        _CLASSES[cls.__name__] = cls
        _FIELDS[cls.__name__] = frozenset(f.name for f in dataclasses.fields(cls))


def _encode(obj):
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if type(obj).__name__ not in _CLASSES:
            raise TypeError(f"{type(obj).__name__} is not registered for the cache")
        return {"$dc": type(obj).__name__, **{f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}}
    if isinstance(obj, Decimal):
        return {"$dec": str(obj)}
    if isinstance(obj, dt.datetime):
        return {"$dt": obj.isoformat()}
    if isinstance(obj, dt.date):
        return {"$date": obj.isoformat()}
    if isinstance(obj, dt.time):
        return {"$time": obj.isoformat()}
    raise TypeError(f"cannot store {type(obj).__name__} in the cache")


def _decode(d: dict):
    if "$dc" in d:
        name = d.pop("$dc")
        cls, names = _CLASSES[name], _FIELDS[name]  # KeyError: an unknown class is a damaged entry
        return cls(**{k: v for k, v in d.items() if k in names})
    if "$dec" in d:
        return Decimal(d["$dec"])
    if "$dt" in d:
        return dt.datetime.fromisoformat(d["$dt"])
    if "$date" in d:
        return dt.date.fromisoformat(d["$date"])
    if "$time" in d:
        return dt.time.fromisoformat(d["$time"])
    return d


def dumps(obj) -> bytes:
    return json.dumps(obj, default=_encode, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes):
    return json.loads(data.decode("utf-8"), object_hook=_decode)


# --- the store ----------------------------------------------------------------------------------------------


@functools.cache
def code_hash() -> str:
    """The program that makes an artifact, derived rather than listed: every file of the package (its code,
    forms, policy and templates, whatever they are called; hidden files and compiled caches aside), the
    Python version and the version of every installed distribution. A change anywhere in the library makes
    every cached product again: a cold step is cheaper than a wrong one."""
    h = hashlib.sha256(f"{__version__}\0{sys.version}\0".encode())
    for path in library_files():
        h.update(path.relative_to(config.PACKAGE_DIR).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
    for name in installed_versions():
        h.update(name.encode() + b"\0")
    return h.hexdigest()[:20]


def library_files() -> list[Path]:
    """Every file of the package the program is made of (not hidden, not a compiled cache)."""
    root = config.PACKAGE_DIR
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(root).parts)
        and p.suffix not in (".pyc", ".pyo")
    )


@functools.cache
def installed_versions() -> list[str]:
    """Every distribution installed where the program imports from, as its `<name>-<version>.dist-info`
    folder is called (any of them may change bytes; listing the folders costs milliseconds, reading every
    distribution's metadata half a second)."""
    out = set()
    for entry in sys.path:  # the installed libraries' folders only: never the working directory's
        if os.path.basename(entry) not in ("site-packages", "dist-packages"):
            continue
        try:
            with os.scandir(entry) as it:
                out.update(e.name for e in it if e.name.endswith((".dist-info", ".egg-info")))
        except OSError:
            continue
    return sorted(out)


class Artifacts:
    """One kind of artifact (`namespace`) in a cache folder, made by this program (`code_hash`); `variant`
    keys it further (a form's extractions)."""

    def __init__(self, folder: Path, namespace: str, variant: str = ""):
        # entries live under the program that made them, and every key is salted with it: one that another
        # program made can never be found again, and `prune` removes them all at once
        program = code_hash()
        self.folder = Path(folder) / namespace / program
        self.salt = f"{namespace}\0{program}\0{variant}\0".encode()

    def key(self, *parts: bytes | str) -> str:
        h = hashlib.sha256(self.salt)
        for part in parts:
            h.update(part.encode("utf-8") if isinstance(part, str) else part)
            h.update(b"\0")
        return h.hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def has(self, key: str) -> bool:
        """Whether an entry is kept under `key` (not verified: a damaged one is a miss when read)."""
        return self._path(key).is_file()

    def get(self, key: str) -> bytes | None:
        try:
            blob = self._path(key).read_bytes()
        except OSError:
            return None
        mac, data = blob[:DIGEST], blob[DIGEST:]
        if len(mac) != DIGEST or not hmac.compare_digest(mac, sign(key.encode() + data)):
            return None
        return data

    def put(self, key: str, data: bytes) -> None:
        try:
            atomic_write_bytes(self._path(key), sign(key.encode() + data) + data)
        except OSError:
            pass  # a cache that cannot be written only costs time

    def get_json(self, key: str):
        data = self.get(key)
        if data is None:
            return None
        try:
            return loads(data)
        except (ValueError, KeyError, TypeError):
            return None

    def put_json(self, key: str, obj) -> None:
        self.put(key, dumps(obj))

    def make(self, key: str, make: Callable[[], bytes]) -> bytes:
        """The bytes kept under `key`, or `make()` (then kept)."""
        data = self.get(key)
        if data is None:
            data = make()
            self.put(key, data)
        return data


def prune(folder: Path) -> int:
    """Remove from a cache folder every entry another program made (another version of the package, of
    Python or of a library: see code_hash): they can never be found again. Returns the bytes freed. Called
    once a run has finished, so that the cache holds one program's entries, not one set per update."""
    import shutil

    keep, freed = code_hash(), 0
    for namespace in sorted(Path(folder).iterdir()) if Path(folder).is_dir() else []:
        if not namespace.is_dir() or namespace.is_symlink():
            continue
        for child in sorted(namespace.iterdir()):
            if child.name == keep:
                continue
            try:  # a cache that cannot be tidied only costs space: the run that called this has finished
                if child.is_dir() and not child.is_symlink():
                    freed += sum(
                        f.lstat().st_size for f in child.rglob("*") if f.is_file() and not f.is_symlink()
                    )
                    shutil.rmtree(child)
                else:
                    freed += child.lstat().st_size
                    child.unlink()
            except OSError:
                continue
    return freed
