"""The nine steps of ``klx provision``: find → preflight → cloud → claim → printer → POS → test print →
QR check → report. Each talks to the box over its protocol (``BoxClient``) and, for the QR check and
the install record, to the cloud; each wait is bounded by the step's own timeout."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from kelaile_cli.core.box.messages import PROTOCOL_VERSION, MsgType
from kelaile_cli.core.cloud.claim_code import normalise_code
from kelaile_cli.core.errors import InputError, JobError, KlxError
from kelaile_cli.services.box.client import BoxClient, BoxError
from kelaile_cli.services.box.provision.runner import Context, Partial, RunState, Step, state_dir, step_timeout
from kelaile_cli.services.cloud.reach import REMEDIES, check_cloud

__all__ = ["PRINTER_REMEDIES", "build_steps", "printer_problem", "resume_command"]

POLL_S = 0.2
CLOCK_TOLERANCE_S = 2.0
PRINTER_REMEDIES = {
    "PRINTER_NONE": "connect the printer to the box's printer port (klx box config set printer=…)",
    "PRINTER_OFFLINE": "switch the printer on and check its cable or network to the box",
    "PRINTER_PAPER_END": "load a paper roll",
    "PRINTER_COVER_OPEN": "close the printer's cover",
    "PRINTER_ERROR": "the printer reports an error: clear it (cutter jam, overheating) and power-cycle it",
}


def resume_command(ctx: Context) -> str:
    """The command that continues this run."""
    target = f"--box {ctx.values['find']['serial']}" if "find" in ctx.values else ""
    return " ".join(p for p in ("klx provision", target, "--resume") if p)


def _box(ctx: Context) -> BoxClient:
    client = ctx.values.get("_client")
    if not isinstance(client, BoxClient):
        raise JobError("the box is not connected", code="BOX_NOT_CONNECTED", layer="cable")
    return client


def _request(ctx: Context, mtype: MsgType, body: dict[str, Any] | None = None, timeout: float = 5.0) -> dict:
    """A request whose failures become errors with a code and a layer."""
    try:
        return _box(ctx).request(mtype, body, timeout=max(0.5, min(timeout, ctx.left() or timeout)))
    except BoxError as exc:
        code: Any = exc.code
        name = code.name if hasattr(code, "name") else str(code)
        raise JobError(
            exc.message,
            remedy="update the box firmware (klx flash) or contact support",
            code=f"BOX_{name}",
            layer="box",
            next_command=resume_command(ctx),
        ) from None
    except KlxError as exc:
        raise _not_answering(
            exc, "check the cable to the box and that it is powered, then re-run", resume_command(ctx)
        ) from None


def _not_answering(exc: KlxError, remedy: str, next_command: str) -> JobError:
    """The box did not answer (cable, USB, power): the failure every step reports the same way."""
    return JobError(exc.message, remedy=remedy, code="BOX_NOT_ANSWERING", layer="cable", next_command=next_command)


# -- 1. find ---------------------------------------------------------------------------------------------
def _candidates() -> list[dict[str, Any]]:
    from kelaile_cli.services.box.discovery import list_devices

    try:
        return [d for d in list_devices() if d.get("kind") == "box"]
    except Exception:  # discovery must not stop the run; an explicit --port still works
        return []


def find(ctx: Context) -> dict[str, Any]:
    opts = ctx.options
    port, serial = opts.port, opts.box
    if port is None:
        boxes = _candidates()
        if serial is not None:
            boxes = [b for b in boxes if b.get("serial_number") == serial]
        if not boxes:
            what = f"box {serial}" if serial else "a Kelaile box"
            raise JobError(
                f"no {what} found (USB or emulated on this machine)",
                remedy="plug the box's USB cable into this computer and power the box",
                code="BOX_NOT_FOUND",
                layer="cable",
                next_command="klx devices",
            )
        if len(boxes) > 1:
            listing = ", ".join(f"{b.get('serial_number')} on {b['path']}" for b in boxes)
            if ctx.ask is None:
                raise InputError(
                    f"several boxes found: {listing}",
                    remedy="say which with --box SERIAL or --port",
                    code="BOX_SEVERAL",
                    next_command="klx devices",
                )
            chosen = ctx.ask(f"Several boxes: {listing}. Serial number of the one to provision")
            boxes = [b for b in boxes if b.get("serial_number") == chosen.strip()] or boxes[:0]
            if not boxes:
                raise InputError(f"no box {chosen!r} among {listing}", code="BOX_SEVERAL")
        port = str(boxes[0]["path"])
    try:  # the HELLO probe is the only thing written to a port before it answered like a box
        client = BoxClient.connect(port, timeout=2.0, expect_serial=serial)
    except KlxError as exc:
        raise _not_answering(exc, exc.remedy or "check the cable and the port", "klx devices") from None
    ctx.values["_client"] = client
    hello = client.hello
    directory = ctx.options.state_dir or state_dir()
    ctx.state = RunState.load(directory / f"{hello.serial}.json")
    ctx.state.doc["options"] = {"port": port, "cloud": opts.cloud, "claim": opts.claim}
    ctx.state.doc["serial"] = hello.serial
    ctx.state.save()
    return {
        "port": port,
        "serial": hello.serial,
        "model": hello.model,
        "fw": hello.fw,
        "caps": hello.caps,
    }


# -- 2. preflight ------------------------------------------------------------------------------------------
def preflight(ctx: Context) -> dict[str, Any]:
    hello = _box(ctx).hello
    if hello.version != PROTOCOL_VERSION:
        raise JobError(
            f"the box speaks protocol {hello.version}, klx speaks {PROTOCOL_VERSION}",
            remedy="update klx (pip install -U kelaile-cli) or the box firmware",
            code="BOX_PROTOCOL",
            layer="box",
        )
    detail: dict[str, Any] = {"protocol": hello.version, "fw": hello.fw, "flashed": False}
    if ctx.options.firmware is not None:
        detail.update(_flash_if_needed(ctx))
    state = _request(ctx, MsgType.STATE)
    clock = state.get("clock")
    if not isinstance(clock, (int, float)):
        detail["clock"] = "not reported by this box"
        return detail
    skew = float(clock) - time.time()
    detail["clock_skew_s"] = round(skew, 1)
    if abs(skew) > CLOCK_TOLERANCE_S:
        _request(ctx, MsgType.CLOCK_SET, {"time": int(time.time())})
        after = _request(ctx, MsgType.STATE).get("clock")
        left = float(after) - time.time() if isinstance(after, (int, float)) else skew
        if abs(left) > CLOCK_TOLERANCE_S:
            raise JobError(
                f"the box's clock is {skew:+.0f} s off and did not keep the time it was set to",
                remedy="the box's clock battery may be flat: replace the box (its passthrough still works)",
                code="BOX_CLOCK",
                layer="box",
                next_command=resume_command(ctx),
            )
        detail["clock_set"] = True
    return detail


def _flash_if_needed(ctx: Context) -> dict[str, Any]:
    from kelaile_cli.services.box.firmware_files import read_image
    from kelaile_cli.services.box.flash import FlashOptions, flash

    image = read_image(ctx.options.firmware)
    version = str(image.header.version)
    client = _box(ctx)
    if client.hello.fw == version:
        return {"fw": version, "flashed": False}
    port = client.url
    client.close()
    ctx.progress("flashing", image=str(ctx.options.firmware), version=version)
    report = flash(ctx.options.firmware, port, FlashOptions(negotiate=False))
    ctx.values["_client"] = BoxClient.connect(port, timeout=5.0)
    return {"fw": version, "flashed": True, "flash_outcome": report.outcome}


# -- 3. cloud ----------------------------------------------------------------------------------------------
def cloud(ctx: Context) -> dict[str, Any]:
    url = ctx.options.cloud
    if "cloud-check" in _box(ctx).hello.caps:
        reach = _request(ctx, MsgType.CLOUD_CHECK, {"url": url}, timeout=ctx.left())
        source = "box"
    else:
        reach = check_cloud(url, timeout_s=min(8.0, ctx.left())).as_dict()
        source = "host (this box cannot check for itself)"
    if not reach.get("ok"):
        code = str(reach.get("code") or "CLOUD_CONNECT")
        raise JobError(
            f"the box cannot reach the cloud {url}: {reach.get('detail')}",
            remedy=str(reach.get("remedy") or REMEDIES.get(code, REMEDIES["CLOUD_HTTP"])),
            code=code,
            layer=str(reach.get("layer") or "network"),
            next_command=resume_command(ctx),
        )
    return {"url": url, "from": source, "answer_ms": round(float(reach.get("elapsed_s") or 0) * 1000)}


# -- 4. claim ----------------------------------------------------------------------------------------------
def claim(ctx: Context) -> dict[str, Any]:
    text = ctx.options.claim
    if not text:
        if ctx.ask is None:
            raise InputError(
                "no claim code", remedy="give the code from the work order with --claim CODE", code="CLAIM_CODE_MISSING"
            )
        text = ctx.ask("Claim code from the work order (XXXX-XXXX-C)")
        ctx.options.claim = text
    code, why = normalise_code(text)
    if code is None:
        raise InputError(
            f"claim code {text!r}: {why}",
            remedy="type the code exactly as on the work order",
            code="CLAIM_CODE_MALFORMED",
        )
    if "claim" not in _box(ctx).hello.caps:
        raise JobError(
            "this box cannot claim itself with a code",
            code="BOX_UNSUPPORTED",
            layer="box",
            remedy="update the box firmware with --firmware FILE (klx flash)",
        )
    _request(ctx, MsgType.CONFIG_SET, {"values": {"cloud_url": ctx.options.cloud, "claim_code": text}})
    while True:  # the box claims in the background; its STATE says when it is done or why not
        status = _request(ctx, MsgType.STATE).get("cloud") or {}
        if status.get("claimed") and status.get("claim_code_used") == code:
            return {
                "store": status.get("store"),
                "device_id": status.get("device_id"),
                "reused": bool(status.get("claim_reused")),
            }
        error = status.get("last_error") or {}
        if error.get("code") and error.get("during") == "claim":
            layer = str(error.get("layer") or "cloud")
            remedy = error.get("remedy") or (
                "ask the back office for a new claim code for this store"
                if str(error["code"]).startswith("CLAIM")
                else REMEDIES.get(str(error["code"]), REMEDIES["CLOUD_HTTP"])
            )
            raise JobError(
                f"the cloud refused the claim: {error.get('detail')}",
                remedy=str(remedy),
                code=str(error["code"]),
                layer=layer,
                next_command=resume_command(ctx),
            )
        if ctx.left() <= 0:
            raise step_timeout(
                ctx,
                "claim",
                code="CLAIM_TIMEOUT",
                layer="box",
                remedy="the box did not finish its claim: check its network, then re-run",
                next_command=resume_command(ctx),
            )
        time.sleep(POLL_S)


# -- 5. printer --------------------------------------------------------------------------------------------
def printer_problem(health: dict[str, Any]) -> str | None:
    """The error code of a printer health report, or None when it can print."""
    if not health.get("link"):
        return "PRINTER_NONE"
    if not health.get("online"):
        return "PRINTER_OFFLINE"
    if health.get("paper") == "end":
        return "PRINTER_PAPER_END"
    if health.get("cover") == "open":
        return "PRINTER_COVER_OPEN"
    if health.get("error"):
        return "PRINTER_ERROR"
    return None


WATCH_S = 5  # how often a provisioned box asks its printer for its status


def printer(ctx: Context) -> dict[str, Any] | Partial:
    start = time.time()
    _request(ctx, MsgType.CONFIG_SET, {"values": {"printer_watch_s": WATCH_S}})  # also: check now
    while True:  # a fresh health report: one checked after this step began (never a stale one)
        health = _request(ctx, MsgType.STATE).get("printer") or {}
        if (health.get("checked_at") or 0) >= start - 0.5 or not health.get("link"):
            break
        if ctx.left() <= 0:
            raise step_timeout(
                ctx,
                "printer health",
                code="PRINTER_UNKNOWN",
                layer="box",
                remedy="the box did not report its printer; re-run",
                next_command=resume_command(ctx),
            )
        time.sleep(POLL_S)
    detail = {k: health.get(k) for k in ("link", "model", "online", "paper", "cover")}
    problem = printer_problem(health)
    if problem is not None:
        cause = health.get("detail") or problem.removeprefix("PRINTER_").replace("_", " ").lower()
        raise JobError(
            f"printer {health.get('link') or '(none)'}: {cause}",
            remedy=PRINTER_REMEDIES[problem],
            code=problem,
            layer="printer",
            next_command=resume_command(ctx),
        )
    if health.get("paper") == "near_end":
        return Partial(detail, "paper near its end: keep a spare roll by the till")
    return detail


# -- 6. POS ------------------------------------------------------------------------------------------------
def pos(ctx: Context) -> dict[str, Any] | Partial:
    seen = _request(ctx, MsgType.STATE).get("pos") or {}
    last = seen.get("last")
    if not last:
        ctx.progress("waiting", prompt="print any receipt on the till now", listening=seen.get("listening"))
        if ctx.ask is not None and not ctx.options.yes:
            ctx.ask("Ask the cashier to print any receipt on the till, then press Enter")
        before = int(seen.get("receipts") or 0)
        while True:
            seen = _request(ctx, MsgType.STATE).get("pos") or {}
            if int(seen.get("receipts") or 0) > before and seen.get("last"):
                last = seen["last"]
                break
            if ctx.left() <= 0:
                raise step_timeout(
                    ctx,
                    "no receipt from the POS",
                    code="POS_NO_RECEIPT",
                    layer="pos",
                    remedy="print a receipt on the till; check the till prints to the box's POS port "
                    f"({seen.get('listening') or 'see klx box info'})",
                    next_command=resume_command(ctx),
                )
            time.sleep(POLL_S)
    detail = {"profile": last.get("profile"), "confidence": last.get("confidence"), "receipts": seen.get("receipts")}
    if not last.get("profile"):
        return Partial(
            detail,
            "unknown POS program: the store keeps plain passthrough; record receipts with "
            "`klx record` and make a profile with `klx profile new`",
        )
    return detail


# -- 7. test print -----------------------------------------------------------------------------------------
def test_print(ctx: Context) -> dict[str, Any]:
    claim_detail, pos_detail = ctx.values.get("claim", {}), ctx.values.get("pos", {})
    ticket = {
        "store": claim_detail.get("store") or "",
        "serial": ctx.values["find"]["serial"],
        "profile": pos_detail.get("profile") or "unknown",
        "cloud": "OK",
    }
    try:
        answer = _box(ctx).request(MsgType.TEST_PRINT, {"ticket": ticket}, timeout=max(1.0, ctx.left()))
    except BoxError as exc:
        raise JobError(
            f"the ticket did not print: {exc.text}",
            remedy=PRINTER_REMEDIES["PRINTER_OFFLINE"],
            code="PRINT_FAILED",
            layer="printer",
            next_command=resume_command(ctx),
        ) from None
    except KlxError as exc:
        raise _not_answering(exc, "check the cable to the box, then re-run", resume_command(ctx)) from None
    job = answer.get("job")
    return {
        "bytes": answer.get("bytes"),
        "qr": answer.get("qr"),
        "job_hex": job.hex() if isinstance(job, bytes) else None,
    }


# -- 8. QR check -------------------------------------------------------------------------------------------
def qr_check(ctx: Context) -> dict[str, Any] | Partial:
    import httpx

    url = ctx.values["test_print"].get("qr")
    if not url:
        raise JobError("the box printed no QR", code="PRINT_NO_QR", layer="box", remedy="update the box firmware")
    if ctx.options.yes:
        return Partial({"url": url, "scanned": False}, "QR printed, not scanned (--yes does not wait)")
    ctx.progress("waiting", prompt="scan the QR on the ticket with a phone", url=url)
    while True:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            status = httpx.get(f"{url}/status", timeout=min(3.0, max(0.5, ctx.left()))).json()
            if int(status.get("scans") or 0) > 0:
                return {"url": url, "scanned": True}
        if ctx.left() <= 0:
            raise step_timeout(
                ctx,
                "QR scan",
                code="QR_NOT_SCANNED",
                layer="printer",
                remedy="scan the ticket's QR with a phone; if it will not read, check the print "
                "quality (head, paper) and re-run",
                next_command=resume_command(ctx),
            )
        time.sleep(0.5)


# -- 9. report ---------------------------------------------------------------------------------------------
def report(ctx: Context) -> dict[str, Any]:
    from kelaile_cli.services.box.provision.report import build_report, upload_install, write_report

    doc = build_report(ctx)
    directory = (ctx.options.report_dir or (ctx.options.state_dir or state_dir())) / str(doc["serial"])
    files = write_report(doc, directory, ctx.values["test_print"].get("job_hex"))
    uploaded, why = upload_install(ctx.values["test_print"].get("qr"), doc)
    out = {"files": files, "uploaded": uploaded}
    if not uploaded:
        raise JobError(
            f"the install record did not reach the cloud ({why})",
            remedy=REMEDIES["CLOUD_CONNECT"],
            code="INSTALL_UPLOAD",
            layer="network",
            next_command=resume_command(ctx),
        )
    return out


def build_steps(options: Any) -> list[Step]:
    """The steps with the timeouts this run asked for (``pos_timeout``, ``scan_timeout``)."""
    return [
        Step("find", "find the box", 10.0, find),
        Step("preflight", "protocol, clock, firmware", 10.0 if options.firmware is None else 300.0, preflight),
        Step("cloud", "cloud reachable from the box", 10.0, cloud),
        Step("claim", "claim the box for the store", 15.0, claim),
        Step("printer", "printer link and health", 10.0, printer),
        Step("pos", "POS program", float(options.pos_timeout), pos, reuse=True),
        Step("test_print", "provisioning ticket printed", 15.0, test_print, reuse=True),
        Step("qr", "QR scanned", float(options.scan_timeout), qr_check),
        Step("report", "report and install record", 15.0, report),
    ]
