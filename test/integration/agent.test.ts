import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromHttp } from '@aws-sdk/credential-provider-http';
import { fromContainerMetadata, fromInstanceMetadata } from '@smithy/credential-provider-imds';
import { startAgent, type RunningAgent } from '../../client/agent/agent';
import { validateAgentConfig, type AgentConfigInput } from '../../client/agent/config';
import { generateKeyAndCsr } from '../../client/key-and-csr';
import { freePort, REPO_ROOT } from '../../local/moto-server';
import { startLocalBroker, type LocalBroker } from '../../local/server';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { ManualAgentClock } from '../fakes/agent-clock';
import { FakeCertificateAuthority } from '../fakes/certificate-authority';

/**
 * `nocreds agent` end to end: the local broker (real handlers over HTTP) on moto, the agent in
 * this process (its clock in the test's hands where time matters), and real clients asking it for
 * credentials: the JavaScript SDK's fromHttp, fromContainerMetadata and fromInstanceMetadata,
 * boto3, and the AWS CLI when it is installed.
 */
const run = promisify(execFile);
const PYTHON = join(REPO_ROOT, '.venv', 'bin', 'python');
const NOCREDS = join(REPO_ROOT, 'bin', 'nocreds');
const AWS_CLI = (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'aws')).find((p) => existsSync(p));

let stack: LocalStack;
let dir: string;
let tokenFile: string;
let roleArn: string;
const agents: RunningAgent[] = [];
const brokerAuthorizations: string[] = [];
let restartedBroker: LocalBroker | undefined;

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

beforeAll(async () => {
  stack = await startLocalStack();
  stack.broker.server.on('request', (req) => {
    if (req.method === 'POST' && req.url === '/v1/credentials') brokerAuthorizations.push(String(req.headers.authorization));
  });
  dir = mkdtempSync(join(tmpdir(), 'nocreds-agent-'));
  tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, await stack.serviceAccountToken('team-a', 'app'), { mode: 0o600 });
  roleArn = `arn:aws:iam::${stack.accountId}:role/team-a-app`;
}, 90_000);

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await restartedBroker?.stop();
  await stack?.stop();
});

/**
 * The broker and moto keep real time while the agent's clock is moved by hand. To let an hour
 * pass for the agent, credentials' expiry is carried into the agent's time frame on the way in,
 * as if the broker's clock had moved with it (only the timestamp changes; the keys are real).
 */
function inAgentTime(clock: ManualAgentClock): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (!response.ok || !String(input).endsWith('/v1/credentials')) return response;
    const body = (await response.json()) as { expiration: string };
    const shifted = { ...body, expiration: new Date(Date.parse(body.expiration) + (clock.now() - Date.now())).toISOString() };
    return new Response(JSON.stringify(shifted), { status: response.status, headers: response.headers });
  };
}

async function agentWith(input: Partial<AgentConfigInput>, clock?: ManualAgentClock, fetchImpl?: typeof fetch): Promise<RunningAgent> {
  const name = `agent-${agents.length}`;
  const config = validateAgentConfig(
    {
      url: stack.broker.url,
      auth: { tokenFile },
      listen: { port: 0 },
      authTokenFile: join(dir, name, 'agent-token'),
      roles: [{ name: 'app', arn: roleArn }],
      ...input,
    },
    'test',
  );
  const agent = await startAgent(config, { log: quiet, ...(clock ? { clock } : {}), ...(fetchImpl ? { fetch: fetchImpl } : {}) });
  agents.push(agent);
  if (clock) clock.settle = () => agent.idle();
  await agent.started;
  return agent;
}

function sts(credentials: NonNullable<ConstructorParameters<typeof STSClient>[0]>['credentials']) {
  return new STSClient({ region: 'us-east-1', endpoint: stack.moto.endpoint, maxAttempts: 1, credentials });
}

/** An environment with no AWS credentials of its own: only what the agent serves can work. */
function bareEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true', ...extra };
  return env;
}

