from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from cronium_app.settings import InsecureSettingsError, Settings
from orchestrator_worker import local_secrets
from orchestrator_worker.settings import WorkerSettings

STRONG = "x" * 40


@pytest.fixture
def isolated(monkeypatch, tmp_path) -> Path:
    """No secrets in the environment; a data directory of the test's own."""
    for name in ("SECRET_KEY", "ORCHESTRATOR_TOKEN", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CRONIUM_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_default_database_is_a_sqlite_file_in_the_data_directory(isolated):
    assert Settings(_env_file=None).database_url == f"sqlite:///{isolated / 'cronium.db'}"


def test_environment_overrides_the_database_url(isolated, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:p@db/cronium")
    assert Settings(_env_file=None).database_url == "postgresql+psycopg://u:p@db/cronium"


def test_unset_secrets_are_generated_once_and_kept_private(isolated):
    first, again = Settings(_env_file=None), Settings(_env_file=None)
    assert len(first.secret_key) >= 32 and len(first.orchestrator_token) >= 32
    assert first.secret_key != first.orchestrator_token
    assert (again.secret_key, again.orchestrator_token) == (first.secret_key, first.orchestrator_token)
    assert stat.S_IMODE(os.stat(local_secrets.path_in(isolated)).st_mode) == 0o600


def test_two_fresh_data_directories_get_different_secrets(tmp_path):
    one = local_secrets.read_or_create(tmp_path / "one")
    two = local_secrets.read_or_create(tmp_path / "two")
    assert one["secret_key"] != two["secret_key"] and one["orchestrator_token"] != two["orchestrator_token"]


def test_processes_starting_at_once_agree_on_the_secrets(tmp_path):
    found: list[dict[str, str]] = []
    threads = [threading.Thread(target=lambda: found.append(local_secrets.read_or_create(tmp_path))) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({tuple(sorted(secrets.items())) for secrets in found}) == 1
    assert [path.name for path in tmp_path.iterdir()] == [local_secrets.FILE_NAME]


def test_given_secrets_are_used_as_they_are(isolated):
    settings = Settings(_env_file=None, SECRET_KEY=STRONG, ORCHESTRATOR_TOKEN="t" * 40)
    assert (settings.secret_key, settings.orchestrator_token) == (STRONG, "t" * 40)
    assert not local_secrets.path_in(isolated).exists()


def test_a_worker_beside_the_app_finds_the_generated_token(isolated):
    app = Settings(_env_file=None)
    assert WorkerSettings(_env_file=None).orchestrator_token == app.orchestrator_token


def test_a_worker_with_no_token_and_no_app_beside_it_says_what_to_set(isolated):
    with pytest.raises(ValueError, match="ORCHESTRATOR_TOKEN is not set"):
        WorkerSettings(_env_file=None)


def test_production_refuses_a_short_secret_key(isolated):
    settings = Settings(_env_file=None, CRONIUM_ENV="production", SECRET_KEY="short", ORCHESTRATOR_TOKEN=STRONG)
    with pytest.raises(InsecureSettingsError, match="SECRET_KEY"):
        settings.assert_safe_for_production()


def test_production_refuses_a_short_orchestrator_token(isolated):
    settings = Settings(_env_file=None, CRONIUM_ENV="prod", SECRET_KEY=STRONG, ORCHESTRATOR_TOKEN="short")
    with pytest.raises(InsecureSettingsError, match="ORCHESTRATOR_TOKEN"):
        settings.assert_safe_for_production()


def test_production_accepts_generated_secrets(isolated):
    Settings(_env_file=None, CRONIUM_ENV="production").assert_safe_for_production()


def test_the_app_listens_on_this_machine_only_by_default(isolated):
    assert Settings(_env_file=None).host == "127.0.0.1"


def test_default_timeout_above_maximum_is_refused(isolated):
    with pytest.raises(ValueError, match="TIMEOUT"):
        Settings(_env_file=None, CRONIUM_JOB_DEFAULT_TIMEOUT=100, CRONIUM_JOB_MAX_TIMEOUT=10)
