// @ts-nocheck
// 
// 
import fc from 'fast-check';

/**
 * The fuzzer's request grammar: fast-check arbitraries for what an attacker or a broken client
 * sends. Generation is pure and seeded (same seed, same requests); anything that needs the running
 * stack (tokens, valid CSRs, lease ids) is named by a placeholder and filled in at send time:
 * `{token:NAME}` in a header, `{csr:N}` in a body, `{lease}` in a path.
 */
export interface FuzzRequest {
  /** What the request probes, for the report. */
  readonly category: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** Send these bytes as they are over a fresh socket (HTTP that a client library would refuse to send). */
  readonly raw?: string;
  /** A control: a valid request that must be answered with one of these statuses. */
  readonly expect?: readonly number[];
}

export const ACCOUNT = '123456789012';
export const CONTROL_ROLE = `arn:aws:iam::${ACCOUNT}:role/team-a-app`;

/** Tokens the runner mints before the run (hostile claims included), by name. */
export const VALID_TOKENS = ['team-a', 'team-b'] as const;
export const HOSTILE_TOKENS = [
  'sandbox', // denied by an explicit rule
  'other-namespace',
  'namespace-glob', // namespace "team-*"
  'namespace-template', // namespace "${namespace}"
  'namespace-control-chars',
  'namespace-unicode',
  'namespace-long',
  'namespace-number',
  'namespace-array',
  'namespace-object',
  'namespace-empty',
  'no-kubernetes-claim',
  'sub-hostile',
  'serviceaccount-slash',
  'serviceaccount-template',
  'prototype-claims',
  'tags-claim', // https://aws.amazon.com/tags principal tags
  'wrong-audience',
  'expired',
  'not-yet-valid',
  'issued-long-ago',
  'unknown-kid',
  'other-issuer',
  'alg-none',
  'hs256',
  'truncated',
  'bad-signature',
  'garbage',
  'generated-0',
  'generated-1',
  'generated-2',
  'generated-3',
  'generated-4',
  'generated-5',
  'generated-6',
  'generated-7',
] as const;
export type TokenName = (typeof VALID_TOKENS)[number] | (typeof HOSTILE_TOKENS)[number];

/** Claims for the `generated-N` tokens: arbitrary JSON claims next to the ones the preset reads. */
export function generatedClaims(seed: number): Array<Record<string, unknown>> {
  const claim = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 40 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 3 }));
  const claims = fc.record({
    namespace: claim,
    serviceaccount: claim,
    extra: fc.dictionary(fc.string({ maxLength: 12 }), claim, { maxKeys: 4 }),
  });
  return fc.sample(claims, { seed, numRuns: 8 }).map(({ namespace, serviceaccount, extra }) => ({
    ...extra,
    'kubernetes.io': { namespace, serviceaccount: { name: serviceaccount } },
  }));
}

/** CSR placeholders: the runner makes this many valid CSRs and the hostile variants of them. */
export const CSR_POOL = 8;
export type CsrVariant =
  | 'valid'
  | 'valid-crlf'
  | 'new-label'
  | 'truncated'
  | 'trailing-bytes'
  | 'corrupted-length'
  | 'flipped-byte'
  | 'wrong-type'
  | 'two-blocks'
  | 'text-around'
  | 'no-armour'
  | 'bad-base64'
  | 'rsa-1024'
  | 'ca-request'
  | 'foreign-names'
  | 'empty-block';

const variants: CsrVariant[] = [
  'valid',
  'valid-crlf',
  'new-label',
  'truncated',
  'trailing-bytes',
  'corrupted-length',
  'flipped-byte',
  'wrong-type',
  'two-blocks',
  'text-around',
  'no-armour',
  'bad-base64',
  'rsa-1024',
  'ca-request',
  'foreign-names',
  'empty-block',
];

/** Percent-encodes every byte of the UTF-8 form that is not unreserved (lone surrogates included). */
export function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

