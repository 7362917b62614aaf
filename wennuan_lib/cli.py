"""Command line: python -m wennuan_lib <command> …  (messages in Chinese)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import config


def _paths(args) -> config.YearPaths:
    return config.year_paths(args.year, args.inputs, args.outputs)


def check_analyst_files(years: list[config.YearPaths]) -> None:
    """The analyst's own files of the years a run will process, read before any submission is: a registry
    clash or an unreadable file stops the run here with a Chinese message naming the file."""
    from . import analyst_files

    for paths in years:
        print(f"{paths.year}年" + analyst_files.describe(analyst_files.check(paths)))


def cmd_run(args) -> int:
    from . import pipeline, report_summary

    if args.all:
        present = config.years_present(config.year_paths(2000, args.inputs, args.outputs).inputs)
        check_analyst_files([config.year_paths(y, args.inputs, args.outputs) for y in present])
        years = pipeline.run_all(args.inputs, args.outputs)
        for year in years:
            print(report_summary.run_summary(config.year_paths(year, args.inputs, args.outputs)))
        print(f"历年对比：{config.year_paths(years[-1], args.inputs, args.outputs).outputs / 'trends'}")
        strict_years = years
    else:
        if args.year is None:
            print("错误：请用 --year 指定年度，或用 --all 处理全部年度", file=sys.stderr)
            return 2
        paths = _paths(args)
        previous = config.year_paths(paths.year - 1, args.inputs, args.outputs)
        # the previous year is run first when it has an inbox and no results (pipeline.run_year)
        first = previous.inbox.is_dir() and not (previous.data / "values.csv").exists()
        check_analyst_files([previous, paths] if first else [paths])
        print(f"开始处理 {paths.year} 年：收件箱 {paths.inbox}")
        pipeline.run_year(paths)
        print(report_summary.run_summary(paths))
        strict_years = [paths.year]
    if args.strict:
        problems = [p for y in strict_years for p in report_summary.strict_problems(
            config.year_paths(y, args.inputs, args.outputs))]
        if problems:
            print("严格模式：以下问题未解决，退出码为 1", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
            return 1
    return 0


def cmd_verify(args) -> int:
    from . import manifest

    ok, lines = manifest.verify(_paths(args))
    if ok:
        print(f"{args.year}年的输出与输入一致：自上次运行以来，输入文件和输出文件都没有变化。")
        return 0
    print(f"{args.year}年的输出与输入不一致（需要重新运行 run --year {args.year}）：")
    for line in lines:
        print(f"  {line}")
    return 1


def cmd_freeze(args) -> int:
    import datetime as dt

    from . import freeze, report_summary

    paths = _paths(args)
    when = dt.date.fromisoformat(args.date) if args.date else None
    state = freeze.state(paths)
    target = freeze.freeze(paths, when)
    print(f"已封存{args.year}年报送的版本：{target}")
    print("  封存的文件为只读，以后的运行不会覆盖它们；数据再有变化时，运行结果会说明与封存版本的差异。")
    if state.startswith("草稿"):
        print(f"  注意：封存的是{state}，不是定稿")
    print(report_summary.status_text(paths))
    return 0


def cmd_status(args) -> int:
    from . import report_summary

    print(report_summary.status_text(_paths(args)))
    return 0


def cmd_template(args) -> int:
    from . import template
    from .form import load_form

    cfg = config.load_year_config(config.year_paths(args.year, args.inputs))
    form = load_form(cfg.get("form", args.year))
    out = Path(args.out) if args.out else config.OUTPUTS_DIR / str(args.year) / f"{form.title}.xlsx"
    template.write(form, out)
    print(f"已生成空白统计表模板：{out}")
    print(f"表式：{form.title}（版本 {form.version}），共 {len(form.items)} 项")
    return 0


def cmd_sample(args) -> int:
    from . import sample

    inputs = Path(args.inputs) if args.inputs else config.INPUTS_DIR
    truth = sample.generate(inputs, args.year, args.seed, force=args.force)
    print(f"已生成{args.year}年示例数据（随机种子 {args.seed}）：{inputs / str(args.year) / 'submissions'}")
    print(f"共 {len(truth.files)} 个文件，{len(truth.values)} 个单位的统计表")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m wennuan_lib", description="送温暖活动统计表：收集、审核、汇总与书面总结")
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令")

    def common(p, outputs=True, required=True):
        p.add_argument("--year", type=int, required=required, help="年度，例如 2013")
        p.add_argument("--inputs", help="输入目录（默认：项目的 inputs/）")
        if outputs:
            p.add_argument("--outputs", help="输出目录（默认：项目的 outputs/）")

    p = sub.add_parser("run", help="处理一个年度（或全部年度）：读取、审核、反馈、汇总与书面总结")
    common(p, required=False)
    p.add_argument("--all", action="store_true", help="按年份顺序处理 inputs/ 中的全部年度，并生成历年对比")
    p.add_argument("--strict", action="store_true", help="严格模式：有无法读取的文件或未解决的必须修改意见时，退出码为 1")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("verify", help="核对一个年度的输出是否仍与输入一致")
    common(p)
    p.set_defaults(func=cmd_verify)
    p = sub.add_parser("freeze", help="封存已报送的书面总结（以后的运行不会覆盖）")
    common(p)
    p.add_argument("--date", help="报送日期，例如 2013-01-28（默认今天）")
    p.set_defaults(func=cmd_freeze)
    p = sub.add_parser("status", help="查看一个年度的报送情况、审核意见和报告状态")
    common(p)
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("template", help="生成下发给各单位的空白统计表（Excel）")
    common(p, outputs=False)
    p.add_argument("--out", help="输出文件，例如 统计表.xlsx")
    p.set_defaults(func=cmd_template)
    p = sub.add_parser("sample", help="生成示例数据（合成数据，仅供演示和测试）")
    common(p, outputs=False)
    p.add_argument("--seed", type=int, default=2013, help="随机种子（默认 2013）")
    p.add_argument("--force", action="store_true", help="收件箱已有文件时仍然重建（会删除原有文件）")
    p.set_defaults(func=cmd_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, FileExistsError, ValueError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from .freeze import FreezeError
        from .pipeline import PipelineError

        if isinstance(exc, PipelineError | FreezeError):
            print(f"错误：{exc}", file=sys.stderr)
            return 1
        raise