const BOTO3 = `
import sys, boto3
try:
    print(boto3.client("sts", region_name="us-east-1", endpoint_url=sys.argv[1]).get_caller_identity()["Arn"])
except Exception as error:
    print(f"{type(error).__name__}: {error}", file=sys.stderr)
    sys.exit(3)
`;

async function boto3CallerArn(env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await run(PYTHON, ['-c', BOTO3, stack.moto.endpoint], { env, timeout: 30_000 });
  return stdout.trim();
}

const ASSUMED_TEAM_A = /^arn:aws:sts::123456789012:assumed-role\/team-a-app\/[0-9A-Z]{26}$/;

describe('the container-credentials endpoint', () => {
  let agent: RunningAgent;
  let containerEnv: Record<string, string>;

  beforeAll(async () => {
    agent = await agentWith({ roles: [{ name: 'app', arn: roleArn }, { name: 'other', arn: `arn:aws:iam::${stack.accountId}:role/team-b-app` }] });
    containerEnv = { AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.credentialsUri('app'), AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: agent.authTokenFile };
  });

  test('the token file is 0600 and holds a random token; `nocreds agent env` prints the two variables to export', async () => {
    expect(statSync(agent.authTokenFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(agent.authTokenFile, 'utf8')).toMatch(/^[\w-]{43}$/);
    const port = new URL(agent.url as string).port;
    const { stdout } = await run(NOCREDS, ['agent', '--port', port, '--auth-token-file', agent.authTokenFile, '--role', `app=${roleArn}`, 'env'], { env: { ...process.env } });
    expect(stdout).toBe(`export AWS_CONTAINER_CREDENTIALS_FULL_URI='${agent.credentialsUri('app')}'\nexport AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE='${agent.authTokenFile}'\n`);
  });

  test("the JavaScript SDK's fromHttp and fromContainerMetadata get the role's credentials", async () => {
    const viaHttp = sts(fromHttp({ awsContainerCredentialsFullUri: containerEnv.AWS_CONTAINER_CREDENTIALS_FULL_URI, awsContainerAuthorizationTokenFile: agent.authTokenFile, maxRetries: 0 }));
    expect((await viaHttp.send(new GetCallerIdentityCommand({}))).Arn).toMatch(ASSUMED_TEAM_A);
    const saved = { ...process.env };
    try {
      process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = containerEnv.AWS_CONTAINER_CREDENTIALS_FULL_URI;
      process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = readFileSync(agent.authTokenFile, 'utf8');
      expect((await sts(fromContainerMetadata({ maxRetries: 0 })).send(new GetCallerIdentityCommand({}))).Arn).toMatch(ASSUMED_TEAM_A);
    } finally {
      process.env = saved;
    }
  });

  test('boto3 gets them with only the two variables', async () => {
    expect(await boto3CallerArn(bareEnv(containerEnv))).toMatch(ASSUMED_TEAM_A);
  });

  (AWS_CLI ? test : test.skip)('the AWS CLI gets them with only the two variables', async () => {
    const { stdout } = await run(AWS_CLI as string, ['sts', 'get-caller-identity', '--endpoint-url', stack.moto.endpoint, '--region', 'us-east-1', '--output', 'text', '--query', 'Arn'], { env: bareEnv(containerEnv), timeout: 60_000 });
    expect(stdout.trim()).toMatch(ASSUMED_TEAM_A);
  }, 60_000);

  test('several roles from one agent, each at its own path, and only the configured ones', async () => {
    const token = readFileSync(agent.authTokenFile, 'utf8');
    const byQuery = await fetch(`${agent.url}/credentials?role=${encodeURIComponent(roleArn)}`, { headers: { authorization: token } });
    expect(byQuery.status).toBe(200);
    // team-b-app is configured here, but the broker does not grant it to team-a: the SDK sees why.
    const other = await fetch(agent.credentialsUri('other'), { headers: { authorization: token } });
    expect(other.status).toBe(503);
    expect(await other.json()).toMatchObject({ Code: 'CredentialsUnavailable', Message: expect.stringMatching(/role other .*grant_denied/s) });
    const unknown = await fetch(`${agent.url}/roles/admin`, { headers: { authorization: token } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ Code: 'RoleNotConfigured' });
    const byArn = await fetch(`${agent.url}/credentials?role=${encodeURIComponent(`arn:aws:iam::${stack.accountId}:role/admin`)}`, { headers: { authorization: token } });
    expect(byArn.status).toBe(404);
  });

  test('without the token, or with a wrong one, the answer is 401 and carries no credentials', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: 'wrong' }, { authorization: `Bearer ${readFileSync(agent.authTokenFile, 'utf8')}` }]) {
      const response = await fetch(agent.credentialsUri('app'), { headers });
      expect(response.status).toBe(401);
      expect(await response.text()).not.toMatch(/AccessKeyId|ASIA/);
    }
    await expect(sts(fromHttp({ awsContainerCredentialsFullUri: agent.credentialsUri('app'), maxRetries: 0 })).send(new GetCallerIdentityCommand({}))).rejects.toThrow(/status: 401/);
  });

  test('/healthz and /readyz answer without the token and hold nothing secret', async () => {
    const ready = await fetch(`${agent.url}/readyz`);
    const body = await ready.text();
    // "other" is refused by the broker, so this agent is alive but not ready.
    expect(ready.status).toBe(503);
    expect(JSON.parse(body)).toMatchObject({ status: 'not-ready', roles: [{ name: 'app', state: 'fresh' }, { name: 'other', state: 'unavailable' }] });
    expect(body).not.toMatch(/ASIA|SecretAccessKey|secretAccessKey/);
    expect((await fetch(`${agent.url}/healthz`)).status).toBe(200);
  });
});

