import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { BrokerClient, type BrokerAuth, type BrokerExchange } from '../broker-client';
import type { CacheIdentity } from '../credential-cache';
import { NocredsClientError } from '../errors';

/**
 * What every `nocreds` command shares: where it writes, the global options, how it reaches and
 * authenticates to the broker, and the `--debug` trace.
 *
 * Exit codes (stable, documented in docs/client.md):
 *   0 success; 1 unexpected failure (e.g. a file could not be written), or `grants validate` found problems;
 *   2 usage: bad options or arguments, an unknown command, an existing key without --force, or the
 *     broker refused the request as malformed or conflicting (400, 404, 405, 409, 413, 415);
 *   3 auth: no usable identity, or the broker said 401/403;
 *   4 broker: unreachable, timed out, 429/5xx after retries, or a malformed answer.
 */
export const EXIT_CODES = { ok: 0, failure: 1, usage: 2, auth: 3, broker: 4 } as const;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Read for `NOCREDS_TOKEN`. Options with an environment variable (`--url`, ...) are read by commander from `process.env`. */
  readonly env: NodeJS.ProcessEnv;
}

export interface GlobalOptions {
  url?: string;
  tokenFile?: string;
  iam?: boolean;
  sigv4?: boolean;
  serverId?: string;
  stsEndpoint?: string;
  region?: string;
  timeout: number;
  debug?: boolean;
}

export const globals = (command: Command) => command.optsWithGlobals() as GlobalOptions;

// Set for the CLI's children, so a `credential_process` profile that itself resolves through the
// default chain (and so through this CLI again) fails at once instead of recursing.
const RECURSION_GUARD = 'NOCREDS_CLI_RESOLVING_IAM';

export function usage(message: string): NocredsClientError {
  return new NocredsClientError('usage', 'usage', message);
}

export function positiveInt(name: string, max?: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive whole number.`);
    if (max !== undefined && n > max) throw new InvalidArgumentError(`${name} must be at most ${max}.`);
    return n;
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * The `--debug` trace: one line on stderr per event. Callers pass only what is safe to show: paths,
 * status codes, request ids, timings, lease ids, file names. Never a token, key or credential.
 */
export type Debug = (message: string) => void;

export function debugFor(command: Command, io: CliIo): Debug {
  return globals(command).debug ? (message) => io.stderr(`nocreds: debug: ${message}\n`) : () => undefined;
}

function describeExchange(e: BrokerExchange): string {
  const outcome = e.status === undefined ? (e.code ?? 'failed') : `${e.status}${e.code ? ` ${e.code}` : ''}`;
  const retry = e.retryInMs === undefined ? '' : `, retrying in ${e.retryInMs} ms`;
  return `${e.method} ${e.path} -> ${outcome} in ${e.milliseconds} ms (attempt ${e.attempt}/${e.maxAttempts}${e.requestId ? `, request id ${e.requestId}` : ''}${retry})`;
}

export interface BrokerContext {
  readonly broker: BrokerClient;
  /** What authenticates this call, for the credentials cache key; undefined when it cannot be known. */
  readonly cacheIdentity: () => Promise<CacheIdentity | undefined>;
}

/**
 * The broker client for a command. How the caller proves who it is, first match wins, and a flag
 * always beats an environment variable: `--iam`/`--sigv4`; then `--token-file` given as a flag;
 * then `NOCREDS_TOKEN`; then `NOCREDS_TOKEN_FILE`.
 */
export async function brokerFrom(command: Command, io: CliIo, debug: Debug): Promise<BrokerContext> {
  const options = globals(command);
  if (!options.url) throw usage('Which broker? Pass --url or set NOCREDS_URL.');
  let auth: BrokerAuth;
  // What authenticates this call, for the credentials cache key (one identity's cached credentials
  // must never answer another). Undefined when it cannot be known: then no cache.
  let cacheIdentity: () => Promise<CacheIdentity | undefined>;
  const tokenFileFromFlag = command.getOptionValueSourceWithGlobals('tokenFile') === 'cli';
  if (options.iam || options.sigv4) {
    if (io.env[RECURSION_GUARD]) throw usage('--iam found this CLI again while resolving AWS credentials (a credential_process profile that uses --iam must not be the profile it signs with).');
    process.env[RECURSION_GUARD] = '1';
    debug(`authenticating with AWS credentials from the default chain (${options.sigv4 ? 'SigV4-signed requests' : 'GetCallerIdentity proof'})`);
    // Loaded only for IAM: the default chain (env, profiles, SSO, IMDS, ECS) is heavy.
    const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
    // Memoized by the SDK: the cache key and the request resolve the chain once.
    const credentials = defaultProvider();
    auth = {
      iam: {
        credentials,
        method: options.sigv4 ? 'sigv4' : 'proof',
        ...(options.serverId ? { serverId: options.serverId } : {}),
        ...(options.stsEndpoint ? { stsEndpoint: options.stsEndpoint } : {}),
        ...(options.region ? { region: options.region } : {}),
      },
    };
    cacheIdentity = async () => {
      const c = await credentials().catch(() => undefined);
      if (!c) return undefined;
      const { serverId, stsEndpoint, region } = options;
      return { kind: options.sigv4 ? 'iam-sigv4' : 'iam-proof', profile: process.env.AWS_PROFILE, accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, serverId, stsEndpoint, region };
    };
  } else if (io.env.NOCREDS_TOKEN && !tokenFileFromFlag) {
    const token = io.env.NOCREDS_TOKEN;
    debug('authenticating with the OIDC token in NOCREDS_TOKEN');
    auth = { oidc: { token } };
    cacheIdentity = async () => ({ kind: 'oidc', token: token.trim() });
  } else if (options.tokenFile) {
    const tokenFile = options.tokenFile;
    debug(`authenticating with the OIDC token file ${tokenFile}`);
    auth = { oidc: { tokenFile } };
    // The token itself, not the file's name: a rotated or swapped token is another identity.
    cacheIdentity = async () => {
      const token = await readFile(tokenFile, 'utf8').catch(() => undefined);
      return token === undefined ? undefined : { kind: 'oidc', token: token.trim() };
    };
  } else {
    throw usage('How should nocreds prove who you are? Set NOCREDS_TOKEN_FILE (or --token-file), or NOCREDS_TOKEN, or pass --iam to use your AWS credentials.');
  }
  const broker = new BrokerClient({ url: options.url, auth, timeoutMs: options.timeout * 1000, onExchange: (e) => debug(describeExchange(e)) });
  return { broker, cacheIdentity };
}

/** The commands that print broker records: JSON by default (for scripts, like aws-cli), or a table. */
export type OutputFormat = 'json' | 'table';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['json', 'table'];
