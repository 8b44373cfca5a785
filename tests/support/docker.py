"""The one switch for tests that need a Docker engine and the backtest image.

``docker_image`` (a session fixture, via :func:`sandbox_image`) skips the test with the
reason in ``pytest -rs`` when no engine answers or no image can be had; it builds the
backtest image when the engine answers but the image is missing (on the local base of
``scripts/make-base-image`` when that exists). :func:`leftover_containers` lists the
sandbox's containers this process still owns: every test must leave none.
"""

from __future__ import annotations

import functools

import pytest

from alphaloop.sandbox import SandboxError, SandboxUnavailable

__all__ = ["leftover_containers", "sandbox_image"]


@functools.cache
def _image_or_reason() -> tuple[str | None, str]:
    from alphaloop.sandbox.docker_engine import docker_client
    from alphaloop.sandbox.images import LOCAL_BASE, build_backtest_image, find_backtest_image

    try:
        client = docker_client()
    except SandboxUnavailable as exc:
        return None, f"Docker tests skipped: {exc}"
    tag = find_backtest_image(client)
    if tag is not None:
        return tag, ""
    try:
        has_local = bool(client.images.list(name=LOCAL_BASE))
        return build_backtest_image(LOCAL_BASE if has_local else None, client=client), ""
    except SandboxError as exc:
        return None, (f"Docker tests skipped: no backtest image and it could not be built "
                      f"(run scripts/make-base-image, then alphaloop sandbox build --base "
                      f"{LOCAL_BASE}): {str(exc)[:500]}")


def sandbox_image() -> str:
    """The backtest image's tag, or skip the calling test saying why there is none."""
    tag, reason = _image_or_reason()
    if tag is None:
        pytest.skip(reason)
    return tag


def leftover_containers() -> list[str]:
    """Containers of the sandbox this test process still owns (it should own none)."""
    from alphaloop.sandbox.docker_engine import OWNER_LABEL, SANDBOX_LABEL, docker_client, owner

    client = docker_client()
    found = client.containers.list(all=True, filters={"label": f"{OWNER_LABEL}={owner()}"})
    return [c.short_id for c in found if c.labels.get(SANDBOX_LABEL)]
