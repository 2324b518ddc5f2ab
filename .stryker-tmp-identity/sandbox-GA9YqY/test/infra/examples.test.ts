// @ts-nocheck
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { PROJECT_ROOT } from '../../infra/broker-function';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { evaluateCredentials, type GrantPolicy, type IssuerConfig } from '../../shared/domain/grant-policy';
import { oidcIdentityFromClaims } from '../../shared/domain/oidc';
import { EXAMPLE_GRANTS } from './broker-stacks';

/**
 * The deploy examples, checked as far as can be done without AWS: they parse, they set exactly
 * what an AWS SDK's container-credentials provider reads, the token they send has an audience
 * the example grant policy accepts, and the role they ask for is one that policy grants them.
 */
const grants: GrantPolicy = parseGrantPolicy(readFileSync(EXAMPLE_GRANTS, 'utf8'), 'example-grants.yaml');
const CONTAINER_ROUTE = '/v1/credentials/container';

function issuer(id: string): IssuerConfig {
  const found = grants.issuers.find((i) => i.id === id);
  if (!found) throw new Error(`example-grants.yaml has no issuer ${id}`);
  return found;
}

/** What an SDK requires of AWS_CONTAINER_CREDENTIALS_FULL_URI for a remote host, and the role it names. */
function containerUri(value: string): { url: URL; role: string } {
  const url = new URL(value);
  expect(url.protocol).toBe('https:'); // SDKs allow plain HTTP only for loopback
  expect(url.pathname).toBe(CONTAINER_ROUTE);
  const role = url.searchParams.get('role');
  if (!role) throw new Error(`${value} names no role`);
  expect(role).toMatch(/^arn:aws:iam::\d{12}:role\/nocreds\//); // under the opt-in path of infra/app.ts
  return { url, role };
}

describe('examples/kubernetes.yaml', () => {
  const documents = parseAllDocuments(readFileSync(join(PROJECT_ROOT, 'examples', 'kubernetes.yaml'), 'utf8'));
  const objects = documents.map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJS() as { kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown> };
  });
  const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as {
    metadata: { namespace: string };
    spec: {
      template: {
        spec: {
          serviceAccountName: string;
          containers: { env: { name: string; value: string }[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[];
          volumes: { name: string; projected?: { sources: { serviceAccountToken?: { audience: string; expirationSeconds: number; path: string } }[] } }[];
        };
      };
    };
  };
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;
  const env = Object.fromEntries(container!.env.map((e) => [e.name, e.value]));

  it('is valid YAML with a namespace, service account and deployment that refer to each other', () => {
    expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'ServiceAccount', 'Deployment']);
    const serviceAccount = objects.find((o) => o.kind === 'ServiceAccount')!;
    expect(pod.serviceAccountName).toBe(serviceAccount.metadata.name);
    expect(serviceAccount.metadata.namespace).toBe(deployment.metadata.namespace);
  });

  it('sets the two variables an SDK reads, pointing the token file into a projected service-account token', () => {
    containerUri(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!);
    const tokenFile = env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE!;
    const mount = container!.volumeMounts.find((m) => tokenFile.startsWith(`${m.mountPath}/`));
    expect(mount).toMatchObject({ readOnly: true });
    const volume = pod.volumes.find((v) => v.name === mount!.name)!;
    const token = volume.projected!.sources.find((s) => s.serviceAccountToken)!.serviceAccountToken!;
    expect(posix.join(mount!.mountPath, token.path)).toBe(tokenFile);
    // The kubelet refuses less than 10 minutes; the kubernetes preset accepts tokens up to 24 h old.
    expect(token.expirationSeconds).toBeGreaterThanOrEqual(600);
    expect(issuer('prod-cluster').audiences).toContain(token.audience);
  });

  it('asks for a role the example grant policy gives this namespace and service account', () => {
    const { role } = containerUri(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!);
    const namespace = deployment.metadata.namespace;
    const identity = oidcIdentityFromClaims(issuer('prod-cluster'), {
      iss: issuer('prod-cluster').url,
      aud: 'nocreds',
      sub: `system:serviceaccount:${namespace}:${pod.serviceAccountName}`,
      'kubernetes.io': { namespace, serviceaccount: { name: pod.serviceAccountName } },
    });
    expect(evaluateCredentials(grants, identity, role)).toMatchObject({ allowed: true, ruleId: 'team-namespaces' });
    // ...and not another team's role.
    expect(evaluateCredentials(grants, identity, role.replace(`${namespace}-app`, 'team-b-app')).allowed).toBe(false);
  });
});

