"""The client grader's built-in scenarios (`conformance client --scenario NAME`), by name.

`scenarios.json` is the grader's own file (conformance/harness/src/client_grading/scenarios.json),
copied into the package by `cargo xtask dist`; each scenario's `emulator` part is a scenario file
of the `emulator --scenario` format.
"""

import json
import os
import re
from importlib import resources

#: What a scenario name is made of (the grader's rule); anything else is read as a file path.
NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def scenarios():
    """The built-in scenarios, by name, in the grader's order: each a dict with `description`,
    `expect` (what the grader expects of a client) and `emulator` (the emulator's configuration)."""
    try:
        text = resources.files(__package__).joinpath("scenarios.json").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            "this img2img_emulator has no scenarios.json: build the wheel with `cargo xtask dist`, "
            "which copies in the grader's scenarios"
        ) from None
    return {scenario["name"]: scenario for scenario in json.loads(text)["scenarios"]}


def emulator_scenario(scenario):
    """What to give `emulator --scenario` for `scenario`: `("json", text)` or `("file", path)`.

    `scenario` is a built-in scenario's name, a mapping (an emulator scenario, written out as
    JSON), or the path of a scenario file.
    """
    if isinstance(scenario, dict):
        return "json", json.dumps(scenario)
    if isinstance(scenario, str) and NAME.match(scenario):
        known = scenarios()
        if scenario not in known:
            raise ValueError(
                f"no built-in scenario {scenario!r}; known: {', '.join(known)} "
                "(or give a scenario file's path, or a dict)"
            )
        return "json", json.dumps(known[scenario].get("emulator") or {})
    if isinstance(scenario, (str, os.PathLike)):
        path = os.fspath(scenario)
        if not os.path.isfile(path):
            raise ValueError(f"scenario file {path!r} does not exist")
        return "file", path
    raise TypeError(
        f"scenario must be a built-in scenario's name, a dict or a file path, not {type(scenario).__name__}"
    )