// --- building blocks ---------------------------------------------------------------------------

const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.constantFrom('', ' ', '\u0000', '\r\n', '${namespace}', '*', '?', '%00', '../..', '\u202e', '\ud800', 'null', 'undefined', '__proto__', '<script>', "'; DROP TABLE"),
  fc.string({ minLength: 1000, maxLength: 5000 }),
);

const hostileNumber = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.double({ noNaN: true }),
  fc.constantFrom(0, -0, 899, 900, 3600, 3601, 1e308, -1e308, 5e-324, 2 ** 53, 2 ** 53 + 2, 900.5, 1e21),
);

const anyJson = fc.oneof(hostileString, hostileNumber, fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 4 }));

const roleArn = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(CONTROL_ROLE, `arn:aws:iam::${ACCOUNT}:role/team-b-app`, `arn:aws:iam::${ACCOUNT}:role/team-sandbox-app`, `arn:aws:iam::${ACCOUNT}:role/TEAM-A-APP`) },
  { weight: 3, arbitrary: fc.tuple(fc.stringMatching(/^\d{12}$/), fc.stringMatching(/^[\w+=,.@/-]{1,80}$/)).map(([account, name]) => `arn:aws:iam::${account}:role/${name}`) },
  { weight: 1, arbitrary: fc.stringMatching(/^[\w+=,.@/-]{400,600}$/).map((name) => `arn:aws:iam::${ACCOUNT}:role/${name}`) },
  { weight: 1, arbitrary: fc.constantFrom(`arn:aws:iam::${ACCOUNT}:role/team-a-app/../admin`, `arn:aws:iam::${ACCOUNT}:role/*`, `arn:aws:iam::${ACCOUNT}:role/team-a-app\u0000`, `arn:aws:iam::${ACCOUNT}:user/team-a-app`, `arn:aws-cn:iam::${ACCOUNT}:role/team-a-app`, 'arn:aws:iam::123:role/x', `arn:aws:iam::${ACCOUNT}:role/team-a-app `) },
  { weight: 2, arbitrary: hostileString },
);

const prototypeKey = fc.constantFrom('__proto__', 'constructor', 'prototype');

const condition = fc.oneof(
  fc.dictionary(fc.constantFrom('StringEquals', 'StringLike', 'IpAddress', 'Null', 'ForAnyValue:StringEquals'), fc.dictionary(fc.constantFrom('aws:SourceIp', 'aws:PrincipalTag/team', 's3:prefix'), fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 })), { maxKeys: 2 }), { maxKeys: 2 }),
  anyJson,
);

const statement = fc.record(
  {
    Sid: hostileString,
    Effect: fc.oneof(fc.constantFrom('Allow', 'Deny', 'allow', ''), anyJson),
    Action: fc.oneof(fc.constantFrom('s3:GetObject', 's3:*', '*', 'iam:*', 'sts:AssumeRole'), fc.array(fc.constantFrom('s3:GetObject', 's3:PutObject', '*', 's3:Get*'), { maxLength: 4 }), anyJson),
    NotAction: fc.constantFrom('s3:DeleteObject', '*'),
    Resource: fc.oneof(fc.constantFrom('*', 'arn:aws:s3:::team-a-data/*', 'arn:aws:s3:::team-b-data/*', 'arn:aws:s3:::team-a-data*'), fc.array(hostileString, { maxLength: 3 }), anyJson),
    NotResource: fc.constant('arn:aws:s3:::x'),
    Principal: fc.constant('*'),
    Condition: condition,
  },
  { requiredKeys: [] },
);

