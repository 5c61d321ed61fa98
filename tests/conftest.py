"""Shared test setup: every test writes only under its own temporary folders."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from poisonlab.data import Dataset, load_train_test

_SANDBOX = tempfile.mkdtemp(prefix="poisonlab-tests-")
for _name in ("HOME", "TMPDIR", "MPLCONFIGDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
    os.environ[_name] = os.path.join(_SANDBOX, _name.lower())
    os.makedirs(os.environ[_name], exist_ok=True)
tempfile.tempdir = None  # re-read TMPDIR


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_SANDBOX, ignore_errors=True)


@pytest.fixture(scope="session")
def sms_split() -> tuple[Dataset, Dataset]:
    """The SMS corpus's shared train/test split."""
    return load_train_test("sms_spam")


@pytest.fixture(scope="session")
def small_dataset() -> Dataset:
    """A small two-class dataset with a few duplicates, for fast unit tests."""
    texts = [
        "win cash now",
        "cheap pills",
        "free prize claim",
        "win a free phone",
        "buy cheap now",
        "see you at lunch",
        "meeting at 3pm",
        "call me later",
        "happy birthday",
        "report attached",
        "see you at lunch",
        "are we still on",
        "thanks for the notes",
        "running late",
        "ok",
    ]
    labels = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    return Dataset(texts, labels, ("ham", "spam"), name="small")


@pytest.fixture
def workdir(tmp_path: os.PathLike[str]) -> Iterator[str]:
    """A temporary working directory, entered for the test."""
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield str(tmp_path)
    finally:
        os.chdir(old)


@pytest.fixture
def headless_chromium(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`headless_chromium(page, *flags)`: Debian's Chromium, headless, offline, with a profile and
    home in the test's folder, run on a local HTML file (``--dump-dom``, ``--screenshot=...``).
    Fails on CI when Chromium is missing (`.ci/run` installs it); skipped elsewhere."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium package (see .ci/run)")
        pytest.skip("Chromium is not installed here; CI installs Debian's chromium package")
    base = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    environment = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path),
    }

    def run(page: Path, *flags: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [browser, *base, *flags, page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            env=environment,
            check=True,
        )

    return run


def _configure_hypothesis() -> None:
    from hypothesis import settings

    settings.register_profile("poisonlab", database=None, deadline=None)
    settings.load_profile("poisonlab")


_configure_hypothesis()
