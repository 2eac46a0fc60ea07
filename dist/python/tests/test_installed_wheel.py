"""The installed wheel as a team uses it: the pytest fixture with Novita's official Python SDK
(novita-client 0.7.1) through whole jobs, `start()` directly, and the `conformance` grader.

Run by `dist/check.sh` in a fresh virtual environment holding only the built wheel and
`requirements.txt`; never from the source tree (the first test checks).
"""

import base64
import json
import os
import struct
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import img2img_emulator
import pytest
from img2img_emulator import EmulatorError, command, scenarios, start
from novita_client import NovitaClient, V3TaskResponseStatus

# A 1x1 PNG, as a team's first test sends.
INIT_IMAGE = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
SIZE = 128


def png_size(data):
    """(width, height) of PNG bytes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"not a PNG: {data[:12]!r}"
    return struct.unpack(">II", data[16:24])


def job(emulator):
    """One img2img_v3 call through the SDK, as its README shows: create, poll, download."""
    client = NovitaClient(emulator.api_key, base_url=emulator.base_url)
    return client.img2img_v3(
        model_name="sd_xl_base_1.0.safetensors",
        input_image=INIT_IMAGE,
        prompt="a watercolour fox",
        image_num=1,
        width=SIZE,
        height=SIZE,
        steps=20,
        seed=42,
        response_image_type="png",
    )


def test_the_package_and_commands_come_from_the_installed_wheel():
    assert "site-packages" in img2img_emulator.__file__, img2img_emulator.__file__
    assert img2img_emulator.__version__ != "0+unknown"
    for name in ("emulator", "conformance"):
        path = Path(command(name))
        assert path.parent == Path(sys.executable).parent, path
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True, check=True)
        assert out.stdout.split() == [name, img2img_emulator.__version__], out.stdout


def test_a_whole_job_through_novita_client(img2img_emulator):
    result = job(img2img_emulator)
    assert result.task.status == V3TaskResponseStatus.TASK_STATUS_SUCCEED, result.task
    assert len(result.images_encoded) == 1
    assert png_size(base64.b64decode(result.images_encoded[0])) == (SIZE, SIZE)


@pytest.mark.parametrize("img2img_scenario", ["job-fails"])
def test_a_scenario_by_name_fails_the_job_with_the_graders_reason(img2img_emulator, img2img_scenario):
    result = job(img2img_emulator)
    assert result.task.status == V3TaskResponseStatus.TASK_STATUS_FAILED, result.task
    assert result.task.reason == scenarios()[img2img_scenario]["expect"]["reason"]


@pytest.mark.img2img_emulator(scenario={"latency_ms": {"queued": 300, "processing": 300}})
def test_the_marker_gives_an_emulator_scenario_object(img2img_emulator):
    result = job(img2img_emulator)
    assert result.task.status == V3TaskResponseStatus.TASK_STATUS_SUCCEED, result.task
    # The SDK polled while the job was queued and processing: more than create + one poll.
    polls = [line for line in img2img_emulator.output.splitlines() if "task-result" in line]
    assert len(polls) >= 2, img2img_emulator.output


@pytest.mark.parametrize("img2img_emulator", [("novita", "happy")], indirect=True)
def test_an_indirect_parameter_sets_provider_and_scenario(img2img_emulator):
    assert img2img_emulator.provider == "novita"
    assert job(img2img_emulator).task.status == V3TaskResponseStatus.TASK_STATUS_SUCCEED


def test_start_serves_until_stopped_and_refuses_other_keys():
    with start("novita", api_key="sk-team-test") as emulator:
        assert emulator.api_key == "sk-team-test"
        assert "sk-team-test" not in repr(emulator)
        request = urllib.request.Request(
            emulator.base_url + "/v3/async/task-result?task_id=nope",
            headers={"Authorization": "Bearer sk-other"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code in (401, 403)
        pid = emulator.pid
    assert not emulator.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_an_unknown_provider_or_scenario_is_refused_clearly():
    with pytest.raises(EmulatorError, match="no-such-provider"):
        start("no-such-provider")
    with pytest.raises(ValueError, match="no built-in scenario 'sunny'; known: happy"):
        start("novita", scenario="sunny")


def test_conformance_client_grades_a_novita_client_job(tmp_path):
    script = tmp_path / "novita_job.py"
    script.write_text(
        "import os, sys\n"
        "from novita_client import NovitaClient\n"
        "client = NovitaClient(os.environ['NOVITA_API_KEY'], base_url=os.environ['NOVITA_BASE_URL'])\n"
        f"result = client.img2img_v3(model_name='sd_xl_base_1.0.safetensors', input_image={INIT_IMAGE!r},\n"
        "    prompt='a fox', image_num=1, width=128, height=128, steps=20, response_image_type='png')\n"
        "sys.exit(0 if result.task.status.value == 'TASK_STATUS_SUCCEED' else result.task.reason)\n"
    )
    out = tmp_path / "graded"
    graded = subprocess.run(
        [command("conformance"), "client", "--provider", "novita", "--scenario", "happy",
         "--out", str(out), "--", sys.executable, str(script)],
        capture_output=True, text=True, timeout=300,
    )
    # The SDK's job, as its README writes it, passes every check of the happy scenario.
    assert graded.returncode == 0, graded.stderr
    results = json.loads((out / "results.json").read_text())["results"]
    assert "requests_valid" in {result["check"] for result in results}, results
    for result in results:
        assert (result["scenario"], result["status"]) == ("happy", "passed"), result
        assert result["requests"] >= 3, result  # create, poll, download
