/**
 * What the admission webhook adds to a pod whose service account asks for nocreds, as JSON Patch
 * operations (RFC 6902). Pure: no I/O, so every rule is tested on fixtures.
 *
 * Rules:
 * - only a service account annotated `nocreds.io/role: <role ARN>` opts a pod in; any other pod
 *   gets no operations at all;
 * - what the pod already has wins: an env var a container sets, a volume or mount of the same name
 *   or path, a container named like the agent are left as they are, so a second pass adds nothing;
 * - the token is a projected service-account token for the broker's audience, never the pod's
 *   default API token.
 */
// @ts-nocheck


export const ROLE_ANNOTATION = 'nocreds.io/role';
/** `sidecar`: credentials from the nocreds agent in the pod; absent or `direct`: from the broker. */
export const AGENT_ANNOTATION = 'nocreds.io/agent';

export const TOKEN_VOLUME = 'nocreds-token';
export const TOKEN_DIR = '/var/run/secrets/nocreds';
export const TOKEN_FILE = `${TOKEN_DIR}/token`;
export const AGENT_CONTAINER = 'nocreds-agent';
export const AGENT_VOLUME = 'nocreds-agent';
export const AGENT_DIR = '/var/run/nocreds-agent';

const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

export interface InjectionConfig {
  /** The broker's base URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com */
  readonly brokerUrl: string;
  /** The audience of the projected token: the broker's (default `nocreds`). */
  readonly audience: string;
  /** Lifetime the kubelet asks for the projected token (it refreshes at 80%). */
  readonly tokenExpirationSeconds: number;
  readonly agent: AgentSidecarConfig;
}

/**
 * The agent sidecar. The image and args are yours to set; `$(NOCREDS_ROLE)` in args is expanded by
 * Kubernetes from the env the webhook gives the sidecar (NOCREDS_URL, NOCREDS_TOKEN_FILE, NOCREDS_ROLE).
 */
export interface AgentSidecarConfig {
  readonly image: string;
  readonly args: readonly string[];
  /** What the application's SDK calls: the agent's container-credentials URL on loopback. */
  readonly credentialsUri: string;
  /** The file the agent writes the token the SDK must present (in the shared AGENT_DIR volume). */
  readonly authTokenFile: string;
}

export const DEFAULT_AGENT_PORT = 8790;

export function defaultAgentConfig(image: string): AgentSidecarConfig {
  const authTokenFile = `${AGENT_DIR}/agent-token`;
  return {
    image,
    args: ['agent', '--role', 'default=$(NOCREDS_ROLE)', '--host', '127.0.0.1', '--port', String(DEFAULT_AGENT_PORT), '--auth-token-file', authTokenFile],
    credentialsUri: `http://127.0.0.1:${DEFAULT_AGENT_PORT}/roles/default`,
    authTokenFile,
  };
}

