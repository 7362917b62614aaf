"""The Chinese summaries the analyst reads in the terminal: at the end of a run, and `status` — read back from
the current run's datasets."""

from __future__ import annotations

import functools

from wennuan_lib import vocab
from wennuan_lib.base import catalog, store
from wennuan_lib.check.aggregate import in_totals
from wennuan_lib.check.rules import AUDIT_ID, TOTALS, is_open, open_errors
from wennuan_lib.publish import feedback as feedback_
from wennuan_lib.publish import narrative
from wennuan_lib.read.units import Registry
from wennuan_lib.run import freeze, manifest


def _names(frame, mask, limit: int = 8) -> str:
    names = list(frame.loc[mask, "unit"])
    return "、".join(names[:limit]) + (f"等{len(names)}个" if len(names) > limit else "") if names else "无"


def _load(run_dir, name, columns=None):
    ds = catalog.dataset(name)
    path = run_dir / ds.path
    # a run made by an older version stored Chinese labels: read as codes
    return vocab.coded(store.load_table(ds, path, columns), name) if path.exists() else None


# the values table as the summary reads it, once (200,000 rows at 3,000 units: 0.25 s a read), for its counts
# and for the files of a unit whose feedback workbook was not made
VALUE_COLUMNS = ("unit", "registered", "file", "status", "approx", "corrected")


def _tables(run):
    """The run's tables by name for one summary, each read once (`columns`: a tuple)."""

    @functools.cache
    def load(name, columns=None):
        return _load(run, name, list(columns) if columns else None)

    return load


def _unreadable(st) -> list[str]:
    """Units that sent something that could not be read: the files and why, to ask for another format."""
    rows = st[st["form"] == vocab.UNREADABLE]
    return [
        f"  已报但无法读取（请单位换一种格式重新报送）：{unit}：{problem}"
        for unit, problem in zip(rows["unit"], rows["form_problem"], strict=True)
    ]


def _raw(workspace, name: str, year: int) -> str:
    """An analyst's file as she finds it: inputs/<年度>/corrections.csv."""
    path = workspace.raw(name, year)
    try:
        return str(path.relative_to(workspace.inputs.parent))
    except ValueError:
        return str(path)


def next_steps(workspace, year: int, run, load=None) -> list[str]:
    """What to do next, from the current run: the units holding open must-fix findings (and how many each),
    the lines of the registers that are wrong, the report's other blockers (draft_reasons: sections still to
    write …), the units to chase, and the command to run then. `load`: the run's tables (`_tables`)."""
    load = load or _tables(run)
    issues = load("issues")
    reasons = freeze.draft_reasons(run)
    st = load("reporting_status")
    corrections, waivers = _raw(workspace, "corrections", year), _raw(workspace, "waivers", year)
    lines, fix = [], False
    if issues is not None:
        lines += _must_fix_lines(issues, corrections, waivers)
        lines += _corrected_and_wrong(issues, load("audit"), corrections)
        fix = bool(lines)
    if reasons is not None:
        for kind, group in reasons[reasons["kind"] != vocab.MUST_FIX].groupby("kind", sort=False):
            shown = "；".join(group["message"].head(5)) + (f" 等 {len(group)} 条" if len(group) > 5 else "")
            lines.append(f"  · {vocab.label('draft_reasons.kind', kind)}：{shown}")
            fix = True
    if st is not None:
        lines += _chase_lines(st)
    scope = workspace.scope(year)
    if fix:
        lines.append(f"  然后运行：{workspace.command('run', '--year', year)}")
    elif reasons is not None and not scope.sent_dirs():
        freeze_cmd = workspace.command("freeze", "--year", year)
        lines.append(
            f"  书面总结已是定稿：报送当天运行 {freeze_cmd} 封存"
            "（不是当天封存的，在命令后加 --date 报送日期，例如 --date 2014-01-28）"
        )
    elif scope.sent_dirs():
        lines.append("  已封存；数据再有变化时重新运行，结果会说明与封存版本的差异")
    return ["下一步："] + lines if lines else []


