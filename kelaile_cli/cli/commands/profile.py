"""``klx detect`` and ``klx profile list|show|lint|schema|test|new``."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kelaile_cli.cli.base import (
    EncodingOpt,
    FilesArg,
    PrinterOpt,
    ProfilesOpt,
    app,
    decode_options,
    err,
    load_sources,
    out,
    say_error,
)
from kelaile_cli.cli.errors import ExitCode
from kelaile_cli.core.profiles.detect import DEFAULT_THRESHOLD, Detector
from kelaile_cli.core.profiles.profile import profile_schema
from kelaile_cli.services import jobs
from kelaile_cli.services.profiles.library import load_profiles

profile_app = typer.Typer(help="List, show, lint and describe POS profiles.", no_args_is_help=True)
app.add_typer(profile_app, name="profile")


@app.command()
def detect(
    files: FilesArg = None,
    profiles: ProfilesOpt = None,
    threshold: Annotated[float, typer.Option("--threshold", help="Confidence under which the answer is unknown.")] = (
        DEFAULT_THRESHOLD
    ),
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
    encoding: EncodingOpt = None,
    printer: PrinterOpt = "default",
) -> None:
    """Which POS printed these jobs? Ranked profiles per file (the first receipt that decides wins)."""
    loaded = load_profiles(profiles or [])
    for error in loaded.errors:
        say_error(error)
    detector = Detector(loaded.profiles, threshold)
    sources, code = load_sources(files)
    options = decode_options(encoding, printer, None, None)
    for source in sources:
        ranked: list = []
        for receipt in jobs.iter_receipts(source, options):  # stops decoding at the deciding receipt
            ranked = detector.rank(receipt)
            if ranked:
                break
        winner = detector.pick(ranked)
        best = winner.id if winner else None
        if as_json:
            record = {"source": source.name, "profile": best,
                      "candidates": [{"id": c.id, "confidence": c.confidence} for c in ranked]}  # fmt: skip
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            shown = ", ".join(f"{c.id} {c.confidence:.2f}" for c in ranked[:3]) or "no candidate"
            out.print(f"{escape(source.name)}: [bold]{escape(best or 'unknown')}[/] ({escape(shown)})")
    raise typer.Exit(code)


@profile_app.command("list")
def list_(profiles: ProfilesOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every profile found, with where it comes from."""
    loaded = load_profiles(profiles or [])
    rows = [{"id": p.id, "name": p.name, "vendor": p.vendor, "width": p.printer.width,
             "encoding": p.printer.encoding, "file": str(loaded.files[p.id])} for p in loaded.profiles]  # fmt: skip
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
    else:
        table = Table("id", "name", "vendor", "paper", "encoding", "file", box=None)
        for r in rows:
            table.add_row(*(escape(str(r[k])) for k in ("id", "name", "vendor", "width", "encoding", "file")))
        out.print(table)
    for error in loaded.errors:
        say_error(error)
    raise typer.Exit(ExitCode.USAGE if loaded.errors else ExitCode.OK)


@profile_app.command()
def show(profile_id: Annotated[str, typer.Argument(help="Profile id.")], profiles: ProfilesOpt = None) -> None:
    """Print one profile as it was loaded (validated, defaults filled in)."""
    loaded = load_profiles(profiles or [])
    profile = loaded.get(profile_id)
    sys.stdout.write(
        json.dumps(profile.model_dump(mode="json", exclude_none=True), ensure_ascii=False, indent=2) + "\n"
    )


@profile_app.command()
def lint(
    paths: Annotated[list[Path] | None, typer.Argument(help="Profile files (default: every profile found).")] = None,
    profiles: ProfilesOpt = None,
) -> None:
    """Validate profiles; each problem is one line naming file:line and key. Exit 2 if any."""
    from kelaile_cli.core.profiles.profile import ProfileError, parse_profile

    problems: list[ProfileError] = []
    checked = 0
    if paths:
        for path in paths:
            checked += 1
            try:
                parse_profile(path.read_text(encoding="utf-8"), str(path))
            except ProfileError as exc:
                problems.append(exc)
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(ProfileError(f"{path}: cannot read ({exc})"))
    else:
        loaded = load_profiles(profiles or [])
        checked, problems = len(loaded.profiles) + len(loaded.errors), loaded.errors
        for note in loaded.overridden:
            err.print(f"[dim]note: {escape(note)}[/]")
    for problem in problems:
        say_error(problem)
    out.print(f"{checked} profiles checked, {len(problems)} with problems")
    raise typer.Exit(ExitCode.USAGE if problems else ExitCode.OK)


@profile_app.command()
def schema() -> None:
    """The JSON Schema of profile files (point your editor's YAML plugin at it)."""
    sys.stdout.write(json.dumps(profile_schema(), ensure_ascii=False, indent=2) + "\n")


