"""Online orders in the sandbox: created by a platform, offered to the store's box, printed once, re-offered."""

from __future__ import annotations

import json
import secrets
import time

import httpx
import pytest

from kelaile_cli.core.cloud.protocol import signed_headers
from kelaile_cli.services.cloud.client import CloudClient, Credentials
from kelaile_cli.services.cloud.sandbox import running_cloud
from kelaile_cli.services.cloud.sandbox.online_orders import OrderBook, OrderIn

ORDER = {"store": "S-0042", "platform": "meituan", "items": [{"name": "宫保鸡丁", "qty": 1, "price": "38"},
         {"name": "米饭", "qty": 2, "price": "3"}], "phone": "13812345678", "note": "少辣"}  # fmt: skip


class Box:
    """Signed print-job calls as a box makes them."""

    def __init__(self, url: str, creds: Credentials) -> None:
        self.url, self.creds = url, creds

    def call(self, method: str, path: str, doc: object = None) -> httpx.Response:
        body = b"" if doc is None else json.dumps(doc).encode()
        headers = signed_headers(self.creds.device_id, self.creds.secret, method, path, int(time.time()), body,
                                 nonce=secrets.token_hex(8))  # fmt: skip
        if body:
            headers["Content-Type"] = "application/json"
        return httpx.request(method, self.url + path, content=body, headers=headers, timeout=5)

    def poll(self, **printer: object) -> str | None:
        answer = self.call("POST", "/v1/print/poll", printer or {"online": True})
        assert answer.status_code == 200, answer.text
        doc = answer.json()
        assert doc["poll_interval_s"] > 0
        return doc["job_token"] if doc["job_ready"] else None


def _box(url: str, serial: str, store: str) -> Box:
    with CloudClient(url) as client:
        return Box(url, client.claim(serial, "klx-test", store=store))


def test_an_order_is_offered_fetched_printed_once_and_listed_as_printed(tmp_path):
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        created = httpx.post(cloud.url + "/v1/sandbox/orders", json=ORDER, timeout=5)
        assert created.status_code == 201, created.text
        order = created.json()
        assert order["status"] == "received" and order["total"] == "44.00" and order["phone"] == "138****5678"
        other = _box(cloud.url, "SN-OTHER", "S-0001")
        assert other.poll() is None  # another store's box never sees it
        box = _box(cloud.url, "SN-1", "S-0042")
        assert box.poll(online=True, paper="out") is None  # a printer that cannot print gets no job
        token = box.poll()
        assert token and box.poll() == token  # asked again before confirming: the same job, not a second one
        job = box.call("GET", f"/v1/print/jobs/{token}").json()
        assert job["order"]["items"][0]["name"] == "宫保鸡丁" and job["order"]["number"] == order["number"]
        assert other.call("GET", f"/v1/print/jobs/{token}").status_code == 404  # not its job
        assert box.call("DELETE", f"/v1/print/jobs/{token}?code=OK").json()["status"] == "printed"
        assert box.call("DELETE", f"/v1/print/jobs/{token}?code=OK").json()["status"] == "printed"  # idempotent
        assert box.poll() is None
        listed = httpx.get(cloud.url + "/v1/sandbox/orders", params={"store": "S-0042"}, timeout=5).json()
    [row] = listed["orders"]
    assert row["status"] == "printed" and row["attempts"] == 1 and listed["counts"]["printed"] == 1
    with running_cloud(tmp_path / "c.sqlite") as cloud:  # the QR on the ticket leads to the order
        page = httpx.get(f"{cloud.url}/o/{order['order_id']}", timeout=5)
        missing = httpx.get(f"{cloud.url}/o/ord_nope", timeout=5)
    assert page.json()["status"] == "printed" and page.json()["number"] == order["number"]
    assert missing.status_code == 404


def test_a_failed_print_is_offered_again_and_never_counted_printed(tmp_path):
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        httpx.post(cloud.url + "/v1/sandbox/orders", json=ORDER, timeout=5)
        box = _box(cloud.url, "SN-1", "S-0042")
        first = box.poll()
        assert box.call("DELETE", f"/v1/print/jobs/{first}?code=PAPER_OUT").json()["status"] == "failed"
        listed = httpx.get(cloud.url + "/v1/sandbox/orders", timeout=5).json()["orders"]
        assert listed[0]["status"] == "failed" and listed[0]["last_error"] == "PAPER_OUT"
        second = box.poll()
        assert second and second != first
        assert box.call("DELETE", f"/v1/print/jobs/{first}?code=OK").status_code == 404  # a stale token
        assert box.call("DELETE", f"/v1/print/jobs/{second}?code=OK").json()["status"] == "printed"


