"""The Chinese summary printed at the end of a run, read back from the data files."""

from __future__ import annotations

from . import config, store


def run_summary(paths: config.YearPaths) -> str:
    log = store.read_csv(paths.data / "ingest_log.csv")
    values = store.read_csv(paths.data / "values.csv")
    counts = log["status"].value_counts()
    lines = [
        f"{paths.year}年处理完成：收件箱共 {len(log)} 个文件",
        f"  统计表已读取 {counts.get('read', 0)} 份，书面总结 {counts.get('summary', 0)} 份，"
        f"被替代 {counts.get('superseded', 0)} 份，略过 {counts.get('skipped', 0)} 个，无法读取 {counts.get('rejected', 0)} 个",
    ]
    for _, row in log[log["status"] == "rejected"].iterrows():
        lines.append(f"  无法读取：{row['file']}（{row['reason']}）")
    n_units = values["unit"].nunique() if len(values) else 0
    status = values["status"].value_counts()
    lines.append(f"  {n_units} 个单位的数据：未填 {status.get('missing', 0)} 项，无法识别 {status.get('unreadable', 0)} 项，"
                 f"表中未找到 {status.get('not_found', 0)} 项，约数 {(values['approx'] == 'True').sum()} 项")
    lines.append(f"  数据文件：{paths.data}")
    lines.append(f"  已执行的笔记本：{paths.notebooks}")
    return "\n".join(lines)
