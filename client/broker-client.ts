import { readFile } from 'node:fs/promises';
import { NocredsClientError, type NocredsErrorKind } from './errors';
import type { AwsCredentials } from './iam-signing';

/**
 * How a workload proves who it is to the broker:
 * - `oidc`: an OIDC token (Kubernetes service-account token, GitHub Actions token, ...), given as a
 *   value or as a file that is read again on every call (projected tokens rotate);
 * - `iam` with `method: 'proof'` (the default): a signed `sts:GetCallerIdentity` the broker
 *   forwards to STS. For a broker without API Gateway's IAM authorizer (the local server);
 * - `iam` with `method: 'sigv4'`: the request itself is SigV4-signed (service `execute-api`) for
 *   the broker's IAM-authorized API (the stack output `IamApiUrl`).
 */
export type BrokerAuth = { readonly oidc: OidcAuth } | { readonly iam: IamAuth };

export interface OidcAuth {
  readonly token?: string;
  readonly tokenFile?: string;
  /** Asked on every call, for tokens fetched rather than read (a GitHub Actions token request). */
  readonly tokenSource?: () => Promise<string>;
}

export interface IamAuth {
  /** The workload's own AWS credentials, or a provider of them (e.g. `fromNodeProviderChain()`). */
  readonly credentials: AwsCredentials | (() => Promise<AwsCredentials>);
  readonly method?: 'proof' | 'sigv4';
  /** `proof`: the broker's server id (its NOCREDS_SERVER_ID). Default: the broker URL's host. */
  readonly serverId?: string;
  /** `proof`: the STS endpoint the broker forwards to. Default: `https://sts.REGION.amazonaws.com`. */
  readonly stsEndpoint?: string;
  /** `proof`: the broker's region. `sigv4`: the API's region. Default: from an execute-api URL, else us-east-1. */
  readonly region?: string;
}

export interface BrokerClientOptions {
  /** The broker's base URL, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com`. */
  readonly url: string;
  readonly auth: BrokerAuth;
  /** Per attempt. Default 10 s. */
  readonly timeoutMs?: number;
  /** Attempts in all, retrying 429, 502-504 and network failures with jittered backoff. Default 3. */
  readonly maxAttempts?: number;
  /** The transport; default the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** How to wait between attempts; default a timer. Tests replace it. */
  readonly sleep?: (milliseconds: number) => Promise<void>;
  /** Told about every attempt (the CLI's `--debug`). Carries no header, query string or body. */
  readonly onExchange?: (exchange: BrokerExchange) => void;
}

/**
 * One attempt, as `onExchange` reports it: what was asked, how it ended, how long it took. Only
 * the path: query strings (page cursors) and bodies (tokens, keys, credentials) are never in it.
 */
export interface BrokerExchange {
  readonly method: string;
  readonly path: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly milliseconds: number;
  readonly status?: number;
  /** API Gateway's request id (`apigw-requestid`), or the one in the broker's error answer. */
  readonly requestId?: string;
  /** The error code of a failed attempt (`access_denied`, `broker_unreachable`, ...). */
  readonly code?: string;
  /** Set when another attempt follows, after this many milliseconds. */
  readonly retryInMs?: number;
}

export interface BrokerCall {
  readonly query?: Record<string, string | undefined>;
  readonly body?: unknown;
  /** Extra request headers (e.g. `if-none-match`); never authentication, which the client adds. */
  readonly headers?: Record<string, string>;
}

/** A non-JSON answer (`callText`): 2xx or 304, its body and the headers a caller may need. */
export interface BrokerTextAnswer {
  readonly status: number;
  readonly body: string;
  readonly etag?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_ATTEMPTS = 3;
const BASE_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 5_000;
// Waiting longer than this inside one credentials call would stall the workload's own requests.
const MAX_RETRY_AFTER_MS = 20_000;
const MAX_TOKEN_CHARS = 16 * 1024;
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function kindOfStatus(status: number): NocredsErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 400 || status === 404 || status === 405 || status === 409 || status === 413 || status === 415) return 'usage';
  return 'broker';
}

function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Talks to the broker's API v1: authentication, a timeout per attempt, bounded jittered retries. */
export class BrokerClient {
  private readonly base: URL;

