// @ts-nocheck
// 
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NocredsCredentials } from '../provider';
import type { AgentClock } from './clock';
import { CredentialsUnavailableError, type RoleCredentials } from './role-credentials';

/**
 * The agent's HTTP surfaces, as request handlers (agent.ts binds them to sockets):
 * - the container-credentials endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI`), behind the random
 *   authorization token the agent wrote to its token file;
 * - IMDSv2 emulation for clients that only know the instance metadata service (token required:
 *   no IMDSv1);
 * - health and readiness.
 * Responses that carry credentials are never cached; nothing here logs them.
 */

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

/** Compares secrets in time that does not depend on where they differ (hashes make lengths equal). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The error body both the JavaScript SDK (Code, Message on 4xx) and botocore (the body text) show. */
function credentialsError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { Code: code, Message: message }, { ...NO_STORE, ...headers });
}

async function serveCredentials(res: ServerResponse, role: RoleCredentials, format: (c: NocredsCredentials) => Record<string, unknown>): Promise<void> {
  try {
    sendJson(res, 200, format(await role.current()), NO_STORE);
  } catch (error) {
    if (error instanceof CredentialsUnavailableError) {
      credentialsError(res, 503, 'CredentialsUnavailable', error.message, { 'retry-after': String(error.retryAfterSeconds) });
      return;
    }
    throw error;
  }
}

export interface ContainerEndpointOptions {
  readonly roles: ReadonlyMap<string, RoleCredentials>;
  /** The token SDKs send as `Authorization` (from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE). */
  readonly authToken: string;
  readonly health: () => HealthReport;
}

export interface HealthReport {
  readonly ready: boolean;
  readonly [key: string]: unknown;
}

/** Health and readiness: no authorization (probes), and nothing secret in them. */
function serveHealth(req: IncomingMessage, res: ServerResponse, path: string, health: () => HealthReport): boolean {
  if (req.method !== 'GET' || (path !== '/healthz' && path !== '/readyz')) return false;
  const report = health();
  // Liveness does not depend on the broker: restarting the agent would not bring the broker back.
  const status = path === '/readyz' && !report.ready ? 503 : 200;
  sendJson(res, status, { status: path === '/healthz' ? 'alive' : report.ready ? 'ready' : 'not-ready', ...report }, { 'cache-control': 'no-store' });
  return true;
}

/**
 * `GET /roles/<name>` or `GET /credentials?role=<name|ARN>`: the container-credentials answer
 * `{AccessKeyId, SecretAccessKey, Token, Expiration, AccountId}` for a configured role only.
 */
export function containerEndpoint(options: ContainerEndpointOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const byArn = new Map([...options.roles.values()].map((r) => [r.role.arn, r]));
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    if (serveHealth(req, res, url.pathname, options.health)) return;
    if (req.method !== 'GET') return credentialsError(res, 405, 'MethodNotAllowed', 'Use GET.', { allow: 'GET' });
    const given = req.headers.authorization;
    if (typeof given !== 'string' || !secretsEqual(given.trim(), options.authToken)) {
      return credentialsError(res, 401, 'Unauthorized', 'nocreds agent: send the agent token as Authorization (set AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE to the agent\'s token file; run `nocreds agent env`).');
    }
    let wanted: string | undefined;
    const match = /^\/roles\/([^/]+)\/?$/.exec(url.pathname);
    if (match) wanted = decodeURIComponent(match[1] as string);
    else if (url.pathname === '/credentials' || url.pathname === '/credentials/') wanted = url.searchParams.get('role') ?? undefined;
    else return credentialsError(res, 404, 'NotFound', `No route ${url.pathname}: use /roles/<name> or /credentials?role=<name or ARN>.`);
    const role = wanted === undefined ? undefined : (options.roles.get(wanted) ?? byArn.get(wanted));
    if (!role) {
      return credentialsError(res, 404, 'RoleNotConfigured', `nocreds agent: role ${JSON.stringify(wanted ?? '')} is not configured on this agent (configured: ${[...options.roles.keys()].join(', ') || 'none'}).`);
    }
    await serveCredentials(res, role, (c) => ({
      AccessKeyId: c.accessKeyId,
      SecretAccessKey: c.secretAccessKey,
      Token: c.sessionToken,
      Expiration: c.expiration.toISOString(),
      ...(c.accountId ? { AccountId: c.accountId } : {}),
    }));
  };
}

export interface ImdsOptions {
  /** The role served as the instance profile, by its name. */
  readonly role: RoleCredentials;
  readonly clock: AgentClock;
  readonly health: () => HealthReport;
}

const IMDS_TOKEN_PATH = '/latest/api/token';
const IMDS_CREDENTIALS_PATH = '/latest/meta-data/iam/security-credentials/';
const MAX_IMDS_TOKENS = 10_000;

/**
 * IMDSv2 only: `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` (1-21600)
 * returns a session token; every GET must carry it as `X-aws-ec2-metadata-token` (401 otherwise,
 * as IMDS does with IMDSv1 disabled). Like IMDS, a token PUT that came through a proxy
 * (`X-Forwarded-For`) is refused: the PUT step exists to stop SSRF through open proxies.
 */
export function imdsEndpoint(options: ImdsOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const tokens = new Map<string, number>();
  const roleName = options.role.role.name;
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://imds');
    if (serveHealth(req, res, url.pathname, options.health)) return;
    const now = options.clock.now();
    if (url.pathname === IMDS_TOKEN_PATH) {
      if (req.method !== 'PUT') return sendText(res, 405, 'Method Not Allowed', { allow: 'PUT' });
      if (req.headers['x-forwarded-for'] !== undefined) return sendText(res, 403, 'Forbidden');
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return sendText(res, 400, 'Bad Request: X-aws-ec2-metadata-token-ttl-seconds must be 1-21600');
      for (const [token, expiry] of tokens) if (expiry <= now) tokens.delete(token);
      if (tokens.size >= MAX_IMDS_TOKENS) return sendText(res, 429, 'Too Many Requests');
      const token = randomBytes(32).toString('base64url');
      tokens.set(token, now + ttl * 1000);
      return sendText(res, 200, token, { 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl), ...NO_STORE });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method Not Allowed');
    const token = req.headers['x-aws-ec2-metadata-token'];
    const expiry = typeof token === 'string' ? tokens.get(token) : undefined;
    if (expiry === undefined || expiry <= now) return sendText(res, 401, 'Unauthorized');
    if (url.pathname === IMDS_CREDENTIALS_PATH || url.pathname === IMDS_CREDENTIALS_PATH.slice(0, -1)) return sendText(res, 200, roleName, NO_STORE);
    if (url.pathname === `${IMDS_CREDENTIALS_PATH}${roleName}` || url.pathname === `${IMDS_CREDENTIALS_PATH}${roleName}/`) {
      return serveCredentials(res, options.role, (c) => ({
        Code: 'Success',
        LastUpdated: new Date(now).toISOString(),
        Type: 'AWS-HMAC',
        AccessKeyId: c.accessKeyId,
        SecretAccessKey: c.secretAccessKey,
        Token: c.sessionToken,
        Expiration: c.expiration.toISOString(),
      }));
    }
    return sendText(res, 404, 'Not Found');
  };
}
