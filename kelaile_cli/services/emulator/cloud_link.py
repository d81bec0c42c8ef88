"""The box's cloud side: claim (with a claim code, or plainly for a store), signed uploads, the cloud
check and the provisioning ticket — driven by the box's config, so a change takes effect at once.

Setting ``cloud_url`` (and ``claim_code`` or ``store``) with CONFIG_SET makes the box claim in the
background and then deliver its upload queue; STATE's ``cloud`` entry says how far it got: claimed or
not, device id, store, last upload, last answer, the last cloud error with its code and layer. The
identity lives in ``cloud.json`` in the state directory (mode 0600), written only after the cloud
accepted the claim, so the box is never half-claimed. It is one ``Uploader`` (``state.Uploader``).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from kelaile_cli.core.cloud import protocol as cp
from kelaile_cli.core.cloud.claim_code import normalise_code
from kelaile_cli.services.cloud.client import CloudClient, CloudError, Credentials, RetryPolicy
from kelaile_cli.services.cloud.reach import REMEDIES, Reach, check_cloud, classify_exception, classify_status
from kelaile_cli.services.emulator.faults import Faults
from kelaile_cli.services.emulator.state import BoxState
from kelaile_cli.transports.files import write_atomic

__all__ = ["IDENTITY_FILE", "CloudFailureError", "CloudLink"]

IDENTITY_FILE = "cloud.json"  # readable as services.cloud.client.Credentials too
BOX_MODEL = "KLX-BOX-EMU"
CLAIM_TIMEOUT_S = 5.0
CLAIM_REMEDY = "ask the back office for a new claim code for this store, then re-run klx provision"


class CloudFailureError(Exception):
    """A cloud operation that failed: ``code`` and ``layer`` as in ``services.cloud.reach``."""

    def __init__(self, code: str, layer: str, detail: str, remedy: str | None = None) -> None:
        super().__init__(detail)
        self.code, self.layer, self.detail = code, layer, detail
        self.remedy = remedy or REMEDIES.get(code) or REMEDIES["CLOUD_HTTP"]


class CloudLink:
    """One box's link to its cloud; thread-safe (the pipeline, the upload loop and requests share it)."""

    def __init__(self, state: BoxState, faults: Faults, on_change: Callable[[str], None]) -> None:
        self.state = state
        self.faults = faults
        self.on_change = on_change
        self.path = state.root / IDENTITY_FILE
        self.identity: dict[str, Any] | None = _load(self.path)
        self.last_upload: float | None = None
        self.last_answer: dict[str, Any] | None = None
        self.last_error: dict[str, Any] | None = None
        self.delivered = 0
        self._lock = threading.RLock()
        self._client: CloudClient | None = None

    # -- config -------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return str(self.state.config.get("cloud_url") or "").rstrip("/")

    def config_changed(self, keys: set[str]) -> None:
        """CONFIG_SET touched ``keys``: claim now (in the background) if the cloud settings changed."""
        if keys & {"cloud_url", "claim_code", "store"} and self.url:
            self.last_error = None  # an error of the old settings must not be read as this claim's
            threading.Thread(target=self._claim_quietly, name="box-claim", daemon=True).start()

    def _claim_quietly(self) -> None:
        with contextlib.suppress(CloudFailureError):  # kept in last_error, reported by STATE
            self.ensure_claimed()
        self.on_change("cloud: claimed" if self.claimed else "cloud: claim failed")

    @property
    def claimed(self) -> bool:
        ident = self.identity
        return bool(ident and ident.get("cloud") == self.url and self._code_matches(ident))

    def _code_matches(self, ident: dict[str, Any]) -> bool:
        code = self.state.config.get("claim_code")
        if not code:
            return True
        return ident.get("code") == normalise_code(str(code))[0]

    # -- claim ----------------------------------------------------------------------------------------
    def ensure_claimed(self) -> dict[str, Any]:
        """The box's identity at ``cloud_url``, claiming first if needed; ``CloudFailureError`` says why not."""
        with self._lock:
            if not self.url:
                raise self._fail(
                    "claim",
                    CloudFailureError(
                        "CLOUD_NOT_SET",
                        "box",
                        "no cloud_url configured",
                        "klx box config set cloud_url=…, or run klx provision",
                    ),
                )
            if self.claimed and self.identity is not None:
                return self.identity
            code = self.state.config.get("claim_code")
            try:
                ident = self._claim_with_code(str(code)) if code else self._claim_plain()
            except CloudFailureError as exc:
                raise self._fail("claim", exc) from None
            write_atomic(self.path, json.dumps(ident, indent=1).encode(), private=True)  # 0600 from its first byte
            self.identity, self._client, self.last_error = ident, None, None
            if ident.get("store"):
                self.state.update_config({"store": ident["store"], "device_id": ident["device_id"]})
            return ident

    def _guard(self) -> None:
        """The network faults: fail the way a shop's network would, without a packet sent."""
        if self.faults.dns:
            host = httpx.URL(self.url).host
            raise CloudFailureError("CLOUD_DNS", "network", f"{host}: Name or service not known (fault dns)")
        if self.faults.cloud_unreachable:
            raise CloudFailureError(
                "CLOUD_CONNECT", "network", f"{self.url}: connection refused (fault cloud-unreachable)"
            )

    def _post(self, path: str, doc: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
        self._guard()
        try:
            return httpx.post(self.url + path, json=doc, headers=headers, timeout=CLAIM_TIMEOUT_S)
        except httpx.HTTPError as exc:
            code, layer = classify_exception(exc)
            raise CloudFailureError(code, layer, f"{self.url}: {exc or type(exc).__name__}") from None

    def _claim_with_code(self, text: str) -> dict[str, Any]:
        code, why = normalise_code(text)
        if code is None:
            raise CloudFailureError("CLAIM_CODE_MALFORMED", "input", f"claim code: {why}", CLAIM_REMEDY)
        if self.faults.claim_refused:
            self._guard()
            raise CloudFailureError(
                "CLAIM_REFUSED", "cloud", "the cloud refused this box's claim (fault claim-refused)", CLAIM_REMEDY
            )
        answer = self._post("/v1/provision/claim", {"code": code, "serial": self.state.serial, "model": BOX_MODEL})
        doc = _json(answer)
        if answer.status_code not in (200, 201):
            error = str(doc.get("error") or "")
            if error.startswith("CLAIM_"):
                raise CloudFailureError(error, "cloud", str(doc.get("detail") or error), CLAIM_REMEDY)
            code_, layer = classify_status(answer.status_code, error)
            raise CloudFailureError(code_, layer, f"claim: HTTP {answer.status_code} {doc.get('detail') or ''}".strip())
        return {
            "cloud": self.url,
            "device_id": doc["device_id"],
            "secret": doc["secret"],
            "store": doc.get("store"),
            "code": code,
            "reused": bool(doc.get("reused")),
            "claimed_at": time.time(),
        }

    def _claim_plain(self) -> dict[str, Any]:
        store = self.state.config.get("store") or None
        answer = self._post("/v1/devices/claim", {"serial": self.state.serial, "model": BOX_MODEL, "store": store})
        doc = _json(answer)
        if answer.status_code != 201:
            code, layer = classify_status(answer.status_code, str(doc.get("error") or ""))
            raise CloudFailureError(code, layer, f"claim: HTTP {answer.status_code} {doc.get('detail') or ''}".strip())
        return {
            "cloud": self.url,
            "device_id": doc["device_id"],
            "secret": doc["secret"],
            "store": doc.get("store"),
            "code": None,
            "reused": False,
            "claimed_at": time.time(),
        }

    def _fail(self, during: str, exc: CloudFailureError) -> CloudFailureError:
        self.last_error = {
            "code": exc.code,
            "layer": exc.layer,
            "detail": exc.detail,
            "remedy": exc.remedy,
            "during": during,
            "at": time.time(),
        }
        return exc

    # -- uploads (the Uploader protocol) ---------------------------------------------------------------
    def upload(self, item: dict[str, Any]) -> dict[str, Any] | None:
        """Deliver one queued transaction: the cloud's answer, or None to keep it queued."""
        if not self.url:
            return None
        try:
            ident = self.ensure_claimed()
            self._guard()
        except CloudFailureError as exc:
            self._fail("upload", exc)
            return None
        client = self._signed_client(ident)
        try:
            result = client.upload(item["body"], str(item["key"]))
        except CloudError as exc:
            self._fail("upload", _from_client_error(exc))
            return None
        self.last_upload, self.last_answer, self.last_error = time.time(), result.answer, None
        self.delivered += 1
        return result.answer

    def _signed_client(self, ident: dict[str, Any]) -> CloudClient:
        with self._lock:
            if self._client is None:
                creds = Credentials(
                    ident["device_id"], ident["secret"], ident.get("store"), self.state.serial, self.url
                )
                retry = RetryPolicy(attempts=2, base_s=0.05, cap_s=0.2)
                self._client = CloudClient(self.url, credentials=creds, retry=retry, timeout=CLAIM_TIMEOUT_S)
            return self._client

    def device_client(self) -> CloudClient | None:
        """The claimed box's signed client for its other cloud calls (online orders); None without a cloud_url.
        ``CloudFailureError`` when the box cannot claim (the cloud away, a refused code)."""
        if not self.url:
            return None
        ident = self.ensure_claimed()
        self._guard()
        return self._signed_client(ident)

    # -- the provisioning requests ---------------------------------------------------------------------
    def check(self, url: str | None = None) -> dict[str, Any]:
        """CLOUD_CHECK: can the box reach ``url`` (default: its cloud_url)? Classified by layer."""
        target = (url or self.url).rstrip("/")
        start = time.monotonic()
        if self.faults.dns:
            reach = Reach(
                False,
                "CLOUD_DNS",
                "network",
                f"{httpx.URL(target).host}: Name or service not known",
                time.monotonic() - start,
            )
        elif self.faults.cloud_unreachable:
            reach = Reach(False, "CLOUD_CONNECT", "network", f"{target}: connection refused", time.monotonic() - start)
        else:
            reach = check_cloud(target, timeout_s=8.0)
        if not reach.ok and reach.code:
            self._fail("check", CloudFailureError(reach.code, str(reach.layer), reach.detail))
        return reach.as_dict()

    def ticket_url(self) -> str:
        """The provisioning ticket's QR URL the cloud gives this (claimed) box."""
        ident = self.ensure_claimed()
        path = "/v1/provision/tickets"
        headers = cp.signed_headers(
            ident["device_id"], ident["secret"], "POST", path, int(time.time()), b"", nonce=secrets.token_hex(8)
        )
        self._guard()
        try:
            answer = httpx.post(self.url + path, headers=headers, timeout=CLAIM_TIMEOUT_S)
        except httpx.HTTPError as exc:
            code, layer = classify_exception(exc)
            raise self._fail("ticket", CloudFailureError(code, layer, f"{self.url}: {exc}")) from None
        doc = _json(answer)
        if answer.status_code != 201:
            code, layer = classify_status(answer.status_code, str(doc.get("error") or ""))
            raise self._fail("ticket", CloudFailureError(code, layer, f"ticket: HTTP {answer.status_code}"))
        return str(doc["url"])

    def status(self, queue: int) -> dict[str, Any]:
        """STATE's ``cloud`` entry."""
        ident = self.identity if self.claimed else None
        return {
            "url": self.url,
            "claimed": ident is not None,
            "device_id": ident.get("device_id") if ident else None,
            "store": ident.get("store") if ident else None,
            "claim_code_used": ident.get("code") if ident else None,
            "claim_reused": bool(ident.get("reused")) if ident else False,
            "last_upload": self.last_upload,
            "last_answer": self.last_answer,
            "delivered": self.delivered,
            "queue": queue,
            "last_error": self.last_error,
        }


def _from_client_error(exc: CloudError) -> CloudFailureError:
    if exc.status is not None:
        code, layer = classify_status(exc.status, str(exc.code or exc.message))
    elif exc.kind == "unreachable":
        code, layer = ("CLOUD_DNS", "network") if "name" in exc.message.lower() else ("CLOUD_CONNECT", "network")
    else:
        code, layer = "CLOUD_TIMEOUT", "network"
    return CloudFailureError(code, layer, exc.message)


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        doc = answer.json()
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _load(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("device_id") and doc.get("secret") else None
