#!/usr/bin/env python3
"""Whole image-to-image jobs through GPTProto's official Python SDK (gptproto 0.1.0), unmodified,
aimed at IMG2IMG_BASE_URL through the SDK's own `base_url` argument. The SDK calls GPTProto's
unified API (`POST /api/v3/images`, `POST /api/v3/images/edit`, `GET /api/v3/tasks/result/{id}`),
NovelAI being the model `novel/nai-diffusion-4-5-curated`.

    IMG2IMG_BASE_URL=http://127.0.0.1:8080 GPTPROTO_API_KEY=sk-test python gptproto_check.py

Each case is one job through `GptprotoClient.run` (create, then poll `get` until a terminal status)
or through `create` and `get`; the SDK downloads nothing, so the images are fetched here from
`unsigned_urls` with a plain GET. One JSON line per case on stdout; exit status 1 when a case failed.
"""

import base64
import time

import httpx
from gptproto import GptprotoClient, TaskFailedError
from gptproto.models import (
    ImageReference,
    ImageReferenceType,
    ImageUrl,
    ProviderOptions,
    UnifiedImageRequest,
    UnifiedImageToolRequest,
)

import sdkcheck
from sdkcheck import expect

MODEL = sdkcheck.env("GPTPROTO_MODEL", "novel/nai-diffusion-4-5-curated")
SIZE = 128  # small outputs keep rendering cheap
# Seconds between polls: `run`'s own argument (its default of 3 s makes every case slow).
POLL = float(sdkcheck.env("GPTPROTO_POLL_INTERVAL", "0.2"))
TIMEOUT = 60.0


def client(key):
    """A GptprotoClient at IMG2IMG_BASE_URL through its `base_url` argument."""
    return GptprotoClient(api_key=key, base_url=sdkcheck.base_url())


def init_image_data_url():
    """The test image as a `data:` URL, the form `ImageUrl.url` (a URI) can carry inline."""
    return "data:image/png;base64," + base64.b64encode(sdkcheck.init_image_png()).decode("ascii")


def image_request(n):
    """A NovelAI image-to-image request as a user writes it with the SDK's models: the unified
    fields, and NovelAI's own parameters under `provider.options.novel.parameters`."""
    return UnifiedImageRequest(
        model=MODEL,
        prompt="a watercolour fox",
        size=f"{SIZE}x{SIZE}",
        n=n,
        seed=42,
        input_references=[
            ImageReference(type_=ImageReferenceType.IMAGE_URL, image_url=ImageUrl(url=init_image_data_url()))
        ],
        provider=ProviderOptions.from_dict(
            {
                "options": {
                    "novel": {
                        "parameters": {
                            "steps": 20,
                            "scale": 5,
                            "sampler": "k_euler_ancestral",
                            "strength": 0.5,
                        }
                    }
                }
            }
        ),
    )


def downloaded(urls, count, width, height):
    """Fetches every URL (the SDK has no download helper) and checks `count` PNGs of the size."""
    expect(len(urls) == count, f"{len(urls)} unsigned_urls, expected {count}")
    sizes = []
    for i, url in enumerate(urls):
        answer = httpx.get(url, timeout=30)
        expect(answer.status_code == 200, f"image {i}: GET {url} answered {answer.status_code}")
        sizes.append(sdkcheck.check_image(answer.content, "png", width, height, f"image {i}"))
    return ", ".join(sizes)