/** The parts of a Kubernetes Pod the webhook reads or patches. */
export interface Pod {
  metadata?: { name?: string; generateName?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: {
    serviceAccountName?: string;
    containers?: Container[];
    initContainers?: Container[];
    volumes?: { name: string; [key: string]: unknown }[];
  };
}

export interface Container {
  name: string;
  image?: string;
  env?: { name: string; value?: string; [key: string]: unknown }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  [key: string]: unknown;
}

export interface ServiceAccount {
  metadata?: { annotations?: Record<string, string> };
}

export type PatchOperation = { op: 'add'; path: string; value: unknown };

/** A service account annotation the webhook cannot act on: the pod is refused with this message. */
export class InjectionRefused extends Error {
  override name = 'InjectionRefused';
}

/** What the service account asks for, or undefined when it does not opt in. */
export function injectionRequest(serviceAccount: ServiceAccount | undefined): { role: string; sidecar: boolean } | undefined {
  const annotations = serviceAccount?.metadata?.annotations ?? {};
  const role = annotations[ROLE_ANNOTATION];
  if (role === undefined) return undefined;
  if (!ROLE_ARN.test(role)) throw new InjectionRefused(`The service account's ${ROLE_ANNOTATION} annotation must be a role ARN such as arn:aws:iam::123456789012:role/NAME (got ${JSON.stringify(role)}).`);
  const mode = annotations[AGENT_ANNOTATION] ?? 'direct';
  if (mode !== 'direct' && mode !== 'sidecar') throw new InjectionRefused(`The service account's ${AGENT_ANNOTATION} annotation must be "sidecar" or "direct" (got ${JSON.stringify(mode)}).`);
  return { role, sidecar: mode === 'sidecar' };
}

/** The container-credentials URL of the broker for one role. */
export function brokerContainerUri(brokerUrl: string, role: string): string {
  return `${brokerUrl.replace(/\/+$/, '')}/v1/credentials/container?role=${encodeURIComponent(role)}`;
}

/** The JSON Patch that injects nocreds into the pod; [] when the service account does not opt in. */
export function podPatch(pod: Pod, serviceAccount: ServiceAccount | undefined, config: InjectionConfig): PatchOperation[] {
  const request = injectionRequest(serviceAccount);
  if (!request) return [];
  const spec = pod.spec ?? {};
  const ops: PatchOperation[] = [];
  if (!pod.spec) ops.push({ op: 'add', path: '/spec', value: {} });

  const volumes = [
    { name: TOKEN_VOLUME, projected: { sources: [{ serviceAccountToken: { audience: config.audience, expirationSeconds: config.tokenExpirationSeconds, path: 'token' } }] } },
    ...(request.sidecar ? [{ name: AGENT_VOLUME, emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }] : []),
  ].filter((volume) => !(spec.volumes ?? []).some((v) => v.name === volume.name));
  appendAll(ops, '/spec/volumes', spec.volumes, volumes);

  const env = request.sidecar
    ? [
        { name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: config.agent.credentialsUri },
        { name: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', value: config.agent.authTokenFile },
      ]
    : [
        { name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: brokerContainerUri(config.brokerUrl, request.role) },
        { name: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', value: TOKEN_FILE },
      ];
  // Applications see only what their SDK needs: the agent's token volume in sidecar mode, the broker token otherwise.
  const mount = request.sidecar ? { name: AGENT_VOLUME, mountPath: AGENT_DIR, readOnly: true } : { name: TOKEN_VOLUME, mountPath: TOKEN_DIR, readOnly: true };

  const initContainers = spec.initContainers ?? [];
  for (const [kind, containers] of [['containers', spec.containers ?? []], ['initContainers', initContainers]] as const) {
    containers.forEach((container, index) => {
      if (container.name === AGENT_CONTAINER) return;
      const base = `/spec/${kind}/${index}`;
      appendAll(ops, `${base}/env`, container.env, env.filter((e) => !(container.env ?? []).some((existing) => existing.name === e.name)));
      const mounted = (container.volumeMounts ?? []).some((m) => m.name === mount.name || m.mountPath === mount.mountPath);
      appendAll(ops, `${base}/volumeMounts`, container.volumeMounts, mounted ? [] : [mount]);
    });
  }

  if (request.sidecar && !initContainers.some((c) => c.name === AGENT_CONTAINER) && !(spec.containers ?? []).some((c) => c.name === AGENT_CONTAINER)) {
    // A native sidecar (an init container that keeps running, Kubernetes 1.29+): it starts before
    // the application's containers and stops after them. First, so other init containers can use it.
    const sidecar: Container = {
      name: AGENT_CONTAINER,
      image: config.agent.image,
      args: [...config.agent.args],
      restartPolicy: 'Always',
      env: [
        { name: 'NOCREDS_URL', value: config.brokerUrl },
        { name: 'NOCREDS_TOKEN_FILE', value: TOKEN_FILE },
        { name: 'NOCREDS_ROLE', value: request.role },
      ],
      volumeMounts: [
        { name: TOKEN_VOLUME, mountPath: TOKEN_DIR, readOnly: true },
        { name: AGENT_VOLUME, mountPath: AGENT_DIR },
      ],
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
      resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
    };
    ops.push(spec.initContainers === undefined ? { op: 'add', path: '/spec/initContainers', value: [sidecar] } : { op: 'add', path: '/spec/initContainers/0', value: sidecar });
  }
  return ops;
}

/** Appends items to the array at path, creating it when the pod has none. */
function appendAll(ops: PatchOperation[], path: string, existing: readonly unknown[] | undefined, items: readonly unknown[]): void {
  if (items.length === 0) return;
  if (existing === undefined) {
    ops.push({ op: 'add', path, value: [...items] });
    return;
  }
  for (const item of items) ops.push({ op: 'add', path: `${path}/-`, value: item });
}
