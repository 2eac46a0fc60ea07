"use strict";
// img2img-emulator: faithful local emulators of paid image-to-image APIs, for tests.
//
//   const { startEmulator } = require("img2img-emulator");
//   const emulator = await startEmulator({ provider: "novita", scenario: "slow-queue" });
//   const sdk = new NovitaSDK(emulator.apiKey); sdk.setBaseUrl(emulator.baseUrl);
//   ...
//   await emulator.stop();
//
// The package also installs the `emulator` command (the same server, every flag) and `conformance`
// (`conformance client --provider novita -- node my_job.mjs` grades your integration).

const { commandPath, platformPackage } = require("./lib/commands");
const { startEmulator } = require("./lib/emulator");
const { scenarios } = require("./lib/scenarios");

module.exports = { startEmulator, scenarios, commandPath, platformPackage };
