// @ts-nocheck
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { applyPatch, type Operation } from 'fast-json-patch';
import { freePort, REPO_ROOT } from '../../local/moto-server';

/**
 * `nocreds webhook` as a real process over HTTPS, reading service accounts from a stand-in for the
 * Kubernetes API (HTTPS, bearer token, CA file: what the in-cluster lookup uses in a pod).
 */
const run = promisify(execFile);
const ROLE = 'arn:aws:iam::123456789012:role/team-a-app';
const API_TOKEN = 'webhook-pod-token';

let dir: string;
let ca: Buffer;
let kubeApi: Server;
let webhook: ChildProcess;
let port: number;
let webhookLog = '';
const apiRequests: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nocreds-webhook-'));
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')]);
  ca = readFileSync(join(dir, 'tls.crt'));
  writeFileSync(join(dir, 'api-token'), `${API_TOKEN}\n`);

  kubeApi = createServer({ cert: ca, key: readFileSync(join(dir, 'tls.key')) }, (req, res) => {
    apiRequests.push(`${req.method} ${req.url} ${req.headers.authorization === `Bearer ${API_TOKEN}` ? 'authorized' : 'unauthorized'}`);
    if (req.headers.authorization !== `Bearer ${API_TOKEN}`) return void res.writeHead(401).end();
    if (req.url === '/api/v1/namespaces/team-a/serviceaccounts/app') {
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'ServiceAccount', metadata: { name: 'app', annotations: { 'nocreds.io/role': ROLE } } }));
    }
    if (req.url?.startsWith('/api/v1/namespaces/broken/')) return void res.writeHead(500).end();
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => kubeApi.listen(0, '127.0.0.1', resolve));

  port = await freePort();
  webhook = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'nocreds'), '--url', 'https://broker.example', 'webhook', '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--port', String(port)], {
    env: { ...process.env, NOCREDS_KUBE_API_URL: `https://127.0.0.1:${(kubeApi.address() as AddressInfo).port}`, NOCREDS_KUBE_TOKEN_FILE: join(dir, 'api-token'), NOCREDS_KUBE_CA_FILE: join(dir, 'tls.crt') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  webhook.stderr!.on('data', (chunk: Buffer) => (webhookLog += chunk.toString()));
  for (let i = 0; i < 100 && !webhookLog.includes('"listening"'); i++) await new Promise((r) => setTimeout(r, 100));
  expect(webhookLog).toContain('"listening"');
}, 30_000);

afterAll(() => {
  webhook?.kill('SIGTERM');
  kubeApi?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function post(path: string, body: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const pod = (serviceAccountName: string) => ({ metadata: { generateName: 'app-' }, spec: { serviceAccountName, containers: [{ name: 'app', image: 'app:1' }] } });
const review = (namespace: string, object: unknown) => JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u-1', kind: { kind: 'Pod' }, operation: 'CREATE', namespace, object } });

test('an annotated service account: the pod comes back with the broker token and env', async () => {
  const { status, body } = await post('/mutate', review('team-a', pod('app')));
  expect(status).toBe(200);
  const response = body.response as { uid: string; allowed: boolean; patch: string };
  expect(response).toMatchObject({ uid: 'u-1', allowed: true, patchType: 'JSONPatch' });
  const operations = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as Operation[];
  const result = applyPatch(pod('app'), operations, true, false).newDocument as ReturnType<typeof pod> & { spec: { containers: { env: { name: string; value: string }[] }[] } };
  expect(result.spec.containers[0]!.env).toEqual([
    { name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: `https://broker.example/v1/credentials/container?role=${encodeURIComponent(ROLE)}` },
    { name: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', value: '/var/run/secrets/nocreds/token' },
  ]);
  // Read with the pod's own token, from the request's namespace.
  expect(apiRequests).toContain('GET /api/v1/namespaces/team-a/serviceaccounts/app authorized');
});

test('an unannotated or missing service account: admitted unchanged', async () => {
  const { body } = await post('/mutate', review('team-a', pod('other')));
  expect(body.response).toEqual({ uid: 'u-1', allowed: true });
});

test('the Kubernetes API failing: the pod is refused (failure policy fail)', async () => {
  const { body } = await post('/mutate', review('broken', pod('app')));
  expect(body.response).toMatchObject({ uid: 'u-1', allowed: false, status: { code: 503 } });
});

test('a body that is not an AdmissionReview: 400 with a code', async () => {
  expect(await post('/mutate', '{"kind":"Pod"}')).toMatchObject({ status: 400, body: { code: 'malformed_admission_review' } });
  expect(await post('/mutate', 'not json')).toMatchObject({ status: 400, body: { code: 'malformed_admission_review' } });
});

test('SIGTERM stops it with exit code 0', async () => {
  const exited = new Promise<number | null>((resolve) => webhook.once('exit', (code) => resolve(code)));
  webhook.kill('SIGTERM');
  expect(await exited).toBe(0);
});