def _must_fix_lines(issues, corrections: str, waivers: str) -> list[str]:
    """The open must-fix findings: the units holding them (most first), those of the city totals, and the
    registers' wrong lines."""
    lines = []
    errors = open_errors(issues)
    registers = errors[errors["rule"] == AUDIT_ID]
    totals = errors[(errors["unit"] == TOTALS) & (errors["rule"] != AUDIT_ID)]
    units = errors[(errors["unit"] != TOTALS) & (errors["rule"] != AUDIT_ID)]
    if len(units):
        counts = units["unit"].value_counts(sort=False)
        counts = counts.iloc[(-counts.to_numpy()).argsort(kind="stable")]
        shown = "、".join(f"{u} {n} 条" for u, n in counts.head(12).items())
        more = f" 等 {len(counts)} 个单位" if len(counts) > 12 else ""
        lines.append(
            f"  · 必须修改的意见 {len(units)} 条在 {len(counts)} 个单位：{shown}{more}——"
            f"发反馈表请单位改正后重新报送，或电话核实后记入 {corrections}（更正）或 {waivers}（豁免）"
        )
    if len(totals):
        lines.append(
            f"  · {TOTALS} {len(totals)} 条必须修改的意见由各单位的数字推出：有关单位的数字改正后自动消失"
        )
    for message in registers["message"]:
        lines.append(f"  · 登记表有误：{message}——请改正后再运行")
    return lines


def _corrected_and_wrong(issues, audit, corrections: str) -> list[str]:
    """The open must-fix findings that hold a figure the analyst corrected: the register's line is named
    beside them, since the correction may be what broke the check (a part corrected above its whole)."""
    if audit is None or not len(audit):
        return []
    applied = audit[(audit["kind"] == vocab.CORRECTION) & (audit["status"] == "applied")]
    by_value = {
        (u, i): (n, was, now)
        for u, i, n, was, now in zip(
            applied["unit"],
            applied["item"],
            applied["line"],
            applied["original"],
            applied["value"],
            strict=True,
        )
    }
    lines = []
    for row in open_errors(issues).to_dict("records"):
        fixed = [
            (i, by_value[(row["unit"], i)]) for i in row["items"].split("|") if (row["unit"], i) in by_value
        ]
        if fixed and row["rule"] != AUDIT_ID:
            said = "、".join(f"{i}（第{n}行：{was or '未填'} → {now}）" for i, (n, was, now) in fixed)
            lines.append(
                f"  · 更正后仍须修改：{row['unit']}：{row['message']}——其中 {said} 是按 {corrections} "
                f"更正的数字，请核对这{'一' if len(fixed) == 1 else '几'}行更正是否写对"
            )
    return lines


def _chase_lines(st) -> list[str]:
    """The units to chase: not sent, sent unreadable, late."""
    chase = [
        f"未报 {_names(st, st['form'] == vocab.NOT_REPORTED)}"
        if (st["form"] == vocab.NOT_REPORTED).any()
        else "",
        f"已报但无法读取 {_names(st, st['form'] == vocab.UNREADABLE)}（请换一种格式重新报送）"
        if (st["form"] == vocab.UNREADABLE).any()
        else "",
        f"逾期 {_names(st, st['late'] == vocab.LATE)}（已收到，核实原因）"
        if (st["late"] == vocab.LATE).any()
        else "",
    ]
    chase = [c for c in chase if c]
    return ["  · 催报：" + "；".join(chase)] if chase else []


def _forms_line(st, expected) -> str:
    """统计表：应报 32 个单位，已报 31 个（其中 1 个无法读取，未计入汇总），未报 1 个 — as the report's
    first paragraph counts them; the units outside the registry that sent one, apart."""
    unreadable = int((expected["form"] == vocab.UNREADABLE).sum())
    sent = int((expected["form"] == vocab.REPORTED).sum()) + unreadable
    outside = int((~st["registered"] & (st["form"] != vocab.NOT_REPORTED)).sum())
    return (
        f"  统计表：应报 {len(expected)} 个单位，已报 {sent} 个"
        + (f"（其中 {unreadable} 个无法读取，未计入汇总）" if unreadable else "")
        + f"，未报 {int((expected['form'] == vocab.NOT_REPORTED).sum())} 个"
        + (f"；另有不在单位名录中的 {outside} 个单位报送（未计入汇总）" if outside else "")
        + f"；书面总结已报 {int((expected['summary'] == vocab.REPORTED).sum())} 个"
    )


