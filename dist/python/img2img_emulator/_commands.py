"""Where the wheel's commands (`emulator`, `conformance`) were installed."""

import os
import shutil
import sys
import sysconfig
from pathlib import Path

#: Set to a directory to run the commands found there instead of the installed ones (for example
#: `target/release` of a checkout of the project).
BIN_DIR_ENV = "IMG2IMG_EMULATOR_BIN_DIR"


class CommandNotFound(FileNotFoundError):
    """The wheel's command is not where pip puts scripts, nor on PATH."""


def _script_dirs():
    """The directories a wheel's scripts can have been installed to, most likely first."""
    override = os.environ.get(BIN_DIR_ENV)
    if override:
        yield Path(override)
        return
    yield Path(sysconfig.get_path("scripts"))
    user_scheme = f"{os.name}_user"
    if user_scheme in sysconfig.get_scheme_names():
        yield Path(sysconfig.get_path("scripts", scheme=user_scheme))
    # `pip install --target DIR` puts the package in DIR and the scripts in DIR/bin.
    yield Path(__file__).resolve().parent.parent / "bin"
    yield Path(sys.executable).parent


def command(name):
    """The path of the wheel's command `name` (`emulator` or `conformance`).

    Looks where pip installs scripts for this interpreter (its environment, then the user scheme),
    then on PATH; `IMG2IMG_EMULATOR_BIN_DIR` names a directory to use instead.
    """
    executable = name + (sysconfig.get_config_var("EXE") or "")
    searched = []
    for directory in _script_dirs():
        candidate = directory / executable
        searched.append(str(directory))
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    if not os.environ.get(BIN_DIR_ENV):
        found = shutil.which(executable)
        if found:
            return found
        searched.append("PATH")
    raise CommandNotFound(
        f"the {name!r} command of the img2img-emulator wheel is not installed "
        f"(looked in {', '.join(searched)}); reinstall the wheel, or set {BIN_DIR_ENV}"
    )
