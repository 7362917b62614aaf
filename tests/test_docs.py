"""The documentation stays true: the README and docs/ pages link to each other and to real anchors, their
generated parts (rules, files, data flow, outputs/README.md) are what the program says now, and every command
line they show is one the program accepts."""

import importlib.util
import re
import shlex
import shutil
import sys

import pytest

from wennuan_lib import cli, reference
from wennuan_lib.base import catalog, config
from wennuan_lib.check import rules
from wennuan_lib.policy import raw_policy

ROOT = config.ROOT
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def pages():
    """Every Markdown page of the documentation."""
    return [
        ROOT / "README.md",
        ROOT / "outputs" / "README.md",
        ROOT / "bench" / "results.md",
        *DOCS.glob("*.md"),
    ]


def read(path) -> str:
    return path.read_text(encoding="utf-8")


def anchors(path) -> set[str]:
    """The anchors GitHub makes of a page's headings: lower case, punctuation dropped, spaces to hyphens."""
    out = set()
    for line in FENCE.sub("", read(path)).splitlines():
        if m := re.match(r"^#{1,6}\s+(.*)$", line):
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            n, base = 1, slug
            while slug in out:
                slug, n = f"{base}-{n}", n + 1
            out.add(slug)
    return out


def test_every_relative_link_and_anchor_resolves():
    broken = []
    for page in pages():
        for target in LINK.findall(FENCE.sub("", read(page))):
            if re.match(r"^[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            dest = (page.parent / file).resolve() if file else page
            if not dest.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}（文件不存在）")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{page.relative_to(ROOT)}: {target}（没有这个标题）")
    assert not broken, "\n".join(broken)


def test_every_docs_page_is_linked_from_the_readme_which_fits_on_two_screens():
    readme = read(ROOT / "README.md")
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in LINK.findall(readme)}
    assert not [p.name for p in DOCS.glob("*.md") if p.resolve() not in linked]
    assert (ROOT / "bench" / "results.md").resolve() in linked
    assert len(readme.splitlines()) <= 150
    assert "For developers" not in readme  # it lives in docs/maintainer.md


def test_the_readmes_speed_figures_are_the_benchmarks_last_results():
    """DEVELOPERS.md: speed targets go in the benchmark, with its numbers in the README. Each row of the
    README's table is the medians bench.py last wrote into bench/results.md (full run, one file changed,
    nothing changed, peak memory)."""
    readme = read(ROOT / "README.md")
    results = read(ROOT / "bench" / "results.md")
    block = results.split("<!-- bench:begin -->")[1].split("<!-- bench:end -->")[0]
    medians: dict[str, list[str]] = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells and cells[0].isdigit():
            medians.setdefault(cells[0], []).append(cells)
    rows = re.findall(
        r"^\| (\d+) \| ([\d.]+) 秒 \| ([\d.]+) 秒 \| ([\d.]+) 秒 \| (\d+) MiB \|$", readme, re.M
    )
    assert rows, "the README has no speed table"
    for units, full, one, nothing, pss in rows:
        run, rerun = medians[units][0], medians[units][1]
        assert run[1].split()[0] == full and run[8].split()[0] == pss, (units, run)
        assert rerun[1].split()[0] == one and rerun[10].split()[0] == nothing, (units, rerun)
    # the January case (a previous year run first): this year's run, the one-file run, the peak memory
    january = re.findall(
        r"^\| (\d+)（有上一年） \| ([\d.]+) 秒 \| ([\d.]+) 秒 \| (\d+) MiB \|$", readme, re.M
    )
    assert january, "the README has no speed figures with a previous year"
    for units, full, one, pss in january:
        row = medians[units][2]  # the benchmark's third table: the January case
        assert [row[2].split()[0], row[4].split()[0], row[7].split()[0]] == [full, one, pss], (units, row)


def command_lines():
    """(page, arguments) of every `python -m wennuan_lib …` the pages show, in code blocks or inline code."""
    for page in pages():
        text = read(page)
        snippets = [b for b in FENCE.findall(text)] + re.findall(r"`([^`\n]+)`", FENCE.sub("", text))
        for snippet in snippets:
            for line in snippet.splitlines():
                m = re.search(r"-m wennuan_lib((?: [^#&|;`]*)?)", line)
                if m and m.group(1).strip() not in ("", "…"):  # not the bare name of the program
                    yield page.relative_to(ROOT), m.group(1).strip()