const sessionPolicy = fc.oneof(
  fc.record({ Version: fc.constantFrom('2012-10-17', '2008-10-17', '2099-01-01'), Statement: fc.oneof(fc.array(statement, { maxLength: 4 }), statement) }, { requiredKeys: [] }),
  fc.constant({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-a-data/*' }] }),
  anyJson,
);

const vendObject = fc.record(
  {
    role: roleArn,
    durationSeconds: fc.oneof(hostileNumber, anyJson),
    policy: fc.oneof(sessionPolicy, sessionPolicy.map((p) => JSON.stringify(p))),
    policyArns: fc.oneof(fc.array(fc.oneof(fc.constant(`arn:aws:iam::${ACCOUNT}:policy/read`), fc.constant('arn:aws:iam::aws:policy/AdministratorAccess'), hostileString), { maxLength: 12 }), anyJson),
    fresh: fc.oneof(fc.boolean(), anyJson),
    dryRun: fc.boolean(),
    unexpected: anyJson,
  },
  { requiredKeys: [] },
);

/** Text-level damage to a JSON document: what no JSON.stringify produces. */
function damaged(document: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    document.map((d) => JSON.stringify(d) ?? 'null'),
    // a key sent twice, the first or the last being the hostile one
    fc.tuple(document, fc.constantFrom('role', 'policy', 'Effect', 'csr', 'profile', 'reason'), fc.boolean()).map(([d, key, first]) => {
      const text = JSON.stringify(d) ?? 'null';
      if (!text.startsWith('{') || text === '{}') return `{"${key}":1,"${key}":2}`;
      const extra = `"${key}":"arn:aws:iam::${ACCOUNT}:role/admin"`;
      return first ? `{${extra},${text.slice(1)}` : `${text.slice(0, -1)},${extra}}`;
    }),
    // a prototype key, at the top or nested inside the policy
    fc.tuple(document, prototypeKey, fc.boolean()).map(([d, key, nested]) => {
      const text = JSON.stringify(d) ?? 'null';
      const inject = `"${key}":{"role":"arn:aws:iam::${ACCOUNT}:role/admin","isAdmin":true}`;
      if (nested) return `{"role":"${CONTROL_ROLE}","policy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{${inject}}}}]}}`;
      return text.startsWith('{') && text !== '{}' ? `{${inject},${text.slice(1)}` : `{${inject}}`;
    }),
    // deep nesting
    fc.integer({ min: 20, max: 5000 }).map((depth) => `{"role":"${CONTROL_ROLE}","policy":${'['.repeat(depth)}${']'.repeat(depth)}}`),
    fc.integer({ min: 20, max: 3000 }).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
    // truncated, or with a byte changed
    fc.tuple(document, fc.nat()).map(([d, cut]) => {
      const text = JSON.stringify(d) ?? 'null';
      return text.slice(0, cut % (text.length + 1));
    }),
    fc.tuple(document, fc.nat(), fc.constantFrom('"', '{', '}', ',', '\\', '\u0000', '\ud800', '\u2028')).map(([d, at, c]) => {
      const text = JSON.stringify(d) ?? 'null';
      const i = at % (text.length + 1);
      return text.slice(0, i) + c + text.slice(i + 1);
    }),
    fc.constantFrom('', ' ', 'null', '[]', '""', '0', 'true', '{"role":', '\ufeff{}', 'NaN', '{"role": Infinity}', "{'role':'x'}", '{"role":"x"}garbage'),
  );
}

/**
 * A body of the given size: a valid document padded with spaces. Written as `{pad:SIZE}` and
 * expanded when sent (padBody), so 10,000 generated requests do not hold megabytes each.
 */
const sizedBody = fc.constantFrom(16 * 1024 - 1, 16 * 1024 + 1, 64 * 1024, 1024 * 1024, 1024 * 1024 + 1).map((size) => `{pad:${size}}`);

export function padBody(body: string): string {
  const size = /^\{pad:(\d+)\}$/.exec(body)?.[1];
  if (size === undefined) return body;
  const core = `{"role":"${CONTROL_ROLE}"}`;
  return core + ' '.repeat(Math.max(0, Number(size) - core.length));
}

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/json;charset=utf-16', 'APPLICATION/JSON', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json, text/plain', 'application/jsonx', '', 'application/json\u0000') },
);

