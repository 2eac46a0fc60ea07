"""Faithful local emulators of paid image-to-image APIs, for tests.

    from img2img_emulator import start

    with start("novita", scenario="slow-queue") as emulator:
        client = NovitaClient(emulator.api_key, base_url=emulator.base_url)
        ...

The wheel also installs the `emulator` command (the same server, every flag) and `conformance`
(`conformance client --provider novita -- python my_job.py` grades your integration under every
scenario). The pytest plugin (registered through the `pytest11` entry point) gives the fixture
`img2img_emulator`; see `img2img_emulator.pytest_plugin`.
"""

from ._commands import CommandNotFound, command
from ._emulator import Emulator, EmulatorError, start
from ._scenarios import scenarios

for _public in (CommandNotFound, Emulator, EmulatorError):
    _public.__module__ = __name__

__all__ = [
    "CommandNotFound",
    "Emulator",
    "EmulatorError",
    "command",
    "scenarios",
    "start",
    "__version__",
]


def _version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("img2img-emulator")
    except PackageNotFoundError:  # imported from a source tree, not installed
        return "0+unknown"


__version__ = _version()
