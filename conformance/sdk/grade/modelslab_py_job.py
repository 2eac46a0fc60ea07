#!/usr/bin/env python3
"""One img2img job through modelslab-py 0.2.3 (ModelsLab's Python SDK) the way its README shows
it, for `conformance client`: `Community(enterprise=True).image_to_image`, then `fetch` while the
answer is `processing`. The SDK's wait between fetches is set to 1 s (its `fetch_timeout`; the
default of 60 s would make every graded run a minute long); its retry count stays at the SDK's
default (10). Nothing is checked here: the exit status is what the SDK leads a caller to (0 when
the calls return, 1 when one raises), and the last answer's status and message are printed.

    cargo xtask conformance client --provider modelslab -- target/sdk-venv/bin/python conformance/sdk/grade/modelslab_py_job.py
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))

from modelslab_py.core.apis.community import Community  # noqa: E402
from modelslab_py.core.client import Client  # noqa: E402
from modelslab_py.schemas.community import Image2Image  # noqa: E402

import sdkcheck  # noqa: E402


def main():
    client = Client(api_key=os.environ["MODELSLAB_API_KEY"], fetch_timeout=1)
    # The SDK has no base-URL argument or variable: its one attribute, set before Community reads it.
    client.base_url = os.environ["MODELSLAB_BASE_URL"].rstrip("/") + "/api/"
    community = Community(client=client, enterprise=True)
    answer = community.image_to_image(
        Image2Image(
            prompt="a watercolour fox",
            model_id="sd-1.5",
            init_image=sdkcheck.init_image_base64(),
            width=256,
            height=256,
            samples=1,
            num_inference_steps=20,
            guidance_scale=7.5,
            seed=42,
        )
    )
    if answer.get("status") == "processing":
        answer = community.fetch(str(answer["id"]))
    print(f"status {answer.get('status')!r}: {answer.get('message') or answer.get('output')}")


if __name__ == "__main__":
    main()