const token = fc.oneof({ weight: 3, arbitrary: fc.constantFrom<TokenName>(...VALID_TOKENS) }, { weight: 2, arbitrary: fc.constantFrom<TokenName>(...HOSTILE_TOKENS) });

const authorization = fc.oneof(
  { weight: 8, arbitrary: token.map((name) => `Bearer {token:${name}}`) },
  { weight: 1, arbitrary: token.map((name) => `{token:${name}}`) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.constantFrom('', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'AWS4-HMAC-SHA256 Credential=AKIA/20300101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00', 'Bearer a.b.c', 'Bearer ...', 'bearer  {token:team-a}'),
      fc.string({ maxLength: 200 }).map((s) => `Bearer ${s}`),
      fc.string({ minLength: 17_000, maxLength: 17_100 }).map((s) => `Bearer ${s.replace(/[^\x21-\x7e]/g, 'a')}`),
    ),
  },
);

function percentEscapes(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom('%zz', '%C0%AF', '%FF', '%', '%2', '%E0%A4%A', '%00', '%2F', '%2e%2e', '..', '.', '%u0041', '%25', '%ED%A0%80', '01TEST00000000000000000001', '{lease}', '{lease}%00', 'a'.repeat(2000)),
    fc.webSegment(),
    fc.string({ unit: 'binary', maxLength: 12 }).map((s) => percentEncode(s)),
  );
}

const leasePath = fc.oneof(
  fc.constant('/v1/leases'),
  percentEscapes().map((id) => `/v1/leases/${id}`),
  fc.tuple(percentEscapes(), fc.constantFrom('revoke', 'renew', 'Revoke', 'renew/', 'delete')).map(([id, action]) => `/v1/leases/${id}/${action}`),
);

const query = fc.oneof(
  fc.constant(''),
  fc.record({ kind: fc.oneof(fc.constantFrom('credentials', 'certificate'), hostileString), status: fc.oneof(fc.constantFrom('active', 'failed'), hostileString), limit: fc.oneof(fc.constantFrom('1', '100', '101', '0', '-1', '1e3', '999999999999'), hostileString), cursor: fc.oneof(fc.base64String({ maxLength: 200 }), fc.constantFrom('forged.cursor', '%zz')) }, { requiredKeys: [] }).map((q) => `?${Object.entries(q).map(([k, v]) => `${k}=${percentEncode(v)}`).join('&')}`),
  fc.constantFrom('?kind=credentials&kind=certificate', '?%zz=1', '?limit=%FF', '?=&&=', '?role'),
);

// --- request families ----------------------------------------------------------------------------

function headers(extra: Record<string, string> = {}): fc.Arbitrary<Record<string, string>> {
  return fc.tuple(authorization, contentType, fc.option(fc.constantFrom('x-forwarded-for', 'x-amzn-oidc-identity', 'x-nocreds-iam-proof', 'x-nocreds-server-id', 'x-amz-security-token', 'x-remote-user'), { nil: undefined }), hostileString).map(([auth, type, spoof, value]) => ({
    authorization: auth,
    ...(type === '' ? {} : { 'content-type': type }),
    // headers a naive broker would trust for identity (never read as identity here)
    ...(spoof ? { [spoof]: value.replace(/[^\x20-\x7e]/g, '') || 'admin' } : {}),
    ...extra,
  }));
}

const vendRequest = fc.tuple(headers(), fc.oneof({ weight: 6, arbitrary: damaged(vendObject) }, { weight: 1, arbitrary: sizedBody })).map(
  ([h, body]): FuzzRequest => ({ category: 'vend', method: 'POST', path: '/v1/credentials', headers: h, body }),
);

const csrField = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...variants), fc.nat(CSR_POOL - 1)).map(([variant, i]) => `{csr:${variant}:${i}}`) },
  { weight: 1, arbitrary: anyJson },
);

