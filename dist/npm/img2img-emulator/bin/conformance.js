#!/usr/bin/env node
"use strict";
// The `conformance` command: `conformance client --provider P -- COMMAND` grades a client (`conformance --help`).
require("./run").run("conformance");
