// @ts-nocheck
// 
import { applyPatch, deepClone, type Operation } from 'fast-json-patch';
import fc from 'fast-check';
import { reviewAdmission, type AdmissionOptions, type AdmissionReviewOut, type ServiceAccountLookup } from '../../client/webhook/admission';
import { defaultAgentConfig, type Pod, type ServiceAccount } from '../../client/webhook/pod-mutation';

/**
 * The admission webhook on AdmissionReview fixtures: the patch it answers with is applied with
 * fast-json-patch (an independent RFC 6902 implementation) and the resulting pod is checked.
 */
const ROLE = 'arn:aws:iam::123456789012:role/team-a-app';
const BROKER = 'https://abc123.execute-api.eu-west-1.amazonaws.com';

const accounts: Record<string, ServiceAccount> = {
  'team-a/app': { metadata: { annotations: { 'nocreds.io/role': ROLE } } },
  'team-a/agent': { metadata: { annotations: { 'nocreds.io/role': ROLE, 'nocreds.io/agent': 'sidecar' } } },
  'team-a/default': { metadata: {} },
  'team-a/other': { metadata: { annotations: { 'eks.amazonaws.com/role-arn': ROLE } } },
  'team-a/typo': { metadata: { annotations: { 'nocreds.io/role': 'team-a-app' } } },
};
const fakeLookup: ServiceAccountLookup = async (namespace, name) => accounts[`${namespace}/${name}`];

function options(overrides: Partial<AdmissionOptions> = {}): AdmissionOptions {
  return {
    injection: { brokerUrl: BROKER, audience: 'nocreds', tokenExpirationSeconds: 3600, agent: defaultAgentConfig('registry.example/nocreds:0.1.0') },
    lookup: fakeLookup,
    failurePolicy: 'fail',
    ...overrides,
  };
}

function review(pod: Pod, extra: Record<string, unknown> = {}) {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'f0b2c1de-1', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: 'team-a', object: pod, ...extra } };
}

function pod(serviceAccountName?: string, spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    metadata: { generateName: 'app-', namespace: 'team-a' },
    spec: { ...(serviceAccountName ? { serviceAccountName } : {}), containers: [{ name: 'app', image: 'app:1' }], ...spec },
  };
}

function patched(original: Pod, answer: AdmissionReviewOut): Pod {
  expect(answer.response.allowed).toBe(true);
  if (!answer.response.patch) return original;
  expect(answer.response.patchType).toBe('JSONPatch');
  const operations = JSON.parse(Buffer.from(answer.response.patch, 'base64').toString('utf8')) as Operation[];
  // validate=true: fast-json-patch refuses operations whose paths do not exist in the pod.
  return applyPatch(deepClone(original) as Pod, operations, true, false).newDocument;
}

async function mutate(original: Pod, opts = options()): Promise<Pod> {
  return patched(original, await reviewAdmission(review(original), opts));
}

function envOf(container: { env?: { name: string; value?: string }[] } | undefined): Record<string, string | undefined> {
  return Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value]));
}