const certificateObject = fc.record(
  {
    csr: csrField,
    profile: fc.oneof(fc.constantFrom('mesh', 'MESH', 'other', ''), anyJson),
    validitySeconds: fc.oneof(hostileNumber, anyJson),
    dryRun: fc.boolean(),
    names: anyJson,
  },
  { requiredKeys: ['csr'] },
);

const certificateRequest = fc.tuple(headers(), damaged(certificateObject)).map(
  ([h, body]): FuzzRequest => ({ category: 'certificate', method: 'POST', path: '/v1/certificates', headers: h, body }),
);

const leaseRequest = fc.tuple(headers(), fc.constantFrom('GET', 'POST'), leasePath, query, fc.option(damaged(fc.record({ reason: fc.oneof(fc.constantFrom('SUPERSEDED', 'KEY_COMPROMISE', 'nope'), anyJson), durationSeconds: hostileNumber, policy: sessionPolicy }, { requiredKeys: [] })), { nil: undefined })).map(
  ([h, method, path, q, body]): FuzzRequest => ({ category: 'leases', method, path: `${path}${q}`, headers: h, ...(body === undefined || method === 'GET' ? {} : { body }) }),
);

const containerRequest = fc.tuple(token, fc.oneof(roleArn, fc.constant(''), percentEscapes()), fc.boolean()).map(
  ([name, role, bare]): FuzzRequest => ({
    category: 'container',
    method: 'GET',
    path: `/v1/credentials/container${role === '' ? '' : `?role=${bare ? role : percentEncode(role)}`}`.replace(/[^\x21-\x7e]/g, (c) => percentEncode(c)),
    headers: { authorization: `{token:${name}}` },
  }),
);

const whoamiRequest = headers().map((h): FuzzRequest => ({ category: 'whoami', method: 'GET', path: '/v1/whoami', headers: h }));

const oddRequest = fc.tuple(
  fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'M-SEARCH', 'PURGE'),
  fc.oneof(
    fc.constantFrom('/', '/v1', '/v1/', '/v2/credentials', '/v1/credentials/', '//v1/credentials', '/v1/credentials?', '/v1/./credentials', '/v1/../v1/whoami', '/V1/WHOAMI', '/v1/credentials/container/x', '/.well-known/jwks.json', '/v1/openapi.json'),
    fc.array(percentEscapes(), { minLength: 1, maxLength: 5 }).map((segments) => `/${segments.join('/')}`),
  ),
  headers(),
  fc.option(damaged(vendObject), { nil: undefined }),
).map(([method, path, h, body]): FuzzRequest => ({ category: 'odd-path', method, path, headers: h, ...(body === undefined ? {} : { body }) }));

const headerAbuse = fc.tuple(fc.constantFrom('GET /v1/whoami', 'POST /v1/credentials'), fc.oneof(fc.constant(20 * 1024), fc.constant(15 * 1024), fc.integer({ min: 100, max: 300 }))).map(([route, size]): FuzzRequest => {
  const [method, path] = route.split(' ') as [string, string];
  const many = size < 1000;
  return {
    category: 'headers',
    method,
    path,
    headers: many ? Object.fromEntries(Array.from({ length: size }, (_, i) => [`x-h${i}`, 'v'])) : { authorization: 'Bearer {token:team-a}', 'x-padding': 'p'.repeat(size) },
    ...(method === 'POST' ? { body: `{"role":"${CONTROL_ROLE}"}` } : {}),
  };
});

