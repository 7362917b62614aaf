"""The inbox walked safely: every entry listed, only regular files read, nothing ever blocks.

Symbolic links are never followed (one pointing outside the inbox would read a file nobody sent;
one pointing inside would count a file twice; a loop never ends). Named pipes, sockets and
device files are never opened (opening a pipe blocks). Hard links are files like any other.
A name that is not valid UTF-8 (unzipped from a Windows archive) is shown decoded as GB18030,
or with its bad bytes escaped (``\\xb8``), so the data files hold only valid UTF-8.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Entry:
    name: str  # path relative to the inbox, as shown (always valid UTF-8)
    path: Path  # where it is on disk (never opened when `skip` is set)
    skip: str = ""  # why it is not read: a link, a special file (Chinese)
    name_note: str = ""  # what was done to show the name, when it was not valid UTF-8


def shown_name(name: str) -> tuple[str, str]:
    """(name as shown, note). Linux hands over undecodable bytes as surrogate escapes."""
    try:
        name.encode("utf-8")
        return name, ""
    except UnicodeEncodeError:
        pass
    raw = os.fsencode(name)
    try:
        return raw.decode("gb18030"), "文件名不是UTF-8编码，已按GBK（GB18030）解读显示"
    except UnicodeDecodeError:
        return (
            raw.decode("utf-8", "backslashreplace"),
            "文件名不是UTF-8编码，也不是GBK编码，无法解读的字节以\\xNN形式显示",
        )


def _special(mode: int) -> str | None:
    if stat.S_ISFIFO(mode):
        return "命名管道（FIFO），不是文件，未打开"
    if stat.S_ISSOCK(mode):
        return "套接字（socket），不是文件，未打开"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "设备文件，不是文件，未打开"
    return None


def _link_reason(link: Path, inbox: Path) -> str:
    try:
        target = Path(os.path.realpath(link, strict=True))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "符号链接形成循环（链接指向自己），已略过"
        return f"符号链接指向的文件不存在（{os.readlink(link)}），已略过"
    root = Path(os.path.realpath(inbox))
    if target == root or root in target.parents:
        what = "文件夹" if target.is_dir() else "文件"
        rel = shown_name(target.relative_to(root).as_posix())[0] or "."
        return f"符号链接，指向收件箱中的{what}「{rel}」，原{what}已直接读取，链接本身略过（不重复计入）"
    return (
        f"符号链接，指向收件箱以外（{shown_name(str(target))[0]}），为安全起见不读取；请把文件本身放入收件箱"
    )


def walk(inbox: Path) -> list[Entry]:
    """Every entry under the inbox, sorted by shown name; folders are walked, never followed through links."""
    if not inbox.is_dir():
        raise FileNotFoundError(f"收件箱不存在：{inbox}")
    out: list[Entry] = []

    def visit(folder: Path, prefix: str, note: str) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            out.append(
                Entry(
                    prefix.rstrip("/") or ".",
                    folder,
                    f"文件夹无法打开（{exc.strerror or type(exc).__name__}），其中的文件未读取；请检查权限",
                )
            )
            return
        for e in entries:
            name, name_note = shown_name(e.name)
            shown = prefix + name
            notes = "；".join(x for x in (note, name_note) if x)
            path = Path(e.path)
            try:
                if e.is_symlink():
                    out.append(Entry(shown, path, _link_reason(path, inbox), notes))
                elif e.is_dir(follow_symlinks=False):
                    visit(path, shown + "/", notes)
                elif e.is_file(follow_symlinks=False):
                    out.append(Entry(shown, path, "", notes))
                else:
                    why = _special(e.stat(follow_symlinks=False).st_mode) or "不是普通文件，未打开"
                    out.append(Entry(shown, path, why, notes))
            except OSError as exc:
                out.append(
                    Entry(shown, path, f"无法查看（{exc.strerror or type(exc).__name__}），已略过", notes)
                )

    visit(inbox, "", "")
    return sorted(out, key=lambda e: e.name)


LITTER_NAMES = {"thumbs.db", ".ds_store", "desktop.ini"}
LITTER_SUFFIXES = {
    ".txt": "文本文件，不是报送材料",
    ".tmp": "临时文件",
    ".lnk": "快捷方式",
    ".ini": "系统文件",
}


def litter_reason(path: Path) -> str | None:
    """Why a file of the inbox (by its shown name) is litter, not a submission; None when it is not."""
    name = path.name
    if name.startswith("~$") or name.startswith(".~lock"):
        return "Office打开文件时留下的锁定文件"
    if "__MACOSX" in path.parts:
        return "苹果电脑压缩时附带的系统文件"
    if name.lower() in LITTER_NAMES or name.startswith("."):
        return "系统生成的文件"
    if path.suffix.lower() in LITTER_SUFFIXES:
        return LITTER_SUFFIXES[path.suffix.lower()]
    return None
