"""Command line: python -m wennuan_lib <command> …  (messages in Chinese)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import config


def _paths(args) -> config.YearPaths:
    return config.year_paths(args.year, args.inputs, args.outputs)


def cmd_run(args) -> int:
    from . import pipeline, report_summary

    paths = _paths(args)
    print(f"开始处理 {paths.year} 年：收件箱 {paths.inbox}")
    pipeline.run_year(paths)
    print(report_summary.run_summary(paths))
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

    def common(p, outputs=True):
        p.add_argument("--year", type=int, required=True, help="年度，例如 2013")
        p.add_argument("--inputs", help="输入目录（默认：项目的 inputs/）")
        if outputs:
            p.add_argument("--outputs", help="输出目录（默认：项目的 outputs/）")

    p = sub.add_parser("run", help="处理一个年度：读取收件箱并生成数据与笔记本")
    common(p)
    p.set_defaults(func=cmd_run)
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
        from .pipeline import PipelineError

        if isinstance(exc, PipelineError):
            print(f"错误：{exc}", file=sys.stderr)
            return 1
        raise
