"""The executed notebooks as the analyst reviews them: saved as HTML (`jupyter nbconvert --to html`, as the
README says) and opened in a real browser — headless Chromium (Debian's `chromium`, installed by setup.sh)
driven by Playwright. Choosing a value in a filter pane must show exactly the rows of the data that have
it."""

import re
from pathlib import Path

import pytest

from wennuan_lib import catalog, views
from wennuan_lib.rules import is_open

CHROMIUM = "/usr/bin/chromium"
# what works here as root, with nothing reached over the network; Playwright gives each launch a fresh profile
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STATES = {"error": "必须修改", "warning": "请核实", "waived": views.WAIVED}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"没有 {CHROMIUM}：请运行 bash setup.sh（它安装 Debian 的 chromium）")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def saved_html(sample_run, tmp_path_factory):
    """The sample 2013's executed 02 and 03 notebooks, saved as HTML the way the README tells the analyst."""
    from nbconvert import HTMLExporter

    _, year, _, _ = sample_run
    folder = tmp_path_factory.mktemp("html")
    out = {}
    for name in ("02_clean", "03_reconcile"):
        body, _ = HTMLExporter().from_filename(
            str(year.run / catalog.dataset("notebooks").path / f"{name}.ipynb")
        )
        out[name] = folder / f"{name}.html"
        out[name].write_text(body, encoding="utf-8")
    return out


def opened(browser, path: Path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_selector("div.dtsp-searchPane", timeout=30000)
    assert not errors, errors
    return page


def shown_rows(page, table: str) -> int:
    """The rows the table says it shows after filtering ("第 1–20 行，共 57 行" / "没有符合条件的行")."""
    info = page.locator(f"#wn_{table}_wrapper .dt-info").inner_text()
    total = re.search(r"共 (\d+) 行", info)
    return int(total.group(1)) if total else 0


def pane(page, table: str, title: str):
    return page.locator(f"#wn_{table}_wrapper div.dtsp-searchPane").filter(
        has=page.locator(f"input.dtsp-paneInputButton[placeholder='{title}']")
    )


def option(page, table: str, title: str, name: str):
    """One value of a filter pane (its row in the pane's list)."""
    box = pane(page, table, title)
    box.locator("input.dtsp-paneInputButton").fill(name)  # the pane lists only what is in view
    return box.locator("tbody tr").filter(has=page.locator(".dtsp-name", has_text=re.compile(f"^{name}$")))


def filtered(page, table: str, title: str, name: str) -> tuple[int, str]:
    """Choose `name` in the pane `title`: the rows shown and the count the pane printed; then clear it."""
    row = option(page, table, title, name)
    pill = row.locator(".dtsp-pill").inner_text()
    row.click()
    shown = shown_rows(page, table)
    option(page, table, title, name).click()
    pane(page, table, title).locator("input.dtsp-paneInputButton").fill("")
    return shown, pill


def pane_values(page, table: str, title: str) -> list[str]:
    return pane(page, table, title).locator(".dtsp-name").all_inner_texts()


def test_category_filter_shows_every_finding_it_names(browser, saved_html, sample_run):
    _, _, frames, _ = sample_run
    issues = frames["issues"]
    state = issues["severity"].where(is_open(issues), "waived").map(STATES)
    expected = state.value_counts().to_dict()
    assert expected.get("必须修改", 0) > 0 and len(expected) == 3  # the sample has findings of each kind
    page = opened(browser, saved_html["02_clean"])
    assert shown_rows(page, "findings") == len(issues)
    assert sorted(pane_values(page, "findings", "类别")) == sorted(expected)
    for label, count in expected.items():
        shown, pill = filtered(page, "findings", "类别", label)
        assert (shown, pill) == (count, str(count)), label
    assert shown_rows(page, "findings") == len(issues)

    # with a unit chosen, the category pane counts that unit's findings, and choosing one shows them
    unit = issues.loc[state == "必须修改", "unit"].value_counts().index[0]
    mine = state[issues["unit"] == unit].value_counts().to_dict()
    option(page, "findings", "单位", unit).click()
    assert shown_rows(page, "findings") == sum(mine.values())
    for label, count in mine.items():
        shown, pill = filtered(page, "findings", "类别", label)
        assert shown == count, (unit, label)
        assert pill.startswith(f"{count}（"), (unit, label, pill)

    # the search box finds what the cells show (a unit's name), not their markup
    page.locator("#wn_findings_wrapper .dt-search input").fill("data-k")
    assert shown_rows(page, "findings") == 0
    page.close()


def test_reconcile_filters_show_every_row_they_name(browser, saved_html, sample_run):
    _, _, frames, _ = sample_run
    checks, st = frames["summary_checks"], frames["reporting_status"]
    verdicts = checks["verdict"].value_counts().to_dict()
    assert verdicts.get("不一致", 0) > 0
    page = opened(browser, saved_html["03_reconcile"])
    assert sorted(pane_values(page, "summary_checks", "结果")) == sorted(verdicts)
    for label, count in verdicts.items():
        assert filtered(page, "summary_checks", "结果", label) == (count, str(count)), label

    forms = st["form"].value_counts().to_dict()
    assert forms.get(views.NOT_REPORTED, 0) > 0
    assert sorted(pane_values(page, "status", "统计表")) == sorted(forms)
    for label, count in forms.items():
        assert filtered(page, "status", "统计表", label) == (count, str(count)), label
    for label, count in st["summary"].value_counts().items():
        assert filtered(page, "status", "书面总结", label)[0] == count, label
    page.close()
