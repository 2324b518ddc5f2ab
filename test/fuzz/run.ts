import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { SignJWT, base64url } from 'jose';
import type { Lease } from '../../shared/domain/lease';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { generateCsr } from '../../local/workload-csr';
import { startSerialProxy } from './serial-proxy';
import { CSR_POOL, generatedClaims, generateRequests, HOSTILE_TOKENS, padBody, VALID_TOKENS, type CsrVariant, type FuzzRequest, type TokenName } from './requests';

/**
 * `npm run fuzz`: generated hostile requests against the whole local stack (moto, the development
 * OIDC issuer, the real handlers behind the local HTTP server). The invariants it checks, from
 * The design: no 5xx for bad input; every 4xx carries a JSON `error.code`; no lease for a rejected
 * request (every lease in the table was handed out in a 2xx answer, and every 2xx grant has its
 * lease); STS and Private CA are called once per lease, never for a rejection; the controls (valid
 * requests mixed in) are answered as expected; the server is still serving at the end.
 */
export interface FuzzOptions {
  readonly seed: number;
  readonly requests: number;
  readonly concurrency?: number;
  /** Where to print (the CLI prints to stdout; tests collect it). */
  readonly log?: (line: string) => void;
}

export interface FuzzReport {
  readonly seed: number;
  readonly requests: number;
  readonly byStatus: Record<string, number>;
  readonly serverErrors: number;
  readonly rejectionsWithoutCode: number;
  readonly unanswered: number;
  readonly controls: { readonly sent: number; readonly unexpected: number };
  readonly leasesWritten: number;
  readonly grantsAnswered: number;
  readonly leasesWithoutGrant: number;
  readonly grantsWithoutLease: number;
  readonly failedLeases: number;
  readonly stsAssumeRoleCalls: number;
  readonly credentialLeases: number;
  readonly pcaIssueCalls: number;
  readonly certificateLeases: number;
  readonly rssBeforeMiB: number;
  readonly rssAfterMiB: number;
  readonly servingAtEnd: boolean;
  readonly seconds: number;
  readonly failures: readonly string[];
  readonly ok: boolean;
}

interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly error?: string;
}

interface Fixtures {
  readonly tokens: Record<TokenName, string>;
  readonly csrs: Map<string, string>;
}

const REQUEST_TIMEOUT_MS = 20_000;

// --- fixtures: tokens with chosen claims, valid and damaged CSRs ---------------------------------

function k8s(namespace: unknown, serviceAccount: unknown = 'app') {
  return { 'kubernetes.io': { namespace, serviceaccount: { name: serviceAccount, uid: 'u' } } };
}

