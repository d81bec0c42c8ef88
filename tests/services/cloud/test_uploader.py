"""The box's cloud uploader against a real sandbox: claim once, deliver once, keep items when the cloud is down."""

from __future__ import annotations

import socket
from pathlib import Path

from kelaile_cli.core.cloud.protocol import idempotency_key
from kelaile_cli.services.cloud.sandbox import read_stats, running_cloud
from kelaile_cli.services.cloud.uploader import CREDENTIALS_FILE, CloudUploader


def _item(n: int = 0) -> dict:
    body = {"receipt_sha256": f"{n:064x}", "printed_at": None, "profile": "meiwei-pos", "confidence": 0.9,
            "kind": "sale", "transaction": {"total": "12.00"}, "checks": []}  # fmt: skip
    return {"key": idempotency_key("box-1", body["receipt_sha256"]), "body": body}


def test_claims_once_delivers_once_and_survives_a_power_cycle(tmp_path: Path) -> None:
    answers = []
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        up = CloudUploader(cloud.url, tmp_path / "box", "KLB0001", on_answer=lambda item, a: answers.append(a))
        (tmp_path / "box").mkdir()
        first = up.upload(_item())
        again = up.upload(_item())  # the box retried an item the cloud had stored
        assert first is not None and first == again and first.get("qr")
        assert (tmp_path / "box" / CREDENTIALS_FILE).is_file()
        device = up.device_id
        up.close()
        rebooted = CloudUploader(cloud.url, tmp_path / "box", "KLB0001")
        assert rebooted.upload(_item(1)) is not None
        assert rebooted.device_id == device  # no second registration after a restart
        rebooted.close()
        stats = read_stats(tmp_path / "c.sqlite")
    assert (stats["devices"], stats["transactions"]) == (1, 2)
    assert len(answers) == 2


def test_a_dead_cloud_keeps_the_item_queued_and_says_why(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    errors: list[str] = []
    up = CloudUploader(f"http://127.0.0.1:{port}", tmp_path, "KLB0002", on_error=errors.append)
    assert up.upload(_item()) is None
    assert up.last_error and errors and str(port) in errors[0]
    up.close()


def test_a_refused_transaction_is_set_aside_not_left_blocking_the_queue(tmp_path: Path) -> None:
    from kelaile_cli.services.cloud.uploader import REFUSED_FILE

    with running_cloud(tmp_path / "c.sqlite") as cloud:
        up = CloudUploader(cloud.url, tmp_path, "KLB0003")
        assert up.upload(_item()) is not None
        clash = _item()
        clash["body"] = {**clash["body"], "printed_at": "2026-11-25T12:00:00Z"}  # same key, another body
        answer = up.upload(clash)
        up.close()
    assert answer is not None and "refused" in answer and "409" in answer["refused"]
    lines = (tmp_path / REFUSED_FILE).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and '"printed_at": "2026-11-25T12:00:00Z"' in lines[0]
    assert up.refused == 1 and up.delivered == 1
