"""A playbook's HTML report as a hunter opens it: rendered by a real browser (headless
Chromium), with its result tables, verdicts and the SVG chart drawn."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import hela

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BAR = (0x3B, 0x6E, 0xA8)  # the chart's bars
HELD = (0x17, 0x6F, 0x2C)  # a verdict that held


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip("no Chromium on this machine (.ci/run installs Debian's chromium)")


def test_html_report_renders_tables_verdicts_and_chart(tmp_path):
    browser = chromium()
    sample, lake, report = tmp_path / "sample.json", tmp_path / "lake", tmp_path / "report.html"
    assert hela.command("sample", "--out", sample, "--events", "400") == 0
    hela.Connection(lake).ingest(sample)
    assert hela.command("playbook", "run", EXAMPLES / "lateral-movement.md", "--lake", lake, "--report", report) == 0
    screenshot = tmp_path / "report.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,2400", f"--screenshot={screenshot}",
         report.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    pixels = np.asarray(Image.open(screenshot).convert("RGB"))
    assert (pixels == BAR).all(axis=2).sum() > 10_000, "the chart's bars are not drawn"
    assert (pixels == HELD).all(axis=2).sum() > 50, "the verdicts are not shown"
    html = report.read_text()
    assert "<td>172.18.39.5</td>" in html and "2 expectations held, 0 not, 0 failed" in html