async function mintTokens(stack: LocalStack, seed: number): Promise<Record<TokenName, string>> {
  const { issuer } = stack;
  const now = Math.floor(Date.now() / 1000);
  const sa = (ns: string, name = 'app') => `system:serviceaccount:${ns}:${name}`;
  const teamA = await stack.serviceAccountToken('team-a');
  const [header, payload, signature] = teamA.split('.') as [string, string, string];
  const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
  const unsigned = (claims: object) => `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${base64url.encode(JSON.stringify(claims))}.`;
  const generated = generatedClaims(seed);
  const tokens: Partial<Record<TokenName, string>> = {
    'team-a': teamA,
    'team-b': await stack.serviceAccountToken('team-b'),
    sandbox: await stack.serviceAccountToken('team-sandbox'),
    'other-namespace': await stack.serviceAccountToken('kube-system'),
    'namespace-glob': await issuer.mint({ sub: sa('team-*'), ...k8s('team-*') }),
    'namespace-template': await issuer.mint({ sub: sa('team-a'), ...k8s('team-${namespace}') }),
    'namespace-control-chars': await issuer.mint({ sub: sa('team-a'), ...k8s('team-a\u0000\r\nx') }),
    'namespace-unicode': await issuer.mint({ sub: sa('team-a'), ...k8s('team-\u00e4\u202e') }),
    'namespace-long': await issuer.mint({ sub: sa('team-a'), ...k8s(`team-${'a'.repeat(3000)}`) }),
    'namespace-number': await issuer.mint({ sub: sa('team-a'), ...k8s(7) }),
    'namespace-array': await issuer.mint({ sub: sa('team-a'), ...k8s(['team-a']) }),
    'namespace-object': await issuer.mint({ sub: sa('team-a'), ...k8s({ toString: 'team-a' }) }),
    'namespace-empty': await issuer.mint({ sub: sa(''), ...k8s('') }),
    'no-kubernetes-claim': await issuer.mint({ sub: sa('team-a') }),
    'sub-hostile': await issuer.mint({ sub: 'system:serviceaccount:team-a:app:*', ...k8s('team-a') }),
    'serviceaccount-slash': await issuer.mint({ sub: sa('team-a', 'a/../b'), ...k8s('team-a', 'a/../b') }),
    'serviceaccount-template': await issuer.mint({ sub: sa('team-a'), ...k8s('team-a', '${namespace}') }),
    'prototype-claims': await issuer.mint({ sub: sa('team-a'), ...k8s('team-a'), ...(JSON.parse('{"__proto__":{"admin":true},"constructor":"x","prototype":{"namespace":"team-b"}}') as object) }),
    'tags-claim': await issuer.mint({ sub: sa('team-a'), ...k8s('team-a'), 'https://aws.amazon.com/tags': { principal_tags: { team: ['admin'] }, transitive_tag_keys: ['team'] } }),
    'wrong-audience': await issuer.mint({ sub: sa('team-a'), aud: 'someone-else', ...k8s('team-a') }),
    expired: await issuer.mint({ sub: sa('team-a'), ...k8s('team-a') }, { issuedAt: now - 7200, expiresAt: now - 3600 }),
    'not-yet-valid': await issuer.mint({ sub: sa('team-a'), ...k8s('team-a') }, { notBefore: now + 3600 }),
    'issued-long-ago': await issuer.mint({ sub: sa('team-a'), ...k8s('team-a') }, { issuedAt: now - 10 * 86400, expiresAt: now + 3600 }),
    'unknown-kid': await issuer.mint({ sub: sa('team-a'), ...k8s('team-a') }, { kid: 'no-such-key' }),
    'other-issuer': await issuer.mint({ sub: sa('team-a'), ...k8s('team-a') }, { issuer: 'https://evil.example' }),
    'alg-none': unsigned({ iss: issuer.url, sub: sa('team-a'), aud: 'nocreds', iat: now, exp: now + 3600, ...k8s('team-a') }),
    hs256: await new SignJWT({ ...k8s('team-a') }).setProtectedHeader({ alg: 'HS256', kid: issuer.kid }).setIssuer(issuer.url).setSubject(sa('team-a')).setAudience('nocreds').setIssuedAt(now).setExpirationTime(now + 3600).sign(randomBytes(32)),
    truncated: teamA.slice(0, -10),
    'bad-signature': `${header}.${payload}.${flipped}`,
    garbage: 'not.a.jwt',
  };
  for (let i = 0; i < 8; i += 1) tokens[`generated-${i}` as TokenName] = await issuer.mint({ sub: sa('team-a', `g${i}`), ...(generated[i] ?? {}) });
  for (const name of [...VALID_TOKENS, ...HOSTILE_TOKENS]) if (!tokens[name]) throw new Error(`fuzz: no token ${name}`);
  return tokens as Record<TokenName, string>;
}

