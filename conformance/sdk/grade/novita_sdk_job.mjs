// One img2img job through novita-sdk 3.1.3 (Novita's JS SDK) the way its README shows it, for
// `conformance client`: `img2Img`, then `progress` every 1000 ms until TASK_STATUS_SUCCEED or
// TASK_STATUS_FAILED, with no limit (the SDK has no polling or download helper; the README's loop
// logs the image URLs). Nothing is checked here: the exit status is what the SDK leads a caller to
// (0 when the calls resolve, 1 when one rejects).
//
//   cargo xtask conformance client --provider novita -- node conformance/sdk/grade/novita_sdk_job.mjs

import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

// The SDK is installed beside the check scripts (conformance/sdk/node, `npm ci`), or where
// SDK_NODE_DIR says.
const here = path.dirname(fileURLToPath(import.meta.url));
const nodeDir = process.env.SDK_NODE_DIR || path.join(here, "..", "node");
const require = createRequire(path.join(nodeDir, "package.json"));
const { NovitaSDK, TaskStatus } = require("novita-sdk");

// A 1x1 PNG: the README's example sends a base64 image the caller has at hand.
const IMAGE =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";

const sdk = new NovitaSDK(process.env.NOVITA_API_KEY);
sdk.setBaseUrl(process.env.NOVITA_BASE_URL);

const params = {
  request: {
    model_name: "sd_xl_base_1.0.safetensors",
    image_base64: IMAGE,
    prompt: "a watercolour fox",
    width: 128,
    height: 128,
    image_num: 1,
    steps: 20,
    guidance_scale: 7.5,
    sampler_name: "Euler a",
    seed: 42,
  },
};

sdk
  .img2Img(params)
  .then((res) => {
    const timer = setInterval(() => {
      sdk
        .progress({ task_id: res.task_id })
        .then((progress) => {
          if (progress.task.status === TaskStatus.SUCCEED) {
            console.log("finished!", progress.images.map((i) => i.image_url));
            clearInterval(timer);
          }
          if (progress.task.status === TaskStatus.FAILED) {
            console.warn("failed!", progress.task.reason);
            clearInterval(timer);
          }
        })
        .catch((err) => {
          console.error("progress error:", err);
        });
    }, 1000);
  })
  .catch((err) => {
    console.error("error:", err);
    process.exitCode = 1;
  });