  constructor(private readonly options: BrokerClientOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new NocredsClientError('usage', 'invalid_url', `The broker URL "${options.url}" is not a URL.`);
    }
    if (base.protocol !== 'https:' && !(base.protocol === 'http:' && isLoopback(base.hostname))) {
      throw new NocredsClientError('usage', 'insecure_url', `The broker URL must use https (plain http only on loopback): ${base.origin}.`);
    }
    this.base = base;
    const auth = options.auth as Partial<{ oidc: OidcAuth; iam: IamAuth }>;
    if (auth.oidc === undefined && auth.iam === undefined) throw new NocredsClientError('usage', 'missing_auth', 'Configure auth: { oidc: { token | tokenFile } } or { iam: { credentials } }.');
    if (auth.oidc && !auth.oidc.token && !auth.oidc.tokenFile && !auth.oidc.tokenSource) throw new NocredsClientError('usage', 'missing_auth', 'OIDC auth needs a token or a tokenFile (or a tokenSource).');
  }

  get url(): string {
    return this.base.origin + this.base.pathname.replace(/\/$/, '');
  }

  async call<T>(method: 'GET' | 'POST', path: string, call: BrokerCall = {}): Promise<T> {
    return parseBody<T>(await this.exchange(method, path, call, (response) => response.ok));
  }

  /** GET a text resource (a PEM trust bundle); 304 Not Modified is an answer, not an error. */
  async callText(path: string, call: BrokerCall = {}): Promise<BrokerTextAnswer> {
    const response = await this.exchange('GET', path, call, (r) => r.ok || r.status === 304);
    const etag = response.headers.get('etag') ?? undefined;
    return { status: response.status, body: await response.text(), ...(etag ? { etag } : {}) };
  }

  private async exchange(method: 'GET' | 'POST', path: string, call: BrokerCall, accept: (response: Response) => boolean): Promise<Response> {
    const url = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
    for (const [name, value] of Object.entries(call.query ?? {})) if (value !== undefined) url.searchParams.set(name, value);
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    const attempts = Math.max(1, this.options.maxAttempts ?? DEFAULT_ATTEMPTS);
    const sleep = this.options.sleep ?? defaultSleep;

    for (let attempt = 1; ; attempt++) {
      // What this attempt was, for onExchange: the path only, never the query, headers or body.
      const started = Date.now();
      const report = (outcome: Partial<BrokerExchange>) => this.options.onExchange?.({ method, path: url.pathname, attempt, maxAttempts: attempts, milliseconds: Date.now() - started, ...outcome });
      let failure: NocredsClientError;
      let wait: number | undefined;
      try {
        // Signed (and the token re-read) per attempt: proofs carry their signing time.
        const headers = { ...call.headers, ...(await this.headers(method, url, body)) };
        const response = await this.send(url, { method, headers, body });
        if (accept(response)) {
          report({ status: response.status, requestId: requestIdHeader(response) });
          return response;
        }
        wait = retryAfterMs(response.headers.get('retry-after'));
        failure = await errorFromResponse(response, wait);
      } catch (error) {
        if (!(error instanceof NocredsClientError)) throw error;
        failure = error;
      }
      // Full jitter: many workloads restarted together must not retry in step.
      const delay =
        !failure.details.retryable || attempt >= attempts || (wait !== undefined && wait > MAX_RETRY_AFTER_MS)
          ? undefined
          : (wait ?? Math.random() * Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt));
      report({ status: failure.status, requestId: failure.requestId, code: failure.code, retryInMs: delay && Math.round(delay) });
      if (delay === undefined) throw failure;
      await sleep(delay);
    }
  }

  private async send(url: URL, init: { method: string; headers: Record<string, string>; body?: string }): Promise<Response> {
    const doFetch = this.options.fetch ?? fetch;
    try {
      return await doFetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS) });
    } catch (error) {
      const timedOut = (error as Error)?.name === 'TimeoutError' || (error as Error)?.name === 'AbortError';
      throw new NocredsClientError(
        'broker',
        timedOut ? 'broker_timeout' : 'broker_unreachable',
        timedOut ? `The broker at ${url.origin} did not answer within ${(this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000} s.` : `The broker at ${url.origin} cannot be reached (${describeNetworkError(error)}).`,
        { retryable: true, cause: error },
      );
    }
  }

  private async headers(method: string, url: URL, body: string | undefined): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'nocreds-client/0.1', ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    const auth = this.options.auth;
    if ('oidc' in auth) return { ...headers, authorization: `Bearer ${await readToken(auth.oidc)}` };

    const credentials = await baseCredentials(auth.iam);
    const signing = await import('./iam-signing');
    const region = auth.iam.region ?? signing.regionOfExecuteApiUrl(this.base) ?? 'us-east-1';
    if (auth.iam.method === 'sigv4') return signing.signExecuteApiRequest(credentials, { method, url, headers, body, region });
    const proof = await signing.signCallerIdentityProof(credentials, {
      stsEndpoint: auth.iam.stsEndpoint ?? `https://sts.${region}.amazonaws.com`,
      region,
      serverId: auth.iam.serverId ?? this.base.host,
    });
    return { ...headers, [signing.PROOF_HEADER]: proof };
  }
}