/** HTTP that a client library refuses to send: broken request lines, bad headers, bad framing. */
const rawRequest = fc
  .oneof(
    fc.constantFrom(
      'GARBAGE\r\n\r\n',
      'GET /v1/whoami HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
      'GET /v1/whoami HTTP/9.9\r\nHost: x\r\n\r\n',
      'POST /v1/credentials HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\n{}',
      'POST /v1/credentials HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n',
      'POST /v1/credentials HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'POST /v1/credentials HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      'GET /v1/leases/\u0000 HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET http://evil.example/v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET * HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /v1/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\n b\r\n\r\n',
      'GET /v1/whoami HTTP/1.0\r\n\r\n',
      'GET /v1/whoami HTTP/1.1\r\nHost: x\r\nX: \u00ff\u00fe\r\n\r\n',
    ),
    // Not blank: a server rightly ignores empty lines before a request line and waits for one.
    fc.string({ maxLength: 200 }).filter((s) => s.trim() !== '').map((s) => `${s}\r\n\r\n`),
  )
  .map((raw): FuzzRequest => ({ category: 'raw-http', method: 'RAW', path: '', headers: {}, raw }));

// --- near-valid requests: a valid request with one thing wrong ----------------------------------
// Fully random requests mostly die at the first check (no token, not JSON); the defects that write
// a lease before refusing hide behind every other check passing. So half the mix is a valid
// request of the team-a workload with exactly one mutation.

type Mutation<T> = fc.Arbitrary<(request: T) => T>;

interface Draft {
  readonly token: string;
  readonly contentType: string;
  readonly fields: Record<string, unknown>;
  /** Text-level damage applied to the serialized body last. */
  readonly text?: (body: string) => string;
}

function draftRequest(category: string, path: string, base: Record<string, unknown>, mutations: Mutation<Draft>): fc.Arbitrary<FuzzRequest> {
  return mutations.map((mutate): FuzzRequest => {
    const draft = mutate({ token: 'Bearer {token:team-a}', contentType: 'application/json', fields: base });
    const json = JSON.stringify(draft.fields);
    return {
      category,
      method: 'POST',
      path,
      headers: { authorization: draft.token, ...(draft.contentType ? { 'content-type': draft.contentType } : {}) },
      body: draft.text ? draft.text(json) : json,
    };
  });
}

const field = (name: string, value: fc.Arbitrary<unknown>): Mutation<Draft> => value.map((v) => (d: Draft) => ({ ...d, fields: { ...d.fields, [name]: v } }));
const withoutField = (name: string): Mutation<Draft> => fc.constant((d: Draft) => ({ ...d, fields: Object.fromEntries(Object.entries(d.fields).filter(([k]) => k !== name)) }));
const swapToken: Mutation<Draft> = authorization.map((token) => (d: Draft) => ({ ...d, token }));
const swapContentType: Mutation<Draft> = contentType.map((type) => (d: Draft) => ({ ...d, contentType: type }));
/** The same key again, after (or before) the valid one: last-one-wins would let it through. */
const duplicateField = (name: string, value: fc.Arbitrary<unknown>): Mutation<Draft> =>
  fc.tuple(value, fc.boolean()).map(([v, after]) => (d: Draft) => ({
    ...d,
    text: (body: string) => (after ? `${body.slice(0, -1)},${JSON.stringify(name)}:${JSON.stringify(v) ?? 'null'}}` : `{${JSON.stringify(name)}:${JSON.stringify(v) ?? 'null'},${body.slice(1)}`),
  }));
const prototypeField: Mutation<Draft> = fc.tuple(prototypeKey, anyJson).map(([key, v]) => (d: Draft) => ({ ...d, text: (body: string) => `{${JSON.stringify(key)}:${JSON.stringify(v) ?? 'null'},${body.slice(1)}` }));
const textDamage: Mutation<Draft> = fc.oneof(
  fc.nat().map((cut) => (d: Draft) => ({ ...d, text: (body: string) => body.slice(0, cut % body.length) })),
  fc.constantFrom('\ufeff', ' ', '\u0000', 'x').map((c) => (d: Draft) => ({ ...d, text: (body: string) => `${c}${body}` })),
  fc.constantFrom('x', ',', '}', ' ', '\n').map((c) => (d: Draft) => ({ ...d, text: (body: string) => `${body}${c}` })),
);

