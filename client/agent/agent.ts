import { randomBytes } from 'node:crypto';
import { chmod, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BrokerClient, type BrokerAuth } from '../broker-client';
import { agentBrokerAuth } from './auth';
import { CertificateRotator } from './certificate-rotator';
import { systemClock, type AgentClock } from './clock';
import type { AgentConfig } from './config';
import { writeCredentialsProfile, writeFileAtomic } from './files';
import { describeError, jsonLogger, type AgentLogger } from './log';
import { AgentMetrics } from './metrics';
import { RoleCredentials } from './role-credentials';
import { containerEndpoint, imdsEndpoint, type HealthReport } from './server';

export interface AgentDeps {
  readonly clock?: AgentClock;
  readonly random?: () => number;
  readonly log?: AgentLogger;
  /** The transport to the broker; default the global fetch. */
  readonly fetch?: typeof fetch;
  /** How the agent proves who it is; default from `config.auth`. */
  readonly auth?: BrokerAuth;
}

export interface RunningAgent {
  /** `http://127.0.0.1:PORT` of the container endpoint (undefined when it serves only a socket). */
  readonly url?: string;
  readonly socket?: string;
  readonly imdsUrl?: string;
  readonly metricsUrl?: string;
  readonly authTokenFile: string;
  readonly roles: ReadonlyMap<string, RoleCredentials>;
  readonly certificates: readonly CertificateRotator[];
  readonly metrics: AgentMetrics;
  /** AWS_CONTAINER_CREDENTIALS_FULL_URI for a role (default the first). */
  credentialsUri(role?: string): string;
  health(): HealthReport;
  /** Resolves when no refresh, renewal or trust-bundle check is running. */
  idle(): Promise<void>;
  /** Resolves once every role and certificate had its first attempt. */
  readonly started: Promise<void>;
  stop(): Promise<void>;
}

