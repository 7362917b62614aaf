"""The analyst's own files of a year, read and checked before a run reads any submission.

inputs/units.csv (the registry: clashes are errors), inputs/<year>/year.yaml, corrections.csv,
waivers.csv (their headers) and narrative.md, each in whatever encoding Excel or Notepad saved it.
`check` says which encoding each file was read in (a line for the run's log); a file that cannot be
used raises textfiles.InputFileError, a Chinese message naming the file (and line) and what to do.
"""

from __future__ import annotations

from wennuan_lib.base.textfiles import ENCODING_LABELS, read_text, read_yaml_mapping
from wennuan_lib.check.corrections import CORRECTION_COLUMNS, WAIVER_COLUMNS, load_table
from wennuan_lib.read.units import Registry


def check(workspace, year: int) -> list[tuple[str, str]]:
    """(file, encoding label) of every analyst's file present for the year, read as a run would read it."""
    registry = Registry.load(workspace.raw("registry"))
    used = [("units.csv", "；".join([ENCODING_LABELS[registry.encoding], *registry.notes]))]
    config_file = workspace.raw("year_config", year)
    if config_file.exists():
        used.append((f"{year}/{config_file.name}", ENCODING_LABELS[read_yaml_mapping(config_file)[1]]))
    for name, columns in (("corrections", CORRECTION_COLUMNS), ("waivers", WAIVER_COLUMNS)):
        path = workspace.raw(name, year)
        if path.exists():
            used.append((f"{year}/{path.name}", ENCODING_LABELS[load_table(path, columns).attrs["encoding"]]))
    narrative = workspace.raw("narrative", year)
    if narrative.exists():
        used.append((f"{year}/{narrative.name}", read_text(narrative).encoding_label))
    return used


def describe(used: list[tuple[str, str]]) -> str:
    """One progress line: which encoding each file was read in."""
    return "分析人员的文件（编码）：" + "；".join(f"{name} {label}" for name, label in used)
