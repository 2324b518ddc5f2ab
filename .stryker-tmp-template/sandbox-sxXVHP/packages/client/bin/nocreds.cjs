#!/usr/bin/env node
// @ts-nocheck
'use strict';
// The installed `nocreds` command: the CLI compiled from client/cli.ts (see ../build.ts).
require('../dist/cjs/cli.cjs')
  .run(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