def _inbox_lines(log, year: int) -> list[str]:
    """What the inbox held and how each file was taken; every file that could not be read, with why."""
    counts = log["status"].value_counts()
    empty = int(((log["status"] == vocab.READ) & (log["figures"] != "")).sum())
    lines = [
        f"{year}年处理完成：收件箱共 {len(log)} 个文件",
        f"  统计表已读取 {counts.get('read', 0)} 份"
        + (f"（其中 {empty} 份没有读到任何数字）" if empty else "")
        + f"，书面总结 {counts.get('summary', 0)} 份，"
        f"被替代 {counts.get('superseded', 0)} 份，略过 {counts.get('skipped', 0)} 个，"
        f"无法读取 {counts.get('rejected', 0)} 个",
    ]
    for row in log[log["status"] == "rejected"].to_dict("records"):
        lines.append(f"  无法读取：{row['file']}（{row['reason']}）")
    return lines


def _reporting_lines(run, scope, st, issues, made) -> list[str]:
    """Who did not send, sent unreadable, sent late or is not in the registry; the feedback workbooks made
    (and the units that needed one but got none: `made`, the values' units and files)."""
    lines = [f"  未报统计表：{_names(st, st['form'] == vocab.NOT_REPORTED)}"]
    lines += _unreadable(st)
    lines.append(f"  逾期报送：{_names(st, st['late'] == vocab.LATE)}")
    lines.append(f"  不在单位名录中：{_names(st, ~st['registered'])}")
    feedback = catalog.files_in(run, catalog.dataset("feedback"))
    lines.append(f"  反馈表 {len(feedback)} 份：{scope.root / catalog.dataset('feedback').path}")
    if issues is not None and made is not None:
        lines += [
            f"  {feedback_.not_made_line(u, feedback_.unit_files(made, u))}"
            for u in feedback_.missing_units(issues, made, feedback)
        ]
    return lines


def run_summary(workspace, year: int) -> str:
    """What a year's run found, printed after `run`: the inbox, the data, the findings, who to chase, the
    report's state, where the results are, and what to do next."""
    scope = workspace.scope(year)
    run = scope.current()
    if run is None:
        return f"{year}年没有完整的运行结果"
    load = _tables(run)
    lines = _inbox_lines(load("ingest_log"), year)
    values = load("values", VALUE_COLUMNS)
    if values is not None:
        status = values["status"].value_counts()
        outside = values.loc[~in_totals(values), "unit"].nunique()
        lines.append(
            f"  {values['unit'].nunique()} 个单位的数据"
            + (f"（含不在单位名录中的 {outside} 个，未计入合计）" if outside else "")
            + f"：未填 {status.get('missing', 0)} 项，"
            f"无法识别 {status.get('unreadable', 0)} 项，表中未找到 {status.get('not_found', 0)} 项，"
            f"约数 {int(values['approx'].sum())} 项，已更正 {int(values['corrected'].sum())} 项"
        )
    issues = load("issues")
    if issues is not None:
        open_ = is_open(issues)
        lines.append(
            f"  审核意见：必须修改 {int(((issues['severity'] == 'error') & open_).sum())} 条，请核实 "
            f"{int(((issues['severity'] == 'warning') & open_).sum())} 条，已豁免 {int((~open_).sum())} 条"
        )
        audit = load("audit")
        for row in audit[audit["status"] == "unmatched"].to_dict("records"):
            register = vocab.label("audit.kind", row["kind"])
            lines.append(f"  登记表有误：{register}登记表第{row['line']}行（{row['message']}）")
    st = load("reporting_status")
    if st is not None:
        lines += _reporting_lines(run, scope, st, issues, values)
    reasons = freeze.draft_reasons(run)
    if reasons is not None:
        state = f"草稿（尚有 {len(reasons)} 个问题未解决）" if len(reasons) else "定稿"
        lines.append(f"  书面总结：{state}，{scope.root / 'report'}")
    if note := narrative.comments_note(workspace.raw("narrative", year)):
        lines.append(f"  {note}")
    lines += [f"  {note}" for note in Registry.load(workspace.raw("registry")).notes]
    lines += _sent_lines(scope, run)
    lines.append(
        f"  数据文件：{scope.root / 'data'}；给人看的：{scope.root / catalog.file_name('review_workbook')}"
    )
    lines.append(f"  已执行的笔记本：{scope.root / 'notebooks'}")
    lines += next_steps(workspace, year, run, load)
    return "\n".join(lines)


