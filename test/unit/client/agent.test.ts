import { randomBytes, webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { startAgent } from '../../../client/agent/agent';
import { agentBrokerAuth, githubActionsToken } from '../../../client/agent/auth';
import { CertificateRotator, MIN_RENEWAL_INTERVAL_MS } from '../../../client/agent/certificate-rotator';
import { backoffMs } from '../../../client/agent/clock';
import { mergeLayers, parseRoleFlag, validateAgentConfig } from '../../../client/agent/config';
import { replaceSection, writeCredentialsProfile } from '../../../client/agent/files';
import type { AgentLogger } from '../../../client/agent/log';
import { CredentialsUnavailableError, RoleCredentials } from '../../../client/agent/role-credentials';
import { imdsEndpoint, secretsEqual } from '../../../client/agent/server';
import { NocredsClientError } from '../../../client/errors';
import { x509 } from '../../../shared/domain/x509';
import { ManualAgentClock } from '../../fakes/agent-clock';

/** Property runs are seeded so a failure reproduces: rerun with the seed it prints. */
const SEED = Number(process.env.FC_SEED ?? 20261201);
const ROLE = { name: 'app', arn: 'arn:aws:iam::123456789012:role/team-a-app' };
const quiet: AgentLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** A broker that vends credentials living `lifetimeMs` by the given clock, or fails as told. */
function fakeBroker(clock: ManualAgentClock, lifetimeMs: number) {
  const calls: Array<{ body: Record<string, unknown>; at: number }> = [];
  let failure: NocredsClientError | undefined;
  let n = 0;
  return {
    calls,
    fail(error: NocredsClientError | undefined) {
      failure = error;
    },
    broker: {
      call: async <T>(_method: string, _path: string, call: { body?: unknown } = {}): Promise<T> => {
        calls.push({ body: call.body as Record<string, unknown>, at: clock.now() });
        if (failure) throw failure;
        n += 1;
        return {
          leaseId: `lease-${n}`,
          accessKeyId: `ASIA${n}`,
          secretAccessKey: 'secret',
          sessionToken: 'token',
          expiration: new Date(clock.now() + lifetimeMs).toISOString(),
          assumedRoleArn: 'arn:aws:sts::123456789012:assumed-role/team-a-app/lease',
        } as T;
      },
    },
  };
}

function roleCredentials(clock: ManualAgentClock, lifetimeMs: number, options: { random?: () => number; safetyMarginMs?: number } = {}) {
  const fake = fakeBroker(clock, lifetimeMs);
  const role = new RoleCredentials(ROLE, { broker: fake.broker as never, clock, random: options.random ?? (() => 0.5), log: quiet, safetyMarginMs: options.safetyMarginMs ?? 120_000 });
  clock.settle = () => role.idle();
  return { role, fake };
}

const unavailable = new NocredsClientError('broker', 'broker_unreachable', 'The broker at http://broker cannot be reached (ECONNREFUSED).', { retryable: true });

describe('pre-fetch', () => {
  test('each credential is refreshed while at least a third of its life is left, whatever the jitter and lifetime (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 0, max: 0.999999, noNaN: true }), fc.integer({ min: 900, max: 3600 }), async (draw, lifetimeSeconds) => {
        const clock = new ManualAgentClock(Date.UTC(2030, 0, 1));
        const lifetime = lifetimeSeconds * 1000;
        const { role, fake } = roleCredentials(clock, lifetime, { random: () => draw });
        await role.start();
        const first = await role.current();
        await clock.advance(lifetime);
        // The refresh happened, and happened with a third or more of the first credential's life left.
        expect(fake.calls.length).toBeGreaterThanOrEqual(2);
        const left = first.expiration.getTime() - (fake.calls[1]?.at as number);
        expect(left).toBeGreaterThanOrEqual(lifetime / 3 - 1);
        // ...and not absurdly early: jitter spreads refreshes over a tenth of the lifetime.
        expect(left).toBeLessThanOrEqual(lifetime * (1 / 3 + 0.1) + 1);
        role.stop();
      }),
      { seed: SEED, numRuns: 40 },
    );
  });

  test('the first request may reuse a live session; every refresh asks for a fresh one', async () => {
    const clock = new ManualAgentClock();
    const { role, fake } = roleCredentials(clock, 3600_000);
    await role.start();
    await clock.advance(3 * 3600_000);
    expect(fake.calls[0]?.body).toEqual({ role: ROLE.arn });
    expect(fake.calls.slice(1).every((c) => c.body.fresh === true)).toBe(true);
    role.stop();
  });

  test('a fleet started at the same moment spreads its refreshes out (jitter)', async () => {
    const times: number[] = [];
    for (const draw of [0, 0.25, 0.5, 0.75, 0.99]) {
      const clock = new ManualAgentClock(Date.UTC(2030, 0, 1));
      const { role } = roleCredentials(clock, 3600_000, { random: () => draw });
      await role.start();
      times.push(Date.parse(role.status().nextRefreshAt as string));
      role.stop();
    }
    expect(new Set(times).size).toBe(5);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(5 * 60_000);
  });
});