describe('IMDSv2 emulation', () => {
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await agentWith({ imds: { enabled: true, port: 0 } });
  });

  test("the JavaScript SDK's fromInstanceMetadata gets the role's credentials through a session token", async () => {
    const saved = { ...process.env };
    try {
      process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = agent.imdsUrl;
      process.env.AWS_EC2_METADATA_V1_DISABLED = 'true';
      expect((await sts(fromInstanceMetadata({ maxRetries: 0 })).send(new GetCallerIdentityCommand({}))).Arn).toMatch(ASSUMED_TEAM_A);
    } finally {
      process.env = saved;
    }
  });

  test('boto3 gets them from the emulated IMDS', async () => {
    const env = bareEnv({ AWS_EC2_METADATA_SERVICE_ENDPOINT: `${agent.imdsUrl}/` });
    delete env.AWS_EC2_METADATA_DISABLED;
    expect(await boto3CallerArn(env)).toMatch(ASSUMED_TEAM_A);
  });

  (AWS_CLI ? test : test.skip)('the AWS CLI gets them from the emulated IMDS', async () => {
    const env = bareEnv({ AWS_EC2_METADATA_SERVICE_ENDPOINT: `${agent.imdsUrl}/` });
    delete env.AWS_EC2_METADATA_DISABLED;
    const { stdout } = await run(AWS_CLI as string, ['sts', 'get-caller-identity', '--endpoint-url', stack.moto.endpoint, '--region', 'us-east-1', '--output', 'text', '--query', 'Arn'], { env, timeout: 60_000 });
    expect(stdout.trim()).toMatch(ASSUMED_TEAM_A);
  }, 60_000);

  test('IMDSv1 (no session token) is refused with 401', async () => {
    expect((await fetch(`${agent.imdsUrl}/latest/meta-data/iam/security-credentials/app`)).status).toBe(401);
  });
});

