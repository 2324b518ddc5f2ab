// @ts-nocheck
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { ServiceAccountLookup } from './admission';
import type { ServiceAccount } from './pod-mutation';

const IN_CLUSTER = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubernetesApiOptions {
  /** Default: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT */
  readonly apiUrl?: string;
  /** The webhook pod's own service-account token, re-read on every call (the kubelet rotates it). */
  readonly tokenFile?: string;
  readonly caFile?: string;
  readonly timeoutMs?: number;
}

/**
 * Reads service accounts from the Kubernetes API with the webhook pod's own token: its RBAC needs
 * only `get serviceaccounts` (examples/kubernetes/webhook.yaml). 404 means no such account.
 */
export function kubernetesServiceAccountLookup(options: KubernetesApiOptions = {}, env: NodeJS.ProcessEnv = process.env): ServiceAccountLookup {
  const host = env.KUBERNETES_SERVICE_HOST;
  const apiUrl = options.apiUrl ?? (host ? `https://${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}` : undefined);
  if (!apiUrl) throw new Error('Not in a Kubernetes pod (KUBERNETES_SERVICE_HOST is unset): pass the API URL.');
  const tokenFile = options.tokenFile ?? `${IN_CLUSTER}/token`;
  const caFile = options.caFile ?? `${IN_CLUSTER}/ca.crt`;
  const timeout = options.timeoutMs ?? 5000;
  return async (namespace, name) => {
    const [token, ca] = await Promise.all([readFile(tokenFile, 'utf8'), readFile(caFile)]);
    const url = new URL(`/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}`, apiUrl);
    return new Promise<ServiceAccount | undefined>((resolve, reject) => {
      const req = request(url, { method: 'GET', ca, timeout, headers: { authorization: `Bearer ${token.trim()}`, accept: 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          if (res.statusCode === 404) return resolve(undefined);
          if (res.statusCode !== 200) return reject(new Error(`the Kubernetes API answered ${res.statusCode}`));
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ServiceAccount);
          } catch {
            reject(new Error('the Kubernetes API answered with something other than JSON'));
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer from the Kubernetes API in ${timeout} ms`)));
      req.on('error', reject);
      req.end();
    });
  };
}
