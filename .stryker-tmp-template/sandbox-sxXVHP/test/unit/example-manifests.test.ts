// @ts-nocheck
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { applyPatch, type Operation } from 'fast-json-patch';
import { reviewAdmission } from '../../client/webhook/admission';
import { defaultAgentConfig, type Pod } from '../../client/webhook/pod-mutation';

/**
 * The Kubernetes manifests under examples/ and the pods the webhook produces, checked against the
 * Kubernetes schemas (kubernetes-models' JSON Schemas with ajv, in scripts/validate-k8s-manifests.mjs,
 * run with node because the package is ES modules only).
 */
const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const VALIDATE = join(ROOT, 'scripts', 'validate-k8s-manifests.mjs');
const dir = mkdtempSync(join(tmpdir(), 'nocreds-manifests-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function validate(...files: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [VALIDATE, ...files], { cwd: ROOT });
    return { code: 0, stderr: '' };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

const kubernetesExamples = readdirSync(join(ROOT, 'examples'))
  .filter((name) => /\.ya?ml$/.test(name))
  .filter((name) => /^(apiVersion|kind):/m.test(readFileSync(join(ROOT, 'examples', name), 'utf8')));

test('the webhook example is among the manifests checked', () => {
  expect(kubernetesExamples).toContain('kubernetes-webhook.yaml');
});

test.each(kubernetesExamples)('examples/%s is valid against the Kubernetes schemas', async (name) => {
  expect(await validate(join(ROOT, 'examples', name))).toEqual({ code: 0, stderr: '' });
}, 20_000);

test('the validator rejects a broken manifest, naming the field', async () => {
  const broken = readFileSync(join(ROOT, 'examples', 'kubernetes-webhook.yaml'), 'utf8').replace('sideEffects: None', 'sideEffects: Sometimes');
  writeFileSync(join(dir, 'broken.yaml'), broken);
  const result = await validate(join(dir, 'broken.yaml'));
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('sideEffects');
}, 20_000);

test.each([
  ['direct', { 'nocreds.io/role': 'arn:aws:iam::111122223333:role/nocreds/team-a-app' }],
  ['sidecar', { 'nocreds.io/role': 'arn:aws:iam::111122223333:role/nocreds/team-a-app', 'nocreds.io/agent': 'sidecar' }],
])('the pod the webhook makes (%s) is a valid Pod', async (mode, annotations) => {
  const pod: Pod & { apiVersion: string; kind: string } = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'billing' }, spec: { serviceAccountName: 'billing', containers: [{ name: 'app', image: 'app:1' }] } };
  const answer = await reviewAdmission(
    { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: '1', kind: { kind: 'Pod' }, operation: 'CREATE', namespace: 'team-a', object: pod } },
    { injection: { brokerUrl: 'https://abcd123456.execute-api.eu-west-1.amazonaws.com', audience: 'nocreds', tokenExpirationSeconds: 3600, agent: defaultAgentConfig('ghcr.io/nocreds/nocreds:0.1.0') }, lookup: async () => ({ metadata: { annotations } }), failurePolicy: 'fail' },
  );
  const operations = JSON.parse(Buffer.from(answer.response.patch!, 'base64').toString('utf8')) as Operation[];
  const file = join(dir, `pod-${mode}.json`);
  writeFileSync(file, JSON.stringify(applyPatch(pod, operations, true, false).newDocument));
  expect(await validate(file)).toEqual({ code: 0, stderr: '' });
}, 20_000);
