"""The `trainlint` command: ruff's flags and conventions where they exist."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from trainlint import __version__
from trainlint.config import ConfigError, Overrides, Resolver, parse_per_file_ignores
from trainlint.output import ALIASES, FORMATS, HUMAN, NEEDS_SOURCE, FileReport, render
from trainlint.output import Options as OutputOptions
from trainlint.output.summary import statistics, summary

if TYPE_CHECKING:
    from trainlint.pages import RulePage
    from trainlint.registry import Rule
    from trainlint.runner import FileResult

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # usage errors exit 2, like ruff
        self.print_usage(sys.stderr)
        print(f"trainlint: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_ERROR)


def _selectors(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="trainlint", description="A linter for PyTorch training code.")
    parser.add_argument("--version", action="version", version=f"trainlint {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser, help="check, explain, rule or server"
    )

    check = commands.add_parser("check", help="lint files (the default: the current directory)")
    check.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or directories (default: the current directory); - reads standard input"
    )
    check.add_argument(
        "--select",
        action="append",
        metavar="RULES",
        help="rules to enable (codes, prefixes, names or ALL), replacing the configuration's",
    )
    check.add_argument("--extend-select", action="append", metavar="RULES", help="rules to enable in addition")
    check.add_argument("--ignore", action="append", metavar="RULES", help="rules to disable")
    check.add_argument("--per-file-ignores", action="append", metavar="GLOB:RULES", help="rules to disable in matching files")
    check.add_argument("--exclude", action="append", metavar="GLOBS", help="paths to skip, replacing the defaults")
    check.add_argument("--extend-exclude", action="append", metavar="GLOBS", help="paths to skip in addition to the defaults")
    check.add_argument(
        "--force-exclude",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="apply excludes to files named on the command line too",
    )
    check.add_argument(
        "--respect-gitignore",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="skip files .gitignore lists (default: on)",
    )
    check.add_argument(
        "--fix", action=argparse.BooleanOptionalAction, default=False, help="apply safe fixes (--no-fix: report only)"
    )
    check.add_argument("--unsafe-fixes", action="store_true", help="also apply fixes that change behaviour (hyperparameters)")
    check.add_argument("--diff", action="store_true", help="print the fixes as a unified diff and write nothing")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--statistics", action="store_true", help="print counts per rule instead of each finding")
    check.add_argument("--show-settings", metavar="PATH", help="print the settings PATH is linted with, and exit")
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    check.add_argument(
        "--cache-dir", metavar="DIR", help="where to cache results (default: .trainlint_cache in the project root)"
    )
    check.add_argument("--jobs", "-j", type=int, metavar="N", help="parallel processes (default: the number of CPUs)")
    check.add_argument(
        "--output-format",
        choices=(*FORMATS, *ALIASES),
        default="full",
        metavar="FORMAT",
        help="how to print the findings: full (default: each with its source lines; `text` is an alias), "
        "concise (one line each), grouped (by file), json, json-lines, junit, github (workflow annotations), "
        "gitlab (Code Quality), pylint, sarif",
    )
    check.add_argument("--output-file", "-o", metavar="FILE", help="write the report here instead of standard output")
    check.add_argument(
        "--no-color",
        action="store_true",
        help="no colours (the default on a terminal; never when piped, or with NO_COLOR set; FORCE_COLOR forces them)",
    )
    check.add_argument("--watch", action="store_true", help="lint again whenever a linted file or a configuration file changes")
    check.add_argument("--config", metavar="FILE", help="use this configuration file instead of discovering one")
    check.add_argument(
        "--stdin-filename",
        metavar="PATH",
        help="read the code from standard input and lint it as PATH (for configuration and messages)",
    )
    check.add_argument("--quiet", "-q", action="store_true", help="print findings only, no summary")

    rule = commands.add_parser("rule", help="print a rule's page, or list every rule")
    rule.add_argument("rule", nargs="?", metavar="CODE", help="a code (TL101) or name (learning-rate-too-high)")
    rule.add_argument("--all", action="store_true", help="list every rule: code, fix marker, severity, name and summary")
    rule.add_argument(
        "--output-format", choices=("text", "json"), default="text", help="text (default: Markdown) or json (for tools)"
    )

    explain = commands.add_parser(
        "explain", help='what trainlint sees in one training script: the "why won\'t my loss go down" checklist'
    )
    explain.add_argument("path", metavar="PATH", help="a Python script or a Jupyter notebook")
    explain.add_argument(
        "--output-format",
        choices=("text", "markdown", "json", "html"),
        default="text",
        help="text (default: for a terminal, with the learning-rate curve plotted), markdown, json, "
        "or html (one file, the curves as SVG)",
    )
    explain.add_argument("--output-file", "-o", metavar="FILE", help="write the report here instead of standard output")
    explain.add_argument("--no-color", action="store_true", help="no colours (also when piped, or with NO_COLOR set)")

    server = commands.add_parser("server", help="run the language server on stdio")
    server.add_argument(
        "--log-level",
        default="warning",
        choices=("debug", "info", "warning", "error"),
        help="what the server logs on stderr (default: warning)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "rule":
            return _rule(args)
        if args.command == "explain":
            return _explain(args)
        if args.command == "server":
            from trainlint.server import serve

            return serve(args.log_level)
    except ConfigError as exc:
        print(f"trainlint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_CLEAN
    except Exception as exc:  # noqa: BLE001 - a crash must still exit 2 with something useful
        import traceback

        traceback.print_exc()
        print(f"trainlint: error: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    parser.print_help(sys.stderr)
    return EXIT_ERROR


# -- explain ----------------------------------------------------------------------------------


def _explain(args: argparse.Namespace) -> int:
    from trainlint.explain import explain_path
    from trainlint.output.explain import render

    if not Path(args.path).is_file():
        print(f"trainlint: error: {args.path}: no such file", file=sys.stderr)
        return EXIT_ERROR
    report = explain_path(args.path)
    out = render(report, args.output_format, _use_color(args, sys.stdout))
    if args.output_file:
        from trainlint.cache import write_atomic

        write_atomic(Path(args.output_file), out.encode("utf-8"))
    else:
        sys.stdout.write(out)
    return EXIT_CLEAN


# -- check ------------------------------------------------------------------------------------


def _overrides(args: argparse.Namespace) -> Overrides:
    try:
        return Overrides(
            select=_selectors(args.select),
            extend_select=_selectors(args.extend_select) or [],
            ignore=_selectors(args.ignore) or [],
            per_file_ignores=parse_per_file_ignores(args.per_file_ignores or []),
            exclude=_selectors(args.exclude),
            extend_exclude=_selectors(args.extend_exclude) or [],
            force_exclude=args.force_exclude,
            respect_gitignore=args.respect_gitignore,
        )
    except ConfigError:
        raise
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _validate_overrides(overrides: Overrides) -> None:
    from trainlint.config import _check_selectors

    for flag, values in (
        ("--select", overrides.select or []),
        ("--extend-select", overrides.extend_select),
        ("--ignore", overrides.ignore),
    ):
        _check_selectors(values, flag)


def _check(args: argparse.Namespace) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError("--jobs must be at least 1")
    if args.watch and not args.show_settings:
        if _reads_stdin(args):
            raise ConfigError("--watch cannot watch standard input")
        return _watch(args)
    return _check_once(args)


def _reads_stdin(args: argparse.Namespace) -> bool:
    """`-` among the paths, or --stdin-filename alone (as in ruff)."""
    return args.stdin_filename is not None or "-" in (args.paths or [])


def _check_once(args: argparse.Namespace) -> int:
    overrides = _overrides(args)
    _validate_overrides(overrides)
    resolver = Resolver(overrides, Path(args.config) if args.config else None)
    if args.show_settings:
        return _show_settings(resolver, Path(args.show_settings))
    mode = "diff" if args.diff else "fix" if args.fix else "lint"
    if _reads_stdin(args):
        for path in args.paths or []:
            if path != "-":
                print(f"trainlint: warning: ignoring {path}: the code is read from standard input", file=sys.stderr)
        return _check_stdin(args, resolver, mode)

    from trainlint.cache import Cache
    from trainlint.files import discover
    from trainlint.runner import Options, default_jobs, run

    cache = None
    if not args.no_cache:
        cache_dir = Path(args.cache_dir) if args.cache_dir else resolver.config_for(Path.cwd()).root / ".trainlint_cache"
        cache = Cache(cache_dir)
    options = Options(mode=mode, unsafe=args.unsafe_fixes, jobs=args.jobs or default_jobs(), cache=cache)
    items = list(discover(args.paths or ["."], resolver, force_exclude=bool(args.force_exclude)))
    results = run(items, resolver, options)
    return _report(args, results, mode)


def _watch(args: argparse.Namespace) -> int:
    from trainlint.watch import clear_screen, watch

    def once() -> None:
        try:
            _check_once(args)
        except ConfigError as exc:  # reported, and watched until it is fixed
            print(f"trainlint: error: {exc}", file=sys.stderr)

    return watch(once, lambda: _watched_files(args), sys.stderr, clear_screen(sys.stdout))


def _watched_files(args: argparse.Namespace) -> list[Path]:
    """The files a run lints, and every configuration file that could apply to them (existing or not)."""
    from trainlint.config import CONFIG_NAMES
    from trainlint.files import discover

    paths = args.paths or ["."]
    files: list[Path] = []
    try:
        resolver = Resolver(_overrides(args), Path(args.config) if args.config else None)
        files = [item.path for item in discover(paths, resolver, force_exclude=bool(args.force_exclude))]
    except ConfigError:
        pass  # the run reports it; the configuration files below are watched all the same
    folders = {Path(os.path.abspath(p)) for p in paths if os.path.isdir(p)} | {Path(os.path.abspath(p)).parent for p in paths}
    folders |= {f.parent for f in files}
    folders |= {parent for folder in list(folders) for parent in folder.parents}
    configs = [folder / name for folder in sorted(folders) for name in CONFIG_NAMES]
    return files + configs + ([Path(args.config)] if args.config else [])


def _check_stdin(args: argparse.Namespace, resolver: Resolver, mode: str) -> int:
    from trainlint.runner import FileResult, Job, Options, run_job

    display = args.stdin_filename or "-"
    path = Path(args.stdin_filename) if args.stdin_filename else Path.cwd() / "-"
    data = sys.stdin.buffer.read()
    settings = resolver.settings_for(path)
    if args.stdin_filename and (args.force_exclude or resolver.config_for(path).force_exclude):
        from trainlint.files import discover

        if not list(discover([args.stdin_filename], resolver, force_exclude=True)) and Path(args.stdin_filename).exists():
            if mode == "fix":
                sys.stdout.buffer.write(data)
            return EXIT_CLEAN
    job = Job(path, display, data, settings, None)
    if mode == "lint":
        result = run_job(job, Options(mode="lint"))
        result.data = data  # the lines quoted are those read, not the file on disk
    else:
        from trainlint.engine import lint_bytes
        from trainlint.runner import diff, fix_document
        from trainlint.source import DecodeError, decode

        try:
            decoded = decode(data)
        except DecodeError:
            lint = lint_bytes(data, display, settings)
            result = FileResult(display, lint.diagnostics, None, lint.internal_errors)
            decoded = None
        if decoded is not None:
            outcome = fix_document(decoded.text, display, settings, args.unsafe_fixes)
            result = FileResult(
                display, outcome.remaining, outcome.text, outcome.internal_errors, len(outcome.applied), error=outcome.error
            )
            if mode == "fix":
                # ruff's convention: the fixed code on stdout, the report on stderr.
                sys.stdout.buffer.write(outcome.text.encode(decoded.encoding))
                sys.stdout.flush()
                return _report(args, [result], mode, stream=sys.stderr)
            result.diff = diff(decoded.text, outcome.text, display)
    return _report(args, [result], mode)


def _show_settings(resolver: Resolver, path: Path) -> int:
    config = resolver.config_for(path.resolve())
    settings = resolver.settings_for(path.resolve())
    data = {
        "path": str(path),
        "config_file": str(config.path) if config.path else None,
        "project_root": str(config.root),
        "enabled": sorted(settings.enabled),
        "severity": {code: s.value for code, s in sorted(settings.severities.items())},
        "exclude": resolver.overrides.exclude if resolver.overrides.exclude is not None else config.excludes,
        "extend_exclude": resolver.overrides.extend_exclude,
        "include": config.includes,
        "respect_gitignore": config.respect_gitignore
        if resolver.overrides.respect_gitignore is None
        else resolver.overrides.respect_gitignore,
        "rule_options": {code: dataclasses.asdict(o) for code, o in sorted(settings.rule_options.items())},
    }
    print(json.dumps(data, indent=2))
    return EXIT_CLEAN


def _report(args: argparse.Namespace, results: list[FileResult], mode: str, stream: TextIO | None = None) -> int:
    out = stream or sys.stdout
    internal = sum(r.internal_errors for r in results) + sum(1 for r in results for d in r.diagnostics if d.code == "TL002")
    errors = [r.error for r in results if r.error]
    for error in errors:
        print(f"trainlint: error: {error}", file=sys.stderr)
    if mode == "diff":
        diffs = "".join(r.diff for r in results)
        out.write(diffs)
        fixes = sum(r.fixed for r in results)
        if not args.quiet:
            print(f"Would fix {fixes} finding{'s' * (fixes != 1)}." if diffs else "No fixes available.", file=sys.stderr)
        if internal or errors:
            return EXIT_ERROR
        return EXIT_FINDINGS if diffs else EXIT_CLEAN

    fmt = ALIASES.get(args.output_format, args.output_format)
    diagnostics = [d for r in results for d in r.diagnostics]
    if fmt in HUMAN and args.statistics:
        text = statistics(diagnostics, args.unsafe_fixes)
    else:
        reports = [_file_report(r, fmt) for r in results]
        text = render(fmt, reports, OutputOptions(color=_use_color(args, out), unsafe_fixes=args.unsafe_fixes))
    if fmt in HUMAN and not args.quiet:
        text += summary(diagnostics, sum(r.fixed for r in results), mode, args.unsafe_fixes)
    if args.output_file:
        Path(args.output_file).write_text(text, encoding="utf-8")
    else:
        out.write(text)
        out.flush()
    if internal or errors:
        return EXIT_ERROR
    if diagnostics and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _use_color(args: argparse.Namespace, stream: TextIO) -> bool:
    """Colour on a terminal; never in a file, with --no-color or NO_COLOR; FORCE_COLOR for a CI log."""
    if args.output_file or args.no_color or os.environ.get("NO_COLOR"):
        return False
    return os.environ.get("FORCE_COLOR", "") not in ("", "0") or stream.isatty()


def _file_report(result: FileResult, fmt: str) -> FileReport:
    """What the output formats need of a file: its text for the formats that quote it, and for a
    notebook always (its cells are where its findings are shown)."""
    from trainlint.ipynb import NotebookError, is_notebook, read

    if not result.diagnostics:
        return FileReport(result.display, result.diagnostics)
    if not is_notebook(result.display):
        return FileReport(result.display, result.diagnostics, _source_of(result) if fmt in NEEDS_SOURCE else None)
    text = _source_of(result)
    try:
        notebook = read(text) if text is not None else None
    except NotebookError:
        notebook = None  # its TL001 is in its own text
    if notebook is None:
        return FileReport(result.display, result.diagnostics, text)
    return FileReport(result.display, result.diagnostics, notebook.script.source, notebook)


def _source_of(result: FileResult) -> str | None:
    """The text the result's positions refer to: kept by the run, or read again."""
    from trainlint.source import DecodeError, decode

    if result.source is not None:
        return result.source
    try:
        return decode(result.data if result.data is not None else Path(result.display).read_bytes()).text
    except (OSError, DecodeError):
        return None


