// @ts-nocheck
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { NocredsClientError } from '../errors';
import type { FailurePolicy } from './admission';
import { kubernetesServiceAccountLookup } from './kubernetes-lookup';
import { defaultAgentConfig, type AgentSidecarConfig } from './pod-mutation';
import { createWebhookServer } from './server';

interface WebhookOptions {
  tlsCert: string;
  tlsKey: string;
  port: number;
  audience: string;
  tokenExpiration: number;
  failurePolicy: FailurePolicy;
  agentImage: string;
  agentArgs?: string[];
  agentUri?: string;
  agentAuthTokenFile?: string;
}

function wholeNumber(name: string, min: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number of at least ${min}.`);
    return n;
  };
}

function jsonStringArray(value: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('--agent-args must be a JSON array of strings, e.g. ["agent","--role","default=$(NOCREDS_ROLE)"].');
  }
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new InvalidArgumentError('--agent-args must be a JSON array of strings.');
  return parsed as string[];
}

/**
 * `nocreds webhook`: the Kubernetes mutating admission webhook (docs/client.md, examples/kubernetes/).
 * Runs until SIGTERM or SIGINT. The broker URL is the global --url / NOCREDS_URL.
 */
export function webhookCommand(io: { stderr: (text: string) => void }, brokerUrl: (command: Command) => string | undefined): Command {
  return new Command('webhook')
    .description('run the Kubernetes admission webhook that gives opted-in pods a broker token and container-credentials env')
    .addOption(new Option('--tls-cert <file>', 'PEM certificate the API server connects to').env('NOCREDS_WEBHOOK_TLS_CERT').makeOptionMandatory())
    .addOption(new Option('--tls-key <file>', 'its private key').env('NOCREDS_WEBHOOK_TLS_KEY').makeOptionMandatory())
    .addOption(new Option('--port <port>', 'HTTPS port').env('NOCREDS_WEBHOOK_PORT').default(8443).argParser(wholeNumber('--port', 0)))
    .addOption(new Option('--audience <audience>', "the projected token's audience: the broker's").env('NOCREDS_AUDIENCE').default('nocreds'))
    .addOption(new Option('--token-expiration <seconds>', 'projected token lifetime (kubelet refreshes at 80%)').default(3600).argParser(wholeNumber('--token-expiration', 600)))
    .addOption(new Option('--failure-policy <policy>', 'when a service account cannot be read: fail (refuse the pod) or ignore (admit it unchanged)').choices(['fail', 'ignore']).default('fail').env('NOCREDS_WEBHOOK_FAILURE_POLICY'))
    .addOption(new Option('--agent-image <image>', 'image of the nocreds agent sidecar (service accounts annotated nocreds.io/agent: sidecar)').env('NOCREDS_AGENT_IMAGE').default('ghcr.io/nocreds/nocreds:latest'))
    .addOption(new Option('--agent-args <json>', 'the sidecar\'s args, a JSON array ($(NOCREDS_ROLE), $(NOCREDS_URL) expand)').env('NOCREDS_AGENT_ARGS').argParser(jsonStringArray))
    .option('--agent-uri <url>', 'AWS_CONTAINER_CREDENTIALS_FULL_URI for sidecar pods (default http://127.0.0.1:8790/roles/default)')
    .option('--agent-auth-token-file <file>', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE for sidecar pods (default /var/run/nocreds-agent/agent-token)')
    .action(async (opts: WebhookOptions, command: Command) => {
      const url = brokerUrl(command);
      if (!url || !/^https?:\/\//.test(url)) throw new NocredsClientError('usage', 'usage', 'Which broker do pods call? Pass --url or set NOCREDS_URL (https://...).');
      const defaults = defaultAgentConfig(opts.agentImage);
      const agent: AgentSidecarConfig = {
        image: opts.agentImage,
        args: opts.agentArgs ?? defaults.args,
        credentialsUri: opts.agentUri ?? defaults.credentialsUri,
        authTokenFile: opts.agentAuthTokenFile ?? defaults.authTokenFile,
      };
      let tls: { cert: Buffer; key: Buffer };
      try {
        tls = { cert: await readFile(opts.tlsCert), key: await readFile(opts.tlsKey) };
      } catch (error) {
        throw new NocredsClientError('usage', 'usage', `Cannot read the TLS certificate or key (${(error as Error).message}).`);
      }
      const log = (event: Record<string, unknown>) => io.stderr(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
      const server = createWebhookServer({
        tls,
        injection: { brokerUrl: url, audience: opts.audience, tokenExpirationSeconds: opts.tokenExpiration, agent },
        // In a pod: the API server from KUBERNETES_SERVICE_HOST and the pod's own token. Outside one
        // (development, tests): NOCREDS_KUBE_API_URL, NOCREDS_KUBE_TOKEN_FILE, NOCREDS_KUBE_CA_FILE.
        lookup: kubernetesServiceAccountLookup({
          ...(process.env.NOCREDS_KUBE_API_URL ? { apiUrl: process.env.NOCREDS_KUBE_API_URL } : {}),
          ...(process.env.NOCREDS_KUBE_TOKEN_FILE ? { tokenFile: process.env.NOCREDS_KUBE_TOKEN_FILE } : {}),
          ...(process.env.NOCREDS_KUBE_CA_FILE ? { caFile: process.env.NOCREDS_KUBE_CA_FILE } : {}),
        }),
        failurePolicy: opts.failurePolicy,
        log,
      });
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(opts.port, () => resolve()));
      log({ level: 'info', event: 'listening', port: opts.port, failurePolicy: opts.failurePolicy });
      await new Promise<void>((resolve) => {
        const stop = () => server.close(() => resolve());
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });
}
