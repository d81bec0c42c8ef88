"""``klx firmware keygen|build|sign|verify|info`` and ``klx flash``: signed images and installing them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kelaile_cli.cli.console import emit_json, err, escape, out
from kelaile_cli.cli.options import BaudOpt, BoxOpt, JsonOpt, PortOpt, TimeoutOpt
from kelaile_cli.core.box.firmware import DEFAULT_TARGET
from kelaile_cli.core.errors import InputError
from kelaile_cli.services.box import firmware_files as files
from kelaile_cli.services.box.client import DEFAULT_BAUD

app = typer.Typer(rich_markup_mode="rich", add_completion=False)
firmware_app = typer.Typer(
    add_completion=False, help="Make, sign and check signed firmware images (.kfw).", no_args_is_help=True
)

KeyOpt = Annotated[Path, typer.Option("--key", help="Signing key: the directory keygen wrote, or its firmware.key.")]


def _summary(info: dict[str, Any]) -> str:
    return (
        f"version {info['version']} · target {info['target']} · {info['length']} bytes · "
        f"sha256 {info['sha256'][:16]}… · key {info['key_id']} · built {info['built_utc']}"
    )


@firmware_app.command("keygen")
def keygen(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write firmware.key and firmware.pub to.")],
    force: Annotated[bool, typer.Option("--force", help="Replace a key already there.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Make an Ed25519 signing key pair (PEM): firmware.key (keep secret) and firmware.pub (give to boxes)."""
    pair = files.keygen(out_dir, force)
    if as_json:
        emit_json({"private": str(pair.private), "public": str(pair.public), "key_id": pair.key_id})
        return
    text = f"key {pair.key_id}: {escape(str(pair.private))} (secret) · {escape(str(pair.public))} (trust this)"
    out.print(text, soft_wrap=True)


@firmware_app.command("build")
def build(
    payload: Annotated[Path, typer.Argument(help="The firmware binary to package.", show_default=False)],
    version: Annotated[str, typer.Option("--version", help="Firmware version, semver MAJOR.MINOR.PATCH[-PRE].")],
    key: KeyOpt,
    output: Annotated[Path, typer.Option("--output", "-o", help="The image to write (.kfw).")],
    target: Annotated[str, typer.Option("--target", help="Hardware id: K1 (every revision) or K1-r2.")] = (
        DEFAULT_TARGET
    ),
    built: Annotated[
        int | None, typer.Option("--built", help="Build time, Unix seconds (default: SOURCE_DATE_EPOCH or now).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Package and sign PAYLOAD as a firmware image."""
    image = files.build_file(payload, version, key, output, target, built)
    info = files.image_info(image)
    if as_json:
        emit_json({"file": str(output), **info})
        return
    out.print(f"{escape(str(output))}: {_summary(info)}", soft_wrap=True)


@firmware_app.command("sign")
def sign(
    image: Annotated[Path, typer.Argument(help="The image to (re-)sign.", show_default=False)],
    key: KeyOpt,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of in place.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Replace an image's signature with one by KEY (e.g. the release key)."""
    signed = files.sign_file(image, key, output)
    info = files.image_info(signed)
    if as_json:
        emit_json({"file": str(output or image), **info})
        return
    out.print(f"{escape(str(output or image))}: signed by key {info['key_id']}")


@firmware_app.command("verify")
def verify(
    image: Annotated[Path, typer.Argument(help="The image to check.", show_default=False)],
    trust: Annotated[Path, typer.Option("--trust", help="A directory of trusted *.pub keys, or one .pub file.")],
    target: Annotated[str | None, typer.Option("--target", help="Also check it fits this hardware id.")] = None,
    current: Annotated[
        str | None, typer.Option("--current", help="Also refuse a downgrade from this running version.")
    ] = None,
    allow_downgrade: Annotated[bool, typer.Option("--allow-downgrade", help="Accept an older version.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check structure, payload hash, signature by a trusted key (and target, version); exit 2 with the reason."""
    checked = files.verify_file(image, trust, target, current, allow_downgrade)
    info = files.image_info(checked)
    if as_json:
        emit_json({"file": str(image), "valid": True, **info})
        return
    out.print(f"{escape(str(image))}: valid · {_summary(info)}", soft_wrap=True)


@firmware_app.command("info")
def info(
    image: Annotated[Path, typer.Argument(help="The image to describe.", show_default=False)],
    as_json: JsonOpt = False,
) -> None:
    """Show an image's header (checks structure and payload hash, not who signed it)."""
    info = files.image_info(files.read_image(image))
    if as_json:
        emit_json({"file": str(image), **info})
        return
    out.print(f"{escape(str(image))}: {_summary(info)}", soft_wrap=True)


@app.command("flash")
def flash_cmd(
    image: Annotated[Path, typer.Argument(help="The signed image (.kfw) to install.", show_default=False)],
    port: PortOpt = None,
    box_serial: BoxOpt = None,
    trust: Annotated[
        Path | None, typer.Option("--trust", help="Also require a signer in these keys (the box always checks).")
    ] = None,
    allow_downgrade: Annotated[bool, typer.Option("--allow-downgrade", help="Install an older version.")] = False,
    no_compress: Annotated[bool, typer.Option("--no-compress", help="Send chunks uncompressed.")] = False,
    baud: BaudOpt = DEFAULT_BAUD,
    timeout: TimeoutOpt = 2.0,
    no_negotiate: Annotated[bool, typer.Option("--no-negotiate", help="Keep --baud; do not switch faster.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Install a signed image: verify, stream resumably to the inactive slot, trial-boot, confirm.

    Re-run the same command after any interruption (unplug, power loss): it resumes where it stopped."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from kelaile_cli.services.box.flash import FlashOptions, flash

    if not port and box_serial:
        from kelaile_cli.services.box.client import find_box_port

        port = find_box_port(box_serial)
    if not port:
        raise InputError(
            "no port given", remedy="pass --port or --box (list them with `klx devices`), or set KLX_PORT / KLX_BOX"
        )
    live = not as_json and err.is_terminal
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err.get(),
        disable=not live,
        transient=True,
    )
    task = progress.add_task("hello", total=None)
    options = FlashOptions(
        allow_downgrade=allow_downgrade,
        compress=not no_compress,
        trust=trust,
        baud=baud,
        negotiate=not no_negotiate,
        hello_timeout=timeout,
        on_phase=lambda phase: progress.update(task, description=phase),
        on_progress=lambda done, total: progress.update(task, completed=done, total=total),
    )
    with progress:
        report = flash(image, port, options)
    data = report.to_json()
    if as_json:
        emit_json(data)
        return
    if report.outcome == "already-installed":
        out.print(f"{report.version} is already installed and confirmed (slot {report.slot}); nothing to do")
        return
    if report.outcome == "confirmed":
        out.print(f"{report.version} was running on trial in slot {report.slot}: now confirmed")
        return
    resumed = f" (resumed at {report.resumed_from})" if report.resumed_from else ""
    out.print(
        f"installed {report.version} in slot {report.slot}, confirmed · {report.size} bytes{resumed} in "
        f"{report.transfer_s:.1f} s at {report.throughput / 1024:.1f} KiB/s ({report.line_share:.0%} of "
        f"{report.baud} baud) · total {report.elapsed_s:.1f} s",
        soft_wrap=True,
    )