@profile_app.command("test")
def test_(
    profile_id: Annotated[str | None, typer.Argument(help="Only this profile (default: all).")] = None,
    recordings: Annotated[
        Path, typer.Option("--recordings", help="Folder with <profile>/*.klr and *.expected.json.")
    ] = Path("recordings"),
    profiles: ProfilesOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Every field result as JSON.")] = False,
) -> None:
    """Run profiles over their labelled recordings: a pass/fail line per field; exit 1 on any failure."""
    from kelaile_cli.services.profiles.testing import run_profile_tests

    results = run_profile_tests(load_profiles(profiles or []), recordings, profile_id)
    failed = [r for r in results if not r.ok]
    if as_json:
        rows = [{"profile": r.profile, "recording": r.recording, "receipt": r.receipt, "field": r.field,
                 "expected": r.expected, "actual": r.actual, "ok": r.ok} for r in results]  # fmt: skip
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
    else:
        table = Table("profile", "recording", "#", "field", "expected", "actual", "", box=None)
        for r in failed or results[:0]:
            table.add_row(r.profile, r.recording, str(r.receipt + 1), escape(r.field), escape(str(r.expected)),
                          escape(str(r.actual)), "[red]✗[/]")  # fmt: skip
        if failed:
            out.print(table)
        per_profile: dict[str, list[int]] = {}
        for r in results:
            per_profile.setdefault(r.profile, [0, 0])[0 if r.ok else 1] += 1
        summary = Table("profile", "fields passed", "failed", box=None)
        for pid, (ok, bad) in per_profile.items():
            summary.add_row(pid, str(ok), f"[red]{bad}[/]" if bad else "0")
        out.print(summary)
    raise typer.Exit(ExitCode.FAILURE if failed else ExitCode.OK)


@profile_app.command("new")
def new(
    sources: Annotated[
        list[Path] | None, typer.Option("--from", help="Recordings or print jobs of the unknown POS.")
    ] = None,
    more: Annotated[list[Path] | None, typer.Argument(help="More recordings: --from a.bin b.bin c.bin works.")] = None,
    profile_id: Annotated[str, typer.Option("--id", help="Id of the new profile, e.g. 'newpos'.")] = "",
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for <id>.yaml and <id>/ samples.")] = Path("profiles"),
    name: Annotated[str | None, typer.Option("--name", help="Program name (default: the id).")] = None,
    vendor: Annotated[str | None, typer.Option("--vendor", help="Who makes the program.")] = None,
    recordings: Annotated[
        Path | None, typer.Option("--recordings", help="Labelled recordings the draft must not claim.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing <id>.yaml.")] = False,
    profiles: ProfilesOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="The report as one JSON object.")] = False,
) -> None:
    """Draft a profile from a few recordings of an unknown POS: signatures, habits, kinds, field rules.

    Checked before it is written: it must recognise its samples and claim no other profile's receipts (else exit 1).
    """
    from kelaile_cli.services.profiles.drafting import default_recordings_dir, draft_profile

    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,62}", profile_id):
        raise typer.BadParameter("lower-case letters, digits and '-', 2–63 characters", param_hint="--id")
    sources = [*(sources or []), *(more or [])]
    loaded = load_profiles(profiles or [])
    report = draft_profile(
        sources, profile_id, out_dir, loaded, name=name, vendor=vendor,
        recordings=recordings or default_recordings_dir(), force=force,
    )  # fmt: skip
    if as_json:
        doc = {"profile": profile_id, "file": str(report.profile_file), "ok": report.ok,
               "samples": report.samples, "samples_detected": report.samples_detected,
               "others_checked": report.others_checked, "others_claimed": report.others_claimed,
               "notes": report.draft.notes, "written": [str(p) for p in report.written]}  # fmt: skip
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    else:
        for note in report.draft.notes:
            out.print(f"[dim]•[/] {escape(note)}")
        mark = "[green]✓[/]" if report.samples_detected == report.samples else "[red]✗[/]"
        out.print(f"{mark} recognises {report.samples_detected}/{report.samples} of its sample receipts")
        mark = "[green]✓[/]" if not report.others_claimed else "[red]✗[/]"
        out.print(f"{mark} claims {len(report.others_claimed)} of {report.others_checked} other profiles' receipts"
                  + (f": {escape(', '.join(report.others_claimed[:5]))}" if report.others_claimed else ""))  # fmt: skip
        out.print(f"wrote {escape(str(report.profile_file))} and {len(report.written) - 1} sample files; "
                  f"try: KLX_PROFILES_PATH={escape(str(out_dir))} klx detect FILE")  # fmt: skip
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.FAILURE)