describe('pre-fetch, token rotation and the credentials file (injected clock)', () => {
  test('refreshed before a third of the life is left; the SDK is handed the new credentials and never expired ones; the file follows', async () => {
    const clock = new ManualAgentClock();
    const credentialsFile = join(dir, 'aws-credentials');
    writeFileSync(credentialsFile, '[default]\naws_access_key_id = AKIAKEEPME\n', { mode: 0o600 });
    const agent = await agentWith({ credentialsFile: { path: credentialsFile, profile: 'team-a' } }, clock);
    const role = agent.roles.get('app')!;
    const first = await role.current();
    const nextRefresh = Date.parse(role.status().nextRefreshAt!);
    expect(first.expiration.getTime() - nextRefresh).toBeGreaterThanOrEqual((first.expiration.getTime() - Date.now()) / 3 - 1000);

    const provider = fromHttp({ awsContainerCredentialsFullUri: agent.credentialsUri(), awsContainerAuthorizationTokenFile: agent.authTokenFile, maxRetries: 0 });
    expect((await provider()).accessKeyId).toBe(first.accessKeyId);
    await clock.advanceTo(nextRefresh - 1);
    expect((await provider()).accessKeyId).toBe(first.accessKeyId);
    await clock.advanceTo(nextRefresh);
    const second = await provider();
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(second.expiration!.getTime()).toBeGreaterThan(first.expiration.getTime());
    expect((await sts(async () => second).send(new GetCallerIdentityCommand({}))).Arn).toMatch(ASSUMED_TEAM_A);

    const file = readFileSync(credentialsFile, 'utf8');
    expect(file).toContain('[default]\naws_access_key_id = AKIAKEEPME\n');
    expect(file).toContain(`[team-a]\n`);
    expect(file).toContain(`aws_access_key_id = ${second.accessKeyId}\n`);
    expect(statSync(credentialsFile).mode & 0o777).toBe(0o600);
  });

  test('a replaced token file is used at the next refresh', async () => {
    const clock = new ManualAgentClock();
    const rotatingToken = join(dir, 'rotating-token');
    const firstToken = await stack.serviceAccountToken('team-a', 'app');
    writeFileSync(rotatingToken, firstToken);
    const agent = await agentWith({ auth: { tokenFile: rotatingToken } }, clock);
    expect(brokerAuthorizations.at(-1)).toBe(`Bearer ${firstToken}`);
    // The kubelet swaps projected tokens by rename; the agent must not hold on to the old one.
    const newToken = await stack.serviceAccountToken('team-a', 'worker');
    writeFileSync(`${rotatingToken}.new`, newToken);
    renameSync(`${rotatingToken}.new`, rotatingToken);
    const swapped = brokerAuthorizations.length;
    await clock.advanceTo(Date.parse(agent.roles.get('app')!.status().nextRefreshAt!));
    // Every request after the swap (the refresh, at least one) carries the new token.
    const after = brokerAuthorizations.slice(swapped);
    expect(after.length).toBeGreaterThan(0);
    expect(new Set(after)).toEqual(new Set([`Bearer ${newToken}`]));
    expect(agent.roles.get('app')!.status()).toMatchObject({ state: 'fresh', consecutiveFailures: 0 });
  });
});

/** Connects with a client certificate; resolves with what the server said, or the error. */
function tlsHello(port: number, options: { key: string; cert: string; ca: string; servername: string }): Promise<{ said?: string; serverSerial?: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ...options }, () => {
      const serverSerial = socket.getPeerCertificate().serialNumber;
      socket.once('data', (data) => {
        resolve({ said: data.toString(), serverSerial });
        socket.end();
      });
    });
    socket.once('error', (error) => resolve({ error: error.message }));
    socket.once('close', () => resolve({ error: 'closed' }));
  });
}

/**
 * The workload's TLS server, as its own process (node:tls): it serves the agent's files, asks for
 * client certificates trusted by the agent's ca.crt, and reloads them on SIGHUP.
 */
