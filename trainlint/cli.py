"""The `trainlint` command: ruff's flags and conventions where they exist."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from trainlint import __version__
from trainlint.config import ConfigError, Overrides, Resolver, parse_per_file_ignores
from trainlint.diagnostics import Diagnostic, Severity
from trainlint.output import FORMATS, FileReport, render

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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = commands.add_parser("check", help="lint files (the default: the current directory)")
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or directories; - reads stdin")
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
    check.add_argument("--fix", action=argparse.BooleanOptionalAction, default=False, help="apply safe fixes")
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
    check.add_argument("--output-format", choices=FORMATS, default="text")
    check.add_argument("--output-file", "-o", metavar="FILE", help="write the report here instead of standard output")
    check.add_argument("--config", metavar="FILE", help="use this configuration file instead of discovering one")
    check.add_argument(
        "--stdin-filename", metavar="PATH", help="the path of the code read from stdin (for configuration and messages)"
    )
    check.add_argument("--quiet", "-q", action="store_true", help="print findings only, no summary")

    rule = commands.add_parser("rule", help="print a rule's page, or list every rule")
    rule.add_argument("rule", nargs="?", metavar="CODE", help="a code (TL101) or name (learning-rate-too-high)")
    rule.add_argument("--all", action="store_true", help="list every rule")
    rule.add_argument("--output-format", choices=("text", "json"), default="text")

    server = commands.add_parser("server", help="run the language server on stdio")
    server.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "rule":
            return _rule(args)
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
    overrides = _overrides(args)
    _validate_overrides(overrides)
    resolver = Resolver(overrides, Path(args.config) if args.config else None)
    if args.show_settings:
        return _show_settings(resolver, Path(args.show_settings))
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError("--jobs must be at least 1")
    mode = "diff" if args.diff else "fix" if args.fix else "lint"
    if "-" in args.paths:
        return _check_stdin(args, resolver, mode)

    from trainlint.cache import Cache
    from trainlint.files import discover
    from trainlint.runner import Options, default_jobs, run

    cache = None
    if not args.no_cache:
        cache_dir = Path(args.cache_dir) if args.cache_dir else resolver.config_for(Path.cwd()).root / ".trainlint_cache"
        cache = Cache(cache_dir)
    options = Options(mode=mode, unsafe=args.unsafe_fixes, jobs=args.jobs or default_jobs(), cache=cache)
    items = list(discover(args.paths, resolver, force_exclude=bool(args.force_exclude)))
    results = run(items, resolver, options)
    return _report(args, results, mode)


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
    else:
        from trainlint.engine import lint_bytes
        from trainlint.fixes import fix_text
        from trainlint.source import DecodeError, decode

        try:
            decoded = decode(data)
        except DecodeError:
            lint = lint_bytes(data, display, settings)
            result = FileResult(display, lint.diagnostics, None, lint.internal_errors)
            decoded = None
        if decoded is not None:
            outcome = fix_text(decoded.text, display, settings, args.unsafe_fixes)
            result = FileResult(
                display, outcome.remaining, outcome.text, outcome.internal_errors, len(outcome.applied), error=outcome.error
            )
            if mode == "fix":
                # ruff's convention: the fixed code on stdout, the report on stderr.
                sys.stdout.buffer.write(outcome.text.encode(decoded.encoding))
                sys.stdout.flush()
                return _report(args, [result], mode, stream=sys.stderr)
            import difflib

            result.diff = "".join(
                difflib.unified_diff(decoded.text.splitlines(True), outcome.text.splitlines(True), display, display)
            )
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

    diagnostics = [(r, d) for r in results for d in r.diagnostics]
    if args.output_format == "text":
        text = _render_text(args, results, diagnostics, mode)
    else:
        reports = [
            FileReport(r.display, r.diagnostics, _source_of(r) if args.output_format == "sarif" else None) for r in results
        ]
        text = render(args.output_format, reports)
    if args.output_file:
        Path(args.output_file).write_text(text, encoding="utf-8")
    else:
        out.write(text)
    if internal or errors:
        return EXIT_ERROR
    if diagnostics and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _source_of(result: FileResult) -> str | None:
    if result.source is not None:
        return result.source
    from trainlint.source import DecodeError, decode

    try:
        return decode(Path(result.display).read_bytes()).text
    except (OSError, DecodeError):
        return None


def _render_text(
    args: argparse.Namespace, results: list[FileResult], diagnostics: list[tuple[FileResult, Diagnostic]], mode: str
) -> str:
    from trainlint.fixes import is_applicable

    lines = []
    if args.statistics:
        counts = Counter(d.code for _, d in diagnostics)
        fixable = {d.code for _, d in diagnostics if is_applicable(d, args.unsafe_fixes)}
        names = {d.code: d.name for _, d in diagnostics}
        width = max((len(str(n)) for n in counts.values()), default=1)
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            mark = "[*] " if code in fixable else "    "
            lines.append(f"{count:>{width}}\t{code}\t{mark}{names[code]}")
    else:
        for result, d in diagnostics:
            mark = "[*] " if is_applicable(d, args.unsafe_fixes) else ""
            lines.append(f"{result.display}:{d.span.line}:{d.span.column + 1}: {d.code} {mark}{d.message}")
    if not args.quiet:
        lines.append(_summary(args, results, diagnostics, mode))
    return "".join(line + "\n" for line in lines)


def _summary(
    args: argparse.Namespace, results: list[FileResult], diagnostics: list[tuple[FileResult, Diagnostic]], mode: str
) -> str:
    from trainlint.fixes import is_applicable

    fixed = sum(r.fixed for r in results)
    total = len(diagnostics)
    if not total:
        if fixed:
            return f"Found {fixed} finding{'s' * (fixed != 1)} ({fixed} fixed, 0 remaining)."
        return "All checks passed!"
    by_severity = Counter(d.severity for _, d in diagnostics)
    parts = ", ".join(
        f"{by_severity[s]} {s.value}{'s' * (by_severity[s] != 1 and s is not Severity.INFO)}" for s in Severity if by_severity[s]
    )
    text = f"Found {total + fixed} finding{'s' * (total + fixed != 1)}"
    text += f" ({fixed} fixed, {total} remaining: {parts})." if fixed else f" ({parts})."
    safe = sum(1 for _, d in diagnostics if is_applicable(d, False))
    unsafe = sum(1 for _, d in diagnostics if d.fix is not None) - safe
    if mode == "lint" and safe:
        text += f"\n[*] {safe} fixable with the `--fix` option."
    if unsafe and not args.unsafe_fixes:
        text += f"\n{unsafe} hidden fix{'es' * (unsafe != 1)} can be enabled with the `--unsafe-fixes` option."
    elif unsafe and mode == "lint":
        text += f"\n[*] {unsafe} more fixable with `--fix --unsafe-fixes`."
    return text


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
                print(f"{r.code}  {fix}  {name:<48} {page.summary if page else ''}")
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
