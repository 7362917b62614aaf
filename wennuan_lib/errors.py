"""Every failure the analyst can meet, as one Chinese message naming the file and what to do — never a Python
traceback. The traceback of an unexpected fault goes into a log file (under outputs/<year>/logs/ when it can
be written, else the system's temporary folder), and the message says where."""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import tempfile
import traceback
from pathlib import Path


class WennuanError(Exception):
    """The base of the program's own errors. Its message is data: Chinese already, naming the file and what to
    do, shown to the analyst as it is (`explain`). Each subclass also keeps the built-in class it refines
    (ValueError, RuntimeError) so that callers catching those keep working."""

    @property
    def message(self) -> str:
        return str(self)


class ReadError(WennuanError):
    """A unit's file that cannot be read; the message is Chinese and says what to ask the unit for."""


def _log(exc: BaseException, folder: Path | None) -> Path | None:
    text = "".join(traceback.format_exception(exc))
    name = f"错误-{dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.log"
    for where in ([folder] if folder else []) + [Path(tempfile.gettempdir())]:
        try:
            where.mkdir(parents=True, exist_ok=True)
            path = where / name
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def explain(exc: BaseException, log_folder: Path | None = None) -> str:
    """The analyst's message for `exc` (the traceback, when it helps a maintainer, is logged)."""
    if isinstance(exc, KeyboardInterrupt):
        return "已中断：本次运行没有完成，上一次的结果保持不变。"
    if isinstance(exc, WennuanError) or (
        isinstance(exc, ValueError | FileNotFoundError) and _chinese(str(exc))
    ):
        return exc.message if isinstance(exc, WennuanError) else str(exc)
    log = _log(exc, log_folder)
    detail = f"（详细信息：{log}）" if log else ""
    # an OSError raised by a write to an open file carries no file name: the scope's folder at least
    where = exc.filename if isinstance(exc, OSError) and exc.filename else _scope_folder(log_folder)
    if isinstance(exc, OSError) and (said := os_message(exc.errno, where)):
        return said + detail
    where = f"详细信息已写入 {log}，请把这个文件发给维护人员" if log else "请把出错时的屏幕内容发给维护人员"
    return f"程序出错了（{type(exc).__name__}: {exc}）。{where}。上一次的结果保持不变。"


def _scope_folder(log_folder: Path | None) -> str:
    """The folder a run was writing in, from where its log goes (outputs/<year>/logs → outputs/<year>)."""
    return f"输出文件夹 {Path(log_folder).parent} 中的文件" if log_folder else "输出文件夹中的文件"


def os_message(number: int | None, where: str) -> str | None:
    """What a failed write or read means for the analyst, by its error number
    (None if it is none of these)."""
    if number in (errno.EROFS, errno.EACCES, errno.EPERM):
        return (
            f"无法写入 {where}：这个文件夹是只读的，或者当前用户没有写入权限。"
            "请检查输出文件夹的权限（或用 --outputs 指定一个可以写入的文件夹）后重新运行；"
            "上一次的结果保持不变。"
        )
    if number in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"磁盘空间不足，写入 {where} 时失败。请清理磁盘空间后重新运行；上一次的结果保持不变"
            "（未完成的运行不会替换已有结果）。"
        )
    if number == errno.ENOENT:
        return f"找不到文件或文件夹：{where}。请检查路径是否正确。"
    return None


def from_text(ename: str, evalue: str, folder: Path | str | None = None) -> str | None:
    """The analyst's message for an error reported as text (a notebook's `OSError: [Errno 28] …: '/path'`);
    `folder`: where the step was writing, named when the error names no file."""
    m = re.search(r"\[Errno (\d+)\][^:']*(?::\s*'([^']*)')?", evalue)
    if ename.endswith("Error") and m:
        where = m.group(2) or (f"运行文件夹 {folder} 中的文件" if folder else "输出文件夹中的文件")
        return os_message(int(m.group(1)), where)
    return None
