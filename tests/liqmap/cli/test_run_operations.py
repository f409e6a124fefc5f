"""What operators see of a running ``liqmap run`` (in this process, ``tests.support.cli``): its
heartbeat beside the database, and the optional Prometheus endpoint on 127.0.0.1."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from storage.heartbeat import heartbeat_path
from tests.conftest import NOON
from tests.fakes.clock import Clock
from tests.fakes.http import free_port
from tests.fakes.okx import FakeOkx
from tests.fakes.telegram import FakeTelegram
from tests.support.cli import FAST, Liqmap

ANN = 1001


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def env(tg: FakeTelegram, okx: FakeOkx, tmp_path: Path) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_URL": tg.url,
        "LIQMAP_OKX_URL": okx.url,
        "LIQMAP_DB": str(tmp_path / "run.db"),
    }


def test_the_service_beats_while_it_runs_clears_the_heartbeat_and_logs_at_its_level(
    env: dict[str, str], tmp_path: Path
) -> None:
    beat = heartbeat_path(tmp_path / "run.db")
    quiet = env | {"LIQMAP_LOG_LEVEL": "warning"}
    with Liqmap(["run"], tmp_path, quiet, replace(FAST, clock=Clock(NOON))) as liqmap:
        liqmap.until(lambda: beat.exists() and beat.read_text() == f"{NOON}\n", "a heartbeat")
        result = liqmap.stop()
    assert result.returncode == 0, result.stderr
    assert not beat.exists(), "a stopped service leaves no heartbeat to judge"
    assert "liqmap is running" not in result.stderr, "INFO is below LIQMAP_LOG_LEVEL"
    assert "WARNING jobs.scheduled.recorder" in result.stderr, "WARNING is not"


def scrape(port: int) -> dict[str, float]:
    """Every sample of the endpoint, by name and labels: ``name{label="v"}``."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def test_the_metrics_endpoint_reads_the_running_service(
    env: dict[str, str], tg: FakeTelegram, tmp_path: Path
) -> None:
    port = free_port()
    settings = env | {"LIQMAP_METRICS_PORT": f"127.0.0.1:{port}", "LIQMAP_MAPS_PER_MINUTE": "1"}
    with Liqmap(["run"], tmp_path, settings) as liqmap:
        liqmap.until(lambda: "metrics at" in liqmap.output(), "the metrics endpoint")
        before = scrape(port)
        for name in (
            'liqmap_alerts{state="pending"}',
            'liqmap_alerts{state="sent"}',
            'liqmap_alerts{state="failed"}',
            'liqmap_alerts{state="sending"}',
            'liqmap_alerts{state="unconfirmed"}',
            "liqmap_alerts_sent_again_total",
            "liqmap_alerts_unrecorded",
            "liqmap_delivery_lag_seconds",
            "liqmap_maps_refused_total",
            "liqmap_map_build_seconds_count",
            "liqmap_map_build_seconds_sum",
            "process_resident_memory_bytes",
        ):
            assert name in before, name
        assert before["liqmap_map_build_seconds_count"] == 0
        assert before["liqmap_maps_refused_total"] == 0

        mark = tg.mark()
        tg.user_sends(ANN, "/map BTC 1d")
        tg.wait_for_sync(lambda c: c["method"] == "sendPhoto" and c["ok"], timeout=60, since=mark)
        mark = tg.mark()
        tg.user_sends(ANN, "/map BTC 7d")  # a second new map within the minute: refused
        tg.wait_for_sync(lambda c: c["method"] == "sendMessage" and c["ok"], since=mark)
        assert "try again in" in tg.sent(ANN)[-1]["plain"]
        after = scrape(port)
        liqmap.stop()
    assert after["liqmap_map_build_seconds_count"] == 1
    assert after["liqmap_map_build_seconds_sum"] > 0
    assert after["liqmap_maps_refused_total"] == 1
    okx = 'liqmap_exchange_requests_total{exchange="okx"}'
    assert after[okx] > before.get(okx, 0)
    assert after['liqmap_exchange_errors_total{exchange="okx"}'] == 0
    assert after['liqmap_exchange_rate_limited_total{exchange="okx"}'] == 0
    weight = 'liqmap_exchange_weight_total{exchange="okx",urgency="on_demand"}'
    assert after[weight] > before.get(weight, 0), "one unit a call at OKX"


def test_a_stop_while_polling_starts_is_quiet(
    env: dict[str, str], tg: FakeTelegram, tmp_path: Path
) -> None:
    """Stopped while python-telegram-bot retries its first deleteWebhook (Telegram said 429):
    the Application had started, so it is stopped before it is shut down (it raised
    "This Application is still running!")."""
    tg.rate_limit(times=1, retry_after=30, method="deleteWebhook")
    with Liqmap(["run"], tmp_path, env) as liqmap:
        liqmap.until(lambda: tg.throttled >= 1, "the first deleteWebhook refused")
        result = liqmap.stop()
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