function pemOf(der: Buffer, label = 'CERTIFICATE REQUEST'): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END ${label}-----\n`;
}

async function makeCsrs(): Promise<Map<string, string>> {
  const csrs = new Map<string, string>();
  for (let i = 0; i < CSR_POOL; i += 1) {
    const { csr, privateKeyPem } = await generateCsr({ dns: ['api.team-a.svc'], keyType: i % 4 === 3 ? 'RSA_2048' : 'EC_prime256v1' });
    const der = Buffer.from(csr.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const corrupted = Buffer.from(der);
    corrupted[1] = 0x86;
    const flipped = Buffer.from(der);
    flipped[Math.floor(der.length / 2)] = (flipped[Math.floor(der.length / 2)] as number) ^ 0xff;
    const body = der.toString('base64');
    const variants: Record<CsrVariant, string> = {
      valid: csr,
      'valid-crlf': csr.replace(/\n/g, '\r\n'),
      'new-label': csr.replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST'),
      truncated: pemOf(der.subarray(0, Math.floor(der.length / 2))),
      'trailing-bytes': pemOf(Buffer.concat([der, Buffer.from([0, 0])])),
      'corrupted-length': pemOf(corrupted),
      'flipped-byte': pemOf(flipped),
      'wrong-type': i % 2 === 0 ? privateKeyPem : pemOf(der, 'CERTIFICATE'),
      'two-blocks': `${csr}${csr}`,
      'text-around': `Certificate request for api.team-a.svc\n${csr}`,
      'no-armour': body,
      'bad-base64': pemOf(der).replace(body.slice(10, 12), '$%'),
      'rsa-1024': (await generateCsr({ dns: ['api.team-a.svc'], keyType: 'RSA_1024' })).csr,
      'ca-request': (await generateCsr({ dns: ['api.team-a.svc'], ca: true })).csr,
      'foreign-names': (await generateCsr({ dns: ['api.team-b.svc', 'evil.example'] })).csr,
      'empty-block': '-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n',
    };
    for (const [variant, text] of Object.entries(variants)) csrs.set(`${variant}:${i}`, text);
  }
  return csrs;
}

// --- sending -------------------------------------------------------------------------------------

function materialize(text: string, fixtures: Fixtures, leaseId: string, inJson: boolean): string {
  return text
    .replace(/\{token:([\w-]+)\}/g, (whole, name: string) => fixtures.tokens[name as TokenName] ?? whole)
    .replace(/\{csr:([\w-]+:\d+)\}/g, (whole, key: string) => {
      const csr = fixtures.csrs.get(key);
      if (csr === undefined) return whole;
      return inJson ? JSON.stringify(csr).slice(1, -1) : csr;
    })
    .replace(/\{lease\}/g, leaseId);
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The body of a complete chunked answer, or undefined while it is still arriving. */
function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    if (data.length < eol + 2 + size + 2) return undefined;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/** Sends bytes over a fresh socket and reads one HTTP answer (status, and a JSON body if any). */
function sendRaw(port: number, bytes: Buffer | string): Promise<Answer> {
  return new Promise((resolve) => {
    let data = Buffer.alloc(0);
    let settled = false;
    const finish = (answer: Answer) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(answer);
    };
    const parse = (ended: boolean) => {
      const text = data.toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      if (split < 0) {
        if (ended) finish({ status: 0, error: data.length === 0 ? 'closed without an answer' : 'incomplete answer' });
        return;
      }
      const head = text.slice(0, split);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? -1);
      const body = data.subarray(split + 4);
      if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
        const decoded = dechunk(body);
        if (decoded) finish({ status, body: parseBody(decoded.toString('utf8')) });
        else if (ended) finish({ status, error: 'incomplete chunked answer' });
      } else if (length >= 0 && body.length >= length) finish({ status, body: parseBody(body.subarray(0, length).toString('utf8')) });
      else if (ended) finish({ status, body: parseBody(body.toString('utf8')) });
    };
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      parse(false);
    });
    socket.on('end', () => parse(true));
    socket.on('close', () => parse(true));
    socket.on('error', (error) => finish({ status: 0, error: (error as NodeJS.ErrnoException).code ?? error.message }));
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => finish({ status: 0, error: 'timeout' }));
  });
}

function rawHttp(method: string, path: string, headers: Record<string, string>, body: Buffer | undefined): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (body) lines.push(`content-length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), body ?? Buffer.alloc(0)]);
}

function send(port: number, agent: Agent, request: FuzzRequest, fixtures: Fixtures, leaseId: string): Promise<Answer> {
  if (request.raw !== undefined) return sendRaw(port, materialize(request.raw, fixtures, leaseId, false));
  const path = materialize(request.path, fixtures, leaseId, false);
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, materialize(v, fixtures, leaseId, false)]));
  const body = request.body === undefined ? undefined : typeof request.body === 'string' ? Buffer.from(materialize(padBody(request.body), fixtures, leaseId, true), 'utf8') : Buffer.from(request.body);
  return new Promise((resolve) => {
    let req;
    try {
      req = httpRequest({ host: '127.0.0.1', port, method: request.method, path, headers: body ? { ...headers, 'content-length': String(body.length) } : headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: parseBody(Buffer.concat(chunks).toString('utf8')) }));
        res.on('error', (error) => resolve({ status: res.statusCode ?? 0, error: error.message }));
      });
    } catch {
      // Node's client refuses to send this (a character it will not put in a path or header): send it raw.
      resolve(sendRaw(port, rawHttp(request.method, path, headers, body)));
      return;
    }
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ status: 0, error: (error as NodeJS.ErrnoException).code ?? error.message }));
    req.end(body);
  });
}