describe('examples/github-actions.yml', () => {
  const workflow = parseYaml(readFileSync(join(PROJECT_ROOT, 'examples', 'github-actions.yml'), 'utf8')) as {
    on: { push: { branches: string[] } };
    permissions: Record<string, string>;
    jobs: Record<string, { env: Record<string, string>; steps: { name?: string; run?: string; uses?: string }[] }>;
  };
  const job = workflow.jobs.deploy!;
  // The repository variable as a deployment would set it (the stack output ApiUrl).
  const uri = job.env.AWS_CONTAINER_CREDENTIALS_FULL_URI!.replace('${{ vars.NOCREDS_API_URL }}', 'https://abcd123456.execute-api.eu-west-1.amazonaws.com');

  it('may request an OIDC token, and sets the two variables an SDK reads for every step', () => {
    expect(workflow.permissions['id-token']).toBe('write');
    containerUri(uri);
    expect(job.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE).toMatch(/^\//);
  });

  it('writes a token with an audience the example grant policy accepts to that file, before any AWS call', () => {
    const fetchIndex = job.steps.findIndex((s) => s.run?.includes('ACTIONS_ID_TOKEN_REQUEST_URL'));
    const firstAws = job.steps.findIndex((s) => /\baws\s/.test(s.run ?? ''));
    expect(fetchIndex).toBeGreaterThanOrEqual(0);
    expect(fetchIndex).toBeLessThan(firstAws);
    const script = job.steps[fetchIndex]!.run!;
    const audience = /[?&]audience=([^"&\s]+)/.exec(script)?.[1];
    expect(issuer('github').audiences).toContain(audience);
    expect(script).toContain('> "$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"');
    expect(script).toContain('umask 077');
  });

  it('asks for a role the example grant policy gives this repository on the branch the workflow runs on', () => {
    const { role } = containerUri(uri);
    const github = issuer('github');
    const claimsFor = (ref: string) => ({
      iss: github.url,
      aud: 'nocreds',
      sub: `repo:example-org/app:ref:${ref}`,
      repository: 'example-org/app',
      repository_owner: 'example-org',
      ref,
      job_workflow_ref: `example-org/app/.github/workflows/deploy.yml@${ref}`,
    });
    for (const branch of workflow.on.push.branches) {
      expect(evaluateCredentials(grants, oidcIdentityFromClaims(github, claimsFor(`refs/heads/${branch}`)), role)).toMatchObject({ allowed: true, ruleId: 'ci-deploy' });
    }
    // A pull-request branch of the same repository gets nothing.
    expect(evaluateCredentials(grants, oidcIdentityFromClaims(github, claimsFor('refs/heads/feature')), role).allowed).toBe(false);
  });
});

/**
 * The agent examples: the agent's own arguments are run through the real CLI (`... agent env`
 * prints what a workload must export), and the app container must export exactly that; the
 * agent proves who it is with a projected token the example grant policy accepts, and asks for a
 * role that policy gives the pod's namespace and service account.
 */
interface PodSpec {
  serviceAccountName: string;
  initContainers: Array<{
    name: string;
    args: string[];
    restartPolicy?: string;
    startupProbe?: { httpGet?: { port: number; host?: string } };
    livenessProbe?: { httpGet?: { port: number; host?: string } };
    volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }>;
  containers: Array<{ name: string; env: { name: string; value: string }[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }>;
  volumes: Array<{ name: string; emptyDir?: Record<string, unknown>; projected?: { sources: { serviceAccountToken?: { audience: string; expirationSeconds: number; path: string } }[] } }>;
}

async function agentEnv(args: readonly string[]): Promise<Record<string, string>> {
  const { run } = await import('../../client/cli');
  let out = '';
  let err = '';
  const code = await run([...args, 'env'], { stdout: (t) => (out += t), stderr: (t) => (err += t), env: {} });
  expect({ code, err }).toEqual({ code: 0, err: '' });
  return Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1] as string, m[2] as string]));
}

function flag(args: readonly string[], name: string): string[] {
  return args.flatMap((a, i) => (a === name ? [args[i + 1] as string] : []));
}

