#!/usr/bin/env python3
"""Whole img2img jobs through ModelsLab's official Python SDK (modelslab-py 0.2.3), unmodified,
aimed at IMG2IMG_BASE_URL through the SDK's own `Client.base_url` attribute (the SDK has no
constructor argument or environment variable for it; `Community` reads it when it is built).

    IMG2IMG_BASE_URL=http://127.0.0.1:8080 MODELSLAB_API_KEY=sk-test python modelslab_py_check.py

Each case is `Community(enterprise=True).image_to_image`, then `fetch` while the answer is
`processing`, then a download of each `output` URL (the SDK has no download helper). One JSON line
per case on stdout; exit status 1 when a case failed.

Extra environment: IMG2IMG_QUEUED_BASE_URL (an emulator started with `--modelslab-mode queued`;
default IMG2IMG_BASE_URL), IMG2IMG_FAULT_KEY (a key the emulator fails every job for, `--key-fault`), MODELSLAB_FETCH_WAIT (seconds the SDK sleeps between fetches; default 1,
the SDK's own default is 60), MODELSLAB_FETCH_RETRY (default 30).
"""

import base64
import binascii

import requests
from modelslab_py.core.apis.community import Community
from modelslab_py.core.client import Client
from modelslab_py.schemas.community import Image2Image

import sdkcheck
from sdkcheck import Skip, expect

MODEL = sdkcheck.env("MODELSLAB_MODEL", "sd-1.5")
SIZE = 256  # the smallest side the spec allows
FETCH_WAIT = int(sdkcheck.env("MODELSLAB_FETCH_WAIT", "1"))
FETCH_RETRY = int(sdkcheck.env("MODELSLAB_FETCH_RETRY", "30"))


def community(key, origin, fetch_retry=FETCH_RETRY, enterprise=True):
    """The SDK's image API at `origin`: enterprise (`<base_url>v1/enterprise/images/...`) or, with
    `enterprise=False`, v6 (`<base_url>v6/images/...`)."""
    client = Client(api_key=key, fetch_retry=fetch_retry, fetch_timeout=FETCH_WAIT)
    client.base_url = origin + "/api/"
    return Community(client=client, enterprise=enterprise)


def schema(samples=1, **extra):
    """An Image2Image request as a user writes it; `extra` fields the schema lacks (it allows them)."""
    return Image2Image(
        prompt="a watercolour fox",
        model_id=MODEL,
        init_image=sdkcheck.init_image_base64(),
        width=SIZE,
        height=SIZE,
        samples=samples,
        num_inference_steps=20,
        guidance_scale=7.5,
        seed=42,
        safety_checker="no",
        scheduler="EulerAncestralDiscreteScheduler",
        strength=0.7,
        **extra,
    )


def run_job(api, request):
    """Create, then fetch while processing; returns (first answer, final answer)."""
    first = api.image_to_image(request)
    final = first
    if first.get("status") == "processing":
        expect("id" in first, f"a processing answer without id: {first}")
        final = api.fetch(str(first["id"]))
    return first, final


def image_bytes(entry):
    """The image an `output` entry stands for: a URL (downloaded), or base64 data."""
    if entry.startswith(("http://", "https://")):
        response = requests.get(entry, timeout=30)
        expect(response.status_code == 200, f"GET {entry}: HTTP {response.status_code}")
        data = response.content
        if not sdkcheck.MAGIC["png"](data):  # a link to base64 text
            data = base64.b64decode(data)
        return data
    try:
        return base64.b64decode(entry, validate=True)
    except binascii.Error as error:
        raise sdkcheck.CaseFailed(f"output entry is neither a URL nor base64: {entry[:40]!r} ({error})")