const narrowPolicy = fc.record({
  Version: fc.constant('2012-10-17'),
  Statement: fc.array(
    fc.record({
      Effect: fc.constantFrom('Allow', 'Deny'),
      Action: fc.constantFrom('s3:GetObject', 's3:PutObject', ['s3:GetObject', 's3:ListBucket'], 's3:*', 'iam:PassRole'),
      Resource: fc.constantFrom('arn:aws:s3:::team-a-data/*', 'arn:aws:s3:::team-a-data/reports/*', 'arn:aws:s3:::team-b-data/*', '*'),
      Condition: fc.option(condition, { nil: undefined }),
    }, { requiredKeys: ['Effect', 'Action', 'Resource'] }),
    { minLength: 1, maxLength: 3 },
  ),
});

const vendNearValid = draftRequest(
  'vend-near-valid',
  '/v1/credentials',
  { role: CONTROL_ROLE, durationSeconds: 900 },
  fc.oneof(
    field('role', roleArn),
    field('durationSeconds', fc.oneof(hostileNumber, anyJson)),
    withoutField('role'),
    field('policy', fc.oneof(narrowPolicy, narrowPolicy.map((p) => JSON.stringify(p)), sessionPolicy)),
    // a policy carrying a prototype key, as an object or as a JSON string
    fc.tuple(prototypeKey, fc.boolean()).map(([key, asString]) => (d: Draft) => {
      const policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-data/*","Condition":{"StringEquals":{${JSON.stringify(key)}:{"aws:SourceIp":"10.0.0.1"}}}}]}`;
      return { ...d, text: (body: string) => `${body.slice(0, -1)},"policy":${asString ? JSON.stringify(policy) : policy}}` };
    }),
    field('policyArns', fc.oneof(fc.array(fc.oneof(fc.constant(`arn:aws:iam::${ACCOUNT}:policy/read`), fc.constant('arn:aws:iam::aws:policy/AdministratorAccess'), hostileString), { maxLength: 12 }), anyJson)),
    field('fresh', anyJson),
    fc.tuple(fc.constantFrom('dryRun', 'Role', 'role ', 'sessionName', 'tags'), anyJson).map(([name, v]) => (d: Draft) => ({ ...d, fields: { ...d.fields, [name]: v } })),
    duplicateField('role', fc.constantFrom(`arn:aws:iam::${ACCOUNT}:role/team-b-app`, `arn:aws:iam::${ACCOUNT}:role/admin`)),
    duplicateField('durationSeconds', fc.constantFrom(43200, 3600, -1)),
    prototypeField,
    swapToken,
    swapContentType,
    textDamage,
  ),
);

const certificateNearValid = fc
  .nat(CSR_POOL - 1)
  .chain((i) =>
    draftRequest(
      'certificate-near-valid',
      '/v1/certificates',
      { csr: `{csr:valid:${i}}`, profile: 'mesh', validitySeconds: 3600 },
      fc.oneof(
        { weight: 6, arbitrary: field('csr', fc.constantFrom(...variants).map((variant) => `{csr:${variant}:${i}}`)) },
        { weight: 1, arbitrary: field('csr', anyJson) },
        { weight: 1, arbitrary: field('profile', fc.oneof(fc.constantFrom('MESH', 'other', ''), anyJson)) },
        { weight: 1, arbitrary: withoutField('profile') },
        { weight: 1, arbitrary: field('validitySeconds', fc.oneof(hostileNumber, anyJson)) },
        { weight: 1, arbitrary: duplicateField('csr', fc.constantFrom(...variants).map((variant) => `{csr:${variant}:${i}}`)) },
        { weight: 1, arbitrary: prototypeField },
        { weight: 1, arbitrary: swapToken },
        { weight: 1, arbitrary: swapContentType },
        { weight: 1, arbitrary: textDamage },
      ),
    ),
  );

const leaseNearValid = fc
  .tuple(
    fc.constantFrom('GET /v1/leases/{lease}', 'POST /v1/leases/{lease}/revoke', 'POST /v1/leases/{lease}/renew', 'GET /v1/leases'),
    fc.oneof(
      fc.constant(undefined),
      percentEscapes().map((escape) => ({ escape })),
      token.map((name) => ({ token: name })),
      damaged(fc.record({ reason: fc.constantFrom('SUPERSEDED', 'KEY_COMPROMISE', 'nope'), durationSeconds: hostileNumber, policy: narrowPolicy }, { requiredKeys: [] })).map((body) => ({ body })),
      query.map((q) => ({ query: q })),
    ),
  )
  .map(([route, mutation]): FuzzRequest => {
    const [method, template] = route.split(' ') as [string, string];
    const path = mutation && 'escape' in mutation ? template.replace('{lease}', mutation.escape) : template;
    const tokenName = mutation && 'token' in mutation ? mutation.token : 'team-a';
    const body = mutation && 'body' in mutation ? mutation.body : undefined;
    return {
      category: 'leases-near-valid',
      method,
      path: `${path}${mutation && 'query' in mutation ? mutation.query : ''}`,
      headers: { authorization: `Bearer {token:${tokenName}}`, ...(body !== undefined && method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined && method === 'POST' ? { body } : {}),
    };
  });

/** Valid requests with known answers: the controls. */
const controlRequest = fc.oneof(
  fc.boolean().map((fresh): FuzzRequest => ({ category: 'control', method: 'POST', path: '/v1/credentials', headers: { authorization: 'Bearer {token:team-a}', 'content-type': 'application/json' }, body: JSON.stringify({ role: CONTROL_ROLE, durationSeconds: 900, fresh }), expect: [201] })),
  fc.nat(CSR_POOL - 1).map((i): FuzzRequest => ({ category: 'control', method: 'POST', path: '/v1/certificates', headers: { authorization: 'Bearer {token:team-a}', 'content-type': 'application/json' }, body: JSON.stringify({ csr: `{csr:valid:${i}}`, profile: 'mesh', validitySeconds: 3600 }), expect: [201, 202] })),
  fc.constant<FuzzRequest>({ category: 'control', method: 'GET', path: '/v1/whoami', headers: { authorization: 'Bearer {token:team-a}' }, expect: [200] }),
  fc.constant<FuzzRequest>({ category: 'control', method: 'GET', path: '/v1/leases?limit=5', headers: { authorization: 'Bearer {token:team-a}' }, expect: [200] }),
  fc.constant<FuzzRequest>({ category: 'control', method: 'GET', path: `/v1/credentials/container?role=${percentEncode(CONTROL_ROLE)}`, headers: { authorization: '{token:team-a}' }, expect: [200] }),
);

/** The whole mix: 5% controls, about half near-valid (one mutation), the rest wild. */
export const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  { weight: 5, arbitrary: controlRequest },
  { weight: 20, arbitrary: vendNearValid },
  { weight: 20, arbitrary: certificateNearValid },
  { weight: 8, arbitrary: leaseNearValid },
  { weight: 10, arbitrary: vendRequest },
  { weight: 8, arbitrary: certificateRequest },
  { weight: 6, arbitrary: leaseRequest },
  { weight: 5, arbitrary: containerRequest },
  { weight: 4, arbitrary: whoamiRequest },
  { weight: 8, arbitrary: oddRequest },
  { weight: 3, arbitrary: headerAbuse },
  { weight: 3, arbitrary: rawRequest },
);

/** `count` requests from `seed`: the same seed always gives the same requests. */
export function generateRequests(seed: number, count: number): FuzzRequest[] {
  return fc.sample(fuzzRequest, { seed, numRuns: count });
}