describe('pods whose service account is annotated nocreds.io/role', () => {
  test('get the projected broker token and the container-credentials env pointing at the broker', async () => {
    const result = await mutate(pod('app'));
    expect(result.spec?.volumes).toEqual([{ name: 'nocreds-token', projected: { sources: [{ serviceAccountToken: { audience: 'nocreds', expirationSeconds: 3600, path: 'token' } }] } }]);
    const [app] = result.spec!.containers!;
    expect(envOf(app)).toEqual({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${BROKER}/v1/credentials/container?role=${encodeURIComponent(ROLE)}`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '/var/run/secrets/nocreds/token',
    });
    expect(app!.volumeMounts).toEqual([{ name: 'nocreds-token', mountPath: '/var/run/secrets/nocreds', readOnly: true }]);
    expect(result.spec?.initContainers).toBeUndefined();
  });

  test('every container and init container gets the env, after what it already has; its own values win', async () => {
    const original = pod('app', {
      containers: [
        { name: 'app', env: [{ name: 'LOG_LEVEL', value: 'debug' }], volumeMounts: [{ name: 'data', mountPath: '/data' }] },
        { name: 'proxy', env: [{ name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: 'http://127.0.0.1:9000/mine' }] },
      ],
      initContainers: [{ name: 'migrate' }],
      volumes: [{ name: 'data', emptyDir: {} }],
    });
    const result = await mutate(original);
    const [app, proxy] = result.spec!.containers!;
    expect(app!.env!.map((e) => e.name)).toEqual(['LOG_LEVEL', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE']);
    expect(app!.volumeMounts!.map((m) => m.name)).toEqual(['data', 'nocreds-token']);
    expect(envOf(proxy).AWS_CONTAINER_CREDENTIALS_FULL_URI).toBe('http://127.0.0.1:9000/mine');
    expect(envOf(result.spec!.initContainers![0]).AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE).toBe('/var/run/secrets/nocreds/token');
    expect(result.spec!.volumes!.map((v) => v.name)).toEqual(['data', 'nocreds-token']);
  });

  test('nocreds.io/agent: sidecar adds the agent as a native sidecar and points the SDK at it', async () => {
    const original = pod('agent', { initContainers: [{ name: 'migrate' }] });
    const result = await mutate(original);
    const [agent, migrate] = result.spec!.initContainers!;
    expect(agent).toMatchObject({ name: 'nocreds-agent', image: 'registry.example/nocreds:0.1.0', restartPolicy: 'Always' });
    expect(agent!.args).toEqual(['agent', '--role', 'default=$(NOCREDS_ROLE)', '--host', '127.0.0.1', '--port', '8790', '--auth-token-file', '/var/run/nocreds-agent/agent-token']);
    expect(envOf(agent)).toEqual({ NOCREDS_URL: BROKER, NOCREDS_TOKEN_FILE: '/var/run/secrets/nocreds/token', NOCREDS_ROLE: ROLE });
    expect(migrate!.name).toBe('migrate');
    const app = result.spec!.containers![0];
    expect(envOf(app)).toEqual({ AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:8790/roles/default', AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '/var/run/nocreds-agent/agent-token' });
    // The application reads the agent's token, not the broker token.
    expect(app!.volumeMounts).toEqual([{ name: 'nocreds-agent', mountPath: '/var/run/nocreds-agent', readOnly: true }]);
    expect(result.spec!.volumes!.map((v) => v.name)).toEqual(['nocreds-token', 'nocreds-agent']);
  });

  test.each(['app', 'agent'])('a second pass adds nothing (service account %s)', async (account) => {
    const once = await mutate(pod(account, { initContainers: [{ name: 'migrate' }] }));
    const answer = await reviewAdmission(review(once), options());
    expect(answer.response).toEqual({ uid: 'f0b2c1de-1', allowed: true });
  });

  test('an annotation that is not a role ARN refuses the pod with a message saying what to fix', async () => {
    const answer = await reviewAdmission(review(pod('typo')), options());
    expect(answer.response.allowed).toBe(false);
    expect(answer.response.status).toMatchObject({ code: 400 });
    expect(answer.response.status!.message).toContain('nocreds.io/role');
  });
});

describe('pods that do not opt in', () => {
  test.each([
    ['the default service account, unannotated', pod()],
    ['a service account with other annotations', pod('other')],
    ['a service account that does not exist', pod('missing')],
  ])('%s: admitted with no patch', async (_name, original) => {
    const answer = await reviewAdmission(review(original), options());
    expect(answer.response).toEqual({ uid: 'f0b2c1de-1', allowed: true });
  });

  test('anything but a pod CREATE is admitted unchanged without a lookup', async () => {
    const lookup = jest.fn(fakeLookup);
    for (const extra of [{ operation: 'UPDATE' }, { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }]) {
      const answer = await reviewAdmission(review(pod('app'), extra), options({ lookup }));
      expect(answer.response).toEqual({ uid: 'f0b2c1de-1', allowed: true });
    }
    expect(lookup).not.toHaveBeenCalled();
  });
});

describe('when the service account cannot be read', () => {
  const broken: ServiceAccountLookup = async () => {
    throw new Error('the Kubernetes API answered 403');
  };

  test('failure policy fail (the default) refuses the pod with the reason', async () => {
    const answer = await reviewAdmission(review(pod('app')), options({ lookup: broken }));
    expect(answer.response).toMatchObject({ allowed: false, status: { code: 503 } });
    expect(answer.response.status!.message).toContain('team-a/app');
    expect(answer.response.patch).toBeUndefined();
  });

  test('failure policy ignore admits it unchanged, with a warning', async () => {
    const answer = await reviewAdmission(review(pod('app')), options({ lookup: broken, failurePolicy: 'ignore' }));
    expect(answer.response).toMatchObject({ allowed: true });
    expect(answer.response.patch).toBeUndefined();
    expect(answer.response.warnings?.[0]).toContain('failurePolicy ignore');
  });
});

test('a malformed AdmissionReview is refused, not guessed at', async () => {
  await expect(reviewAdmission({ kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1beta1', request: { uid: 'x' } }, options())).rejects.toMatchObject({ code: 'malformed_admission_review' });
  await expect(reviewAdmission({ kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1', request: {} }, options())).rejects.toMatchObject({ code: 'malformed_admission_review' });
});

test('property: for any pod shape, the patch applies cleanly, injects every container, keeps what was there, and is idempotent', async () => {
  const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
  const envVar = fc.record({ name: fc.constantFrom('A', 'B', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'), value: fc.string({ maxLength: 5 }) });
  const container = fc.record({ name, env: fc.option(fc.uniqueArray(envVar, { selector: (e) => e.name, maxLength: 4 }), { nil: undefined }) }, { requiredKeys: ['name'] });
  const shape = fc.record({
    account: fc.constantFrom('app', 'agent', 'default'),
    containers: fc.array(container, { minLength: 1, maxLength: 3 }),
    initContainers: fc.option(fc.array(container, { maxLength: 2 }), { nil: undefined }),
    volumes: fc.option(fc.array(fc.record({ name: fc.constantFrom('data', 'nocreds-token', 'cache') }), { maxLength: 2 }), { nil: undefined }),
  });
  await fc.assert(
    fc.asyncProperty(shape, async (s) => {
      const original: Pod = { metadata: { name: 'p' }, spec: { serviceAccountName: s.account, containers: s.containers, ...(s.initContainers ? { initContainers: s.initContainers } : {}), ...(s.volumes ? { volumes: s.volumes } : {}) } };
      const before = deepClone(original) as Pod;
      const result = await mutate(original);
      expect(original).toEqual(before);
      if (s.account === 'default') {
        expect(result).toEqual(original);
        return;
      }
      for (const [index, c] of s.containers.entries()) {
        const env = envOf(result.spec!.containers![index]);
        expect(env.AWS_CONTAINER_CREDENTIALS_FULL_URI).toBeDefined();
        expect(env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE).toBeDefined();
        // What the pod set itself is kept, first and unchanged.
        expect(result.spec!.containers![index]!.env!.slice(0, c.env?.length ?? 0)).toEqual(c.env ?? []);
      }
      expect(result.spec!.volumes!.some((v) => v.name === 'nocreds-token')).toBe(true);
      const again = await reviewAdmission(review(result), options());
      expect(again.response.patch).toBeUndefined();
    }),
    { seed: 20261201, numRuns: 200 },
  );
});
