"""Command line: `wennuan <command> …` (the console command pyproject.toml installs in the environment's bin/;
`python -m wennuan_lib` is the same), messages in Chinese, never a Python traceback."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gc
import re
import signal
import sys
from pathlib import Path

from wennuan_lib import errors
from wennuan_lib.base import catalog, config, dates
from wennuan_lib.base.progress import Console
from wennuan_lib.form import load_form
from wennuan_lib.run import manifest, pipeline
from wennuan_lib.run.kernel import Kernel
from wennuan_lib.run.workspace import Workspace, WorkspaceError


def _workspace(args) -> Workspace:
    if args.inputs and not Path(args.inputs).is_dir():
        raise WorkspaceError(
            f"找不到输入目录：{Path(args.inputs).resolve()}"
            "（--inputs 应指向放着 units.csv 和各年度文件夹的目录）"
        )
    return Workspace(args.inputs, args.outputs if hasattr(args, "outputs") else None)


def _brief(workspace: Workspace, year: int) -> str:
    """After a run that found nothing to do: whether the report is final and where the results are. It reads
    no table (importing pandas alone would double the time of a run that has nothing to do)."""
    scope = workspace.scope(year)
    run = scope.current()
    reasons = run / catalog.dataset("draft_reasons").path if run else None
    if reasons is None or not reasons.exists():
        return f"{year}年：结果在 {scope.root}"
    with open(reasons, encoding="utf-8-sig", newline="") as fh:
        n = sum(1 for _ in csv.reader(fh)) - 1
    state = (
        f"草稿（尚有 {n} 个问题未解决，详见 {workspace.command('status', '--year', year)}）" if n else "定稿"
    )
    return f"{year}年：书面总结为{state}；结果在 {scope.root}"


def cmd_run(args) -> int:
    workspace = _workspace(args)
    console = Console()
    if not args.all and args.year is None:
        print("错误：请用 --year 指定年度，或用 --all 处理全部年度", file=sys.stderr)
        return 2
    if args.all and args.year is not None:
        print("错误：--all 处理全部年度，不能再用 --year 指定年度；二者选一", file=sys.stderr)
        return 2
    for year in [args.year] if args.year is not None else workspace.years():
        workspace.year_config(year)  # a mistake in year.yaml is said before any year (or last year) runs
    with Kernel() as kernel:
        if args.all:
            outcomes = pipeline.run_all(workspace, console, kernel, args.force)
        else:
            console(f"开始处理 {args.year} 年：收件箱 {workspace.raw('inbox', args.year)}")
            outcomes = pipeline.run_year(workspace, args.year, console, kernel, args.force)
    years = [o.scope.key for o in outcomes if o.scope.kind == catalog.YEAR]
    for outcome in outcomes:
        if outcome.scope.kind == catalog.YEAR and outcome.made_new:
            summary = outcome.summary  # said by the run's kernel (pipeline._summary)
            if summary is None:  # no kernel ran, or it could not say: pandas (0.30 s to import) here
                from wennuan_lib.run import report_summary

                summary = report_summary.run_summary(workspace, outcome.scope.key)
            print(summary)
        elif outcome.scope.kind == catalog.YEAR:
            print(_brief(workspace, outcome.scope.key))
    trends = workspace.trends()
    if trends.current() is not None:
        print(f"历年对比：{trends.root}")
    if args.strict:
        from wennuan_lib.run import report_summary

        problems = [p for y in dict.fromkeys(years) for p in report_summary.strict_problems(workspace, y)]
        if problems:
            print("严格模式：以下问题未解决，退出码为 1", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
            return 1
    return 0


def cmd_verify(args) -> int:
    workspace = _workspace(args)
    current, sent = manifest.verify_parts(workspace, workspace.scope(args.year))
    if not current and not sent:
        print(
            f"{args.year}年的输出与输入一致：自上次运行以来，输入文件和输出文件都没有变化，已报送的版本完好。"
        )
        return 0
    if current:
        run = workspace.command("run", "--year", args.year)
        print(f"{args.year}年的输出与输入不一致（运行 {run} 可以更新）：")
        print("\n".join(f"  {line}" for line in current))
    else:
        print(f"{args.year}年的输出与输入一致。")
    if sent:
        print(f"{args.year}年已报送的版本有问题（重新运行不能修复：封存的文件应与当时报送的完全相同）：")
        print("\n".join(f"  {line}" for line in sent))
    from wennuan_lib.run import freeze  # loaded by verify_parts already

    if any(f"：{said}：" in line for line in sent for said in (freeze.FILE_CHANGED, freeze.FILE_GONE)):
        again = workspace.command("freeze", "--year", args.year)
        print(
            "  请用当时实际报送的文件（例如发出的邮件附件）核对：被误改、误删的，把报送的原件复制回原处；"
            f"要报送新的版本，运行 {again} 另行封存（这个版本仍保留，仍会被核对）"
        )
    return 1


def cmd_freeze(args) -> int:
    # pandas (freeze, report_summary: 0.30 s to import): `run` with nothing to do must not wait for it
    from wennuan_lib.run import freeze, report_summary

    workspace = _workspace(args)
    when = None
    if args.date:
        read, _ = dates.parse(args.date)
        if read is None:
            said = f"错误：--date「{args.date}」不是一个日期；请写成 2013-01-28 或 2013年1月28日"
            print(said, file=sys.stderr)
            return 2
        when = dt.date.fromisoformat(read)
    state = freeze.state(workspace.scope(args.year))
    target = freeze.freeze(workspace, args.year, when)
    print(f"已封存{args.year}年报送的版本：{target}")
    print(
        "  封存的文件为只读，并记录了每个文件的校验码（SHA256SUMS）；以后的运行不会覆盖它们，"
        "verify 和 status 会核对它们是否被改动。数据再有变化时，运行结果会说明与封存版本的差异。"
    )
    if state.startswith("草稿"):
        print(f"  注意：封存的是{state}，不是定稿")
    print(report_summary.status_text(workspace, args.year))
    return 0


def cmd_status(args) -> int:
    # pandas: 0.30 s, kept out of the commands that read no table (`run` with nothing to do, catalog)
    from wennuan_lib.run import report_summary

    print(report_summary.status_text(_workspace(args), args.year))
    return 0


def cmd_template(args) -> int:
    from wennuan_lib.publish import (
        template,  # openpyxl and pandas: 0.25 s; only this command writes a workbook
    )

    workspace = Workspace(args.inputs, args.outputs)
    form = load_form(workspace.year_config(args.year).get("form", args.year))
    # by default beside the year's results (outputs/<year>/), never in whatever folder the shell is in
    out = Path(args.out) if args.out else workspace.scope(args.year).root / f"{form.title}.xlsx"
    out.parent.mkdir(parents=True, exist_ok=True)
    template.write(form, out)
    print(f"已生成空白统计表模板：{out}")
    print(f"表式：{form.title}（版本 {form.version}），共 {len(form.items)} 项")
    return 0


def cmd_catalog(args) -> int:
    print(catalog.markdown())
    return 0


def cmd_rules(args) -> int:
    from wennuan_lib import reference  # loads every year's form

    print(reference.rules_markdown())
    return 0


def cmd_docs(args) -> int:
    from wennuan_lib import reference

    if args.check:
        stale = reference.stale()
        for page in stale:
            print(f"{page} 与程序不符：请运行 python -m wennuan_lib docs 重新生成")
        return 1 if stale else 0
    changed = reference.write()
    print("已重新生成：" + "、".join(changed) if changed else "文档中生成的部分都是最新的，没有改动")
    return 0


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


# argparse's own messages, in Chinese (its English ones are the only ones it has)
_ARGPARSE_ERRORS = [
    (r"unrecognized arguments: (.*)", "不认识的参数：{0}（可用的参数见 --help）"),
    (r"argument (\S+): invalid int value: '(.*)'", "参数 {0} 的值「{1}」不是整数"),
    (r"the following arguments are required: (.*)", "缺少必需的参数：{0}"),
    (r"argument \S+: invalid choice: '(.*?)' \(choose from (.*)\)", "没有「{0}」这个命令；可用的命令：{1}"),
    (r"argument (\S+): expected one argument", "参数 {0} 后面要写一个值"),
]


class _Parser(argparse.ArgumentParser):
    """argparse with its headings, help and errors in Chinese."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._optionals.title, self._positionals.title = "选项", "命令"
        self.add_argument("-h", "--help", action="help", help="显示本帮助并退出")

    def error(self, message):
        for pattern, chinese in _ARGPARSE_ERRORS:
            if m := re.fullmatch(pattern, message):
                message = chinese.format(*(g.replace("'", "").replace(", ", "、") for g in m.groups()))
                break
        else:
            message = f"参数有误（{message}）"
        self.print_usage(sys.stderr)
        self.exit(2, f"错误：{message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="wennuan", description="送温暖活动统计表：收集、审核、汇总与书面总结")
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令")

    def common(p, outputs=True, required=True):
        p.add_argument("--year", type=int, required=required, metavar="年度", help="年度，例如 2013")
        p.add_argument("--inputs", metavar="目录", help="输入目录（默认：项目的 inputs/）")
        if outputs:
            p.add_argument("--outputs", metavar="目录", help="输出目录（默认：项目的 outputs/）")

    p = sub.add_parser("run", help="处理一个年度（或全部年度）：读取、审核、反馈、汇总与书面总结")
    common(p, required=False)
    p.add_argument("--all", action="store_true", help="按年份顺序处理 inputs/ 中的全部年度，并生成历年对比")
    p.add_argument("--force", action="store_true", help="全部步骤重新运行（默认只重新运行输入有变化的步骤）")
    p.add_argument(
        "--strict",
        action="store_true",
        help=(
            "严格模式：有无法读取的文件、或书面总结还不是定稿"
            "（未解决的必须修改意见、疑似填错、待补充的段落等）时，退出码为 1"
        ),
    )
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("verify", help="核对一个年度的输出是否仍与输入一致，已报送的版本是否完好")
    common(p)
    p.set_defaults(func=cmd_verify)
    p = sub.add_parser("freeze", help="封存已报送的书面总结（以后的运行不会覆盖）")
    common(p)
    p.add_argument("--date", metavar="日期", help="报送日期，例如 2013-01-28（默认今天）")
    p.set_defaults(func=cmd_freeze)
    p = sub.add_parser("status", help="查看一个年度的报送情况、审核意见和报告状态")
    common(p)
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("template", help="生成下发给各单位的空白统计表（Excel）")
    common(p)
    p.add_argument("--out", metavar="文件", help="输出文件（默认：outputs/<年度>/ 下，以表名为文件名）")
    p.set_defaults(func=cmd_template)
    p = sub.add_parser("catalog", help="列出读取的文件和生成的每一个文件（数据目录）")
    p.set_defaults(func=cmd_catalog)
    p = sub.add_parser("rules", help="列出全部审核规则及其写法（由 policy.yaml 生成）")
    p.set_defaults(func=cmd_rules)
    p = sub.add_parser("docs", help="重新生成文档中由程序生成的部分（审核规则、文件一览、outputs/README.md）")
    p.add_argument(
        "--check", action="store_true", help="只检查，不写入：列出与程序不符的页面，有则退出码为 1"
    )
    p.set_defaults(func=cmd_docs)
    return parser


def _log_folder(args) -> Path | None:
    """Where an unexpected fault's traceback is written: outputs/<year>/logs/ (or outputs/logs/)."""
    try:
        workspace = _workspace(args)
        scope = workspace.scope(args.year) if getattr(args, "year", None) else None
        return scope.folder("logs") if scope else workspace.outputs / catalog.layout().logs
    except Exception:  # noqa: BLE001 - only a place to write a log; never a new failure
        return None


def _outputs_problem(args) -> str | None:
    """Why the outputs folder cannot be one (a file stands where it, or a folder above it, should be), in
    Chinese; None when it can."""
    if not hasattr(args, "outputs"):
        return None
    given = Path(args.outputs) if args.outputs else Path(config.OUTPUTS_DIR)
    flag = "--outputs 指定的" if args.outputs else "输出文件夹"
    for path in (given, *given.parents):
        if path.exists() or path.is_symlink():
            if path.is_dir():
                return None
            which = "它本身" if path == given else f"其中的 {path} "
            return (
                f"{flag} {given} 不能用作输出文件夹：{which}是一个文件，不是文件夹。"
                "请用 --outputs 指定一个文件夹（不存在的会自动创建），"
                "或把这个文件改名、移走后重新运行"
            )
    return None


class _Stopped(KeyboardInterrupt):
    """The command was told to stop by a signal: SIGTERM (kill, a shutdown) or SIGHUP (the terminal window it
    ran in was closed). Unwound as Ctrl-C is — the kernel shut down, the run's temporary folder (its sockets
    and the converted copies of the units' files) removed, the lock let go, the last results kept — instead of
    the process ending where it stood."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _stop(signum, _frame) -> None:
    raise _Stopped(signum)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if problem := _outputs_problem(args):
        print(f"错误：{problem}", file=sys.stderr)
        return 2
    for name in ("SIGTERM", "SIGHUP"):  # SIGHUP: not on Windows
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _stop)
    try:
        return args.func(args)
    except BaseException as exc:  # noqa: BLE001 - the analyst gets a Chinese message, never a traceback
        if isinstance(exc, SystemExit):
            raise
        if isinstance(exc, BrokenPipeError):  # the output was piped into `head` or a pager that closed
            sys.stderr.close()
            return 0
        print(f"错误：{errors.explain(exc, _log_folder(args))}", file=sys.stderr)
        if isinstance(exc, _Stopped):
            return 128 + exc.signum  # as a shell reports a command ended by that signal
        return 130 if isinstance(exc, KeyboardInterrupt) else 1


def command() -> int:
    """The `wennuan` command and `python -m wennuan_lib`: `main`, then the process ends."""
    code = main()
    # what the command made is set aside from garbage collection, which the interpreter runs on its way out
    # over every object left (a run's libraries and tables: 0.15 s → 0.03 s at the end of a run)
    gc.freeze()
    return code