def main():
    key = sdkcheck.api_key("GPTPROTO_API_KEY")
    bad_key = sdkcheck.wrong_key(key)
    runner = sdkcheck.Runner("gptproto", secrets=[key, bad_key])

    def two_images_png():
        result = client(key).run("image", image_request(2), timeout=TIMEOUT, poll_interval=POLL)
        expect(result.status.value == "completed", f"task {result.id} ended {result.status.value}")
        return f"task {result.id}: " + downloaded(result.unsigned_urls, 2, SIZE, SIZE)

    runner.case("two_images_png", two_images_png)

    def create_then_get():
        # The SDK's two calls by hand: the create answer (202) is a pending task; `get` polls it.
        gptproto = client(key)
        created = gptproto.create("image", image_request(1))
        expect(created.status.value == "pending", f"the create answered {created.status.value}, expected pending")
        expect(created.polling_url.endswith("/" + created.id), f"polling_url {created.polling_url!r}")
        seen = [created.status.value]
        for _ in range(int(TIMEOUT / POLL)):
            task = gptproto.get(created.id, "image")
            if seen[-1] != task.status.value:
                seen.append(task.status.value)
            if task.status.value in ("completed", "failed", "cancelled", "expired"):
                break
            time.sleep(POLL)
        expect(seen[-1] == "completed", f"task {created.id}: statuses {seen}")
        return f"task {created.id} ({' -> '.join(seen)}): " + downloaded(task.unsigned_urls, 1, SIZE, SIZE)

    runner.case("create_then_get", create_then_get)

    def image_tool():
        # The image-tool endpoint: one input image, no prompt; the output keeps the input's size.
        body = UnifiedImageToolRequest(model=MODEL, image=init_image_data_url())
        result = client(key).run("image-tool", body, timeout=TIMEOUT, poll_interval=POLL)
        expect(result.status.value == "completed", f"task {result.id} ended {result.status.value}")
        urls = result.unsigned_urls
        expect(len(urls) == 1, f"{len(urls)} unsigned_urls, expected 1")
        answer = httpx.get(urls[0], timeout=30)
        expect(answer.status_code == 200, f"GET {urls[0]} answered {answer.status_code}")
        expect(sdkcheck.MAGIC["png"](answer.content), "not a PNG")
        return f"task {result.id}: png {len(answer.content)} B"

    runner.case("image_tool", image_tool)

    def wrong_key():
        try:
            result = client(bad_key).run("image", image_request(1), timeout=TIMEOUT, poll_interval=POLL)
        except RuntimeError as error:
            text = str(error)
            expect("code=401" in text or "code=403" in text, f"refused, but not with 401/403: {text}")
            return f"RuntimeError: {text}"
        raise sdkcheck.CaseFailed(f"a wrong key was accepted: task {result.id} ended {result.status.value}")

    runner.case("wrong_key", wrong_key)

    def failed_task():
        # The SDK cannot add a header (GptprotoClient takes none): the fault key, or a server that
        # fails every job.
        fault_key, fault_base = sdkcheck.fault_key(), sdkcheck.fault_base_url()
        if fault_key:
            failing = client(fault_key)
        elif fault_base:
            failing = GptprotoClient(api_key=key, base_url=fault_base)
        else:
            return sdkcheck.Skip("neither IMG2IMG_FAULT_KEY nor IMG2IMG_FAULT_BASE_URL is set")
        reason = sdkcheck.fault_reason()
        try:
            result = failing.run("image", image_request(1), timeout=TIMEOUT, poll_interval=POLL)
        except TaskFailedError as error:
            expect(error.status == "failed", f"ended {error.status}, expected failed")
            expect(error.error == reason, f"error {error.error!r}, expected {reason!r}")
            return f"TaskFailedError: {error}"
        raise sdkcheck.CaseFailed(f"task {result.id} ended {result.status.value}, expected failed")

    runner.case("failed_task", failed_task)

    def unknown_task():
        # GPTProto documents no answer for an unknown id; the SDK parses only 200 and 401 there.
        try:
            task = client(key).get("no-such-task", "image")
        except RuntimeError as error:
            return f"RuntimeError: {error}"
        raise sdkcheck.CaseFailed(f"an unknown task was answered: {task.id} {task.status.value}")

    runner.case("unknown_task", unknown_task)
    runner.finish()


if __name__ == "__main__":
    main()