def test_an_unconfirmed_job_goes_to_another_box_after_the_reoffer_time(tmp_path):
    book = OrderBook(tmp_path / "c.sqlite", reoffer_s=10)
    book.create(OrderIn.model_validate(ORDER), now=1000.0)
    first = book.offer("dev_a", "S-0042", now=1001.0)
    assert first and book.offer("dev_b", "S-0042", now=1005.0) is None  # still offered to dev_a
    second = book.offer("dev_b", "S-0042", now=1012.0)
    assert second and second != first
    assert book.confirm(first, "dev_a", "OK", now=1013.0) is None  # dev_a's offer is gone
    assert book.confirm(second, "dev_b", "OK", now=1013.0) == "printed"
    book.close()


def test_a_poll_offers_up_to_max_jobs_oldest_first_and_the_same_ones_again_until_confirmed(tmp_path):
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        made = [httpx.post(cloud.url + "/v1/sandbox/orders", json=ORDER, timeout=5).json() for _ in range(5)]
        box = _box(cloud.url, "SN-1", "S-0042")
        answer = box.call("POST", "/v1/print/poll", {"online": True, "max_jobs": 3}).json()
        tokens = answer["job_tokens"]
        assert [t.split(".")[0] for t in tokens] == [o["order_id"] for o in made[:3]]
        assert answer["job_token"] == tokens[0] and answer["job_ready"]
        again = box.call("POST", "/v1/print/poll", {"online": True, "max_jobs": 5}).json()["job_tokens"]
        assert again[:3] == tokens and len(again) == 5  # the unconfirmed ones keep their tokens, then the rest
        assert box.call("POST", "/v1/print/poll", {"max_jobs": 21}).status_code == 422  # at most MAX_JOBS


def test_orders_are_admin_only_and_validated(tmp_path):
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        bad = httpx.post(cloud.url + "/v1/sandbox/orders", json={**ORDER, "items": []}, timeout=5)
        assert bad.status_code == 422
        unsigned = httpx.post(cloud.url + "/v1/print/poll", json={}, timeout=5)
        assert unsigned.status_code == 401


@pytest.mark.parametrize("phone,masked", [("13812345678", "138****5678"), ("138****5678", "138****5678")])
def test_phone_numbers_are_masked(tmp_path, phone, masked):
    book = OrderBook(tmp_path / "c.sqlite")
    assert book.create(OrderIn.model_validate({**ORDER, "phone": phone}), now=1.0)["phone"] == masked
    book.close()


def test_items_syntax():
    from kelaile_cli.core.errors import InputError
    from kelaile_cli.services.cloud.online_orders import parse_items

    assert parse_items("宫保鸡丁*1@38,米饭*2@3") == [
        {"name": "宫保鸡丁", "qty": 1, "price": "38", "options": []},
        {"name": "米饭", "qty": 2, "price": "3", "options": []},
    ]
    assert parse_items("拉面@28+加蛋+少辣")[0] == {"name": "拉面", "qty": 1, "price": "28", "options": ["加蛋", "少辣"]}
    with pytest.raises(InputError, match="NAME"):
        parse_items("*2@3")


def test_cli_order_and_orders(tmp_path):
    from tests.helpers import klx

    with running_cloud(tmp_path / "c.sqlite") as cloud:
        made = klx("cloud", "order", "--store", "S-0042", "--platform", "meituan", "--items", "宫保鸡丁*1@38,米饭*2@3",
                   "--cloud", cloud.url, "--json")  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert json.loads(made.stdout)["total"] == "44.00"
        listed = klx("cloud", "orders", "--cloud", cloud.url, "--json")
        bad = klx("cloud", "order", "--store", "S", "--items", "*", "--cloud", cloud.url)
    assert json.loads(listed.stdout)["counts"]["received"] == 1
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
