// The installed npm packages as a team uses them: startEmulator() with Novita's official JS SDK
// (novita-sdk 3.1.3) through whole jobs, the scenarios, and the packaged commands.
//
// Run by dist/check.sh with node's test runner, in a temporary node project holding only the
// built tarballs and novita-sdk; never from the source tree (the first test checks).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { test } from "node:test";

import { commandPath, scenarios, startEmulator } from "img2img-emulator";

const require = createRequire(import.meta.url);
const { NovitaError, NovitaSDK, TaskStatus } = require("novita-sdk");

// A 1x1 PNG, as a team's first test sends.
const INIT_IMAGE =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";
const SIZE = 128;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// img2Img, then progress every 250 ms until a terminal status (the SDK has no polling helper).
async function job(emulator) {
  const sdk = new NovitaSDK(emulator.apiKey);
  sdk.setBaseUrl(emulator.baseUrl);
  const created = await sdk.img2Img({
    extra: { response_image_type: "png" },
    request: {
      model_name: "sd_xl_base_1.0.safetensors",
      image_base64: INIT_IMAGE,
      prompt: "a watercolour fox",
      width: SIZE,
      height: SIZE,
      image_num: 1,
      steps: 20,
      guidance_scale: 7.5,
      sampler_name: "Euler a",
      seed: 42,
    },
  });
  for (let polls = 0; polls < 240; polls += 1) {
    const result = await sdk.progress({ task_id: created.task_id });
    if (result.task.status === TaskStatus.SUCCEED || result.task.status === TaskStatus.FAILED) {
      return result;
    }
    await sleep(250);
  }
  throw new Error(`task ${created.task_id} did not finish in 60 s`);
}

test("the package and its platform package come from node_modules, at one version", () => {
  const main = require.resolve("img2img-emulator");
  assert.match(main, /node_modules[\\/]img2img-emulator[\\/]/);
  const version = require("img2img-emulator/package.json").version;
  for (const name of ["emulator", "conformance"]) {
    const binary = commandPath(name);
    assert.match(binary, /node_modules[\\/]img2img-emulator-[a-z0-9]+-[a-z0-9]+[\\/]bin[\\/]/);
    assert.equal(execFileSync(binary, ["--version"], { encoding: "utf8" }).trim(), `${name} ${version}`);
  }
  // The npm launcher (node_modules/.bin/emulator) runs the same command.
  const launcher = path.join(path.dirname(main), "bin", "emulator.js");
  assert.equal(
    execFileSync(process.execPath, [launcher, "--version"], { encoding: "utf8" }).trim(),
    `emulator ${version}`,
  );
});

test("a whole job through novita-sdk, image downloaded", async () => {
  const emulator = await startEmulator({ provider: "novita" });
  try {
    const result = await job(emulator);
    assert.equal(result.task.status, TaskStatus.SUCCEED, JSON.stringify(result.task));
    assert.equal(result.images.length, 1);
    const response = await fetch(result.images[0].image_url);
    assert.equal(response.status, 200);
    const png = Buffer.from(await response.arrayBuffer());
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [SIZE, SIZE]);
  } finally {
    await emulator.stop();
  }
});

test("a built-in scenario by name: the job fails with the grader's reason", async () => {
  const emulator = await startEmulator({ provider: "novita", scenario: "job-fails" });
  try {
    const result = await job(emulator);
    assert.equal(result.task.status, TaskStatus.FAILED);
    assert.equal(result.task.reason, scenarios()["job-fails"].expect.reason);
  } finally {
    await emulator.stop();
  }
});

test("an emulator scenario object: rate limited creates reach the SDK as 429", async () => {
  const emulator = await startEmulator({
    scenario: { faults: [{ operation: "x-job.create", fault: "status=429" }] },
  });
  try {
    await assert.rejects(job(emulator), (error) => error instanceof NovitaError && error.code === 429);
  } finally {
    await emulator.stop();
  }
});

test("only the emulator's key is accepted; stop() ends the process", async () => {
  const emulator = await startEmulator({ apiKey: "sk-team-test" });
  assert.equal(emulator.apiKey, "sk-team-test");
  assert.ok(!JSON.stringify(emulator).includes("sk-team-test"));
  const refused = await fetch(`${emulator.baseUrl}/v3/async/task-result?task_id=nope`, {
    headers: { Authorization: "Bearer sk-other" },
  });
  assert.ok([401, 403].includes(refused.status), `HTTP ${refused.status}`);
  assert.equal(await emulator.stop(), 0);
  assert.throws(() => process.kill(emulator.pid, 0), { code: "ESRCH" });
});

test("an unknown provider or scenario is refused clearly", async () => {
  await assert.rejects(startEmulator({ provider: "no-such-provider" }), /no-such-provider/);
  await assert.rejects(startEmulator({ scenario: "sunny" }), /no built-in scenario "sunny"; known: happy/);
});
