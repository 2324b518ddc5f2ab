// @ts-nocheck
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../local/moto-server';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { packWorkspaces } from '../support/workspace-pack';

/**
 * The GitHub Action (action.yml) run as the runner would run it: each composite step's script with
 * bash, its inputs substituted, against the local broker, with a local stand-in for the runner's
 * OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN) minting from the development issuer.
 * Then a job step: the AWS SDK's own profile resolution (fromIni -> credential_process) calls STS,
 * its clock moves into the refresh window, and the SDK must ask credential_process again.
 */
const run = promisify(execFile);

interface Step {
  id?: string;
  run: string;
  env?: Record<string, string>;
}
const action = parse(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }>; runs: { using: string; steps: Step[] } };

let stack: LocalStack;
let work: string;
let clientTarball: string;
let standIn: Server;
let tokenEndpoint: string;
const requestToken = randomBytes(16).toString('hex');
const tokenRequests: { audience: string | null; authorized: boolean }[] = [];
const vends: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nocreds-action-'));
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  const [started] = await Promise.allSettled([
    startLocalStack(),
    packWorkspaces(['packages/client'], tarballs),
  ]);
  if (started.status === 'fulfilled') stack = started.value;
  else throw started.reason;
  clientTarball = join(tarballs, readdirSync(tarballs)[0]!);
  stack.broker.server.on('request', (req) => vends.push(`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`));

  // The runner's token endpoint: a bearer request token, the audience as a query parameter, {value}.
  standIn = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://runner');
    const authorized = req.headers.authorization === `bearer ${requestToken}`;
    tokenRequests.push({ audience: url.searchParams.get('audience'), authorized });
    if (!authorized) return void res.writeHead(401).end();
    // A workload identity the local grant policy knows (team-a's app role); aud as requested.
    stack.issuer
      .mint({ sub: 'system:serviceaccount:team-a:app', aud: url.searchParams.get('audience') ?? 'none', 'kubernetes.io': { namespace: 'team-a', serviceaccount: { name: 'app', uid: 'team-a-app' } } })
      .then((value) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: tokenRequests.length, value })));
  });
  await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
  tokenEndpoint = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}/_apis/distributedtask/hubs/build/plans/x/jobs/y/idtoken?api-version=2.0`;
}, 120_000);

afterAll(async () => {
  standIn?.close();
  await stack?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Runs the action's steps with bash as a runner does; returns the step outputs and env it set. */
async function runAction(inputs: Record<string, string>, runnerEnv: Record<string, string>) {
  const values = { ...Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default ?? ''])), ...inputs };
  const substitute = (text: string) => text.replace(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g, (_, name: string) => values[name] ?? '');
  const home = join(work, 'home');
  const githubOutput = join(work, 'github-output');
  const githubEnv = join(work, 'github-env');
  for (const file of [githubOutput, githubEnv]) writeFileSync(file, '');
  mkdirSync(home, { recursive: true });
  expect(action.runs.using).toBe('composite');
  for (const step of action.runs.steps) {
    const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, substitute(v)]));
    await run('bash', ['-e', '-c', substitute(step.run)], {
      env: { PATH: process.env.PATH!, HOME: home, RUNNER_TEMP: join(work, 'runner-temp'), GITHUB_ACTION_PATH: REPO_ROOT, GITHUB_OUTPUT: githubOutput, GITHUB_ENV: githubEnv, npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? home, '.npm'), ...runnerEnv, ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
  }
  return { outputs: readFileSync(githubOutput, 'utf8'), exported: readFileSync(githubEnv, 'utf8'), configFile: join(home, '.aws', 'config') };
}

const runnerEnv = () => ({ ACTIONS_ID_TOKEN_REQUEST_URL: tokenEndpoint, ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken });

test('the action writes a credential_process profile, outputs the caller, and the SDK refreshes through it with fresh job tokens', async () => {
  const role = `arn:aws:iam::${stack.accountId}:role/team-a-app`;
  const { outputs, exported, configFile } = await runAction({ url: stack.broker.url, role, package: clientTarball, duration: '900', region: 'us-east-1' }, runnerEnv());

  expect(outputs).toContain('profile=nocreds\n');
  expect(outputs).toMatch(/caller=.*system:serviceaccount:team-a:app/);
  expect(exported).toContain('AWS_PROFILE=nocreds\n');
  const config = readFileSync(configFile, 'utf8');
  expect(config).toMatch(/^\[profile nocreds\]\ncredential_process = .*credential-process\.mjs.* "--role" "arn:aws:iam::123456789012:role\/team-a-app" "--duration" "900"\nregion = us-east-1\n/m);
  // Nothing that could be replayed is written: no job token, no request token, no credentials.
  expect(config).not.toContain(requestToken);
  expect(config).not.toMatch(/eyJ|ASIA/);
  expect(tokenRequests).toEqual([{ audience: 'nocreds', authorized: true }]);

  // The job, as a step after the action: the AWS SDK resolves the profile itself (fromIni ->
  // credential_process), with the runner's env and no other credentials. Its clock is injected:
  // between its two calls it moves 11 minutes into the 15-minute session, inside the SDK's
  // 5-minute refresh margin, so the SDK must run credential_process again.
  writeFileSync(
    join(work, 'job.cjs'),
    `const RealDate = Date;