const TLS_SERVER = `
const { readFileSync, writeFileSync } = require('node:fs');
const { createServer } = require('node:tls');
const [dir, port, pidFile] = process.argv.slice(1);
const files = () => ({ key: readFileSync(dir + '/tls.key'), cert: readFileSync(dir + '/tls.crt'), ca: readFileSync(dir + '/ca.crt') });
const server = createServer({ ...files(), requestCert: true, rejectUnauthorized: true }, (socket) => socket.end('hello'));
server.on('tlsClientError', () => undefined);
let reloads = 0;
process.on('SIGHUP', () => { server.setSecureContext(files()); reloads += 1; console.log('reloaded ' + reloads); });
server.listen(Number(port), '127.0.0.1', () => { writeFileSync(pidFile, String(process.pid)); console.log('ready'); });
`;

describe('certificates that rotate themselves', () => {
  let clock: ManualAgentClock;
  let agent: RunningAgent;
  let serverDir: string;
  let clientDir: string;
  let hookLog: string;
  let tlsServer: ChildProcess;
  let tlsOutput = '';
  let tlsPort: number;
  const readPem = (d: string, name: string) => readFileSync(join(d, name), 'utf8');
  const waitForOutput = async (text: string) => {
    for (let i = 0; i < 200 && !tlsOutput.includes(text); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(tlsOutput).toContain(text);
  };

  beforeAll(async () => {
    clock = new ManualAgentClock();
    serverDir = join(dir, 'server-tls');
    clientDir = join(dir, 'client-tls');
    hookLog = join(dir, 'hook.log');
    const pidFile = join(dir, 'tls-server.pid');
    agent = await agentWith(
      {
        roles: [],
        // Months pass in one step below: revalidate the bundle monthly, not every five minutes.
        trustBundleRefreshSeconds: 30 * 24 * 3600,
        certificates: [
          // Before the server runs, the pid file is missing: the agent logs it and carries on.
          { name: 'server', dir: serverDir, profile: 'mesh', dns: ['api.team-a.svc'], pidFile, onRotate: `echo "$NOCREDS_CERT_NAME $NOCREDS_CERT_DIR" >> ${hookLog}` },
          { name: 'client', dir: clientDir, profile: 'mesh', dns: ['web.team-a.svc'], keyType: 'ec-p384' },
        ],
      },
      clock,
    );
    tlsPort = await freePort();
    tlsServer = spawn(process.execPath, ['-e', TLS_SERVER, serverDir, String(tlsPort), pidFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    tlsServer.stdout?.on('data', (d: Buffer) => (tlsOutput += d.toString()));
    await waitForOutput('ready');
  });

  afterAll(() => {
    tlsServer?.kill('SIGTERM');
  });

  test('key, certificate, chain and trust bundle appear as one version, the key 0600; the chain verifies against the trust bundle with openssl', async () => {
    for (const name of ['tls.key', 'tls.crt', 'chain.crt', 'ca.crt']) expect(lstatSync(join(serverDir, name)).isSymbolicLink()).toBe(true);
    expect(statSync(join(serverDir, 'tls.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(serverDir, 'tls.crt')).mode & 0o777).toBe(0o644);
    expect(readPem(serverDir, 'ca.crt').trim()).toBe(stack.ca.caCertificatePem.trim());
    const leaf = join(dir, 'leaf.pem');
    writeFileSync(leaf, new X509Certificate(readPem(serverDir, 'tls.crt')).toString());
    const { stdout } = await run('openssl', ['verify', '-CAfile', join(serverDir, 'ca.crt'), leaf]);
    expect(stdout.trim()).toBe(`${leaf}: OK`);
    // The key in the directory is the one the certificate is for.
    const { createPrivateKey, createPublicKey } = await import('node:crypto');
    expect(new X509Certificate(readPem(serverDir, 'tls.crt')).checkPrivateKey(createPrivateKey(readPem(serverDir, 'tls.key')))).toBe(true);
    expect(createPublicKey(readPem(clientDir, 'tls.key')).asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
    expect(readFileSync(hookLog, 'utf8')).toBe(`server ${serverDir}\n`);
  });

  test('the TLS server accepts a client certificate from the same CA and rejects one from another CA', async () => {
    const ca = readPem(clientDir, 'ca.crt');
    const accepted = await tlsHello(tlsPort, { key: readPem(clientDir, 'tls.key'), cert: readPem(clientDir, 'tls.crt'), ca, servername: 'api.team-a.svc' });
    expect(accepted.said).toBe('hello');

    const foreign = new FakeCertificateAuthority();
    const { keyPem, csrPem } = await generateKeyAndCsr('ec-p256', { dns: ['web.team-a.svc'] });
    const caArn = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/00000000-0000-0000-0000-000000000000';
    const { certificateArn } = await foreign.issue({ caArn, csrPem, templateArn: 't', signingAlgorithm: 'SHA256WITHECDSA', notAfter: new Date(Date.now() + 3600_000), dns: ['web.team-a.svc'], uris: [], ips: [], idempotencyToken: 'x' });
    const issued = await foreign.get(caArn, certificateArn);
    if (issued.status !== 'issued') throw new Error('the fake CA did not issue');
    const rejected = await tlsHello(tlsPort, { key: keyPem, cert: issued.certificate, ca, servername: 'api.team-a.svc' });
    expect(rejected.said).toBeUndefined();
    expect(rejected.error).toBeDefined();
  });

  test('at two thirds of its life the certificate is renewed with a new key, written, and the hook reloads the server, which then presents it', async () => {
    const before = agent.certificates[0]!.status();
    const oldKey = readPem(serverDir, 'tls.key');
    const renewAt = Date.parse(before.nextRenewalAt!);
    const notBefore = Date.parse(new X509Certificate(readPem(serverDir, 'tls.crt')).validFrom);
    expect((renewAt - notBefore) / (Date.parse(before.notAfter!) - notBefore)).toBeGreaterThan(0.6);
    expect((renewAt - notBefore) / (Date.parse(before.notAfter!) - notBefore)).toBeLessThanOrEqual(2 / 3);

    await clock.advanceTo(renewAt);
    await waitForOutput('reloaded 1');
    const after = agent.certificates[0]!.status();
    expect(after.serialNumber).not.toBe(before.serialNumber);
    expect(after.rotations).toBe(before.rotations + 1);
    // moto signs in real time, so the new certificate may already be past its renewal point in the
    // agent's time: it is still not renewed again at once (certificate-rotator.ts, nextRenewal).
    expect(Date.parse(after.nextRenewalAt!)).toBeGreaterThan(clock.now());
    expect(readPem(serverDir, 'tls.key')).not.toBe(oldKey);
    expect(readFileSync(hookLog, 'utf8').trim().split('\n')).toEqual([`server ${serverDir}`, `server ${serverDir}`]);

    const answer = await tlsHello(tlsPort, { key: readPem(clientDir, 'tls.key'), cert: readPem(clientDir, 'tls.crt'), ca: readPem(clientDir, 'ca.crt'), servername: 'api.team-a.svc' });
    expect(answer.said).toBe('hello');
    expect(answer.serverSerial).toBe(new X509Certificate(readPem(serverDir, 'tls.crt')).serialNumber);
    expect(answer.serverSerial).toBe(after.serialNumber);
  });

  test('metrics report seconds to expiry for each certificate', async () => {
    const text = await agent.metrics.registry.metrics();
    expect(text).toMatch(/nocreds_agent_seconds_to_expiry\{kind="certificate",name="server"\} \d+/);
    expect(text).toMatch(/nocreds_agent_refreshes_total\{kind="certificate",name="server"\} 2/);
  });
});

describe('a broker outage (injected clock)', () => {
  test('the last good credentials are served until the safety margin, then an error the SDKs report; recovery without a restart', async () => {
    const clock = new ManualAgentClock();
    const agent = await agentWith({ safetyMarginSeconds: 300, metrics: { port: 0 } }, clock, inAgentTime(clock));
    const role = agent.roles.get('app')!;
    const good = await role.current();
    const env = bareEnv({ AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.credentialsUri(), AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: agent.authTokenFile });
    const provider = () => fromHttp({ awsContainerCredentialsFullUri: agent.credentialsUri(), awsContainerAuthorizationTokenFile: agent.authTokenFile, maxRetries: 0 })();
    const port = Number(new URL(stack.broker.url).port);

    await stack.broker.stop();
    await clock.advanceTo(Date.parse(role.status().nextRefreshAt!));
    expect(role.status()).toMatchObject({ state: 'stale', lastError: { code: 'broker_unreachable' } });
    expect((await provider()).accessKeyId).toBe(good.accessKeyId);
    expect(await boto3CallerArn(env)).toMatch(ASSUMED_TEAM_A);
    const metrics = await (await fetch(`${agent.metricsUrl}/metrics`)).text();
    expect(metrics).toContain('nocreds_agent_serving_stale{name="app"} 1');
    expect(metrics).toMatch(/nocreds_agent_refresh_failures_total\{kind="credentials",name="app",code="broker_unreachable"\} [1-9]/);
    expect((await fetch(`${agent.url}/readyz`)).status).toBe(200);

    // Inside the safety margin: never served, and the SDKs say why.
    await clock.advanceTo(good.expiration.getTime() - 300_000);
    const refused = await fetch(agent.credentialsUri(), { headers: { authorization: readFileSync(agent.authTokenFile, 'utf8') } });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    await expect(provider()).rejects.toThrow(/status: 503/);
    const botoError = await run(PYTHON, ['-c', BOTO3, stack.moto.endpoint], { env, timeout: 60_000 }).catch((e: { stderr: string }) => e.stderr);
    expect(botoError).toMatch(/no usable credentials for role app .*broker_unreachable|no usable credentials for role app .*cannot be reached/s);
    expect(role.status().state).toBe('unavailable');
    expect((await fetch(`${agent.url}/readyz`)).status).toBe(503);

    // The broker comes back on the same address: the next retry recovers, no restart.
    restartedBroker = await startLocalBroker({ port });
    await clock.advance(61_000);
    expect(role.status()).toMatchObject({ state: 'fresh', consecutiveFailures: 0 });
    const recovered = await provider();
    expect(recovered.accessKeyId).not.toBe(good.accessKeyId);
    expect((await sts(async () => recovered).send(new GetCallerIdentityCommand({}))).Arn).toMatch(ASSUMED_TEAM_A);
  }, 120_000);
});

describe('the nocreds agent command', () => {
  test('starts, prints what to export, serves, and stops cleanly on SIGTERM, removing its token file', async () => {
    const authTokenFile = join(dir, 'cli-agent', 'token');
    const child = spawn(NOCREDS, ['--url', (restartedBroker ?? stack.broker).url, '--token-file', tokenFile, 'agent', '--port', '0', '--role', `app=${roleArn}`, '--auth-token-file', authTokenFile, '--log-level', 'warn'], {
      env: { ...process.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    for (let i = 0; i < 200 && !stderr.includes('AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const uri = /AWS_CONTAINER_CREDENTIALS_FULL_URI='([^']+)'/.exec(stderr)?.[1];
    expect(uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/roles\/app$/);
    expect(stderr).toContain(`export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE='${authTokenFile}'`);
    const provider = fromHttp({ awsContainerCredentialsFullUri: uri, awsContainerAuthorizationTokenFile: authTokenFile, maxRetries: 2, timeout: 5000 });
    expect((await sts(provider).send(new GetCallerIdentityCommand({}))).Arn).toMatch(ASSUMED_TEAM_A);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(authTokenFile)).toBe(false);
    // Nothing secret in what it printed.
    expect(stderr).not.toMatch(/ASIA[A-Z0-9]{12}|eyJ[\w-]+\.[\w-]+\./);
  }, 60_000);
});
