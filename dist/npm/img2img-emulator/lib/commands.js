"use strict";
// Where the commands (`emulator`, `conformance`) are: in the package built for this platform,
// `img2img-emulator-<platform>-<arch>`, which npm installed as one of this package's
// optionalDependencies (the others do not match this os and cpu, so npm skipped them).

const path = require("node:path");
const fs = require("node:fs");

/** Set to a directory to run the commands found there instead (e.g. a checkout's target/release). */
const BIN_DIR_ENV = "IMG2IMG_EMULATOR_BIN_DIR";

/** The name of the package carrying the commands for this platform. */
function platformPackage(platform = process.platform, arch = process.arch) {
  return `img2img-emulator-${platform}-${arch}`;
}

/** Whether this Linux links glibc (the commands are built against it; musl has no package yet). */
function isGlibc() {
  if (process.platform !== "linux") return true;
  const header = process.report && process.report.getReport().header;
  return Boolean(header && header.glibcVersionRuntime);
}

/** The path of the command `name` (`emulator` or `conformance`); throws naming what is missing. */
function commandPath(name) {
  const file = process.platform === "win32" ? `${name}.exe` : name;
  const override = process.env[BIN_DIR_ENV];
  if (override) {
    const candidate = path.join(override, file);
    if (!fs.existsSync(candidate)) {
      throw new Error(`${BIN_DIR_ENV}=${override} has no ${file}`);
    }
    return candidate;
  }
  const pkg = platformPackage();
  let manifest;
  try {
    manifest = require.resolve(`${pkg}/package.json`);
  } catch {
    const libc = isGlibc() ? "" : " (this system's C library is musl; the commands need glibc)";
    throw new Error(
      `img2img-emulator: the package ${pkg} with the commands for ${process.platform}-${process.arch} ` +
        `is not installed${libc}. npm installs it with img2img-emulator unless optional dependencies ` +
        `are omitted (--omit=optional, --no-optional); install it, or set ${BIN_DIR_ENV}.`,
    );
  }
  return path.join(path.dirname(manifest), "bin", file);
}

module.exports = { BIN_DIR_ENV, commandPath, platformPackage };
