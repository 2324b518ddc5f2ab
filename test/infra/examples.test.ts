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