# -- rule -------------------------------------------------------------------------------------------


def _rule(args: argparse.Namespace) -> int:
    from trainlint.pages import get_page
    from trainlint.registry import all_rules, find_rule

    if args.all or not args.rule:
        rules = all_rules()
        if args.output_format == "json":
            data = [_rule_json(r, get_page(r.code)) for r in rules]
            print(json.dumps(data, indent=2))
        else:
            for r in rules:
                page = get_page(r.code)
                fix = {"safe": "[*]", "unsafe": "[!]", "none": "   "}[r.fix.value]
                name = r.name if r.default else f"{r.name} (opt-in)"
                print(f"{r.code}  {fix}  {r.severity.value:<7}  {name:<48} {page.summary if page else ''}")
            print(
                "\n[*] a safe fix: `check --fix` applies it.  [!] an unsafe fix (it changes a hyperparameter): "
                "`check --fix --unsafe-fixes`.\n(opt-in): off unless `ALL`, a prefix or its code selects it. "
                "Severities are the defaults ([tool.trainlint.severity] changes them); "
                "`trainlint rule CODE` prints a rule's page."
            )
        return EXIT_CLEAN
    rule = find_rule(args.rule)
    if rule is None:
        print(f"trainlint: error: no rule {args.rule!r}; `trainlint rule --all` lists them", file=sys.stderr)
        return EXIT_ERROR
    page = get_page(rule.code)
    if args.output_format == "json":
        print(json.dumps(_rule_json(rule, page), indent=2))
    else:
        print(page.text if page else f"{rule.code} {rule.name}")
    return EXIT_CLEAN


def _rule_json(rule: type[Rule], page: RulePage | None) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "summary": page.summary if page else "",
        "severity": rule.severity.value,
        "fix": rule.fix.value,
        "default": rule.default,
        "url": page.url if page else None,
        "explanation": page.text if page else "",
    }
