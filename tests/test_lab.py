"""The executed notebooks as the analyst reviews them: saved as HTML (`jupyter nbconvert --to html`, as the
README says) and opened in a real browser — headless Chromium (Debian's `chromium`, installed by setup.sh)
driven by Playwright. Choosing a value in a filter pane must show exactly the rows of the data that have
it."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from wennuan_lib import vocab
from wennuan_lib.base import catalog, textfiles
from wennuan_lib.check.corrections import WAIVER_COLUMNS
from wennuan_lib.check.rules import is_open
from wennuan_lib.views import decisions

from .conftest import ROOT

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
STATES = {"error": "必须修改", "warning": "请核实", "waived": vocab.WAIVED}


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
    # the saved HTML needs nothing from the internet (nbconvert's page names a CDN for MathJax: not asked)
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
    page.goto(path.as_uri())
    page.wait_for_selector("div.dtsp-searchPane", timeout=30000)
    assert not errors, errors
    return page


# Each table's info line ("第 1–20 行，共 57 行") is rewritten by every draw of the table, even to the same
# words: a MutationObserver counts the draws, so a test waits for the draw a click sets off instead of
# polling the words (which stay the same for a choice that shows the same rows).
DRAWS = """([table, seen, quiet]) => {
  const all = window.__wn_draws || (window.__wn_draws = {});
  if (!all[table]) {
    const line = document.querySelector(`#wn_${table}_wrapper .dt-info`);
    const count = (all[table] = {n: 0, at: performance.now()});
    new MutationObserver(() => { count.n += 1; count.at = performance.now(); })
      .observe(line, {childList: true, characterData: true, subtree: true});
  }
  const count = all[table];
  return seen === null ? count.n : count.n > seen && performance.now() - count.at >= quiet;
}"""
SETTLED_MS = 150  # the panes may draw the table again just after a click: no draw for this long


def draws(page, table: str) -> int:
    """How many times the table has drawn since this was first asked (from then on, draws are counted)."""
    return page.evaluate(DRAWS, [table, None, 0])


def shown_rows(page, table: str, before: int | None = None) -> int:
    """The rows the table says it shows ("第 1–20 行，共 57 行" / "没有符合条件的行"). With `before` (the
    count of draws before a click, `draws`): first wait for the table to draw after it and settle."""
    if before is not None:
        page.wait_for_function(DRAWS, arg=[table, before, SETTLED_MS], polling=50, timeout=15000)
    text = page.locator(f"#wn_{table}_wrapper .dt-info").inner_text()
    total = re.search(r"共 (\d+) 行", text)
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


def choose(page, table: str, title: str, name: str) -> int:
    """Choose `name` in the pane `title`: the rows the table then shows."""
    choice = option(page, table, title, name)
    before = draws(page, table)  # after the pane's own search box is filled
    choice.click()
    pane(page, table, title).locator("tr.selected").wait_for(timeout=10000)
    return shown_rows(page, table, before)


def filtered(page, table: str, title: str, name: str) -> tuple[int, str]:
    """Choose `name` in the pane `title`: the rows shown and the count the pane printed; then undo that choice
    (the pane's own × button), leaving the other panes' choices as they were."""
    pill = option(page, table, title, name).locator(".dtsp-pill").inner_text()
    shown = choose(page, table, title, name)
    box, before = pane(page, table, title), draws(page, table)
    box.locator("button.clearButton").click()
    box.locator("tr.selected").wait_for(state="detached", timeout=10000)
    box.locator("input.dtsp-paneInputButton").fill("")
    shown_rows(page, table, before)
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
    assert choose(page, "findings", "单位", unit) == sum(mine.values())
    for label, count in mine.items():
        shown, pill = filtered(page, "findings", "类别", label)
        assert shown == count, (unit, label)
        assert pill.startswith(f"{count}（"), (unit, label, pill)

    # the search box finds what the cells show (a unit's name), not their markup
    before = draws(page, "findings")
    page.locator("#wn_findings_wrapper .dt-search input").fill("data-k")
    assert shown_rows(page, "findings", before) == 0
    page.close()


def test_reconcile_filters_show_every_row_they_name(browser, saved_html, sample_run):
    _, _, frames, _ = sample_run
    checks, st = frames["summary_checks"], frames["reporting_status"]
    # the panes offer what the table shows: the Chinese labels of the stored codes
    verdicts = vocab.shown(checks["verdict"], "summary_checks.verdict").value_counts().to_dict()
    assert verdicts.get("不一致", 0) > 0
    page = opened(browser, saved_html["03_reconcile"])
    assert sorted(pane_values(page, "summary_checks", "结果")) == sorted(verdicts)
    for label, count in verdicts.items():
        assert filtered(page, "summary_checks", "结果", label) == (count, str(count)), label

    forms = vocab.shown(st["form"], "reporting_status.form").value_counts().to_dict()
    assert forms.get("未报", 0) > 0
    assert sorted(pane_values(page, "status", "统计表")) == sorted(forms)
    for label, count in forms.items():
        assert filtered(page, "status", "统计表", label) == (count, str(count)), label
    for label, count in vocab.shown(st["summary"], "reporting_status.summary").value_counts().items():
        assert filtered(page, "status", "书面总结", label)[0] == count, label
    page.close()


# --- notebooks the run wrote: trusted, and no dead form -----------------------------------------------------


def test_notebooks_the_run_wrote_open_trusted_and_say_where_the_form_is(sample_run):
    import nbformat
    from nbformat.sign import NotebookNotary

    _, year, _, _ = sample_run
    folder = year.run / catalog.dataset("notebooks").path
    books = {p.stem: nbformat.read(p, as_version=4) for p in sorted(folder.glob("*.ipynb"))}
    assert set(books) >= {"01_ingest", "02_clean", "03_reconcile", "04_report"}
    with NotebookNotary() as notary:  # the user's Jupyter trust, as JupyterLab checks it when opening a file
        for name, nb in books.items():
            assert notary.check_signature(nb), f"{name} is not trusted"
        changed = books["02_clean"]
        changed.cells[0].source += " "
        assert not notary.check_signature(changed)  # a notebook changed by anything else is not trusted
    plain = [
        str(out.get("data", {}).get("text/plain", "")) + str(out.get("text", ""))
        for nb in books.values()
        for cell in nb.cells
        for out in cell.get("outputs", [])
    ]
    assert not any("VBox(" in text or "Dropdown(" in text for text in plain)
    form_cell = next(c for c in books["02_clean"].cells if "decisions.recorder(" in c.source)
    note = "".join(str(o.get("data", {}).get("text/html", "")) for o in form_cell.outputs)
    assert "notebooks/02_clean.ipynb" in note and "waivers.csv" in note
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in form_cell.outputs)


# --- the decision form ------------------------------------------------------------------------------------


def findings(*rows) -> pd.DataFrame:
    """Open findings as step 02 writes them: (unit, rule, item, severity, message)."""
    return pd.DataFrame(
        [
            {
                "unit": unit,
                "unit_type": "市、区",
                "item": item,
                "items": item,
                "rule": rule,
                "check_type": "强制性审核",
                "severity": severity,
                "message": message,
                "action": "请核对",
                "waived": False,
                "waiver_reason": "",
            }
            for unit, rule, item, severity, message in rows
        ]
    )


@pytest.fixture
def recorder(form, tmp_path):
    codes = form.codes
    issues = findings(
        ("吴江区总工会", "H01", codes[1], "warning", "比上年增加 80%"),
        ("吴江区总工会", "H01", codes[2], "warning", "比上年减少 60%"),
        ("吴江区总工会", "H01", codes[3], "warning", "比上年增加 300%"),
        ("吴江区总工会", "S01", codes[2], "error", "分项之和大于合计"),
        ("常熟市总工会", "P03", codes[4], "warning", "约数"),
    )
    return decisions.Recorder(issues, form, tmp_path / "waivers.csv", tmp_path / "corrections.csv", 2013)


def test_picking_a_unit_lists_its_open_findings(recorder):
    for unit, count in (("吴江区总工会", 4), ("常熟市总工会", 1), ("吴江区总工会", 4)):
        recorder.unit.value = unit
        assert len(recorder.finding.options) == count
        assert recorder.finding.value is not None, unit  # one of them is picked, never a blank
        assert "没有未解决" not in recorder.preview.value
        listed = recorder.findings[recorder.findings["unit"] == unit]
        assert f"未解决的审核意见 {count} 条" in recorder.listing.value
        assert all(m in recorder.listing.value for m in listed["message"])


def test_a_waiver_in_a_new_register_names_the_item_picked_and_waives_only_it(recorder, form):
    """No waivers.csv yet: the form makes it with an `item` column and the line waives the finding picked,
    not the unit's two other findings under the same rule."""
    recorder.unit.value = "吴江区总工会"
    picked = dict((recorder.findings.loc[k, "message"], k) for _, k in recorder.finding.options)
    recorder.finding.value = picked["比上年减少 60%"]
    recorder.kind.value = decisions.WAIVER
    recorder.reason.value = "电话核实"
    assert f"吴江区总工会,H01,{form.codes[2]},电话核实" in recorder.preview.value
    assert "全部" not in recorder.preview.value
    assert recorder.submit() is not None, recorder.result.value
    path = recorder.paths[decisions.WAIVER]
    assert path.read_bytes().startswith(b"\xef\xbb\xbfunit,rule,item,reason\r\n")
    rows = textfiles.read_table(path, WAIVER_COLUMNS).rows
    assert rows == [{"unit": "吴江区总工会", "rule": "H01", "item": form.codes[2], "reason": "电话核实"}]
    marked = [recorder.findings.loc[k, "message"] for k in recorder.written]
    assert marked == ["比上年减少 60%"]  # the other two H01 findings stay open


def test_a_waiver_in_a_register_without_item_says_it_covers_every_finding_of_its_rule(recorder, form):
    recorder.paths[decisions.WAIVER].write_text("unit,rule,reason\r\n", encoding="utf-8-sig")
    recorder.unit.value = "吴江区总工会"
    picked = dict((recorder.findings.loc[k, "message"], k) for _, k in recorder.finding.options)
    recorder.finding.value = picked["比上年减少 60%"]
    recorder.kind.value = decisions.WAIVER
    recorder.reason.value = "电话核实"
    text = recorder.preview.value
    assert "全部 3 条" in text and "不只是选中的这一条" in text
    assert all(form.item(c).label in text for c in form.codes[1:4])
    recorder.finding.value = picked["分项之和大于合计"]  # S01 found one thing: nothing more to say
    assert "将写入" in recorder.preview.value and "全部" not in recorder.preview.value
    recorder.kind.value = decisions.CORRECTION
    assert "全部" not in recorder.preview.value


def test_no_stale_error_beside_a_success(recorder):
    recorder.unit.value = "常熟市总工会"
    recorder.kind.value = decisions.WAIVER
    assert recorder.submit() is None and "未写入" in recorder.result.value  # no reason yet
    recorder.reason.value = "电话核实：约数即为准确数"
    assert recorder.result.value == ""  # the failure was about the fields as they were
    assert recorder.submit() is not None
    assert "已写入" in recorder.result.value
    assert "#b91c1c" not in recorder.preview.value + recorder.result.value  # nothing red beside it
    assert "请写明理由" not in recorder.preview.value  # nor a request for what was just written
    assert "已写入登记表" in recorder.finding.label  # the finding is marked in the list
    bundle = recorder._repr_mimebundle_()
    assert "VBox" not in bundle["text/plain"] and "notebooks/02_clean.ipynb" in bundle["text/plain"]


# --- `make lab`: JupyterLab in Chinese, at the project's folder ---------------------------------------------


def lab_command(project: Path, port: int, token: str) -> list[str]:
    """The `jupyter lab` line of the Makefile's `lab` target, run for a project in `project`, on 127.0.0.1."""
    recipe = (ROOT / "Makefile").read_text(encoding="utf-8").split("\nlab:", 1)[1].split("\n\n", 1)[0]
    line = next(s.strip() for s in recipe.splitlines() if "jupyter lab" in s)
    for make, here in (("$(CURDIR)/.venv", sys.prefix), ("$(CURDIR)", str(project)), ("$$", "$")):
        line = line.replace(make, here)
    line = line.replace(" .venv/bin/", f" {sys.prefix}/bin/")
    extra = ["--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}"]
    extra += ["--allow-root"] if os.geteuid() == 0 else []
    env = re.match(r"(\w+=\S+\s+)*", line).group(0)  # NAME=… before the command
    return ["sh", "-c", f"{env}exec {line[len(env) :]} {' '.join(extra)}"]  # exec: the server is what stops


@pytest.fixture(scope="module")
def lab(sample_run, tmp_path_factory):
    """`make lab` on a copy of the sample project (its notebooks, inputs and 2013's outputs)."""
    _, year, _, _ = sample_run
    home = tmp_path_factory.mktemp("lab")
    project = home / "project"
    shutil.copytree(ROOT / "notebooks", project / "notebooks")
    shutil.copytree(year.inputs, project / "inputs")
    shutil.copytree(year.root, project / "outputs" / "2013", symlinks=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "wennuan-test"
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),  # nobody's own Lab settings
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
    }
    log = (home / "lab.log").open("wb")
    server = subprocess.Popen(lab_command(project, port, token), cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                assert server.poll() is None, (home / "lab.log").read_text(errors="replace")
                time.sleep(0.25)
        yield url, token, year, project
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def in_terminal(url: str, token: str, command: str) -> str:
    """What a command typed in a JupyterLab terminal prints (the terminal as Lab opens one)."""
    import asyncio
    import concurrent.futures

    from tornado.websocket import websocket_connect

    made = urllib.request.Request(f"{url}/api/terminals?token={token}", method="POST", data=b"{}")
    made.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(made) as r:
        name = json.load(r)["name"]

    async def talk() -> str:
        socket_url = url.replace("http", "ws", 1)
        ws = await websocket_connect(f"{socket_url}/terminals/websocket/{name}?token={token}")
        await ws.write_message(json.dumps(["stdin", f"{command}; echo END-$((6*7))\r"]))
        out = ""
        while "END-42" not in out:  # the echo of the line typed shows END-$((6*7)), the output END-42
            kind, *rest = json.loads(await asyncio.wait_for(ws.read_message(), 30))
            out += rest[0] if kind == "stdout" else ""
        ws.close()
        return out

    try:  # in a thread of its own: Playwright's event loop runs in this one
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(lambda: asyncio.run(talk())).result()
    finally:
        gone = urllib.request.Request(f"{url}/api/terminals/{name}?token={token}", method="DELETE")
        urllib.request.urlopen(gone).close()


def test_make_lab_opens_at_the_project_root_in_chinese(lab, browser):
    url, token, year, _ = lab
    with urllib.request.urlopen(f"{url}/api/contents/?token={token}") as r:
        names = {c["name"] for c in json.load(r)["content"]}
    assert {"notebooks", "inputs", "outputs"} <= names  # all three in the file browser
    # the commands the notebooks print run this project's Python in Lab's terminal, whatever ~/.bashrc does
    assert f"{sys.prefix}/bin/python\r\n" in in_terminal(url, token, "command -v python")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/lab/tree/outputs/2013/notebooks/02_clean.ipynb?token={token}")
    page.wait_for_selector(".lm-MenuBar-itemLabel", timeout=60000)
    assert "文件" in page.locator(".lm-MenuBar-itemLabel").all_inner_texts()  # the language pack, by default

    # the notebook the run wrote opens trusted: its tables are interactive at once, and filter right
    page.wait_for_selector("#wn_findings_wrapper div.dtsp-searchPane", timeout=60000)
    issues = year.load("issues")
    errors = int(((issues["severity"] == "error") & ~issues["waived"]).sum())
    assert filtered(page, "findings", "类别", "必须修改") == (errors, str(errors))
    assert page.get_by_text("这里没有登记决定的表单").count() == 1

    # double-clicking the review workbook shows its sheets, not "File Load Error … not UTF-8"
    workbook = catalog.dataset("review_workbook").path
    page.goto(f"{url}/lab/tree/outputs/2013?token={token}")
    item = page.locator(".jp-DirListing-item").filter(has_text=workbook)
    item.dblclick()
    page.wait_for_selector(f".lm-TabBar-tab:has-text('{workbook}')", timeout=30000)
    sheet = page.get_by_text("审核意见", exact=True).filter(visible=True)  # the first sheet's tab
    sheet.first.wait_for(timeout=30000)
    assert page.get_by_text("not UTF-8").count() == 0 and page.locator(".jp-Dialog").count() == 0
    page.close()


# --- a kernel left open across runs -------------------------------------------------------------------------


def api(url: str, token: str, method: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(f"{url}/api/{path}?token={token}", method=method)
    if body is not None:
        req.data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req) as r:
        text = r.read()
    return json.loads(text) if text else {}


def in_kernel(url: str, token: str, kernel: str, code: str) -> str:
    """What a cell prints, run in a kernel of the server (the messages Lab sends over the kernel's websocket);
    an error is returned as its name and value."""
    import asyncio
    import concurrent.futures
    import uuid

    from tornado.websocket import websocket_connect

    async def talk() -> str:
        socket_url = url.replace("http", "ws", 1)
        ws = await websocket_connect(f"{socket_url}/api/kernels/{kernel}/channels?token={token}")
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": "execute_request",
            "username": "",
            "session": "t",
            "version": "5.3",
        }
        content = {"code": code, "silent": False, "store_history": False, "user_expressions": {}}
        message = {
            "header": header,
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": "shell",
        }
        await ws.write_message(json.dumps(message))
        out = ""
        while True:
            reply = json.loads(await asyncio.wait_for(ws.read_message(), 60))
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, body = reply["msg_type"], reply["content"]
            if kind == "stream":
                out += body["text"]
            elif kind == "error":
                out += f"{body['ename']}: {body['evalue']}"
            elif kind == "status" and body["execution_state"] == "idle":
                break
        ws.close()
        return out

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # Playwright's event loop runs in this thread
        return pool.submit(lambda: asyncio.run(talk())).result()


