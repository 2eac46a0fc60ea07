#!/usr/bin/env python3
"""One img2img job through novita-client 0.7.1 (Novita's Python SDK) the way its README shows it,
for `conformance client`: `img2img_v3`, which creates the task, polls it with
`wait_for_task_v3` and downloads the images, all inside the SDK. Nothing is checked here: the exit
status is what the SDK leads a caller to (0 when the call returns, 1 when it raises), and the
status and reason it returned are printed.

    cargo xtask conformance client --provider novita -- target/sdk-venv/bin/python conformance/sdk/grade/novita_client_job.py
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))

from novita_client import NovitaClient  # noqa: E402

import sdkcheck  # noqa: E402


def main():
    client = NovitaClient(os.environ["NOVITA_API_KEY"], base_url=os.environ["NOVITA_BASE_URL"])
    result = client.img2img_v3(
        model_name="sd_xl_base_1.0.safetensors",
        input_image=sdkcheck.init_image_base64(),
        prompt="a watercolour fox",
        image_num=1,
        width=128,
        height=128,
        steps=20,
        seed=42,
        response_image_type="png",
    )
    images = getattr(result, "images_encoded", None) or []
    print(f"task {result.task.task_id}: {result.task.status.value} {result.task.reason!r}, {len(images)} image(s)")


if __name__ == "__main__":
    main()
