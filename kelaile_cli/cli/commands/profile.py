"""``klx detect`` and ``klx profile list|show|lint|schema|test|accept|new``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Column, Table

from kelaile_cli.cli.console import emit_json, err, escape, out, say_error
from kelaile_cli.cli.errors import ExitCode
from kelaile_cli.cli.options import (
    EncodingOpt,
    FilesArg,
    ModelOpt,
    PrinterAliasOpt,
    ProfilesOpt,
    decode_options,
    load_sources,
)
from kelaile_cli.core.profiles.detect import DEFAULT_THRESHOLD, Detector
from kelaile_cli.core.profiles.profile import profile_schema
from kelaile_cli.services import jobs
from kelaile_cli.services.profiles.library import load_profiles

if TYPE_CHECKING:  # the CLI imports services lazily, inside the commands
    from kelaile_cli.services.profiles.drafting import DraftReport
    from kelaile_cli.services.profiles.interactive import Session

app = typer.Typer(rich_markup_mode="rich", add_completion=False)
profile_app = typer.Typer(
    add_completion=False, help="List, show, lint and describe POS profiles.", no_args_is_help=True
)


@app.command()
def detect(
    files: FilesArg = None,
    profiles: ProfilesOpt = None,
    threshold: Annotated[float, typer.Option("--threshold", help="Confidence under which the answer is unknown.")] = (
        DEFAULT_THRESHOLD
    ),
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
    encoding: EncodingOpt = None,
    model: ModelOpt = "default",
    printer: PrinterAliasOpt = None,
) -> None:
    """Which POS printed these jobs? Ranked profiles per file (the first receipt that decides wins)."""
    loaded = load_profiles(profiles or [])
    for error in loaded.errors:
        say_error(str(error))
    detector = Detector(loaded.profiles, threshold)
    sources, code = load_sources(files)
    options = decode_options(encoding, model, None, None, printer)
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
            emit_json(record)
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
        emit_json(rows)
    else:
        table = Table("id", "name", "vendor", "paper", "encoding", "file", box=None)
        for r in rows:
            table.add_row(*(escape(str(r[k])) for k in ("id", "name", "vendor", "width", "encoding", "file")))
        out.print(table)
    for error in loaded.errors:
        say_error(str(error))
    raise typer.Exit(ExitCode.USAGE if loaded.errors else ExitCode.OK)


@profile_app.command()
def show(profile_id: Annotated[str, typer.Argument(help="Profile id.")], profiles: ProfilesOpt = None) -> None:
    """Print one profile as it was loaded (validated, defaults filled in)."""
    loaded = load_profiles(profiles or [])
    profile = loaded.get(profile_id)
    emit_json(profile.to_dict())


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
        say_error(str(problem))
    out.print(f"{checked} profiles checked, {len(problems)} with problems")
    raise typer.Exit(ExitCode.USAGE if problems else ExitCode.OK)


@profile_app.command()
def schema() -> None:
    """The JSON Schema of profile files (point your editor's YAML plugin at it)."""
    emit_json(profile_schema())


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
    from kelaile_cli.services.profiles.testing import run_profile_tests, untested_profiles

    loaded = load_profiles(profiles or [])
    results = run_profile_tests(loaded, recordings, profile_id)
    untested = untested_profiles(loaded, recordings, profile_id)
    failed = [r for r in results if not r.ok]
    for pid in untested:
        err.print(f"[yellow]not checked:[/] {escape(pid)} (no labelled recordings in {escape(str(recordings / pid))})")
    if not results:
        err.print(
            f"[red]nothing checked:[/] no labelled recordings under {escape(str(recordings))}; "
            "pass --recordings DIR (klx profile new writes <id>/*.klr + *.expected.json)"
        )
        raise typer.Exit(ExitCode.FAILURE)
    if as_json:
        rows = [{"profile": r.profile, "recording": r.recording, "receipt": r.receipt, "field": r.field,
                 "expected": r.expected, "actual": r.actual, "ok": r.ok} for r in results]  # fmt: skip
        emit_json(rows)
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


@profile_app.command("accept")
def accept(
    profile_id: Annotated[str, typer.Argument(help="Profile whose expected files to renew.")],
    recordings: Annotated[
        Path, typer.Option("--recordings", help="Folder with <profile>/*.klr and *.expected.json.")
    ] = Path("recordings"),
    profiles: ProfilesOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the differences, write nothing.")] = False,
) -> None:
    """Rewrite a profile's expected files from what it reads now, showing the differences first."""
    from kelaile_cli.services.profiles.testing import accept_expected

    renewals = accept_expected(load_profiles(profiles or []), recordings, profile_id)
    changed = [r for r in renewals if r.changed]
    for renewal in changed:
        for line in renewal.diff():
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
            out.print(f"[{style}]{escape(line)}[/]", highlight=False, soft_wrap=True)
        if not dry_run:
            renewal.write()
    verb = "would renew" if dry_run else "renewed"
    out.print(f"{verb} {len(changed)} of {len(renewals)} expected files of {escape(profile_id)}"
              + ("" if changed else " (all up to date)"))  # fmt: skip
    raise typer.Exit(ExitCode.OK)


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
    labels: Annotated[
        list[Path] | None,
        typer.Option("--labels", help="A label table (YAML) for a language klx does not ship, or to replace one."),
    ] = None,
    interactive: Annotated[
        bool, typer.Option("--interactive", help="Then show each sample beside what it reads and fix by line.")
    ] = False,
    profiles: ProfilesOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="The report as one JSON object.")] = False,
) -> None:
    """Draft a profile from a few recordings of an unknown POS: signatures, habits, kinds, field rules.

    Checked before it is written: it must recognise its samples and claim no other profile's receipts (else exit 1).
    """
    from kelaile_cli.services.profiles.drafting import default_recordings_dir, draft_profile
    from kelaile_cli.services.profiles.labels import load_label_tables
    from kelaile_cli.services.profiles.library import profile_dirs

    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,62}", profile_id):
        raise typer.BadParameter("lower-case letters, digits and '-', 2–63 characters", param_hint="--id")
    sources = [*(sources or []), *(more or [])]
    loaded = load_profiles(profiles or [])
    report = draft_profile(
        sources, profile_id, out_dir, loaded, name=name, vendor=vendor,
        recordings=recordings or default_recordings_dir(), force=force,
        labels=load_label_tables(labels or [], profile_dirs(profiles or [])[1:]),
    )  # fmt: skip
    if as_json:
        doc = {"profile": profile_id, "file": str(report.profile_file), "ok": report.ok,
               "samples": report.samples, "samples_detected": report.samples_detected,
               "others_checked": report.others_checked, "others_claimed": report.others_claimed,
               "others_unchecked": report.others_unchecked, "samples_reading": report.reading,
               "notes": report.draft.notes, "written": [str(p) for p in report.written]}  # fmt: skip
        emit_json(doc)
    else:
        for note in report.draft.notes:
            out.print(f"[dim]•[/] {escape(note)}")
        mark = "[green]✓[/]" if report.samples_detected == report.samples else "[red]✗[/]"
        out.print(f"{mark} recognises {report.samples_detected}/{report.samples} of its sample receipts")
        mark = "[green]✓[/]" if report.reading else "[red]✗[/]"
        out.print(f"{mark} reads a total, items or a payment on {report.reading}/{report.samples} samples")
        if report.others_unchecked:
            out.print("[yellow]?[/] not checked whether it claims other profiles' receipts: no labelled recordings "
                      "found (run in a klx checkout or pass --recordings DIR)")  # fmt: skip
        else:
            mark = "[green]✓[/]" if not report.others_claimed else "[red]✗[/]"
            out.print(f"{mark} claims {len(report.others_claimed)} of {report.others_checked} other profiles' "
                      "receipts" + (f": {escape(', '.join(report.others_claimed[:5]))}" if report.others_claimed
                                    else ""))  # fmt: skip
        out.print(f"wrote {escape(str(report.profile_file))} and {len(report.written) - 1} sample files; "
                  f"try: KLX_PROFILES_PATH={escape(str(out_dir))} klx detect FILE")  # fmt: skip
    if interactive and not as_json:
        _fix_loop(report, out_dir, profile_id, profiles or [])
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.FAILURE)