def test_a_kernel_left_open_survives_the_next_runs(lab):
    """An executed notebook opened in Lab (outputs/2013/notebooks is a shortcut into runs/<id>/), a cell run,
    the kernel left open; two runs later that run folder is gone, and the kernel still works: its working
    folder is outputs/2013/, which runs never remove."""
    from wennuan_lib.run.runs import Scope

    url, token, _, project = lab
    notebook = "outputs/2013/notebooks/02_clean.ipynb"
    session = api(
        url,
        token,
        "POST",
        "sessions",
        {"path": notebook, "name": "02_clean.ipynb", "type": "notebook", "kernel": {"name": "wennuan"}},
    )
    kernel = session["kernel"]["id"]
    try:
        cell = "import os, pathlib; print(os.getcwd()); print(pathlib.Path('current').read_text().split()[0])"
        first = in_kernel(url, token, kernel, cell).splitlines()
        assert len(first) == 2, first
        root = Path(first[0])
        assert root == project / "outputs" / "2013", first  # the year's folder, not a run's
        scope = Scope(root.parent, 2013)
        opened = scope.current()
        for _ in range(2):  # two runs, as `run` makes them (a new folder, made current; older ones removed)
            new = scope.new_run()
            scope.copy_from_current(new, [p.name for p in scope.current().iterdir() if p.name != ".staging"])
            scope.promote(new)
        assert not opened.exists()  # the folder the notebook was opened from is gone
        after = in_kernel(url, token, kernel, cell).splitlines()
        assert after == [str(root), scope.current().relative_to(root).as_posix()], after
        shown = in_kernel(
            url, token, kernel, "print(len(open('notebooks/02_clean.ipynb', encoding='utf-8').read()) > 0)"
        )
        assert shown.strip() == "True", shown
    finally:
        api(url, token, "DELETE", f"sessions/{session['id']}")


