from __future__ import annotations

import pytest

from cronium_app.settings import DEFAULT_SECRET_KEY, InsecureSettingsError, Settings

STRONG = "x" * 40


def test_default_database_is_a_sqlite_file_under_data(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = Settings(_env_file=None).database_url
    assert url.startswith("sqlite:///") and url.endswith("/data/cronium.db")


def test_environment_overrides_the_database_url(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:p@db/cronium")
    assert Settings(_env_file=None).database_url == "postgresql+psycopg://u:p@db/cronium"


def test_production_refuses_the_default_secret_key():
    settings = Settings(_env_file=None, CRONIUM_ENV="production", ORCHESTRATOR_TOKEN=STRONG)
    with pytest.raises(InsecureSettingsError, match="SECRET_KEY"):
        settings.assert_safe_for_production()


def test_production_refuses_the_default_orchestrator_token():
    settings = Settings(_env_file=None, CRONIUM_ENV="prod", SECRET_KEY=STRONG)
    with pytest.raises(InsecureSettingsError, match="ORCHESTRATOR_TOKEN"):
        settings.assert_safe_for_production()


def test_production_accepts_strong_secrets():
    Settings(_env_file=None, CRONIUM_ENV="prod", SECRET_KEY=STRONG, ORCHESTRATOR_TOKEN=STRONG).assert_safe_for_production()


def test_development_allows_the_defaults():
    settings = Settings(_env_file=None, CRONIUM_ENV="dev")
    assert settings.secret_key == DEFAULT_SECRET_KEY
    settings.assert_safe_for_production()


def test_default_timeout_above_maximum_is_refused():
    with pytest.raises(ValueError, match="TIMEOUT"):
        Settings(_env_file=None, CRONIUM_JOB_DEFAULT_TIMEOUT=100, CRONIUM_JOB_MAX_TIMEOUT=10)
