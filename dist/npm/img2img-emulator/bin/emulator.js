#!/usr/bin/env node
"use strict";
// The `emulator` command: the providers' emulators as a server (`emulator --help`).
require("./run").run("emulator");
