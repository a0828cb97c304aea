"""The UI built into the app's image is pointed at the public URL when a
replica starts (cronium_app/built_ui.py, serve.py): every http and ws form
of the build's placeholder origin, in plain and gzip files, and nothing
else; the image's own files stay as they were."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from cronium_app import built_ui, serve
from cronium_app.settings import Settings

PLACEHOLDER = "http://cronium-public-url.invalid"
BUNDLE = (
    'const e={PING:`http://cronium-public-url.invalid/ping`,EVENT:`ws://cronium-public-url.invalid/_event`,'
    'UPLOAD:`http://cronium-public-url.invalid/_upload`};export{e as t};'
)


def built(tmp_path: Path) -> Path:
    web = tmp_path / "web"
    assets = web / "build" / "client" / "assets"
    assets.mkdir(parents=True)
    (web / "env.json").write_text(json.dumps({"PING": f"{PLACEHOLDER}/ping", "EVENT": "ws://cronium-public-url.invalid/_event"}))
    (assets / "reflex-env.js").write_text(BUNDLE)
    (assets / "reflex-env.js.gz").write_bytes(gzip.compress(BUNDLE.encode()))
    (assets / "reflex-env.js.br").write_bytes(b"stale brotli")
    (assets / "logo.png").write_bytes(b"\x89PNG cronium-public-url.invalid")
    (assets / "page.js").write_text("nothing to change here")
    return web


def test_every_form_of_the_origin_is_replaced_in_plain_and_gzip_files(tmp_path):
    web = built(tmp_path)
    target = tmp_path / "served"

    changed = built_ui.point_at(web, target, "https://cronium.example.com/")

    assets = target / "build" / "client" / "assets"
    expected = BUNDLE.replace("http://cronium-public-url.invalid", "https://cronium.example.com").replace(
        "ws://cronium-public-url.invalid", "wss://cronium.example.com"
    )
    assert (assets / "reflex-env.js").read_text() == expected
    assert gzip.decompress((assets / "reflex-env.js.gz").read_bytes()).decode() == expected
    assert built_ui.built_origin(target) == "https://cronium.example.com"
    assert changed == 3  # env.json, the bundle, its gzip form


def test_stale_forms_go_and_other_files_stay(tmp_path):
    web = built(tmp_path)
    target = tmp_path / "served"
    built_ui.point_at(web, target, "http://localhost:8080")
    assets = target / "build" / "client" / "assets"
    assert not (assets / "reflex-env.js.br").exists()
    assert (assets / "logo.png").read_bytes() == b"\x89PNG cronium-public-url.invalid"
    assert (assets / "page.js").read_text() == "nothing to change here"


def test_the_built_files_are_left_as_they_were(tmp_path):
    web = built(tmp_path)
    built_ui.point_at(web, tmp_path / "served", "http://localhost:8080")
    assert (web / "build" / "client" / "assets" / "reflex-env.js").read_text() == BUNDLE
    assert built_ui.built_origin(web) == PLACEHOLDER


def test_a_ui_built_for_the_public_url_is_served_as_it_is(tmp_path, monkeypatch):
    web = built(tmp_path)
    monkeypatch.setattr(serve, "UI_COPY", tmp_path / "copy")
    settings = Settings(DATABASE_URL="sqlite://", SECRET_KEY="k" * 32, ORCHESTRATOR_TOKEN="t" * 32)
    assert serve.prepare_ui(settings.model_copy(update={"public_url": PLACEHOLDER}), web) == web
    assert serve.prepare_ui(settings.model_copy(update={"public_url": "http://localhost:9000"}), web) == tmp_path / "copy"