let offset = 0;
globalThis.Date = class extends RealDate {
  constructor(...args) { if (args.length) super(...args); else super(RealDate.now() + offset); }
  static now() { return RealDate.now() + offset; }
};
const { STSClient, GetCallerIdentityCommand } = require('@aws-sdk/client-sts');
const { fromIni } = require('@aws-sdk/credential-provider-ini');
const sts = new STSClient({ region: 'us-east-1', endpoint: process.env.MOTO, maxAttempts: 1, credentials: fromIni({ profile: 'nocreds' }) });
(async () => {
  const first = await sts.send(new GetCallerIdentityCommand({}));
  offset = 11 * 60 * 1000;
  const second = await sts.send(new GetCallerIdentityCommand({}));
  console.log(JSON.stringify({ first: first.Arn, second: second.Arn }));
})().catch((e) => { console.error(e.message); process.exitCode = 1; });
`,
  );
  const vendsBefore = vends.filter((v) => v === 'POST /v1/credentials').length;
  const { stdout } = await run(process.execPath, [join(work, 'job.cjs')], {
    env: { PATH: process.env.PATH!, NODE_PATH: join(REPO_ROOT, 'node_modules'), MOTO: stack.moto.endpoint, AWS_CONFIG_FILE: configFile, AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials-file'), ...runnerEnv() },
  });
  const { first, second } = JSON.parse(stdout) as { first: string; second: string };
  expect(first).toMatch(/:assumed-role\/team-a-app\//);
  expect(second).toMatch(/:assumed-role\/team-a-app\//);
  expect(second).not.toBe(first); // a new session, from a new lease
  // Every credential_process run asked the runner for a fresh job token and the broker for one
  // session: the first call's, and at least one refresh after the clock moved (the SDK may refresh
  // again while the new session is itself inside the margin of the moved clock).
  const jobRuns = tokenRequests.length - 1;
  expect(jobRuns).toBeGreaterThanOrEqual(2);
  expect(tokenRequests.every((r) => r.audience === 'nocreds' && r.authorized)).toBe(true);
  expect(vends.filter((v) => v === 'POST /v1/credentials').length - vendsBefore).toBe(jobRuns);
}, 90_000);

test('without id-token: write the action fails with what to add, and writes no profile', async () => {
  await expect(runAction({ url: stack.broker.url, role: `arn:aws:iam::${stack.accountId}:role/team-a-app`, package: clientTarball, profile: 'no-permission' }, {})).rejects.toMatchObject({
    stderr: expect.stringContaining('permissions: id-token: write'),
  });
  expect(readFileSync(join(work, 'home', '.aws', 'config'), 'utf8')).not.toContain('no-permission');
}, 60_000);
