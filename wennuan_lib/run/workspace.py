"""Where a workflow lives: the raw inputs folder (inputs/, never written) and the outputs folder, each year's
scope in it and the trends across years. Every path comes from here and from the catalog."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from wennuan_lib.base import catalog, config
from wennuan_lib.errors import WennuanError
from wennuan_lib.run.runs import Scope


class WorkspaceError(WennuanError, ValueError):
    """A folder the analyst laid out in a way the program cannot use; the message is Chinese."""


class Workspace:
    def __init__(self, inputs: str | Path | None = None, outputs: str | Path | None = None):
        self.inputs = Path(inputs).resolve() if inputs else Path(config.INPUTS_DIR)
        self.outputs = Path(outputs).resolve() if outputs else Path(config.OUTPUTS_DIR)

    def command(self, verb: str, *words) -> str:
        """A command the analyst can type as it is shown, in a shell where nothing was activated (see
        `config.program`): `…/.venv/bin/wennuan <verb> …`, with --inputs and --outputs when this workspace is
        not the project's own folders (else it would act on those)."""
        parts = [config.program(), verb, *map(str, words)]
        for flag, mine, default in (
            ("--inputs", self.inputs, config.INPUTS_DIR),
            ("--outputs", self.outputs, config.OUTPUTS_DIR),
        ):
            if mine.resolve() != Path(default).resolve():
                parts += [flag, shlex.quote(str(mine))]
        return " ".join(parts)

    def raw(self, name: str, year: int | None = None) -> Path:
        return catalog.raw_path(self.inputs, name, year)

    def scope(self, key: int | str) -> Scope:
        return Scope(self.outputs, key)

    def trends(self) -> Scope:
        return Scope(self.outputs, catalog.TRENDS)

    def years(self) -> list[int]:
        """The years with an inbox under inputs/, in order. A year folder whose name has stray spaces or
        full-width digits is an error naming it, never silently skipped."""
        if not self.inputs.is_dir():
            return []
        odd = sorted(
            p.name
            for p in self.inputs.iterdir()
            if p.is_dir()
            and re.fullmatch(r"\s*[0-9０-９]{4}\s*", p.name)
            and not re.fullmatch(r"[0-9]{4}", p.name)
        )
        if odd:
            names = "、".join(f"「{n}」" for n in sorted(odd))
            raise WorkspaceError(
                f"{self.inputs} 下的年度文件夹 {names} 的名称有多余的空格或全角数字，"
                "程序无法确定它是哪一年：请把它改名为四位数字的年份（例如 2013）后重新运行"
            )
        inbox = catalog.raw("inbox").path.split("/", 1)[1]
        return sorted(int(p.name) for p in self.inputs.iterdir() if p.name.isdigit() and (p / inbox).is_dir())

    def earlier_years(self, year: int) -> list[int]:
        """The earlier years a year shows (its trend figure): every year present under inputs/ among the
        catalog's `earlier_years` before it. Found from inputs/ alone, never from what was run."""
        first = year - catalog.load().earlier_years
        return [y for y in self.years() if first <= y < year]

    def year_config(self, year: int) -> dict:
        """The year's settings (deadline, form, city unit, campaign title); defaults when absent."""
        return config.read_year_config(self.raw("year_config", year), year)