def test_every_command_line_in_the_docs_is_one_the_program_accepts():
    seen = list(command_lines())
    assert len(seen) >= 10, seen
    parser = cli.build_parser()
    wrong = []
    for page, args in seen:
        if "<" in args:  # a placeholder such as --year <年度>
            args = re.sub(r"<[^>]*>", "2013", args)
        try:
            parser.parse_args(shlex.split(args))
        except SystemExit:
            wrong.append(f"{page}: python -m wennuan_lib {args}")
    assert not wrong, "\n".join(wrong)
    commands = {a.split()[0] for _, a in seen if a}
    assert {"run", "status", "template", "freeze", "verify"} <= commands
    makefile = read(ROOT / "Makefile")
    for page in pages():
        for target in re.findall(r"^make (\w+)|`make (\w+)`", read(page), re.M):
            name = target[0] or target[1]
            assert re.search(rf"^{name}:", makefile, re.M), (page.name, name)


def test_generated_parts_of_the_pages_are_what_the_program_says_now():
    assert reference.stale() == [], "文档中生成的部分与程序不符：请运行 python -m wennuan_lib docs"


def test_a_stale_page_is_found_and_rewritten(tmp_path):
    shutil.copytree(DOCS, tmp_path / "docs")
    (tmp_path / "outputs").mkdir()
    page = tmp_path / reference.RULES_PAGE
    page.write_text(read(page).replace("| P01 |", "| P99 |"), encoding="utf-8")
    assert reference.stale(tmp_path) == [reference.RULES_PAGE, reference.OUTPUTS_README]
    assert cli.main(["docs", "--check"]) == 0  # the checkout itself is current
    assert reference.write(tmp_path) == [reference.RULES_PAGE, reference.OUTPUTS_README]
    assert reference.stale(tmp_path) == [] and "| P01 |" in read(page)
    assert read(tmp_path / reference.OUTPUTS_README) == read(ROOT / reference.OUTPUTS_README)


def test_the_rules_page_has_every_rule_with_its_words():
    text = read(ROOT / reference.RULES_PAGE)
    policy = raw_policy()
    for rule in policy["rules"]:
        row = next(line for line in text.splitlines() if line.startswith(f"| {rule['id']} |"))
        words = re.sub(r"\{\w+\}", "", rule["message"]).split("：")[-1]
        assert words in re.sub(r"〔\w+〕", "", row), rule["id"]
    for entry in policy["plausibility"].values():
        assert f"| {entry['id']} |" in text
    # every check the engine makes itself is described: a new *_ID in rules.py must be added to BUILTIN
    own = {v for k, v in vars(rules).items() if k.endswith("_ID") and isinstance(v, str)}
    assert own == set(reference.BUILTIN)
    for rule_id in own:
        assert f"| {rule_id} |" in text and rules.ACTIONS[rule_id] in text


def test_the_outputs_readme_lists_every_folder_a_run_makes():
    text = read(ROOT / reference.OUTPUTS_README)
    layout = catalog.layout()
    for folder in (layout.current, layout.runs, layout.cache, layout.sent, layout.logs):
        assert f"`{folder}/`" in text
    for ds in catalog.datasets():
        assert f"`{ds.path.split('/')[-1]}" in text, ds.name


def test_every_module_is_placed_on_the_maintainer_page():
    text = read(ROOT / reference.MAINTAINER_PAGE)
    modules = [p.stem for p in (ROOT / "wennuan_lib").glob("*.py") if p.stem != "__init__"]
    assert not [m for m in modules if not re.search(rf"(?<![\w]){m}(?![\w])", text)]


def test_the_benchmark_writes_its_tables_between_the_markers_and_keeps_the_prose(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # no bench/__pycache__ in the checkout
    monkeypatch.setattr(sys, "path", list(sys.path))  # bench.py puts the project root in front
    spec = importlib.util.spec_from_file_location("bench_module", ROOT / "bench" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    page = tmp_path / "results.md"
    shutil.copy(ROOT / "bench" / "results.md", page)
    bench.write_results(page, "| 单位数 | 新的结果 |")
    text = read(page)
    assert "新的结果" in text and "## 测什么" in text and "## 分析" in text
    assert "2026-11-29；每行" not in text  # the old tables were replaced


@pytest.mark.parametrize("page", ["README.md", "docs/install.md"])
def test_the_two_commands_are_the_ones_ci_runs(page):
    blocks = re.findall(r"```bash\n(.+?)\n```", read(ROOT / page), re.S)
    run_cmd, test_cmd = [b for b in blocks if b.startswith("bash setup.sh && ")][:2]
    assert run_cmd == "bash setup.sh && .venv/bin/python -m wennuan_lib run --year 2013"
    assert test_cmd == "bash setup.sh && .venv/bin/python -m pytest"
    assert test_cmd in read(ROOT / ".ci" / "run")
