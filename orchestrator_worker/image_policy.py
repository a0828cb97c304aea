"""Which Docker images an event may name: CRONIUM_ALLOWED_IMAGES, a
comma-separated list of image references, plus the runtime image
(CRONIUM_RUNTIME_IMAGE), which is always allowed; unset, the runtime image
alone.

Without a list any image on the engine would do: one made for another
purpose, or one whose VOLUMEs or entrypoint nobody vetted. The worker
refuses any other image (it decides: the job spec is data from the
database); the app refuses it already when an event is saved. Both read
the same variables and use this one rule, so this module imports only the
standard library.

Matching is exact, after one normalisation: a reference without a tag or
digest means `:latest`, as Docker reads it (`debian` is `debian:latest`).
Nothing else is equated: `docker.io/library/debian` and `debian` are
different entries, a tag does not allow a digest of it or the other way
round (`name@sha256:...` must be listed as such), and an image id is
allowed only if listed.
"""

from __future__ import annotations

DEFAULT_TAG = "latest"


def normalise(reference: str) -> str:
    """`name` → `name:latest`; a reference with a tag or digest as it is."""
    reference = reference.strip()
    if "@" in reference:
        return reference
    # A registry's port (`host:5000/name`) is a colon before the last slash.
    if ":" in reference.rsplit("/", 1)[-1]:
        return reference
    return f"{reference}:{DEFAULT_TAG}"


def allowed_images(listed: str | None, runtime_image: str) -> frozenset[str]:
    """The normalised references CRONIUM_ALLOWED_IMAGES (`listed`) allows."""
    names = [name for name in (listed or "").split(",") if name.strip()]
    return frozenset(normalise(name) for name in [*names, runtime_image])


def refusal(image: str, allowed: frozenset[str]) -> str | None:
    """Why `image` may not be used, or None when it may."""
    if normalise(image) in allowed:
        return None
    return f"image {image!r} is not allowed here (allowed: {', '.join(sorted(allowed))}; see CRONIUM_ALLOWED_IMAGES)"
