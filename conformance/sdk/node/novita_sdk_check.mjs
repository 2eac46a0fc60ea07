// Whole img2img jobs through Novita's official JS SDK (novita-sdk 3.1.3), unmodified, aimed at
// IMG2IMG_BASE_URL through the SDK's own `setBaseUrl`.
//
//   IMG2IMG_BASE_URL=http://127.0.0.1:8080 NOVITA_API_KEY=sk-test node novita_sdk_check.mjs
//
// The SDK has no polling or download helper: each case calls `img2Img`, then `progress` every
// NOVITA_POLL_MS (default 1000, the interval of the SDK's README loop) until TASK_STATUS_SUCCEED or
// TASK_STATUS_FAILED, then downloads each `image_url` with fetch. One JSON line per case on stdout;
// exit status 1 when a case failed.
//
// The SDK cannot add a header of the caller's choice; it sends its requests through the `axios`
// module's default instance, so the failed-task case adds `x-emulator-fault` with an axios request
// interceptor for that case only (the SDK's code is untouched).

import { createRequire } from "node:module";
import { deflateSync } from "node:zlib";

const require = createRequire(import.meta.url);
const { NovitaSDK, NovitaError, TaskStatus } = require("novita-sdk");
// The same CommonJS instance the SDK's `require("axios")` returns.
const axios = require("axios");

const BASE_URL = (process.env.IMG2IMG_BASE_URL || "").replace(/\/+$/, "");
const KEY = process.env.NOVITA_API_KEY || process.env.IMG2IMG_API_KEY || "";
if (!BASE_URL || !KEY) {
  console.error("IMG2IMG_BASE_URL and NOVITA_API_KEY (or IMG2IMG_API_KEY) must be set (see conformance/sdk/README.md)");
  process.exit(2);
}
const WRONG_KEY = process.env.IMG2IMG_WRONG_KEY || `${KEY}-wrong`;
const FAULT_REASON = process.env.IMG2IMG_FAULT_REASON || "sdk-check failure";
const MODEL = process.env.NOVITA_MODEL || "sd_xl_base_1.0.safetensors";
const POLL_MS = Number(process.env.NOVITA_POLL_MS || 1000);
const DEADLINE_MS = Number(process.env.NOVITA_DEADLINE_MS || 120000);
const SIZE = 128;

// A 64x64 gradient PNG, built without dependencies (zlib from node).
function initImageBase64() {
  const width = 64;
  const height = 64;
  const rows = [];
  for (let y = 0; y < height; y++) {
    const pixels = [];
    for (let x = 0; x < width; x++) pixels.push((x * 4) % 256, (y * 4) % 256, 128);
    // Filter type 1 (Sub): each byte minus the same channel of the pixel to its left.
    const row = Buffer.alloc(1 + pixels.length);
    row[0] = 1;
    pixels.forEach((v, i) => (row[1 + i] = (v - (i >= 3 ? pixels[i - 3] : 0)) & 0xff));
    rows.push(row);
  }
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
  return png.toString("base64");
}

const MAGIC = {
  png: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  jpeg: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  webp: (b) => b.subarray(0, 4).toString("latin1") === "RIFF" && b.subarray(8, 12).toString("latin1") === "WEBP",
};

// Width and height from the file header of a PNG, JPEG or WebP.
function dimensions(b, fmt) {
  if (fmt === "png") return [b.readUInt32BE(16), b.readUInt32BE(20)];
  if (fmt === "webp") {
    const kind = b.subarray(12, 16).toString("latin1");
    if (kind === "VP8X") return [1 + b.readUIntLE(24, 3), 1 + b.readUIntLE(27, 3)];
    if (kind === "VP8L") {
      const bits = b.readUInt32LE(21);
      return [1 + (bits & 0x3fff), 1 + ((bits >>> 14) & 0x3fff)];
    }
    return [b.readUInt16LE(26) & 0x3fff, b.readUInt16LE(28) & 0x3fff];
  }
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1];
    const length = b.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return [b.readUInt16BE(i + 7), b.readUInt16BE(i + 5)];
    }
    i += 2 + length;
  }
  return null;
}

class CaseFailed extends Error {}
const expect = (condition, message) => {
  if (!condition) throw new CaseFailed(message);
};
const redact = (text) => [KEY, WRONG_KEY].reduce((t, s) => (s ? t.split(s).join("[redacted]") : t), text);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const describe = (e) =>
  e instanceof NovitaError
    ? `NovitaError code ${e.code}, reason ${JSON.stringify(e.reason)}, msg ${JSON.stringify(e.msg)}`
    : `${e && e.name}: ${e && e.message}`;

