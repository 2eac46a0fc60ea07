"use strict";
// startEmulator(): one `emulator` process on a free loopback port, for as long as a test needs it.

const { spawn } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

const { commandPath } = require("./commands");
const { emulatorScenario } = require("./scenarios");

/** The emulator's exit status when it cannot listen on the port it was given. */
const CANNOT_LISTEN = 1;
/** Tries at a port: another process can take the free port between our check and the bind. */
const PORT_TRIES = 5;
/** Lines of the emulator's output quoted in an error. */
const TAIL_LINES = 20;
/** The emulator's health route (any answer counts, so the readiness check needs nothing more). */
const HEALTH_PATH = "/emulator/health";

/** Emulators not stopped yet (child → its clean-up), ended when this process exits. */
const running = new Map();
process.on("exit", () => {
  for (const [child, cleanUp] of running) {
    child.kill("SIGKILL");
    cleanUp();
  }
});

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Whether an HTTP server answers on the port (any status counts). */
function answers(port) {
  return new Promise((resolve) => {
    // No keep-alive pool: a connection to an emulator about to stop is of no use to keep.
    const options = { host: "127.0.0.1", port, path: HEALTH_PATH, timeout: 1000, agent: false };
    const request = http.get(options, (response) => {
      response.resume();
      response.on("end", () => resolve(true));
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(false));
  });
}

function readOutput(logPath) {
  try {
    return fs.readFileSync(logPath, "utf8");
  } catch {
    return "";
  }
}

function tail(logPath) {
  return readOutput(logPath).split("\n").filter(Boolean).slice(-TAIL_LINES).join("\n");
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the exit code once the child has exited (at once when it already has). */
function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

async function interrupt(child, timeoutMs) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  // The emulator shuts down gracefully on Ctrl-C; Windows has no SIGINT to send.
  child.kill(process.platform === "win32" ? "SIGTERM" : "SIGINT");
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await exited(child);
  clearTimeout(timer);
  return code;
}

/** One try on a free port: the running child, or `{cannotListen}` when the port was taken meanwhile. */
async function launch(executable, provider, flags, logPath, startupTimeoutMs, cleanUp) {
  const port = await freePort();
  const log = fs.openSync(logPath, "w");
  let child;
  try {
    child = spawn(executable, [...flags, "--port", String(port)], {
      stdio: ["ignore", log, log],
      env: { ...process.env, NO_COLOR: "1" }, // plain lines in the log
    });
  } finally {
    fs.closeSync(log);
  }
  // A test that forgets stop() must not hang the process: the exit handler above ends the child.
  child.unref();
  running.set(child, cleanUp);
  try {
    const started = await answering(child, port, executable, provider, logPath, startupTimeoutMs);
    if (started.child === undefined) running.delete(child);
    return started;
  } catch (error) {
    running.delete(child);
    throw error;
  }
}

/** Waits until the child answers on the port, exits, or the deadline passes. */
async function answering(child, port, executable, provider, logPath, startupTimeoutMs) {
  const spawnError = new Promise((resolve) => child.once("error", resolve));
  const deadline = Date.now() + startupTimeoutMs;
  for (;;) {
    const failed = await Promise.race([spawnError, sleep(0).then(() => null)]);
    if (failed) throw new Error(`cannot run ${executable}: ${failed.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      const output = tail(logPath);
      if (child.exitCode === CANNOT_LISTEN) return { cannotListen: output };
      throw new Error(
        `the emulator for "${provider}" exited with ${child.exitCode ?? child.signalCode} before answering:\n${output}`,
      );
    }
    if (await answers(port)) return { child, port };
    if (Date.now() > deadline) {
      await interrupt(child, 5000);
      throw new Error(
        `the emulator for "${provider}" did not answer on port ${port} within ${startupTimeoutMs} ms:\n${tail(logPath)}`,
      );
    }
    await sleep(20);
  }
}

/**
 * Starts the `emulator` command for `provider` on a free loopback port; resolves once it answers
 * HTTP. See index.d.ts for the options.
 */
async function startEmulator(options = {}) {
  const {
    provider = "novita",
    scenario = null,
    apiKey = null,
    args = [],
    startupTimeoutMs = 20000,
  } = options;
  if (typeof provider !== "string" || provider === "") {
    throw new TypeError(`provider must be a provider id such as "novita", not ${String(provider)}`);
  }
  const key = apiKey ?? `sk-emulator-${crypto.randomBytes(12).toString("hex")}`;
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), "img2img-emulator-"));
  const removeWorkdir = () => fs.rmSync(workdir, { recursive: true, force: true });
  try {
    const flags = ["--provider", provider, "--host", "127.0.0.1", "--api-key", key];
    if (scenario !== null && scenario !== undefined) {
      const resolved = emulatorScenario(scenario);
      let file = resolved.file;
      if (resolved.json !== undefined) {
        file = path.join(workdir, "scenario.json");
        fs.writeFileSync(file, resolved.json);
      }
      flags.push("--scenario", file);
    }
    flags.push(...args.map(String));
    const executable = commandPath("emulator");
    const logPath = path.join(workdir, "emulator.log");
    let lastOutput = "";
    for (let attempt = 0; attempt < PORT_TRIES; attempt += 1) {
      const started = await launch(
        executable,
        provider,
        flags,
        logPath,
        startupTimeoutMs,
        removeWorkdir,
      );
      if (started.cannotListen !== undefined) {
        lastOutput = started.cannotListen;
        continue;
      }
      return emulatorHandle(provider, key, started, logPath, removeWorkdir);
    }
    throw new Error(
      `the emulator could not listen on a free loopback port in ${PORT_TRIES} tries:\n${lastOutput}`,
    );
  } catch (error) {
    removeWorkdir();
    throw error;
  }
}

function emulatorHandle(provider, apiKey, { child, port }, logPath, removeWorkdir) {
  let finalOutput = null;
  let stopping = null;
  return {
    provider,
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey,
    pid: child.pid,
    output() {
      return finalOutput ?? readOutput(logPath);
    },
    stop(timeoutMs = 10000) {
      stopping ??= interrupt(child, timeoutMs).then((code) => {
        finalOutput = readOutput(logPath);
        running.delete(child);
        removeWorkdir();
        return code;
      });
      return stopping;
    },
    toJSON() {
      return { provider, baseUrl: `http://127.0.0.1:${port}` }; // never the key
    },
    [Symbol.for("nodejs.util.inspect.custom")]() {
      return `Emulator { provider: '${provider}', baseUrl: 'http://127.0.0.1:${port}' }`;
    },
  };
}

module.exports = { startEmulator };
