#!/usr/bin/env python3
"""One NovelAI image-to-image job through gptproto 0.1.0 (GPTProto's official Python SDK) the way its
README shows it, for `conformance client`: `GptprotoClient().run(kind, body)`, which creates the task
and polls it until a terminal status, with the SDK's own defaults (a poll every 3 s, a 600 s
timeout), then prints `unsigned_urls`. The key comes from GPTPROTO_API_KEY, which the SDK reads
itself; the base URL through its `base_url` argument. Nothing is checked here: the exit status is
what the SDK leads a caller to (0 when `run` returns, 1 when it raises).

    cargo xtask conformance client --provider gptproto -- target/sdk-venv/bin/python conformance/sdk/grade/gptproto_job.py
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))

from gptproto import GptprotoClient  # noqa: E402
from gptproto.models import ImageReference, ImageReferenceType, ImageUrl, UnifiedImageRequest  # noqa: E402

import sdkcheck  # noqa: E402


def main():
    client = GptprotoClient(base_url=os.environ["GPTPROTO_BASE_URL"])
    image = "data:image/png;base64," + sdkcheck.init_image_base64()
    result = client.run(
        "image",
        UnifiedImageRequest(
            model="novel/nai-diffusion-4-5-curated",
            prompt="a watercolour fox",
            size="256x256",
            n=1,
            seed=42,
            input_references=[ImageReference(type_=ImageReferenceType.IMAGE_URL, image_url=ImageUrl(url=image))],
        ),
    )
    print(f"task {result.id}: {result.status.value} {result.unsigned_urls}")


if __name__ == "__main__":
    main()