// --- what the dependencies saw --------------------------------------------------------------------

async function moto(stack: LocalStack, path: string, method = 'POST'): Promise<string> {
  const response = await fetch(`${stack.moto.endpoint}/moto-api/recorder/${path}`, { method });
  if (!response.ok) throw new Error(`moto recorder ${path}: ${response.status}`);
  return response.text();
}

function countCalls(recording: string): { assumeRole: number; issueCertificate: number } {
  let assumeRole = 0;
  let issueCertificate = 0;
  for (const line of recording.split('\n')) {
    if (!line.trim()) continue;
    const entry = JSON.parse(line) as { headers?: Record<string, string>; body?: string; body_encoded?: boolean };
    const body = entry.body_encoded ? Buffer.from(entry.body ?? '', 'base64').toString('utf8') : (entry.body ?? '');
    const target = Object.entries(entry.headers ?? {}).find(([k]) => k.toLowerCase() === 'x-amz-target')?.[1];
    if (/(^|&)Action=AssumeRole(&|$)/.test(body)) assumeRole += 1;
    if (target === 'ACMPrivateCA.IssueCertificate') issueCertificate += 1;
  }
  return { assumeRole, issueCertificate };
}

async function allLeases(stack: LocalStack): Promise<Lease[]> {
  const client = new DynamoDBClient({ region: 'us-east-1', endpoint: stack.moto.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const leases: Lease[] = [];
  let start: ScanCommandOutput['LastEvaluatedKey'];
  do {
    const page = await client.send(new ScanCommand({ TableName: stack.tableName, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
    leases.push(...(page.Items ?? []).map((item) => unmarshall(item) as Lease));
    start = page.LastEvaluatedKey;
  } while (start);
  client.destroy();
  return leases;
}

/** RSS after a full collection when node runs with --expose-gc (npm run fuzz does), else as it is. */
function settledRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

function describe(request: FuzzRequest): string {
  const body = request.body === undefined ? '' : ` body=${JSON.stringify(String(request.body).slice(0, 160))}${String(request.body).length > 160 ? `... (${String(request.body).length} chars)` : ''}`;
  if (request.raw !== undefined) return `[${request.category}] raw=${JSON.stringify(request.raw.slice(0, 160))}`;
  return `[${request.category}] ${request.method} ${request.path.slice(0, 160)}${body}`;
}

// --- the run -------------------------------------------------------------------------------------

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const started = Date.now();
  const recordingDir = mkdtempSync(join(tmpdir(), 'nocreds-fuzz-'));
  const saved = { level: process.env.NOCREDS_LOG_LEVEL, recorder: process.env.MOTO_RECORDER_FILEPATH, timeout: process.env.NOCREDS_AWS_REQUEST_TIMEOUT_MS };
  // moto on a busy 2-core machine can take seconds to sign a certificate; the production 3 s would
  // turn that into 503s that say nothing about how the broker treats bad input.
  process.env.NOCREDS_AWS_REQUEST_TIMEOUT_MS = saved.timeout ?? '15000';
  // Handler logs would drown the report; set NOCREDS_LOG_LEVEL=ERROR to see why a request failed.
  process.env.NOCREDS_LOG_LEVEL = saved.level ?? 'SILENT';
  process.env.MOTO_RECORDER_FILEPATH = join(recordingDir, 'recording.jsonl');
  log(`fuzz: seed ${options.seed}, ${options.requests} requests (reproduce: npm run fuzz -- --seed ${options.seed} --requests ${options.requests})`);
  const requests = generateRequests(options.seed, options.requests);
  const stack = await startLocalStack();
  // The handlers read NOCREDS_AWS_ENDPOINT when first loaded, on the first request below.
  const proxy = await startSerialProxy(stack.moto.endpoint);
  process.env.NOCREDS_AWS_ENDPOINT = proxy.endpoint;
  // moto's own errors (a traceback means the emulator, not the broker, failed): kept for the report.
  let motoErrors = '';
  let partial = '';
  stack.moto.process.stderr?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    // Everything but the access log (one line per request).
    const text = lines.filter((line) => line.trim() !== '' && !/^\S+ - - \[[^\]]+\] "/.test(line)).join('\n');
    if (text) motoErrors = `${motoErrors}${text}\n`.slice(-8000);
  });
  const silenced = console.error;
  // The local server logs handler crashes to stderr; they are counted as 5xx below instead.
  console.error = () => undefined;
  try {
    const fixtures: Fixtures = { tokens: await mintTokens(stack, options.seed), csrs: await makeCsrs() };
    const port = Number(new URL(stack.broker.url).port);
    const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency ?? 8 });
    await moto(stack, 'reset-recording');
    await moto(stack, 'start-recording');
    const rssBefore = settledRss();

    const grants = new Set<string>();
    const grantedLeaseIds: string[] = [];
    const byStatus: Record<string, number> = {};
    const failures: string[] = [];
    let serverErrors = 0;
    let rejectionsWithoutCode = 0;
    let unanswered = 0;
    let controlsSent = 0;
    let controlsUnexpected = 0;
    const example = (what: string, request: FuzzRequest, answer: Answer) => {
      if (failures.length < 25) failures.push(`${what}: ${describe(request)} -> ${answer.status || answer.error} ${JSON.stringify(answer.body ?? '').slice(0, 200)}`);
    };

    let next = 0;
    const worker = async () => {
      for (;;) {
        const index = next;
        next += 1;
        if (index >= requests.length) return;
        const request = requests[index] as FuzzRequest;
        const leaseId = grantedLeaseIds[index % Math.max(1, grantedLeaseIds.length)] ?? '01TEST00000000000000000001';
        const answer = await send(port, agent, request, fixtures, leaseId);
        const key = answer.status === 0 ? `no answer (${answer.error})` : String(answer.status);
        byStatus[key] = (byStatus[key] ?? 0) + 1;
        const body = answer.body as { leaseId?: unknown; AccessKeyId?: unknown; error?: { code?: unknown } } | undefined;
        if (answer.status === 0) {
          unanswered += 1;
          example('no answer', request, answer);
        } else if (answer.status >= 500) {
          serverErrors += 1;
          example('5xx', request, answer);
        } else if (answer.status >= 400 && request.method !== 'HEAD' && typeof body?.error?.code !== 'string') {
          rejectionsWithoutCode += 1;
          example('4xx without error.code', request, answer);
        }
        if (answer.status >= 200 && answer.status < 300) {
          if (typeof body?.leaseId === 'string') {
            grants.add(`lease:${body.leaseId}`);
            grantedLeaseIds.push(body.leaseId);
          }
          if (typeof body?.AccessKeyId === 'string') grants.add(`key:${body.AccessKeyId}`);
        }
        if (request.expect) {
          controlsSent += 1;
          if (!request.expect.includes(answer.status)) {
            controlsUnexpected += 1;
            example(`control not answered ${request.expect.join('/')}`, request, answer);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));

    const final = await send(port, agent, { category: 'control', method: 'GET', path: '/v1/whoami', headers: { authorization: 'Bearer {token:team-a}' } }, fixtures, '');
    agent.destroy();
    const rssAfter = settledRss();
    await moto(stack, 'stop-recording');
    const calls = countCalls(await moto(stack, 'download-recording', 'GET'));
    const leases = await allLeases(stack);

    const leaseKeys = new Set<string>();
    let leasesWithoutGrant = 0;
    for (const lease of leases) {
      leaseKeys.add(`lease:${lease.leaseId}`);
      const accessKeyId = (lease as Lease & { accessKeyId?: string }).accessKeyId;
      if (accessKeyId) leaseKeys.add(`key:${accessKeyId}`);
      if (!grants.has(`lease:${lease.leaseId}`) && !(accessKeyId && grants.has(`key:${accessKeyId}`))) {
        leasesWithoutGrant += 1;
        if (failures.length < 25) failures.push(`lease without a 2xx answer: ${lease.leaseId} ${lease.kind} ${lease.status}`);
      }
    }
    const grantsWithoutLease = [...grants].filter((g) => !leaseKeys.has(g)).length;
    const failedLeases = leases.filter((l) => l.status === 'failed').length;
    const credentialLeases = leases.filter((l) => l.kind === 'credentials').length;
    const certificateLeases = leases.filter((l) => l.kind === 'certificate').length;

    const checks: Array<[string, boolean]> = [
      ['no 5xx', serverErrors === 0],
      ['every 4xx has a JSON error.code', rejectionsWithoutCode === 0],
      ['every request answered', unanswered === 0],
      ['controls answered as expected', controlsUnexpected === 0 && controlsSent > 0],
      ['every lease was handed out in a 2xx answer', leasesWithoutGrant === 0],
      ['every 2xx grant has its lease', grantsWithoutLease === 0],
      ['no failed lease (a rejection after the lease was written)', failedLeases === 0],
      ['one AssumeRole per credentials lease', calls.assumeRole === credentialLeases],
      ['one IssueCertificate per certificate lease', calls.issueCertificate === certificateLeases],
      ['still serving at the end', final.status === 200],
    ];
    const report: FuzzReport = {
      seed: options.seed,
      requests: options.requests,
      byStatus,
      serverErrors,
      rejectionsWithoutCode,
      unanswered,
      controls: { sent: controlsSent, unexpected: controlsUnexpected },
      leasesWritten: leases.length,
      grantsAnswered: grants.size,
      leasesWithoutGrant,
      grantsWithoutLease,
      failedLeases,
      stsAssumeRoleCalls: calls.assumeRole,
      credentialLeases,
      pcaIssueCalls: calls.issueCertificate,
      certificateLeases,
      rssBeforeMiB: mib(rssBefore),
      rssAfterMiB: mib(rssAfter),
      servingAtEnd: final.status === 200,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      failures,
      ok: checks.every(([, passed]) => passed),
    };

    const statuses = Object.entries(byStatus)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, count]) => `${status}: ${count}`)
      .join(', ');
    log(`answers by status: ${statuses}`);
    log(`5xx: ${serverErrors}; 4xx without error.code: ${rejectionsWithoutCode}; unanswered: ${unanswered}`);
    log(`controls: ${controlsSent} sent, ${controlsUnexpected} not answered as expected`);
    log(`leases written: ${leases.length}; 2xx grants (lease ids and container access keys): ${grants.size}; leases without a 2xx answer: ${leasesWithoutGrant}; 2xx grants without a lease: ${grantsWithoutLease}; failed leases: ${failedLeases}`);
    log(`STS AssumeRole calls: ${calls.assumeRole} for ${credentialLeases} credentials leases; Private CA IssueCertificate calls: ${calls.issueCertificate} for ${certificateLeases} certificate leases`);
    log(`process RSS (broker, issuer and fuzzer in one process; moto apart): ${report.rssBeforeMiB} MiB before, ${report.rssAfterMiB} MiB after${(globalThis as { gc?: unknown }).gc ? ' (after gc)' : ''}; still serving: ${report.servingAtEnd}; ${report.seconds} s`);
    for (const [name, passed] of checks) log(`${passed ? 'PASS' : 'FAIL'} ${name}`);
    for (const failure of failures) log(`  ${failure}`);
    if (motoErrors) log(`moto's stderr (last lines):\n${motoErrors}`);
    log(report.ok ? `fuzz: OK (seed ${options.seed})` : `fuzz: FAILED (seed ${options.seed})`);
    return report;
  } finally {
    console.error = silenced;
    await proxy.stop();
    await stack.stop();
    rmSync(recordingDir, { recursive: true, force: true });
    if (saved.level === undefined) delete process.env.NOCREDS_LOG_LEVEL;
    else process.env.NOCREDS_LOG_LEVEL = saved.level;
    if (saved.timeout === undefined) delete process.env.NOCREDS_AWS_REQUEST_TIMEOUT_MS;
    else process.env.NOCREDS_AWS_REQUEST_TIMEOUT_MS = saved.timeout;
    if (saved.recorder === undefined) delete process.env.MOTO_RECORDER_FILEPATH;
    else process.env.MOTO_RECORDER_FILEPATH = saved.recorder;
  }
}