# --- Lab's own files never dirty the checkout --------------------------------------------------------------


def test_saving_a_notebook_in_lab_leaves_it_as_committed(lab):
    """02_clean saved from Lab (the contents API Lab's Save uses) after running it, with outputs, counts and
    the metadata Lab adds: the file written is the committed one, and Lab's checkpoint is kept outside the
    project."""
    import nbformat

    from wennuan_lib.run import lab as wlab

    url, token, _, project = lab
    path = "notebooks/02_clean.ipynb"
    committed = (ROOT / path).read_text(encoding="utf-8")
    nb = api(url, token, "GET", f"contents/{path}")["content"]
    nb["metadata"]["language_info"] = {"name": "python", "version": "3.11.2", "mimetype": "text/x-python"}
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["execution_count"] = 3
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "必须修改 8 条\n"}]
    code["metadata"]["execution"] = {"iopub.status.idle": "2026-01-28T10:15:00Z"}
    code["metadata"]["scrolled"] = True
    try:
        api(url, token, "POST", f"contents/{path}/checkpoints")  # Lab makes one when it opens a notebook
        api(url, token, "PUT", f"contents/{path}", {"type": "notebook", "format": "json", "content": nb})
        saved = nbformat.read(project / path, as_version=4)
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in saved.cells)
        assert json.loads((project / path).read_text(encoding="utf-8")) == json.loads(committed)
        assert not list(project.rglob(".ipynb_checkpoints"))  # none beside the notebook, nor anywhere
        kept = wlab.checkpoint_root(project)
        assert list(kept.rglob("02_clean-checkpoint.ipynb"))  # the checkpoint is there, outside the project
        # an executed notebook (a record, through the shortcut) keeps its outputs when saved
        record = "outputs/2013/notebooks/02_clean.ipynb"
        before = api(url, token, "GET", f"contents/{record}")["content"]
        api(
            url, token, "PUT", f"contents/{record}", {"type": "notebook", "format": "json", "content": before}
        )
        again = nbformat.read(project / record, as_version=4)
        assert any(c.get("outputs") for c in again.cells)
    finally:
        shutil.rmtree(wlab.checkpoint_root(project), ignore_errors=True)