describe('outage tolerance', () => {
  test('while the broker is down the last good credentials are served until the safety margin, never after; then an error; then recovery', async () => {
    const clock = new ManualAgentClock(Date.UTC(2030, 0, 1));
    const { role, fake } = roleCredentials(clock, 3600_000, { safetyMarginMs: 120_000 });
    await role.start();
    const good = await role.current();
    fake.fail(unavailable);
    // Past the refresh point: refreshes fail, the same credentials are still served, marked stale.
    await clock.advanceTo(good.expiration.getTime() - 20 * 60_000);
    expect(role.status()).toMatchObject({ state: 'stale', lastError: { code: 'broker_unreachable' } });
    expect((await role.current()).accessKeyId).toBe(good.accessKeyId);
    // One millisecond before the margin: still served. At the margin: refused, saying why.
    await clock.advanceTo(good.expiration.getTime() - 120_000 - 1);
    expect((await role.current()).accessKeyId).toBe(good.accessKeyId);
    await clock.advanceTo(good.expiration.getTime() - 120_000);
    const error = await role.current().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsUnavailableError);
    expect((error as Error).message).toMatch(/no usable credentials for role app .*safety margin.*ECONNREFUSED/s);
    expect(role.status().state).toBe('unavailable');
    // The broker comes back: the next retry (at most a minute away) recovers, no restart.
    fake.fail(undefined);
    await clock.advance(61_000);
    expect(role.status()).toMatchObject({ state: 'fresh', consecutiveFailures: 0 });
    expect((await role.current()).accessKeyId).not.toBe(good.accessKeyId);
    role.stop();
  });

  test('credentials are never served at or after the safety margin (property over time and margin)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 3600_000 }), fc.integer({ min: 0, max: 600_000 }), async (elapsed, margin) => {
        const clock = new ManualAgentClock(Date.UTC(2030, 0, 1));
        const { role, fake } = roleCredentials(clock, 3600_000, { safetyMarginMs: margin });
        await role.start();
        const expiresAt = (await role.current()).expiration.getTime();
        fake.fail(unavailable);
        await clock.advance(elapsed);
        const served = await role.current().then(
          (c) => c.expiration.getTime(),
          () => undefined,
        );
        if (served !== undefined) expect(served - clock.now()).toBeGreaterThan(margin);
        else expect(clock.now()).toBeGreaterThanOrEqual(expiresAt - margin);
        role.stop();
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  test("failed refreshes back off exponentially with jitter, and never sooner than the broker's Retry-After", async () => {
    const clock = new ManualAgentClock(Date.UTC(2030, 0, 1));
    const { role, fake } = roleCredentials(clock, 3600_000);
    fake.fail(new NocredsClientError('broker', 'sts_throttled', 'STS is throttling (HTTP 503 sts_throttled)', { status: 503, retryable: true, retryAfterMs: 30_000 }));
    await role.start();
    const first = fake.calls.length;
    await clock.advance(29_999);
    expect(fake.calls.length).toBe(first);
    await clock.advance(1);
    expect(fake.calls.length).toBe(first + 1);
    for (let failures = 1; failures <= 12; failures++) {
      for (const draw of [0, 0.5, 0.999]) {
        const wait = backoffMs(failures, () => draw);
        expect(wait).toBeLessThanOrEqual(60_000);
        expect(wait).toBeGreaterThanOrEqual(Math.min(60_000, 1000 * 2 ** (failures - 1)) / 4);
      }
    }
    role.stop();
  });
});

