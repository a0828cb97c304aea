"""The event editor's environment variables: what a save sends for plain
and secret ones (only the secrets that changed), what it refuses, and the
rows left once saved (no secret value in them)."""

from __future__ import annotations

from cronium_app.display.env_form import EnvRow, env_changes, env_rows, rows_after_save

SAVED = {"envVars": {"REGION": "eu"}, "secretEnvVarNames": ["API_TOKEN", "DB_PASSWORD"]}


def _plain(key: str, value: str) -> EnvRow:
    return {"key": key, "value": value, "secret": False, "stored": ""}


def _new_secret(key: str, value: str) -> EnvRow:
    return {"key": key, "value": value, "secret": True, "stored": ""}


def _loaded() -> list[EnvRow]:
    return env_rows(SAVED)


def _changed(index: int, **fields) -> list[EnvRow]:
    rows = _loaded()
    rows[index] = {**rows[index], **fields}
    return rows


def test_a_saved_event_shows_its_plain_values_and_only_the_names_of_its_secrets():
    assert _loaded() == [
        _plain("REGION", "eu"),
        {"key": "API_TOKEN", "value": "", "secret": True, "stored": "API_TOKEN"},
        {"key": "DB_PASSWORD", "value": "", "secret": True, "stored": "DB_PASSWORD"},
    ]


def test_a_new_event_sends_its_plain_and_its_secret_variables_apart():
    changes = env_changes([_plain("REGION", "eu"), _new_secret("API_TOKEN", "tok-1234"), _plain("", "")], [])
    assert (changes.plain, changes.secret, changes.problems) == ({"REGION": "eu"}, {"API_TOKEN": "tok-1234"}, {})


def test_secrets_left_untouched_are_not_sent():
    changes = env_changes(_loaded(), SAVED["secretEnvVarNames"])
    assert (changes.plain, changes.secret, changes.problems) == ({"REGION": "eu"}, {}, {})


def test_a_secret_given_a_new_value_sends_only_that_value():
    changes = env_changes(_changed(1, value="tok-new"), SAVED["secretEnvVarNames"])
    assert changes.secret == {"API_TOKEN": "tok-new"}


def test_a_removed_secret_is_sent_as_null():
    rows = _loaded()
    del rows[2]
    assert env_changes(rows, SAVED["secretEnvVarNames"]).secret == {"DB_PASSWORD": None}


def test_a_secret_made_plain_with_a_value_moves_to_the_plain_variables():
    changes = env_changes(_changed(1, secret=False, value="now-plain"), SAVED["secretEnvVarNames"])
    assert (changes.plain, changes.secret) == ({"REGION": "eu", "API_TOKEN": "now-plain"}, {"API_TOKEN": None})


def test_a_secret_made_plain_needs_its_value_typed_again():
    changes = env_changes(_changed(1, secret=False), SAVED["secretEnvVarNames"])
    assert changes.problems == {"envVars": "Enter a value for API_TOKEN: it was a secret, and a secret's value is never shown."}


def test_a_secret_made_plain_and_secret_again_keeps_its_value():
    rows = _changed(1, secret=False)
    rows[1] = {**rows[1], "secret": True}
    assert env_changes(rows, SAVED["secretEnvVarNames"]).secret == {}


def test_a_plain_variable_made_secret_sends_its_value_as_a_secret():
    changes = env_changes(_changed(0, secret=True), SAVED["secretEnvVarNames"])
    assert (changes.plain, changes.secret) == ({}, {"REGION": "eu"})


def test_a_new_secret_needs_a_value():
    changes = env_changes([_new_secret("API_TOKEN", "")], [])
    assert changes.problems == {"secretEnvVars": "Enter a value for the secret API_TOKEN."}


def test_a_renamed_secret_needs_its_value_again_and_then_replaces_the_old_name():
    renamed = _changed(1, key="SERVICE_TOKEN")
    assert env_changes(renamed, SAVED["secretEnvVarNames"]).problems == {
        "secretEnvVars": "Enter a value for the secret SERVICE_TOKEN."
    }
    renamed[1] = {**renamed[1], "value": "tok-again"}
    assert env_changes(renamed, SAVED["secretEnvVarNames"]).secret == {"SERVICE_TOKEN": "tok-again", "API_TOKEN": None}


def test_a_name_both_plain_and_secret_is_refused():
    changes = env_changes([*_loaded(), _plain("API_TOKEN", "x")], SAVED["secretEnvVarNames"])
    assert changes.problems == {"envVars": "API_TOKEN appears twice."}


def test_once_saved_the_rows_hold_no_secret_value():
    rows = [_plain("REGION", "eu"), _new_secret(" API_TOKEN ", "tok-1234"), _plain("", "")]
    assert rows_after_save(rows) == [
        _plain("REGION", "eu"),
        {"key": "API_TOKEN", "value": "", "secret": True, "stored": "API_TOKEN"},
        _plain("", ""),
    ]


def test_once_saved_a_secret_made_plain_is_no_longer_stored():
    rows = _changed(1, secret=False, value="now-plain")
    assert rows_after_save(rows)[1] == _plain("API_TOKEN", "now-plain")
