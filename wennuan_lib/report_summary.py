"""The Chinese summary printed at the end of a run, read back from the data files."""

from __future__ import annotations

from . import config, store


def _names(frame, mask, limit: int = 8) -> str:
    names = list(frame.loc[mask, "unit"])
    return "、".join(names[:limit]) + (f"等{len(names)}个" if len(names) > limit else "") if names else "无"


def _unreadable(st) -> list[str]:
    """Units that sent something that could not be read: the files and why, to ask for another format."""
    rows = st[st["form"] == "已报但无法读取"]
    problems = rows["form_problem"] if "form_problem" in rows else [""] * len(rows)
    return [f"  已报但无法读取（请单位换一种格式重新报送）：{unit}：{problem}"
            for unit, problem in zip(rows["unit"], problems, strict=True)]


def run_summary(paths: config.YearPaths) -> str:
    data = paths.data
    log = store.read_csv(data / "ingest_log.csv")
    counts = log["status"].value_counts()
    empty = int(((log["status"] == "read") & (log["status_label"] != "已读取")).sum())
    lines = [
        f"{paths.year}年处理完成：收件箱共 {len(log)} 个文件",
        f"  统计表已读取 {counts.get('read', 0)} 份" + (f"（其中 {empty} 份没有读到任何数字）" if empty else "")
        + f"，书面总结 {counts.get('summary', 0)} 份，"
        f"被替代 {counts.get('superseded', 0)} 份，略过 {counts.get('skipped', 0)} 个，无法读取 {counts.get('rejected', 0)} 个",
    ]
    for _, row in log[log["status"] == "rejected"].iterrows():
        lines.append(f"  无法读取：{row['file']}（{row['reason']}）")
    if (data / "values.csv").exists():
        values = store.read_csv(data / "values.csv", ["unit", "status", "approx", "corrected"])
        status = values["status"].value_counts()
        lines.append(f"  {values['unit'].nunique()} 个单位的数据：未填 {status.get('missing', 0)} 项，"
                     f"无法识别 {status.get('unreadable', 0)} 项，表中未找到 {status.get('not_found', 0)} 项，"
                     f"约数 {store.flag(values['approx']).sum()} 项，已更正 {store.flag(values['corrected']).sum()} 项")
    if (data / "issues.csv").exists():
        issues = store.read_csv(data / "issues.csv")
        waived = store.flag(issues["waived"])
        errors = (issues["severity"] == "error") & ~waived
        lines.append(f"  审核意见：必须修改 {int(errors.sum())} 条，请核实 {int(((issues['severity'] == 'warning') & ~waived).sum())} 条，"
                     f"已豁免 {int(waived.sum())} 条")
        audit = store.read_csv(data / "audit.csv")
        bad = audit[audit["status"] == "unmatched"]
        for _, row in bad.iterrows():
            lines.append(f"  登记表有误：{row['kind']}登记表第{row['line']}行（{row['message']}）")
    if (data / "reporting_status.csv").exists():
        st = store.read_csv(data / "reporting_status.csv")
        lines.append(f"  未报统计表：{_names(st, st['form'] == '未报')}")
        lines += _unreadable(st)
        lines.append(f"  逾期报送：{_names(st, st['late'] == '逾期')}")
        lines.append(f"  不在单位名录中：{_names(st, st['registered'] != 'True')}")
        feedback = sorted((paths.year_outputs / "feedback").glob("*.xlsx"))
        lines.append(f"  反馈表 {len(feedback)} 份：{paths.year_outputs / 'feedback'}")
    report_dir = paths.year_outputs / "report"
    if (report_dir / "书面总结.pdf").exists() and (data / "issues.csv").exists():
        from .clean import open_errors

        n_open = len(open_errors(store.read_csv(data / "issues.csv")))
        state = f"草稿（尚有 {n_open} 条必须修改的意见未解决）" if n_open else "定稿"
        lines.append(f"  书面总结：{state}，{report_dir}")
    diff = paths.year_outputs / "report" / "与已报送版本的差异.txt"
    from .freeze import sent_dirs

    if sent_dirs(paths) and diff.exists():
        lines.append("  " + diff.read_text(encoding="utf-8").rstrip().replace("\n", "\n  "))
    lines.append(f"  数据文件：{data}")
    lines.append(f"  已执行的笔记本：{paths.notebooks}")
    return "\n".join(lines)


def strict_problems(paths: config.YearPaths) -> list[str]:
    """What makes `run --strict` fail: rejected files and unresolved errors."""
    from .clean import open_errors

    log = store.read_csv(paths.data / "ingest_log.csv")
    out = [f"{paths.year}年 无法读取：{r['file']}（{r['reason']}）" for r in log[log["status"] == "rejected"].to_dict("records")]
    errors = open_errors(store.read_csv(paths.data / "issues.csv"))
    out += [f"{paths.year}年 必须修改：{r['unit']}：{r['message']}" for r in errors.to_dict("records")]
    return out


def status_text(paths: config.YearPaths) -> str:
    """`status`: reporting status, open findings, and whether the report is draft, final or frozen."""
    from . import freeze, manifest

    data = paths.data
    if not (data / "reporting_status.csv").exists():
        return f"{paths.year}年尚未运行：请先运行 python -m wennuan_lib run --year {paths.year}"
    st = store.read_csv(data / "reporting_status.csv")
    expected = st[store.flag(st["registered"])]
    issues = store.read_csv(data / "issues.csv")
    open_ = issues[~store.flag(issues["waived"])]
    lines = [
        f"{paths.year}年状态",
        f"  统计表：应报 {len(expected)} 个单位，已报 {int((expected['form'] == '已报').sum())} 个，"
        f"已报但无法读取 {int((expected['form'] == '已报但无法读取').sum())} 个；"
        f"书面总结已报 {int((expected['summary'] == '已报').sum())} 个",
        f"  未报统计表：{_names(st, st['form'] == '未报')}",
        *_unreadable(st),
        f"  逾期报送：{_names(st, st['late'] == '逾期')}",
        f"  不在单位名录中：{_names(st, st['registered'] != 'True')}",
        f"  未解决的审核意见：必须修改 {int((open_['severity'] == 'error').sum())} 条，请核实 "
        f"{int((open_['severity'] == 'warning').sum())} 条（已豁免 {int((issues['waived'] == 'True').sum())} 条）",
        f"  书面总结：{freeze.state(paths)}",
    ]
    ok, why = manifest.verify(paths)
    lines.append("  输入与输出：一致" if ok else f"  输入与输出：不一致（{len(why)} 处，运行 verify --year {paths.year} 查看）")
    return "\n".join(lines)