function listen(server: Server, target: { port: number; host: string } | { path: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve();
    };
    if ('path' in target) server.listen(target.path, done);
    else server.listen(target.port, target.host, done);
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function httpUrl(server: Server): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/**
 * Starts `nocreds agent`: the refreshers and rotators, the container endpoint (loopback and/or a
 * Unix socket), optional IMDSv2 emulation, metrics, and the agent's authorization token file.
 *
 * @example
 *   const agent = await startAgent(validateAgentConfig({ url, auth: { tokenFile }, roles: [{ name: 'app', arn }] }, 'inline'));
 *   process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = agent.credentialsUri('app');
 *   process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = agent.authTokenFile;
 */
export async function startAgent(config: AgentConfig, deps: AgentDeps = {}): Promise<RunningAgent> {
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  const log = deps.log ?? jsonLogger();
  // One attempt per call: the agent retries on its own schedule (backoff, Retry-After, injected clock).
  const broker = new BrokerClient({
    url: config.url,
    auth: deps.auth ?? (await agentBrokerAuth(config.auth)),
    timeoutMs: config.timeoutSeconds * 1000,
    maxAttempts: 1,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });

  const roles = new Map<string, RoleCredentials>();
  const certificates: CertificateRotator[] = [];
  const metrics = new AgentMetrics({ roles: () => [...roles.values()], certificates: () => certificates });
  const fileRole = config.credentialsFile ? (config.credentialsFile.role ?? config.roles[0]?.name) : undefined;

  for (const role of config.roles) {
    roles.set(
      role.name,
      new RoleCredentials(role, {
        broker,
        clock,
        random,
        log,
        safetyMarginMs: config.safetyMarginSeconds * 1000,
        onRefresh: async (r, credentials) => {
          metrics.refreshes.inc({ kind: 'credentials', name: r.name });
          if (config.credentialsFile && r.name === fileRole) {
            await writeCredentialsProfile(config.credentialsFile.path, config.credentialsFile.profile, credentials);
          }
        },
        onFailure: (r, error) => metrics.failures.inc({ kind: 'credentials', name: r.name, code: error.code }),
      }),
    );
  }
  for (const certificate of config.certificates) {
    certificates.push(
      new CertificateRotator(certificate, {
        broker,
        clock,
        random,
        log,
        trustBundleRefreshMs: config.trustBundleRefreshSeconds * 1000,
        onRotate: (c) => metrics.refreshes.inc({ kind: 'certificate', name: c.name }),
        onTrustBundleUpdate: (c) => metrics.trustBundleUpdates.inc({ name: c.name }),
        onFailure: (c, error) => metrics.failures.inc({ kind: 'certificate', name: c.name, code: error.code }),
      }),
    );
  }

  const health = (): HealthReport => {
    const roleStatus = [...roles.values()].map((r) => r.status());
    const certificateStatus = certificates.map((c) => c.status());
    const ready = roleStatus.every((r) => r.state === 'fresh' || r.state === 'stale') && certificates.every((c) => c.isReady());
    return { ready, roles: roleStatus, certificates: certificateStatus };
  };

  // The token SDKs must present: random per start, in a file only this user can read.
  const authToken = randomBytes(32).toString('base64url');
  await writeFileAtomic(config.authTokenFile, authToken, 0o600);

  const servers: Server[] = [];
  const guard = (handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>) => (req: IncomingMessage, res: ServerResponse) => {
    handler(req, res).catch((error: unknown) => {
      log.error('request failed', { path: new URL(req.url ?? '/', 'http://agent').pathname, ...describeError(error) });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Code: 'InternalError', Message: 'nocreds agent: internal error; see its log.' }));
    });
  };
  const startServer = async (handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>, target: { port: number; host: string } | { path: string }) => {
    const server = createServer(guard(handler));
    if ('path' in target) await unlink(target.path).catch(() => undefined);
    await listen(server, target);
    if ('path' in target) await chmod(target.path, 0o600);
    servers.push(server);
    return server;
  };

  let url: string | undefined;
  let imdsUrl: string | undefined;
  let metricsUrl: string | undefined;
  try {
    const container = containerEndpoint({ roles, authToken, health });
    if (config.listen.tcp) url = httpUrl(await startServer(container, { port: config.listen.port, host: config.listen.host }));
    if (config.listen.socket) await startServer(container, { path: config.listen.socket });
    if (config.imds.enabled) {
      const role = roles.get(config.imds.role ?? (config.roles[0]?.name as string)) as RoleCredentials;
      imdsUrl = httpUrl(await startServer(imdsEndpoint({ role, clock, health }), { port: config.imds.port, host: config.imds.host }));
    }
    if (config.metrics) {
      metricsUrl = httpUrl(
        await startServer(async (req, res) => {
          const path = new URL(req.url ?? '/', 'http://agent').pathname;
          if (path === '/metrics') {
            res.writeHead(200, { 'content-type': metrics.registry.contentType });
            res.end(await metrics.registry.metrics());
            return;
          }
          if (path === '/healthz' || path === '/readyz') {
            const report = health();
            res.writeHead(path === '/readyz' && !report.ready ? 503 : 200, { 'content-type': 'application/json' });
            res.end(JSON.stringify(report));
            return;
          }
          res.writeHead(404).end();
        }, { port: config.metrics.port, host: config.metrics.host }),
      );
    }
  } catch (error) {
    await Promise.all(servers.map(close));
    throw error;
  }

  const started = Promise.all([...[...roles.values()].map((r) => r.start()), ...certificates.map((c) => c.start())]).then(() => undefined);
  const agent: RunningAgent = {
    ...(url ? { url } : {}),
    ...(config.listen.socket ? { socket: config.listen.socket } : {}),
    ...(imdsUrl ? { imdsUrl } : {}),
    ...(metricsUrl ? { metricsUrl } : {}),
    authTokenFile: config.authTokenFile,
    roles,
    certificates,
    metrics,
    credentialsUri(role = config.roles[0]?.name) {
      if (!url) throw new Error('The agent serves no TCP endpoint (socket only); SDKs need an http URL.');
      return `${url}/roles/${encodeURIComponent(role ?? '')}`;
    },
    health,
    started,
    async idle() {
      // A finished refresh may start the next step (a 202 poll, a hook): wait until all is quiet.
      await Promise.all([...[...roles.values()].map((r) => r.idle()), ...certificates.map((c) => c.idle())]);
    },
    async stop() {
      for (const role of roles.values()) role.stop();
      for (const rotator of certificates) rotator.stop();
      await Promise.all(servers.map(close));
      if (config.listen.socket) await unlink(config.listen.socket).catch(() => undefined);
      // The token is useless once the agent is gone; leave nothing that looks valid.
      await unlink(config.authTokenFile).catch(() => undefined);
      log.info('agent stopped');
    },
  };
  log.info('agent started', {
    ...(url ? { url } : {}),
    ...(config.listen.socket ? { socket: config.listen.socket } : {}),
    ...(imdsUrl ? { imdsUrl } : {}),
    ...(metricsUrl ? { metricsUrl } : {}),
    roles: config.roles.map((r) => r.name),
    certificates: config.certificates.map((c) => c.name),
    ...(url && config.roles.length > 0 ? { env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.credentialsUri(), AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: config.authTokenFile } } : {}),
  });
  return agent;
}