function requestIdHeader(response: Response): string | undefined {
  return response.headers.get('apigw-requestid') ?? response.headers.get('x-amzn-requestid') ?? undefined;
}

async function readToken(oidc: OidcAuth): Promise<string> {
  let token = oidc.token;
  if (token === undefined && oidc.tokenSource !== undefined) token = await oidc.tokenSource();
  if (token === undefined && oidc.tokenFile !== undefined) {
    try {
      token = await readFile(oidc.tokenFile, 'utf8');
    } catch (error) {
      throw new NocredsClientError('auth', 'token_file_unreadable', `The token file ${oidc.tokenFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, { cause: error });
    }
  }
  token = token?.trim() ?? '';
  if (token === '') throw new NocredsClientError('auth', 'empty_token', oidc.tokenFile ? `The token file ${oidc.tokenFile} is empty.` : 'The OIDC token is empty.');
  if (token.length > MAX_TOKEN_CHARS || /[\s]/.test(token)) throw new NocredsClientError('auth', 'malformed_token', 'The OIDC token must be one line of at most 16 KiB (a JWT).');
  return token.replace(/^Bearer\s+/i, '');
}

async function baseCredentials(iam: IamAuth): Promise<AwsCredentials> {
  try {
    const credentials = typeof iam.credentials === 'function' ? await iam.credentials() : iam.credentials;
    if (!credentials?.accessKeyId || !credentials.secretAccessKey) throw new Error('no access key');
    return credentials;
  } catch (error) {
    throw new NocredsClientError('auth', 'no_base_credentials', `No AWS credentials to sign the request to the broker with (${(error as Error).message}).`, { cause: error });
  }
}

async function parseBody<T>(response: Response): Promise<T> {
  const text = await response.text();
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new NocredsClientError('broker', 'malformed_response', `The broker answered ${response.status} with a body that is not JSON.`, { status: response.status, cause: error });
  }
}

async function errorFromResponse(response: Response, retryAfter: number | undefined): Promise<NocredsClientError> {
  const status = response.status;
  let code = `http_${status}`;
  let message = `The broker answered HTTP ${status}.`;
  let requestId = requestIdHeader(response);
  let brokerDetails: Record<string, unknown> | undefined;
  try {
    const body = JSON.parse(await response.text()) as { error?: { code?: unknown; message?: unknown; requestId?: unknown; details?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
    if (typeof body.error?.requestId === 'string') requestId = body.error.requestId;
    if (typeof body.error?.details === 'object') brokerDetails = body.error.details as Record<string, unknown>;
  } catch {
    // Not the broker's error envelope (a proxy, a load balancer): the status says enough.
  }
  const suffix = `(HTTP ${status} ${code}${requestId ? `, request id ${requestId}` : ''})`;
  return new NocredsClientError(kindOfStatus(status), code, `${message} ${suffix}`, { status, requestId, retryable: RETRYABLE_STATUS.has(status), ...(brokerDetails ? { brokerDetails } : {}), ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }) });
}

function describeNetworkError(error: unknown): string {
  // fetch wraps the socket error; with several addresses tried it is an AggregateError of them.
  const cause = (error as { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } })?.cause;
  return cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (error as Error)?.message ?? 'network error';
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}