function sdk(key) {
  const novita = new NovitaSDK(key);
  novita.setBaseUrl(BASE_URL);
  return novita;
}

function body(imageNum, imageType) {
  return {
    extra: { response_image_type: imageType },
    request: {
      model_name: MODEL,
      image_base64: initImageBase64(),
      prompt: "a watercolour fox",
      negative_prompt: "",
      width: SIZE,
      height: SIZE,
      image_num: imageNum,
      steps: 20,
      seed: 42,
      guidance_scale: 7.5,
      sampler_name: "Euler a",
      strength: 0.5,
    },
  };
}

// img2Img, then progress until a terminal status.
async function runJob(novita, params) {
  const created = await novita.img2Img(params);
  expect(created && created.task_id, `no task_id in ${JSON.stringify(created)}`);
  const started = Date.now();
  for (;;) {
    const result = await novita.progress({ task_id: created.task_id });
    const status = result.task.status;
    if (status === TaskStatus.SUCCEED || status === TaskStatus.FAILED) return result;
    expect(Date.now() - started < DEADLINE_MS, `task ${created.task_id} still ${status} after ${DEADLINE_MS} ms`);
    await sleep(POLL_MS);
  }
}

async function succeeded(result, imageNum, imageType) {
  expect(
    result.task.status === TaskStatus.SUCCEED,
    `task ${result.task.task_id} ended ${result.task.status} (reason ${JSON.stringify(result.task.reason)})`,
  );
  const images = result.images || [];
  expect(images.length === imageNum, `${images.length} images listed, expected ${imageNum}`);
  const seen = [];
  for (const [i, image] of images.entries()) {
    expect(image.image_type === imageType, `image ${i}: image_type ${image.image_type}, expected ${imageType}`);
    const response = await fetch(image.image_url);
    expect(response.ok, `GET ${image.image_url}: HTTP ${response.status}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(MAGIC[imageType](bytes), `image ${i}: not a ${imageType} file`);
    const size = dimensions(bytes, imageType);
    expect(size && size[0] === SIZE && size[1] === SIZE, `image ${i}: ${size}, expected ${SIZE}x${SIZE}`);
    seen.push(`${imageType} ${size[0]}x${size[1]} ${bytes.length} B`);
  }
  return `task ${result.task.task_id}: ${seen.join(", ")}`;
}

const cases = [
  ["two_images_png", async () => succeeded(await runJob(sdk(KEY), body(2, "png")), 2, "png")],
  ["format_jpeg", async () => succeeded(await runJob(sdk(KEY), body(1, "jpeg")), 1, "jpeg")],
  ["format_webp", async () => succeeded(await runJob(sdk(KEY), body(1, "webp")), 1, "webp")],
  [
    "wrong_key",
    async () => {
      let result;
      try {
        result = await runJob(sdk(WRONG_KEY), body(1, "png"));
      } catch (e) {
        expect(e instanceof NovitaError, `refused, but not with a NovitaError: ${describe(e)}`);
        expect(e.code === 401 || e.code === 403, `refused, but not with 401/403: ${describe(e)}`);
        return describe(e);
      }
      throw new CaseFailed(`a wrong key was accepted: task ${result.task.task_id} ended ${result.task.status}`);
    },
  ],
  [
    "failed_task",
    async () => {
      const id = axios.interceptors.request.use((config) => {
        config.headers.set("x-emulator-fault", `fail=${FAULT_REASON}`);
        return config;
      });
      let result;
      try {
        result = await runJob(sdk(KEY), body(1, "png"));
      } finally {
        axios.interceptors.request.eject(id);
      }
      expect(result.task.status === TaskStatus.FAILED, `ended ${result.task.status}, expected ${TaskStatus.FAILED}`);
      expect(result.task.reason === FAULT_REASON, `reason ${JSON.stringify(result.task.reason)}, expected ${JSON.stringify(FAULT_REASON)}`);
      return `task ${result.task.task_id} ${result.task.status}, reason ${JSON.stringify(result.task.reason)} (progress resolves; no error)`;
    },
  ],
];

let passed = 0;
let failed = 0;
for (const [name, run] of cases) {
  let line;
  try {
    line = { sdk: "novita-sdk", case: name, ok: true, detail: await run() };
    passed++;
  } catch (e) {
    line = { sdk: "novita-sdk", case: name, ok: false, detail: e instanceof CaseFailed ? e.message : describe(e) };
    failed++;
  }
  console.log(redact(JSON.stringify(line)));
}
console.error(`novita-sdk: ${passed} passed, ${failed} failed, 0 skipped`);
process.exit(failed ? 1 : 0);