describe('configuration', () => {
  const base = { url: 'https://broker.example.com', auth: { tokenFile: '/var/run/secrets/nocreds/token' }, roles: [ROLE] };

  test('flags beat the environment, which beats the file: objects merge by key, lists and auth are replaced whole', () => {
    const file = { ...base, listen: { port: 9000, host: '127.0.0.1' }, auth: { iam: { region: 'eu-west-1' } }, roles: [ROLE, { name: 'b', arn: 'arn:aws:iam::123456789012:role/b' }] };
    const env = { listen: { port: 9100 } };
    const flags = { auth: { tokenFile: '/t' }, roles: [{ name: 'c', arn: 'arn:aws:iam::123456789012:role/c' }] };
    const merged = mergeLayers(file, env, flags);
    expect(merged).toMatchObject({ listen: { port: 9100, host: '127.0.0.1' }, auth: { tokenFile: '/t' }, roles: [{ name: 'c' }] });
    expect((merged.auth as Record<string, unknown>).iam).toBeUndefined();
    expect(validateAgentConfig(merged, 'test').listen.port).toBe(9100);
  });

  test('defaults: loopback, port 8790, no IMDS, a two-minute safety margin', () => {
    const config = validateAgentConfig(base, 'test');
    expect(config).toMatchObject({ listen: { host: '127.0.0.1', port: 8790, tcp: true }, imds: { enabled: false }, safetyMarginSeconds: 120 });
  });

  test('errors name every bad setting and say what it should be', () => {
    const bad = () =>
      validateAgentConfig(
        { ...base, roles: [{ name: 'app', arn: 'team-a-app' }, { name: 'app', arn: ROLE.arn }], imds: { enabled: true, role: 'missing' }, surprise: 1, certificates: [{ dir: '/x' }] },
        'agent.yaml',
      );
    expect(bad).toThrow(NocredsClientError);
    const message = (() => {
      try {
        bad();
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(message).toContain('The agent configuration (agent.yaml) is invalid');
    expect(message).toMatch(/roles\[0\]\.arn: expected a role ARN/);
    expect(message).toMatch(/Unrecognized key.*surprise/);
    expect(message).toMatch(/certificates\[0\]: name the certificate/);
  });

  test('--role takes name=ARN or a bare ARN, named after the role', () => {
    expect(parseRoleFlag('app=arn:aws:iam::123456789012:role/x')).toEqual({ name: 'app', arn: 'arn:aws:iam::123456789012:role/x' });
    expect(parseRoleFlag('arn:aws:iam::123456789012:role/path/team-a-app')).toEqual({ name: 'team-a-app', arn: 'arn:aws:iam::123456789012:role/path/team-a-app' });
  });
});

describe('shared-credentials file', () => {
  test('one profile is replaced or added; other profiles and comments stay as they were', () => {
    const text = '# mine\n[default]\naws_access_key_id = AKIAMINE\n\n[nocreds]\naws_access_key_id = OLD\n\n[other]\nregion = eu-west-1\n';
    const out = replaceSection(text, 'nocreds', ['[nocreds]', 'aws_access_key_id = NEW']);
    expect(out).toBe('# mine\n[default]\naws_access_key_id = AKIAMINE\n\n[nocreds]\naws_access_key_id = NEW\n\n[other]\nregion = eu-west-1\n');
    expect(replaceSection('[default]\nx = 1\n', 'nocreds', ['[nocreds]', 'y = 2'])).toBe('[default]\nx = 1\n\n[nocreds]\ny = 2\n');
    expect(replaceSection('', 'nocreds', ['[nocreds]', 'y = 2'])).toBe('[nocreds]\ny = 2\n');
  });

  test('written atomically with mode 0600, even over a file that was readable by others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nocreds-agent-ini-'));
    const path = join(dir, 'credentials');
    writeFileSync(path, '[default]\naws_access_key_id = AKIAMINE\n', { mode: 0o644 });
    await writeCredentialsProfile(path, 'nocreds', { accessKeyId: 'ASIA1', secretAccessKey: 's', sessionToken: 't', expiration: new Date('2030-01-01T00:00:00Z') });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toMatch(/^\[default\]\naws_access_key_id = AKIAMINE\n\n\[nocreds\]\n# written by nocreds agent.*\naws_access_key_id = ASIA1\naws_secret_access_key = s\naws_session_token = t\n$/);
  });
});

describe('endpoint security', () => {
  test('token comparison is exact (constant-time over hashes)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(secretsEqual(a, b)).toBe(a === b);
      }),
      { seed: SEED },
    );
  });

  test('IMDSv2 only: no token, an unknown or expired token is 401; the token PUT needs a TTL of 1-21600 and refuses proxied requests', async () => {
    const clock = new ManualAgentClock(Date.UTC(2030, 0, 1));
    const { role } = roleCredentials(clock, 3600_000);
    await role.start();
    const handler = imdsEndpoint({ role, clock, health: () => ({ ready: true }) });
    const server = createServer((req: IncomingMessage, res: ServerResponse) => void handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const send = (method: string, path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      const path = '/latest/meta-data/iam/security-credentials/app';
      expect((await send('GET', path)).status).toBe(401);
      expect((await send('GET', path, { 'x-aws-ec2-metadata-token': 'guess' })).status).toBe(401);
      expect((await send('PUT', '/latest/api/token')).status).toBe(400);
      expect((await send('PUT', '/latest/api/token', { 'x-aws-ec2-metadata-token-ttl-seconds': '21601' })).status).toBe(400);
      expect((await send('PUT', '/latest/api/token', { 'x-aws-ec2-metadata-token-ttl-seconds': '60', 'x-forwarded-for': '10.0.0.1' })).status).toBe(403);
      const token = (await send('PUT', '/latest/api/token', { 'x-aws-ec2-metadata-token-ttl-seconds': '60' })).body;
      expect(await send('GET', '/latest/meta-data/iam/security-credentials/', { 'x-aws-ec2-metadata-token': token })).toEqual({ status: 200, body: 'app' });
      const answer = await send('GET', path, { 'x-aws-ec2-metadata-token': token });
      expect(JSON.parse(answer.body)).toMatchObject({ Code: 'Success', Type: 'AWS-HMAC', AccessKeyId: 'ASIA1' });
      await clock.advance(60_000);
      expect((await send('GET', path, { 'x-aws-ec2-metadata-token': token })).status).toBe(401);
    } finally {
      role.stop();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('the agent over a Unix socket, with a GitHub Actions token', () => {
  test('serves only on the socket (mode 0600) with --no-tcp; the token is required there too; each broker call carries a freshly requested GitHub token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nocreds-agent-sock-'));
    const socket = join(dir, 'agent.sock');
    const clock = new ManualAgentClock(Date.UTC(2030, 0, 1));
    let issued = 0;
    const seen: string[] = [];
    const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(String(input));
      if (url.hostname === 'github-runner.example') {
        issued += 1;
        expect(url.searchParams.get('audience')).toBe('nocreds');
        expect((init?.headers as Record<string, string>).authorization).toBe('bearer runner-secret');
        return new Response(JSON.stringify({ value: `gh-token-${issued}` }), { status: 200 });
      }
      seen.push(String((init?.headers as Record<string, string>).authorization));
      return new Response(
        JSON.stringify({ leaseId: 'l1', accessKeyId: 'ASIAX', secretAccessKey: 's', sessionToken: 't', expiration: new Date(clock.now() + 3600_000).toISOString() }),
        { status: 201, headers: { 'content-type': 'application/json' } },
      );
    }) as typeof fetch;
    const env = { ACTIONS_ID_TOKEN_REQUEST_URL: 'https://github-runner.example/token?api-version=2.0', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-secret' };
    const config = validateAgentConfig(
      { url: 'https://broker.example.com', auth: { github: {} }, listen: { tcp: false, socket }, authTokenFile: join(dir, 'token'), roles: [ROLE] },
      'test',
    );
    const agent = await startAgent(config, { clock, log: quiet, fetch: fetchImpl, auth: await agentBrokerAuth(config.auth, env, fetchImpl) });
    clock.settle = () => agent.idle();
    try {
      await agent.started;
      expect(agent.url).toBeUndefined();
      expect(statSync(socket).mode & 0o777).toBe(0o600);
      const get = (headers: Record<string, string>) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = request({ socketPath: socket, path: '/roles/app', headers }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          });
          req.on('error', reject);
          req.end();
        });
      expect((await get({})).status).toBe(401);
      const ok = await get({ authorization: readFileSync(join(dir, 'token'), 'utf8') });
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body)).toMatchObject({ AccessKeyId: 'ASIAX', Token: 't' });
      await clock.advance(3600_000);
      expect(seen.slice(0, 2)).toEqual(['Bearer gh-token-1', 'Bearer gh-token-2']);
    } finally {
      await agent.stop();
    }
    expect(() => statSync(socket)).toThrow();
    expect(() => statSync(join(dir, 'token'))).toThrow();
  });

  test('outside GitHub Actions the token request says what is missing', async () => {
    await expect(githubActionsToken('nocreds', {})).rejects.toMatchObject({ kind: 'auth', code: 'github_token_unavailable', message: expect.stringContaining('id-token: write') });
  });
});