describe.each(['kubernetes-agent-sidecar.yaml', 'kubernetes-agent-daemonset.yaml'])('examples/%s', (file) => {
  const objects = parseAllDocuments(readFileSync(join(PROJECT_ROOT, 'examples', file), 'utf8')).map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJS() as { kind: string; metadata: { name: string; namespace: string }; spec: { template: { spec: PodSpec } } };
  });
  const workload = objects.find((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet')!;
  const pod = workload.spec.template.spec;
  const agent = pod.initContainers.find((c) => c.name === 'nocreds-agent')!;
  const app = pod.containers[0]!;
  const env = Object.fromEntries(app.env.map((e) => [e.name, e.value]));

  it('runs the agent as a native sidecar, for the service account the manifest defines, probed where the kubelet can reach it', () => {
    expect(agent.restartPolicy).toBe('Always');
    // The kubelet probes the pod's IP: the loopback-only credentials port is out of its reach.
    const metricsPort = Number(flag(agent.args, '--metrics-port')[0]);
    expect(flag(agent.args, '--metrics-host')).toEqual(['0.0.0.0']);
    for (const probe of [agent.startupProbe, agent.livenessProbe]) expect(probe?.httpGet).toEqual({ path: expect.stringMatching(/^\/(readyz|healthz)$/), port: metricsPort });
    expect(objects.find((o) => o.kind === 'ServiceAccount')?.metadata).toEqual(expect.objectContaining({ name: pod.serviceAccountName, namespace: workload.metadata.namespace }));
  });

  it("gives the app exactly the two variables `nocreds agent env` prints for the agent's arguments, on a shared in-memory emptyDir", async () => {
    const exported = await agentEnv(agent.args);
    expect(env.AWS_CONTAINER_CREDENTIALS_FULL_URI).toBe(exported.AWS_CONTAINER_CREDENTIALS_FULL_URI);
    expect(env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE).toBe(exported.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE);
    expect(new URL(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!).hostname).toBe('127.0.0.1'); // SDKs allow plain HTTP only on loopback
    const tokenFile = env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE!;
    const appMount = app.volumeMounts.find((m) => tokenFile.startsWith(`${m.mountPath}/`))!;
    const agentMount = agent.volumeMounts.find((m) => m.name === appMount.name)!;
    expect(agentMount.readOnly).not.toBe(true);
    expect(pod.volumes.find((v) => v.name === appMount.name)?.emptyDir).toMatchObject({ medium: 'Memory' });
  });

  it('authenticates with a projected token whose audience the example grant policy accepts, for a role it grants this pod', () => {
    const tokenFile = flag(agent.args, '--token-file')[0]!;
    const mount = agent.volumeMounts.find((m) => tokenFile.startsWith(`${m.mountPath}/`))!;
    expect(mount.readOnly).toBe(true);
    const token = pod.volumes.find((v) => v.name === mount.name)!.projected!.sources.find((s) => s.serviceAccountToken)!.serviceAccountToken!;
    expect(posix.join(mount.mountPath, token.path)).toBe(tokenFile);
    expect(issuer('prod-cluster').audiences).toContain(token.audience);
    const namespace = workload.metadata.namespace;
    const identity = oidcIdentityFromClaims(issuer('prod-cluster'), {
      iss: issuer('prod-cluster').url,
      aud: 'nocreds',
      sub: `system:serviceaccount:${namespace}:${pod.serviceAccountName}`,
      'kubernetes.io': { namespace, serviceaccount: { name: pod.serviceAccountName } },
    });
    for (const role of flag(agent.args, '--role')) {
      const arn = role.slice(role.indexOf('=') + 1);
      expect(evaluateCredentials(grants, identity, arn)).toMatchObject({ allowed: true });
    }
  });
});

describe('examples/nocreds-agent.service', () => {
  const unit = readFileSync(join(PROJECT_ROOT, 'examples', 'nocreds-agent.service'), 'utf8');
  const directives = unit.split('\n').filter((l) => /^\w+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const);
  const value = (name: string) => directives.filter(([k]) => k === name).map(([, v]) => v);
  // systemd's quoting, as far as this unit uses it: words, and "double-quoted" words.
  const execStart = [...(value('ExecStart')[0] ?? '').matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');

  it('starts the agent with arguments the CLI accepts, as the app user, stopping on SIGTERM', async () => {
    expect(execStart[0]).toBe('/usr/local/bin/nocreds');
    const exported = await agentEnv(execStart.slice(1));
    expect(exported.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE?.startsWith('/run/nocreds/')).toBe(true);
    // The header tells the app what to set: the same two values.
    expect(unit).toContain(`Environment=AWS_CONTAINER_CREDENTIALS_FULL_URI=${exported.AWS_CONTAINER_CREDENTIALS_FULL_URI}`);
    expect(unit).toContain(`Environment=AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=${exported.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE}`);
    expect(value('RuntimeDirectory')).toEqual(['nocreds']);
    expect(value('User')[0]).not.toBe('root');
    expect(value('KillSignal')).toEqual(['SIGTERM']);
    expect(value('NoNewPrivileges')).toEqual(['yes']);
    expect(value('ProtectSystem')).toEqual(['strict']);
  });

  it('proves who it is with the instance role (no secret on disk), for the broker its server id names', () => {
    expect(execStart).toContain('--iam');
    const url = value('Environment').find((e) => e.startsWith('NOCREDS_URL='))!.slice('NOCREDS_URL='.length);
    expect(value('Environment')).toContain(`NOCREDS_SERVER_ID=${new URL(url).host}`);
  });
});