def succeeded(first, final, samples):
    """Checks a finished job: success, `samples` PNG outputs of the requested size."""
    expect(final.get("status") == "success", f"ended {final.get('status')!r}: {final.get('message') or final}")
    output = final.get("output")
    expect(isinstance(output, list) and len(output) == samples, f"output {output!r}, expected {samples} entries")
    sizes = [sdkcheck.check_image(image_bytes(e), "png", SIZE, SIZE, f"output {i}") for i, e in enumerate(output)]
    return f"id {final.get('id')} (first answer {first.get('status')}): {', '.join(sizes)}"


def main():
    key = sdkcheck.api_key("MODELSLAB_API_KEY")
    bad_key = sdkcheck.wrong_key(key)
    origin = sdkcheck.base_url()
    queued_origin = sdkcheck.queued_base_url()
    runner = sdkcheck.Runner("modelslab-py", secrets=[key, bad_key, sdkcheck.fault_key()])

    def two_images():
        first, final = run_job(community(key, origin), schema(samples=2))
        return succeeded(first, final, 2)

    runner.case("two_images_png", two_images)

    def base64_output():
        # `base64` is not a field of the SDK's Image2Image; its schema lets extra fields through.
        first, final = run_job(community(key, origin), schema(base64="yes"))
        return succeeded(first, final, 1)

    runner.case("base64_output", base64_output)

    def queued_job():
        first, final = run_job(community(key, queued_origin), schema())
        expect(
            first.get("status") == "processing",
            f"the create answered {first.get('status')!r}, not processing: start the emulator with "
            "--modelslab-mode queued, or set IMG2IMG_QUEUED_BASE_URL to one that is",
        )
        detail = succeeded(first, final, 1)
        return f"{detail}; fetch_result {first.get('fetch_result')!r} (the SDK does not follow it)"

    runner.case("queued_job", queued_job)

    def v6_queued_job():
        # Without enterprise=True the SDK calls /api/v6/images/img2img and fetches /api/v6/images/fetch/{id}.
        first, final = run_job(community(key, queued_origin, enterprise=False), schema())
        expect(first.get("status") == "processing", f"the create answered {first.get('status')!r}, not processing")
        return succeeded(first, final, 1)

    runner.case("v6_queued_job", v6_queued_job)

    def wrong_key():
        try:
            answer = community(bad_key, origin).image_to_image(schema())
        except Exception as error:  # the SDK raises a bare Exception for any non-200 status
            text = str(error)
            expect("status code 401" in text or "status code 403" in text, f"refused, but not with 401/403: {text}")
            return f"{type(error).__name__}: {text}"
        expect(answer.get("status") == "error", f"a wrong key was accepted: {answer}")
        return f"HTTP 200 with status error: {answer.get('message')!r}"

    runner.case("wrong_key", wrong_key)

    def failed_task():
        # modelslab-py cannot add a request header (Client.post builds its own headers), so the
        # x-emulator-fault header cannot reach the emulator: a key the emulator fails every job for
        # (--key-fault KEY=fail=<reason>), or an emulator failing every job, stands in for it.
        fault_key = sdkcheck.fault_key()
        fault_origin = sdkcheck.fault_base_url()
        if fault_key:
            api = community(fault_key, origin, fetch_retry=2)
        elif fault_origin:
            api = community(key, fault_origin, fetch_retry=2)
        else:
            return Skip(
                "set IMG2IMG_FAULT_KEY to a key the emulator fails (--key-fault KEY=fail=<IMG2IMG_FAULT_REASON>), "
                "or IMG2IMG_FAULT_BASE_URL to an emulator started with --fault 'fail=<IMG2IMG_FAULT_REASON>'"
            )
        reason = sdkcheck.fault_reason()
        first, final = run_job(api, schema())
        expect(final.get("status") in ("failed", "error"), f"ended {final.get('status')!r}, expected failed")
        message = final.get("message") or final.get("messege")
        expect(message == reason, f"message {message!r}, expected {reason!r}")
        return f"status {final['status']}, message {message!r} (the SDK returns it; no exception)"

    runner.case("failed_task", failed_task)
    runner.finish()


if __name__ == "__main__":
    main()
