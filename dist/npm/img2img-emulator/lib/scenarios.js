"use strict";
// The client grader's built-in scenarios (`conformance client --scenario NAME`), by name.
// `scenarios.json` is the grader's own file (conformance/harness/src/client_grading/scenarios.json),
// copied into the package by `cargo xtask dist`; a scenario's `emulator` part is a scenario file of
// the `emulator --scenario` format.

const fs = require("node:fs");
const path = require("node:path");

/** What a scenario name is made of (the grader's rule); any other string is a file path. */
const NAME = /^[A-Za-z0-9_-]+$/;

/** The built-in scenarios by name, in the grader's order: `{name, description, expect, emulator}`. */
function scenarios() {
  const text = fs.readFileSync(path.join(__dirname, "..", "scenarios.json"), "utf8");
  return Object.fromEntries(JSON.parse(text).scenarios.map((s) => [s.name, s]));
}

/**
 * What to give `emulator --scenario` for `scenario`: `{json}` (text to write to a file) or `{file}`.
 * `scenario` is a built-in scenario's name, an object (an emulator scenario) or a file path.
 */
function emulatorScenario(scenario) {
  if (typeof scenario === "string" && NAME.test(scenario)) {
    const known = scenarios();
    if (!Object.hasOwn(known, scenario)) {
      throw new Error(
        `no built-in scenario "${scenario}"; known: ${Object.keys(known).join(", ")} ` +
          "(or give a scenario file's path, or an object)",
      );
    }
    return { json: JSON.stringify(known[scenario].emulator || {}) };
  }
  if (typeof scenario === "string") {
    if (!fs.existsSync(scenario)) throw new Error(`scenario file ${scenario} does not exist`);
    return { file: scenario };
  }
  if (scenario && typeof scenario === "object") return { json: JSON.stringify(scenario) };
  throw new TypeError(
    `scenario must be a built-in scenario's name, an object or a file path, not ${typeof scenario}`,
  );
}

module.exports = { emulatorScenario, scenarios };