const SIGNING = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 3600_000;

/**
 * A broker that signs each CSR with the validity `validity(now)` gives (now: the agent's clock, in
 * whole seconds as in a certificate), and serves a trust bundle the test can change. It refuses
 * once `validity` says the CA can no longer issue (undefined), and after 100 issuances (so a
 * renewal loop ends and shows in the count instead of hanging the test).
 */
async function certificateBroker(clock: ManualAgentClock, validity: (now: number) => { notBefore: number; notAfter: number } | undefined) {
  const keys = (await webcrypto.subtle.generateKey(SIGNING, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=Unit Test CA',
    keys,
    signingAlgorithm: SIGNING,
    notBefore: new Date('2020-01-01T00:00:00Z'),
    notAfter: new Date('2200-01-01T00:00:00Z'),
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  const state = { bundle: ca.toString('pem'), issued: [] as number[] };
  const broker = {
    call: async <T>(method: string, path: string, call: { body?: unknown } = {}): Promise<T> => {
      if (method !== 'POST' || path !== '/v1/certificates') throw new Error(`unexpected ${method} ${path}`);
      const now = Math.floor(clock.now() / 1000) * 1000;
      const granted = validity(now);
      if (!granted || granted.notAfter <= now) throw new NocredsClientError('broker', 'ca_unavailable', 'The CA can no longer issue.', { retryable: true });
      if (state.issued.length >= 100) throw new NocredsClientError('broker', 'runaway', 'More than 100 certificates issued: a renewal loop.', { retryable: true });
      state.issued.push(clock.now());
      const csr = new x509.Pkcs10CertificateRequest((call.body as { csr: string }).csr);
      const certificate = await x509.X509CertificateGenerator.create({
        serialNumber: `01${randomBytes(15).toString('hex')}`,
        subject: 'CN=app.team-a.svc',
        issuer: ca.subject,
        notBefore: new Date(granted.notBefore),
        notAfter: new Date(granted.notAfter),
        publicKey: csr.publicKey,
        signingKey: keys.privateKey,
        signingAlgorithm: SIGNING,
      });
      return { leaseId: `lease-${state.issued.length}`, certificate: certificate.toString('pem'), certificateChain: ca.toString('pem') } as T;
    },
    callText: async (path: string, call: { headers?: Record<string, string> } = {}) => {
      if (path !== '/v1/trust-bundle') throw new Error(`unexpected GET ${path}`);
      const etag = `"${state.bundle.length}-${state.bundle.slice(-40, -26)}"`;
      return call.headers?.['if-none-match'] === etag ? { status: 304, body: '' } : { status: 200, body: state.bundle, etag };
    },
  };
  return { state, broker };
}

function rotatorFor(clock: ManualAgentClock, broker: Awaited<ReturnType<typeof certificateBroker>>['broker'], options: { renewBeforeSeconds?: number; random?: () => number; trustBundleRefreshMs?: number } = {}) {
  const config = validateAgentConfig(
    { url: 'https://broker.example', auth: { tokenFile: '/dev/null' }, certificates: [{ name: 'web', dir: join(mkdtempSync(join(tmpdir(), 'nocreds-rotator-')), 'tls'), dns: ['app.team-a.svc'], ...(options.renewBeforeSeconds !== undefined ? { renewBeforeSeconds: options.renewBeforeSeconds } : {}) }] },
    'test',
  );
  const rotator = new CertificateRotator(config.certificates[0]!, { broker: broker as never, clock, random: options.random ?? (() => 0.5), log: quiet, trustBundleRefreshMs: options.trustBundleRefreshMs ?? 1000 * DAY });
  clock.settle = () => rotator.idle();
  return rotator;
}

describe('certificate rotation', () => {
  const START = Date.parse('2026-12-01T00:00:00Z');

  // Regression (the agent integration test's flake): moto signs in its own time, so a certificate
  // renewed while the agent's clock is months ahead has the same validity as the one it replaces.
  // Its renewal point had already passed, and the agent renewed again at once, in a loop.
  test('a renewed certificate whose renewal point has already passed is not renewed again at once', async () => {
    const clock = new ManualAgentClock(START);
    const { state, broker } = await certificateBroker(clock, () => ({ notBefore: START, notAfter: START + 365 * DAY }));
    const rotator = rotatorFor(clock, broker);
    await rotator.start();
    const renewAt = Date.parse(rotator.status().nextRenewalAt!);
    await clock.advanceTo(renewAt);
    expect(state.issued).toEqual([START, renewAt]);
    expect(rotator.status()).toMatchObject({ state: 'valid', rotations: 2, consecutiveFailures: 0 });
    // Renewed again when half of what is left has passed, not before.
    expect(Date.parse(rotator.status().nextRenewalAt!)).toBe(Math.ceil(renewAt + (START + 365 * DAY - renewAt) / 2));
  });

  test('renewBeforeSeconds longer than the validity renews when half of each certificate has passed, not in a loop', async () => {
    const clock = new ManualAgentClock(START);
    const { state, broker } = await certificateBroker(clock, (now) => ({ notBefore: now, notAfter: now + 3600_000 }));
    const rotator = rotatorFor(clock, broker, { renewBeforeSeconds: 7200 });
    await rotator.start();
    await clock.advance(3 * 3600_000);
    expect(state.issued.map((t) => (t - START) / 60_000)).toEqual([0, 30, 60, 90, 120, 150, 180]);
    expect(rotator.isReady()).toBe(true);
  });

  test('issuances are at least a minute apart, and the renewal policy is unchanged where it can be met (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          lifetimeS: fc.integer({ min: 120, max: 2 * 365 * 24 * 3600 }),
          // The CA's own expiry caps what it issues (as ACM PCA does), somewhere in the window.
          capShare: fc.option(fc.double({ min: 0.1, max: 3, noNaN: true })),
          renewBeforeShare: fc.option(fc.double({ min: 0, max: 2, noNaN: true })),
          random: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        }),
        async ({ lifetimeS, capShare, renewBeforeShare, random }) => {
          const lifetime = lifetimeS * 1000;
          const cap = capShare === null ? Number.POSITIVE_INFINITY : Math.floor((START + capShare * lifetime) / 1000) * 1000;
          const clock = new ManualAgentClock(START);
          const { state, broker } = await certificateBroker(clock, (now) => (now >= cap ? undefined : { notBefore: now, notAfter: Math.min(now + lifetime, cap) }));
          const renewBeforeSeconds = renewBeforeShare === null ? undefined : Math.max(1, Math.round(renewBeforeShare * lifetimeS));
          const rotator = rotatorFor(clock, broker, { random: () => random, ...(renewBeforeSeconds !== undefined ? { renewBeforeSeconds } : {}) });
          await rotator.start();
          // Up to the CA's expiry: after it, only failed attempts (with their own backoff) remain.
          await clock.advanceTo(Math.min(START + 3 * lifetime, cap));
          rotator.stop();
          const gaps = state.issued.slice(1).map((t, i) => t - state.issued[i]!);
          for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(MIN_RENEWAL_INTERVAL_MS);
          if (capShare === null && renewBeforeSeconds === undefined) {
            // Each certificate renewed when between a third and 40 % of its life is left (whole-second validity).
            expect(gaps.length).toBeGreaterThanOrEqual(4);
            for (const gap of gaps) {
              expect(gap).toBeGreaterThanOrEqual(0.6 * lifetime - 1000);
              expect(gap).toBeLessThanOrEqual((2 / 3) * lifetime + 1000);
            }
          }
        },
      ),
      { seed: SEED, numRuns: 40 },
    );
  }, 60_000);

  test('a changed trust bundle is written and counted apart: it is not a rotation', async () => {
    const clock = new ManualAgentClock(START);
    const { state, broker } = await certificateBroker(clock, (now) => ({ notBefore: now, notAfter: now + 30 * DAY }));
    const rotator = rotatorFor(clock, broker, { trustBundleRefreshMs: DAY });
    await rotator.start();
    const before = rotator.status();
    await clock.advance(2 * DAY);
    expect(rotator.status()).toMatchObject({ rotations: 1, trustBundleUpdates: 0 });

    state.bundle = `${state.bundle}${state.bundle}`;
    await clock.advance(2 * DAY);
    expect(rotator.status()).toMatchObject({ rotations: 1, trustBundleUpdates: 1, serialNumber: before.serialNumber });
    expect(readFileSync(join(rotator.certificate.dir, 'ca.crt'), 'utf8')).toBe(state.bundle);
    expect(state.issued).toHaveLength(1);
  });
});
