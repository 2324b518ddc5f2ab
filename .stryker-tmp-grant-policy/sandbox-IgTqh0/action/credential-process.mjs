#!/usr/bin/env node
// @ts-nocheck
/* global process */
// credential_process of the profile the nocreds action writes: asks the runner for a fresh job
// token, then `nocreds credentials` prints the credential_process JSON. The AWS SDK or CLI calls it
// again before the credentials expire, so a job can run longer than one session.
// Usage: credential-process.mjs CLI_MODULE AUDIENCE -- NOCREDS_ARGS...
import { githubActionsToken, runNocreds } from './github-token.mjs';

const [cliModule, audience, separator, ...args] = process.argv.slice(2);
if (!cliModule || !audience || separator !== '--') {
  process.stderr.write('usage: credential-process.mjs CLI_MODULE AUDIENCE -- NOCREDS_ARGS...\n');
  process.exit(2);
}
try {
  const { code, stdout } = await runNocreds(cliModule, await githubActionsToken(audience), args);
  process.stdout.write(stdout);
  process.exitCode = code;
} catch (error) {
  process.stderr.write(`nocreds action: ${error.message}\n`);
  process.exitCode = 3;
}
