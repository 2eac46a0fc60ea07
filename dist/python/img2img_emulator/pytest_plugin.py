"""The pytest plugin (entry point `pytest11`): the fixture `img2img_emulator`.

    def test_job(img2img_emulator):
        client = NovitaClient(img2img_emulator.api_key, base_url=img2img_emulator.base_url)

Each test gets its own emulator (an `img2img_emulator.Emulator`), stopped after it. Novita with no
scenario unless told otherwise, in any of three ways:

    @pytest.mark.parametrize("img2img_scenario", ["happy", "job-fails"])   # or "img2img_provider"
    @pytest.mark.img2img_emulator(provider="gptproto", scenario="slow-queue", args=["--rate-limit"])
    @pytest.mark.parametrize("img2img_emulator", ["modelslab", {"provider": "novita", "scenario": "stuck"}], indirect=True)

(an indirect parameter is a provider id, a `(provider, scenario)` pair, or a dict of `start()`
arguments). When a test fails, the emulator's output (one line per request) is added to its report.
"""

import weakref

import pytest

from ._emulator import start

_SECTION = "img2img emulator output"
#: The emulators each test started, for its report (any pytest version; gone with the test item).
_EMULATORS = weakref.WeakKeyDictionary()


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "img2img_emulator(provider=..., scenario=..., api_key=..., args=...): "
        "how the img2img_emulator fixture starts the emulator",
    )


@pytest.fixture
def img2img_provider():
    """The provider the `img2img_emulator` fixture serves (parametrize it to change it)."""
    return "novita"


@pytest.fixture
def img2img_scenario():
    """The scenario the `img2img_emulator` fixture runs (parametrize it to change it)."""
    return None


def _options(param):
    """`start()` arguments from an indirect parameter."""
    if isinstance(param, str):
        return {"provider": param}
    if isinstance(param, tuple) and len(param) == 2:
        return {"provider": param[0], "scenario": param[1]}
    if isinstance(param, dict):
        return dict(param)
    raise TypeError(
        "an img2img_emulator parameter is a provider id, a (provider, scenario) pair or a dict of "
        f"start() arguments, not {param!r}"
    )


@pytest.fixture
def img2img_emulator(request, img2img_provider, img2img_scenario):
    """A running emulator (`img2img_emulator.Emulator`: `base_url`, `api_key`, `stop()`), stopped
    after the test."""
    options = {"provider": img2img_provider, "scenario": img2img_scenario}
    marker = request.node.get_closest_marker("img2img_emulator")
    if marker is not None:
        options.update(marker.kwargs)
    if hasattr(request, "param"):
        options.update(_options(request.param))
    emulator = start(**options)
    _EMULATORS.setdefault(request.node, []).append(emulator)
    try:
        yield emulator
    finally:
        emulator.stop()



@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when == "call":
        for emulator in _EMULATORS.get(item, []):
            report.sections.append((f"{_SECTION} ({emulator.provider})", emulator.output))
