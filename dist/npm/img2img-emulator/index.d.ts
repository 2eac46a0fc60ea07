// Types of img2img-emulator (see index.js).

/** How `startEmulator` starts the emulator. */
export interface EmulatorOptions {
  /** A provider id (`novita`, `gptproto`, `modelslab`...); the command refuses one it does not know. Default `novita`. */
  provider?: string;
  /**
   * A built-in scenario's name (`happy`, `slow-queue`, `job-fails`, `rate-limited`... as
   * `conformance client` runs them; `scenarios()` lists them), an emulator scenario object
   * (latency, modes, faults, defects, TTLs), or a scenario file's path. Default: none.
   */
  scenario?: string | Record<string, unknown> | null;
  /** The one key the emulator accepts. Default: a fresh random key, in `Emulator.apiKey`. */
  apiKey?: string | null;
  /** More `emulator` flags, e.g. `["--latency-ms", "200"]`. */
  args?: readonly string[];
  /** How long to wait for the first answer before giving up, in ms. Default 20000. */
  startupTimeoutMs?: number;
}

/** A running `emulator` process serving one provider on a loopback port. */
export interface Emulator {
  /** The provider served. */
  readonly provider: string;
  /** The origin to give the provider's SDK, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly baseUrl: string;
  /** The key the emulator accepts; any other is refused as the provider refuses it. */
  readonly apiKey: string;
  /** The process id. */
  readonly pid: number;
  /** What the emulator printed so far (one line per request; never a key). */
  output(): string;
  /** Stops it (Ctrl-C, then a kill after `timeoutMs`, default 10000) and removes its files; resolves with its exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** One of the client grader's built-in scenarios. */
export interface Scenario {
  name: string;
  /** What it does to a client, in one line. */
  description: string;
  /** What the grader expects of a client under it. */
  expect?: { job?: "success" | "failure" | "never_ends" | "any"; reason?: string; downloads?: boolean };
  /** The emulator's configuration (the `emulator --scenario` format). */
  emulator?: Record<string, unknown>;
}

/** Starts the emulator on a free loopback port; resolves once it answers HTTP, rejects with its last output when it cannot start. */
export function startEmulator(options?: EmulatorOptions): Promise<Emulator>;

/** The built-in scenarios, by name, in the grader's order. */
export function scenarios(): Record<string, Scenario>;

/** The path of a packaged command (`emulator` or `conformance`) for this platform. */
export function commandPath(name: "emulator" | "conformance"): string;

/** The name of the package carrying the commands for a platform (default: this one), e.g. `img2img-emulator-linux-x64`. */
export function platformPackage(platform?: string, arch?: string): string;
