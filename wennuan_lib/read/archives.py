"""Archives a unit sends (zip, and rar/7z through libarchive): their members copied out, safely.

Each member is written to a private temporary folder under a name of our own (``m0001.docx``,
keeping only its extension), so no name in the archive — absolute, ``../``, a link — can place a
file anywhere else. Members whose names are absolute or contain ``..``, links, encrypted members,
and members that would inflate past ``config.MAX_INFLATED_BYTES`` (declared or actual) are refused
with a reason; an archive with more than ``MAX_MEMBERS`` members is refused whole.

Zip member names: UTF-8 when the archive says so (flag bit 0x800). Otherwise Windows' built-in
zipper on a Chinese Windows wrote them in GBK; Python's zipfile decodes such names as cp437, so
they are turned back into their bytes and decoded as UTF-8 if they are valid UTF-8 (some zippers
write UTF-8 without the flag), else as GB18030, else left as cp437.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from wennuan_lib.base import config
from wennuan_lib.errors import ReadError
from wennuan_lib.read import sniff

MAX_MEMBERS = 1000
UTF8_FLAG = 0x800
ENCRYPTED_FLAG = 0x1
CHUNK = 1 << 20


@dataclass
class Member:
    name: str  # as shown: the member's path inside the archive
    path: Path | None = None  # the copy in the private folder; None when refused
    reason: str = ""  # why it was refused ("" = copied out)


def member_name(info: zipfile.ZipInfo) -> str:
    """A zip member's name as its author wrote it (see the module's note on encodings)."""
    if info.flag_bits & UTF8_FLAG:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:  # zipfile decoded it otherwise (metadata_encoding): keep it
        return info.filename
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def unsafe(name: str) -> bool:
    """An absolute name, a drive letter, or a `..` part: refused, whatever we would do with it."""
    parts = PurePosixPath(name).parts
    return name.startswith("/") or bool(re.match(r"^[A-Za-z]:", name)) or ".." in parts


def _suffix(name: str) -> str:
    """The member's extension, kept for the copy (readers look at content, people at extensions)."""
    suffix = PurePosixPath(name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


class _Budget:
    """The bytes an archive may still inflate to (config.MAX_INFLATED_BYTES for the whole archive)."""

    def __init__(self) -> None:
        self.left = config.MAX_INFLATED_BYTES

    def too_big(self) -> str:
        limit = config.MAX_INFLATED_BYTES // 2**20
        return f"解压后超过上限 {limit} MB（疑似“压缩炸弹”），未解压；请单位把文件直接发送"


REFUSED_NAME = "压缩包中的文件名含有“..”或是绝对路径，为安全起见未解压；请单位把文件直接发送"
REFUSED_LINK = "压缩包中的这一项是链接（不是文件），未解压"
REFUSED_PASSWORD = "压缩包中的这个文件设置了密码，无法解压；请单位取消密码后重新发送"


def unpack(path: Path, folder: Path) -> list[Member]:
    """Every member of the archive at `path`, copied into `folder` (which the caller made private)."""
    kind = sniff.kind(path)
    if kind == sniff.ARCHIVE:
        return _unpack_zip(path, folder)
    if kind in (sniff.RAR, sniff.SEVENZ):
        return _unpack_libarchive(path, folder)
    if kind == sniff.MIME:
        return _unpack_mime(path, folder)
    raise ReadError("不是压缩包")


def _unpack_mime(path: Path, folder: Path) -> list[Member]:
    """An e-mail (.eml) or a web page saved as one file (.mht, Word's 单个文件网页): both are MIME, read
    by the standard library. Its attachments are its members, under their own names (decoded as the mail
    program wrote them); a message without attachments gives its HTML body (a .mht's page: 正文.html)."""
    try:
        with path.open("rb") as fh:
            message = email.message_from_binary_file(fh, policy=email.policy.default)
        leaves = [p for p in message.walk() if not p.is_multipart()]
    except Exception as exc:  # the email package is lenient; anything it still cannot take is damage
        raise ReadError(f"邮件文件已损坏，无法打开（{type(exc).__name__}）；请单位把统计表直接发送") from exc
    named = [p for p in leaves if _part_name(p)]
    if not named:
        named = [p for p in leaves if p.get_content_type() == "text/html"][:1]
    if len(named) > MAX_MEMBERS:
        raise ReadError(f"邮件中有{len(named)}个附件，超过上限{MAX_MEMBERS}个，未打开；请核实")
    budget = _Budget()
    members = []
    for part in named:
        name = _part_name(part) or "正文.html"
        m = Member(name)
        members.append(m)
        if unsafe(name):
            m.reason = REFUSED_NAME
            continue
        try:
            data = part.get_payload(decode=True) or b""
        except Exception as exc:
            m.reason = f"邮件中的这个附件已损坏，无法取出（{type(exc).__name__}）；请单位重新发送"
            continue
        dest = _new_path(folder, name)
        if _copy([data], dest, budget):
            m.path = dest
        else:
            m.reason = budget.too_big()
    return members


def _part_name(part) -> str:
    """An attachment's file name as shown (its last path part: a name is never a path here)."""
    try:
        name = part.get_filename() or ""
    except Exception:
        return ""
    return PurePosixPath(name.replace("\\", "/")).name.strip()


def _new_path(folder: Path, name: str) -> Path:
    """A fresh file in the private folder, named by us (the member's name is never a path here)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, dest = tempfile.mkstemp(prefix="m", suffix=_suffix(name), dir=folder)
    os.close(fd)
    return Path(dest)


def _copy(chunks, dest: Path, budget: _Budget) -> bool:
    """Write the chunks to dest within the budget; False (and nothing left behind) when it runs out."""
    written = 0
    with dest.open("wb") as fh:
        for chunk in chunks:
            written += len(chunk)
            if written > budget.left:
                break
            fh.write(chunk)
        else:
            budget.left -= written
            return True
    dest.unlink()
    return False


def _unpack_zip(path: Path, folder: Path) -> list[Member]:
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ReadError(f"压缩包已损坏，无法解开（{type(exc).__name__}）；请单位重新压缩后发送") from exc
    with z:
        infos = [i for i in z.infolist() if not i.is_dir()]
        if len(infos) > MAX_MEMBERS:
            raise ReadError(f"压缩包中有{len(infos)}个文件，超过上限{MAX_MEMBERS}个，未解压；请核实")
        budget = _Budget()
        members = []
        for info in infos:
            name = member_name(info).replace("\\", "/")
            m = Member(name)
            members.append(m)
            if unsafe(name):
                m.reason = REFUSED_NAME
            elif stat.S_ISLNK(info.external_attr >> 16):
                m.reason = REFUSED_LINK
            elif info.flag_bits & ENCRYPTED_FLAG:
                m.reason = REFUSED_PASSWORD
            elif info.file_size > budget.left:
                m.reason = budget.too_big()
            else:
                dest = _new_path(folder, name)
                try:
                    with z.open(info) as fh:
                        ok = _copy(iter(lambda fh=fh: fh.read(CHUNK), b""), dest, budget)
                except (
                    zipfile.BadZipFile,
                    OSError,
                    ValueError,
                    EOFError,
                    NotImplementedError,
                    RuntimeError,
                ) as exc:
                    dest.unlink(missing_ok=True)
                    m.reason = (
                        f"压缩包中的这个文件已损坏，无法解压（{type(exc).__name__}）；请单位重新压缩后发送"
                    )
                    continue
                if ok:
                    m.path = dest
                else:
                    m.reason = budget.too_big()
    return members


def _unpack_libarchive(path: Path, folder: Path) -> list[Member]:
    try:
        import libarchive  # may fail: needs the system library libarchive13 (setup.sh installs it)
    except (ImportError, OSError) as exc:
        raise ReadError(
            "rar/7z压缩包需要系统库libarchive才能解开：请运行 bash setup.sh 安装；"
            "或请单位改用zip压缩，或把文件直接发送"
        ) from exc
    members: list[Member] = []
    budget = _Budget()
    try:
        with libarchive.file_reader(str(path)) as archive:
            for entry in archive:
                if entry.isdir:
                    continue
                if len(members) >= MAX_MEMBERS:
                    raise ReadError(f"压缩包中的文件超过上限{MAX_MEMBERS}个，未解压；请核实")
                name = (entry.pathname or "").replace("\\", "/")
                m = Member(name)
                members.append(m)
                if unsafe(name):
                    m.reason = REFUSED_NAME
                elif entry.issym or entry.islnk:
                    m.reason = REFUSED_LINK
                elif (entry.size or 0) > budget.left:
                    m.reason = budget.too_big()
                else:
                    dest = _new_path(folder, name)
                    if _copy(entry.get_blocks(), dest, budget):
                        m.path = dest
                    else:
                        m.reason = budget.too_big()
    except ReadError:
        raise
    except Exception as exc:  # libarchive.ArchiveError and friends: damaged, encrypted, unsupported
        if "encrypt" in str(exc).lower() or "passphrase" in str(exc).lower():
            raise ReadError("压缩包设置了密码，无法解开；请单位取消密码后重新发送") from exc
        raise ReadError(
            f"压缩包已损坏或格式不受支持，无法解开（{type(exc).__name__}）；请单位改用zip压缩，"
            "或把文件直接发送"
        ) from exc
    return members
