#!/usr/bin/env node
// @ts-nocheck
/* global process */
// The nocreds GitHub Action (../action.yml): checks the job's identity with the broker
// (GET /v1/whoami), writes an AWS config profile whose credential_process fetches a fresh job token
// and credentials on every refresh, and sets the step's outputs. Inputs come as NOCREDS_ACTION_*.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { githubActionsToken, runNocreds } from './github-token.mjs';

const env = process.env;
const input = (name, fallback) => (env[`NOCREDS_ACTION_${name}`] ?? '').trim() || fallback;
const url = input('URL');
const role = input('ROLE');
const audience = input('AUDIENCE', 'nocreds');
const profile = input('PROFILE', 'nocreds');
const duration = input('DURATION');
const region = input('REGION', env.AWS_REGION || '');
const cliModule = input('CLI_MODULE');
const configFile = resolve(input('CONFIG_FILE', env.AWS_CONFIG_FILE || join(homedir(), '.aws', 'config')));

function fail(message) {
  process.stderr.write(`::error title=nocreds::${message}\n`);
  process.exit(1);
}
if (!url) fail('The input url (the broker\'s ApiUrl) is required.');
if (!/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/.test(role ?? '')) fail('The input role must be a role ARN such as arn:aws:iam::123456789012:role/NAME.');
if (!/^[\w.-]+$/.test(profile)) fail('The input profile may use letters, digits, ".", "_" and "-" only.');
if (!cliModule) fail('NOCREDS_ACTION_CLI_MODULE is not set (the action installs @nocreds/client first).');

// Who the broker says this job is: proves the token, audience and URL work before any AWS call.
let answer;
try {
  answer = await runNocreds(cliModule, await githubActionsToken(audience), ['--url', url, 'whoami']);
} catch (error) {
  fail(error.message);
}
if (answer.code !== 0) fail(`The broker did not accept this job's token (nocreds exit code ${answer.code}); see the message above.`);
const identity = JSON.parse(answer.stdout);

const quote = (value) => `"${value.replace(/(["\\])/g, '\\$1')}"`;
const here = dirname(fileURLToPath(import.meta.url));
const command = [process.execPath, join(here, 'credential-process.mjs'), cliModule, audience, '--', '--url', url, 'credentials', '--role', role, ...(duration ? ['--duration', duration] : [])].map(quote).join(' ');
const section = [`[profile ${profile}]`, `credential_process = ${command}`, ...(region ? [`region = ${region}`] : [])].join('\n');

// Replace the profile if it is there (a re-run), keep every other profile as it was.
let config = '';
try {
  config = readFileSync(configFile, 'utf8');
} catch {
  mkdirSync(dirname(configFile), { recursive: true, mode: 0o700 });
}
const header = `[profile ${profile}]`;
const lines = config.split('\n');
const start = lines.findIndex((line) => line.trim() === header);
if (start >= 0) {
  let end = lines.findIndex((line, index) => index > start && /^\s*\[/.test(line));
  if (end < 0) end = lines.length;
  lines.splice(start, end - start, ...section.split('\n'), '');
  config = lines.join('\n');
} else {
  config = `${config}${config === '' || config.endsWith('\n') ? '' : '\n'}${config === '' ? '' : '\n'}${section}\n`;
}
writeFileSync(configFile, config, { mode: 0o600 });

// OIDC callers have an issuer and subject; IAM callers a principal ARN. `caller` is the broker's own name for either.
const caller = String(identity.caller ?? identity.subject ?? identity.principalArn ?? '');
if (env.GITHUB_OUTPUT) appendFileSync(env.GITHUB_OUTPUT, `profile=${profile}\nconfig-file=${configFile}\nidentity<<NOCREDS_EOF\n${JSON.stringify(identity)}\nNOCREDS_EOF\ncaller=${caller}\n`);
if (env.GITHUB_ENV && input('EXPORT_PROFILE', 'true') === 'true') appendFileSync(env.GITHUB_ENV, `AWS_PROFILE=${profile}\nAWS_CONFIG_FILE=${configFile}\nAWS_SDK_LOAD_CONFIG=1\n`);
process.stdout.write(`nocreds: profile ${profile} in ${configFile} (credential_process, refreshed by the SDK); the broker sees ${caller || 'this job'}\n`);