def _sent_lines(scope, run) -> list[str]:
    """The difference from the sent version as it is now (the sent copy may have changed since the run
    wrote it down: damaged, or put right), and a word when the run's file says otherwise."""
    sent = scope.sent_dirs()
    if not sent:
        return []
    diff = run / catalog.dataset("sent_diff").path
    written = diff.read_text(encoding="utf-8").splitlines() if diff.exists() else []
    if freeze.still_true(written, sent[-1]):  # the run's own words (a compare costs 1–2 s at 3,000 units)
        return [f"  {line}" for line in written]
    now = freeze.differences(scope, run) or []
    lines = [f"  {line}" for line in now]
    if written and written != now:
        lines.append(
            f"  （上次运行时记下的 {scope.root / catalog.dataset('sent_diff').path} 与此不同："
            "已报送版本的文件在那之后有变化，以这里为准）"
        )
    return lines


def strict_problems(workspace, year: int) -> list[str]:
    """What makes `run --strict` fail: rejected files, unresolved errors and whatever else keeps the report a
    draft (draft_reasons of the other kinds: suspected slips, sections still to write, quotes that do not
    match)."""
    run = workspace.scope(year).current()
    if run is None:
        return [f"{year}年没有完整的运行结果"]
    log = _load(run, "ingest_log")
    out = [
        f"{year}年 无法读取：{r['file']}（{r['reason']}）"
        for r in log[log["status"] == "rejected"].to_dict("records")
    ]
    errors = open_errors(_load(run, "issues"))
    out += [f"{year}年 必须修改：{r['unit']}：{r['message']}" for r in errors.to_dict("records")]
    reasons = freeze.draft_reasons(run)
    if reasons is not None:
        others = reasons[reasons["kind"] != vocab.MUST_FIX]
        out += [
            f"{year}年 {vocab.label('draft_reasons.kind', r['kind'])}："
            + (f"{r['unit']}：" if r["unit"] else "")
            + r["message"]
            for r in others.to_dict("records")
        ]
    return out


def status_text(workspace, year: int) -> str:
    """`status`: reporting status, open findings, and whether the report is draft, final or frozen."""
    scope = workspace.scope(year)
    run = scope.current()
    load = _tables(run)
    st = load("reporting_status") if run else None
    if st is None:
        if year not in workspace.years():  # nothing to run: the command would only fail
            known = "、".join(map(str, workspace.years())) or "（没有）"
            return (
                f"{year}年没有输入：收件箱 {workspace.raw('inbox', year)} 不存在。"
                f"inputs/ 中有的年度：{known}。"
                "年度写错了的，请改正；新的一年请先按 docs/past-years.md 准备好它的文件"
            )
        return f"{year}年尚未运行：请先运行 {workspace.command('run', '--year', year)}"
    expected = st[st["registered"]]
    issues = load("issues")
    open_ = issues[is_open(issues)]
    lines = [
        f"{year}年状态",
        _forms_line(st, expected),
        f"  未报统计表：{_names(st, st['form'] == vocab.NOT_REPORTED)}",
        *_unreadable(st),
        f"  逾期报送：{_names(st, st['late'] == vocab.LATE)}",
        f"  不在单位名录中：{_names(st, ~st['registered'])}",
        f"  未解决的审核意见：必须修改 {int((open_['severity'] == 'error').sum())} 条，请核实 "
        f"{int((open_['severity'] == 'warning').sum())} 条（已豁免 {int(issues['waived'].sum())} 条）",
        f"  书面总结：{freeze.state(scope)}",
    ]
    why, sent = manifest.verify_parts(workspace, scope)
    lines.append(
        "  输入与输出：一致"
        if not why
        else f"  输入与输出：不一致（{len(why)} 处，运行 {workspace.command('verify', '--year', year)} 查看）"
    )
    lines += [f"    {line}" for line in why[:3]] + (["    ……"] if len(why) > 3 else [])
    if scope.sent_dirs():
        lines.append("  已报送的版本：完好" if not sent else "  已报送的版本有问题：")
        lines += [f"    {line}" for line in sent]
    steps = next_steps(workspace, year, run, load)
    if why:  # inputs, program or an earlier step changed since a step ran: out of date until it runs again
        steps = [
            "下一步：",
            "  结果不是最新的（输入文件、程序或前面步骤的结果在运行之后有变化）："
            f"先运行 {workspace.command('run', '--year', year)}",
        ]
    lines += steps
    return "\n".join(lines)
