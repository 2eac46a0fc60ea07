#!/usr/bin/env python3
"""Whole img2img jobs through Novita's official Python SDK (novita-client 0.7.1), unmodified,
aimed at IMG2IMG_BASE_URL through the SDK's own `base_url` argument.

    IMG2IMG_BASE_URL=http://127.0.0.1:8080 NOVITA_API_KEY=sk-test python novita_client_check.py

Each case is one `img2img_v3` call: create, poll `wait_for_task_v3` until a terminal status, download
the images; one JSON line per case on stdout; exit status 1 when a case failed.
"""

import base64

from novita_client import NovitaClient, NovitaResponseError, V3TaskResponseStatus

import sdkcheck
from sdkcheck import expect

MODEL = sdkcheck.env("NOVITA_MODEL", "sd_xl_base_1.0.safetensors")
SIZE = 128  # the smallest side the spec allows keeps rendering cheap
FAULT_HEADER = "x-emulator-fault"


def client(key, fault=None):
    """A NovitaClient at IMG2IMG_BASE_URL; `fault` goes in the x-emulator-fault header through the
    SDK's own `set_extra_headers`."""
    novita = NovitaClient(key, base_url=sdkcheck.base_url())
    if fault:
        novita.set_extra_headers({FAULT_HEADER: fault})
    return novita


def job(novita, image_num, image_type):
    """One img2img_v3 call as a user writes it (the SDK fills the fields not given)."""
    return novita.img2img_v3(
        model_name=MODEL,
        input_image=sdkcheck.init_image_base64(),
        prompt="a watercolour fox",
        negative_prompt="",
        image_num=image_num,
        width=SIZE,
        height=SIZE,
        steps=20,
        seed=42,
        response_image_type=image_type,
    )


def succeeded(result, image_num, image_type):
    """Checks a finished job: SUCCEED, `image_num` images of `image_type`, all downloaded."""
    status = result.task.status
    expect(
        status == V3TaskResponseStatus.TASK_STATUS_SUCCEED,
        f"task {result.task.task_id} ended {status.value} (reason {result.task.reason!r})",
    )
    expect(len(result.images) == image_num, f"{len(result.images)} images listed, expected {image_num}")
    for image in result.images:
        expect(image.image_type == image_type, f"image_type {image.image_type!r}, expected {image_type!r}")
    downloaded = getattr(result, "images_encoded", [])
    expect(len(downloaded) == image_num, f"{len(downloaded)} images downloaded, expected {image_num}")
    sizes = [
        sdkcheck.check_image(base64.b64decode(data), image_type, SIZE, SIZE, f"image {i}")
        for i, data in enumerate(downloaded)
    ]
    return f"task {result.task.task_id}: {', '.join(sizes)}"


def main():
    key = sdkcheck.api_key("NOVITA_API_KEY")
    bad_key = sdkcheck.wrong_key(key)
    runner = sdkcheck.Runner("novita-client", secrets=[key, bad_key])

    runner.case("two_images_png", lambda: succeeded(job(client(key), 2, "png"), 2, "png"))
    runner.case("format_jpeg", lambda: succeeded(job(client(key), 1, "jpeg"), 1, "jpeg"))
    runner.case("format_webp", lambda: succeeded(job(client(key), 1, "webp"), 1, "webp"))

    def sdk_defaults():
        # Only the arguments img2img_v3 requires: the SDK picks every other value (jpeg, 512x512,
        # and null for steps, negative_prompt, sd_vae, loras, embeddings, clip_skip, controlnet).
        result = client(key).img2img_v3(
            model_name=MODEL, input_image=sdkcheck.init_image_base64(), prompt="a fox", image_num=1
        )
        expect(result.task.status == V3TaskResponseStatus.TASK_STATUS_SUCCEED, f"ended {result.task.status.value}")
        data = base64.b64decode(result.images_encoded[0])
        return f"task {result.task.task_id}: " + sdkcheck.check_image(data, "jpeg", 512, 512, "image 0")

    runner.case("sdk_defaults", sdk_defaults)

    def wrong_key():
        try:
            result = job(client(bad_key), 1, "png")
        except NovitaResponseError as error:
            text = str(error)
            expect("status 401" in text or "status 403" in text, f"refused, but not with 401/403: {text}")
            return f"NovitaResponseError: {text}"
        raise sdkcheck.CaseFailed(f"a wrong key was accepted: task {result.task.task_id} ended {result.task.status.value}")

    runner.case("wrong_key", wrong_key)

    def failed_task():
        reason = sdkcheck.fault_reason()
        result = job(client(key, fault=f"fail={reason}"), 1, "png")
        status = result.task.status
        expect(status == V3TaskResponseStatus.TASK_STATUS_FAILED, f"ended {status.value}, expected TASK_STATUS_FAILED")
        expect(result.task.reason == reason, f"reason {result.task.reason!r}, expected {reason!r}")
        expect(not getattr(result, "images_encoded", None), "a failed task downloaded images")
        return f"task {result.task.task_id} TASK_STATUS_FAILED, reason {result.task.reason!r} (the SDK returns it; no exception)"

    runner.case("failed_task", failed_task)
    runner.finish()


if __name__ == "__main__":
    main()