_FIX_HELP = (
    "N: show sample N · FIELD N:LINE: read FIELD from that line (e.g. 'total 2:17', 'payment:card 3:20') · "
    "done: save and renew the expected files · quit: keep the draft as written"
)


def _fix_loop(report: DraftReport, out_dir: Path, profile_id: str, profiles: list[Path]) -> None:
    """``profile new --interactive``: show, fix by pointing at a line, re-check every sample, save."""
    from kelaile_cli.core.errors import InputError
    from kelaile_cli.services.profiles.interactive import Session
    from kelaile_cli.services.profiles.testing import accept_expected

    session = Session(report.draft, report.receipts)
    shown = 0
    _show_sample(session, shown)
    out.print(f"[dim]{escape(_FIX_HELP)}[/]")
    while True:
        answer = typer.prompt("fix", default="done", show_default=True).strip()
        if answer in ("done", "quit"):
            break
        try:
            if answer.isdigit():
                shown = int(answer) - 1
                _show_sample(session, shown)
                continue
            name, _, where = answer.partition(" ")
            sample, _, line = where.strip().partition(":")
            if not (sample.isdigit() and line.isdigit()):
                raise InputError(f"'{answer}': expected FIELD N:LINE", remedy=_FIX_HELP)
            out.print(escape(session.fix(name, int(sample) - 1, int(line))))
            _show_sample(session, int(sample) - 1)
        except InputError as exc:
            say_error(str(exc))
    if answer == "quit" or not session.changes:
        out.print("kept the draft as written")
        return
    session.save(report.profile_file)
    renewals = accept_expected(load_profiles([*profiles, out_dir]), out_dir, profile_id)
    for renewal in renewals:
        renewal.write()
    report.draft = session.draft
    out.print(f"saved {escape(str(report.profile_file))} ({len(session.changes)} fixes) "
              f"and renewed {sum(r.changed for r in renewals)} expected files")  # fmt: skip


def _show_sample(session: Session, index: int) -> None:
    from kelaile_cli.core.errors import InputError

    try:
        lines, rows = session.lines(index), session.rows(index)
    except InputError as exc:
        say_error(str(exc))
        return
    table = Table(Column("#", justify="right"), Column(f"sample {index + 1}", no_wrap=True), "field", "read", box=None)
    for i in range(max(len(lines), len(rows))):
        field, value = rows[i] if i < len(rows) else ("", "")
        table.add_row(str(i + 1) if i < len(lines) else "", escape(lines[i]) if i < len(lines) else "",
                      field, escape(value))  # fmt: skip
    out.print(table)
