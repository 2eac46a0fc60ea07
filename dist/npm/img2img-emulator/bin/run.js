"use strict";
// Runs a packaged command with this process's arguments and stdio, passes signals on, and exits
// as it exits (as esbuild's and biome's launchers do).

const { spawn } = require("node:child_process");
const { commandPath } = require("../lib/commands");

function run(name) {
  let executable;
  try {
    executable = commandPath(name);
  } catch (error) {
    console.error(error.message);
    process.exit(2);
  }
  const child = spawn(executable, process.argv.slice(2), { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => child.kill(signal));
  }
  child.on("error", (error) => {
    console.error(`cannot run ${executable}: ${error.message}`);
    process.exit(2);
  });
  child.on("exit", (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    else process.exit(code ?? 1);
  });
}

module.exports = { run };
