import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { BrokerClient, type BrokerAuth } from './broker-client';
import { CredentialCache, cacheKey, defaultCacheDir, type CacheIdentity } from './credential-cache';
import { registerAgentCommand } from './agent/command';
import { NocredsClientError } from './errors';
import { credentialsFromResponse } from './provider';
import { webhookCommand } from './webhook/command';
// The one version: the repository's, inlined by the package build (packages/client).
import { version } from '../package.json';

/**
 * `nocreds`: the broker from a shell, from `credential_process`, from CI.
 *
 * Exit codes (stable, documented in docs/client.md):
 *   0 success; 1 unexpected failure (e.g. a file could not be written);
 *   2 usage: bad options, or the broker refused the request as malformed (400, 404, 409, 413, 415);
 *   3 auth: no usable identity, or the broker said 401/403;
 *   4 broker: unreachable, timed out, 429/5xx after retries, or a malformed answer.
 */
export const EXIT_CODES = { ok: 0, failure: 1, usage: 2, auth: 3, broker: 4 } as const;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

const processIo: CliIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), env: process.env };

interface GlobalOptions {
  url?: string;
  tokenFile?: string;
  iam?: boolean;
  sigv4?: boolean;
  serverId?: string;
  stsEndpoint?: string;
  region?: string;
  timeout: number;
}

// Set for the CLI's children, so a `credential_process` profile that itself resolves through the
// default chain (and so through this CLI again) fails at once instead of recursing.
const RECURSION_GUARD = 'NOCREDS_CLI_RESOLVING_IAM';

function usage(message: string): NocredsClientError {
  return new NocredsClientError('usage', 'usage', message);
}

function positiveInt(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive whole number.`);
    return n;
  };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

async function brokerFrom(options: GlobalOptions, io: CliIo): Promise<{ broker: BrokerClient; cacheIdentity: () => Promise<CacheIdentity | undefined> }> {
  if (!options.url) throw usage('Which broker? Pass --url or set NOCREDS_URL.');
  let auth: BrokerAuth;
  // What authenticates this call, for the credentials cache key (one identity's cached credentials
  // must never answer another). Undefined when it cannot be known: then no cache.
  let cacheIdentity: () => Promise<CacheIdentity | undefined>;
  if (options.iam || options.sigv4) {
    if (io.env[RECURSION_GUARD]) throw usage('--iam found this CLI again while resolving AWS credentials (a credential_process profile that uses --iam must not be the profile it signs with).');
    process.env[RECURSION_GUARD] = '1';
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
  } else if (io.env.NOCREDS_TOKEN) {
    const token = io.env.NOCREDS_TOKEN;
    auth = { oidc: { token } };
    cacheIdentity = async () => ({ kind: 'oidc', token: token.trim() });
  } else if (options.tokenFile) {
    const tokenFile = options.tokenFile;
    auth = { oidc: { tokenFile } };
    // The token itself, not the file's name: a rotated or swapped token is another identity.
    cacheIdentity = async () => {
      const token = await readFile(tokenFile, 'utf8').catch(() => undefined);
      return token === undefined ? undefined : { kind: 'oidc', token: token.trim() };
    };
  } else {
    throw usage('How should nocreds prove who you are? Set NOCREDS_TOKEN_FILE (or --token-file), or NOCREDS_TOKEN, or pass --iam to use your AWS credentials.');
  }
  return { broker: new BrokerClient({ url: options.url, auth, timeoutMs: options.timeout * 1000 }), cacheIdentity };
}

/** POST /v1/certificates (201 issued, 202 pending) and GET /v1/leases/{id} answers. */
interface IssuedCertificate {
  leaseId?: unknown;
  status?: unknown;
  lease?: { status?: unknown };
  certificate?: unknown;
  certificateChain?: unknown;
  serialNumber?: unknown;
  notAfter?: unknown;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Writes a file atomically with the given mode (keys 0600). */
async function writePrivate(path: string, content: string, mode: number): Promise<void> {
  const temporary = join(dirname(path), `.${randomBytes(6).toString('hex')}.nocreds.tmp`);
  try {
    await writeFile(temporary, content, { mode, flag: 'wx' });
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

export function buildProgram(io: CliIo, done: (code: number) => void): Command {
  const program = new Command('nocreds')
    .description('Short-lived AWS credentials and X.509 certificates from a nocreds broker.')
    .version(version)
    .addOption(new Option('--url <url>', 'broker base URL').env('NOCREDS_URL'))
    .addOption(new Option('--token-file <file>', 'OIDC token file, read on every call (NOCREDS_TOKEN takes a token value instead)').env('NOCREDS_TOKEN_FILE'))
    .option('--iam', 'prove who you are with your AWS credentials (default chain) through a signed GetCallerIdentity')
    .option('--sigv4', "sign requests with SigV4 for the broker's IAM API (its IamApiUrl)")
    .addOption(new Option('--server-id <id>', "the broker's server id for --iam (default: the broker URL's host)").env('NOCREDS_SERVER_ID'))
    .addOption(new Option('--sts-endpoint <url>', 'the STS endpoint the broker verifies --iam proofs with').env('NOCREDS_STS_ENDPOINT'))
    .addOption(new Option('--region <region>', "the broker's AWS region (for --iam and --sigv4)").env('NOCREDS_REGION'))
    .addOption(new Option('--timeout <seconds>', 'per-attempt timeout').default(10).argParser(positiveInt('--timeout')))
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();
  program.addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 unexpected failure, 2 usage, 3 authentication or authorization, 4 broker unavailable.
Environment: NOCREDS_URL, NOCREDS_TOKEN_FILE, NOCREDS_TOKEN, NOCREDS_SERVER_ID, NOCREDS_STS_ENDPOINT, NOCREDS_REGION, NOCREDS_CACHE_DIR.`,
  );

  const globals = (command: Command) => command.optsWithGlobals() as GlobalOptions;

  program
    .command('credentials')
    .description('vend STS credentials for a role (use as credential_process)')
    .requiredOption('--role <arn>', 'role ARN, e.g. arn:aws:iam::123456789012:role/team-a-app')
    .addOption(new Option('--format <format>', 'output: process (credential_process JSON), env (shell exports), json (the broker answer)').choices(['process', 'env', 'json']).default('process'))
    .addOption(new Option('--duration <seconds>', 'session length, 900-3600').argParser(positiveInt('--duration')))
    .option('--policy-file <file>', 'an inline session policy (JSON) to narrow the session further')
    .option('--cache', 'reuse credentials cached on disk while more than 10 minutes remain')
    .addOption(new Option('--cache-dir <dir>', 'cache directory (implies --cache; default ~/.cache/nocreds)').env('NOCREDS_CACHE_DIR'))
    .action(async (opts: { role: string; format: 'process' | 'env' | 'json'; duration?: number; policyFile?: string; cache?: boolean; cacheDir?: string }, command: Command) => {
      const options = globals(command);
      let policy: unknown;
      if (opts.policyFile) {
        try {
          policy = JSON.parse(await readFile(opts.policyFile, 'utf8'));
        } catch (error) {
          throw usage(`--policy-file ${opts.policyFile} is not a readable JSON file (${(error as Error).message}).`);
        }
      }
      const { broker, cacheIdentity } = await brokerFrom(options, io);
      const request = { role: opts.role, ...(opts.duration ? { durationSeconds: opts.duration } : {}), ...(policy === undefined ? {} : { policy }) };
      const warn = (message: string) => io.stderr(`nocreds: warning: ${message}\n`);
      const cache = opts.cache || opts.cacheDir ? new CredentialCache(opts.cacheDir ?? defaultCacheDir(io.env), { warn }) : undefined;
      // Keyed by who authenticates, the broker and the whole request (client/credential-cache.ts).
      const identity = cache ? await cacheIdentity() : undefined;
      const key = identity ? cacheKey({ url: broker.url, identity, request }) : undefined;
      let answer = key ? await cache?.get(key) : undefined;
      if (!answer) {
        answer = await broker.call<Record<string, unknown>>('POST', '/v1/credentials', { body: request });
        credentialsFromResponse(answer);
        if (key) await cache?.put(key, answer).catch((error: Error) => warn(`could not write the credentials cache (${error.message}).`));
      }
      const c = credentialsFromResponse(answer);
      if (opts.format === 'json') io.stdout(`${JSON.stringify(answer, null, 2)}\n`);
      else if (opts.format === 'env') {
        const lines = [
          ['AWS_ACCESS_KEY_ID', c.accessKeyId],
          ['AWS_SECRET_ACCESS_KEY', c.secretAccessKey],
          ['AWS_SESSION_TOKEN', c.sessionToken],
          ['AWS_CREDENTIAL_EXPIRATION', c.expiration.toISOString()],
        ];
        io.stdout(lines.map(([name, value]) => `export ${name}=${shellQuote(value as string)}\n`).join(''));
      } else {
        io.stdout(`${JSON.stringify({ Version: 1, AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, SessionToken: c.sessionToken, Expiration: c.expiration.toISOString() })}\n`);
      }
    });

  program
    .command('certificate')
    .description('make a key here, send its CSR, and write the key, certificate and chain')
    .requiredOption('--key-out <file>', 'where to write the private key (PKCS#8 PEM, mode 0600)')
    .requiredOption('--cert-out <file>', 'where to write the certificate, followed by its chain unless --chain-out is given')
    .option('--chain-out <file>', 'write the CA chain here instead of after the certificate')
    .option('--profile <name>', "the grant's certificate profile")
    .option('--common-name <cn>', 'subject common name')
    .option('--dns <name>', 'a DNS subject alternative name (repeatable)', collect)
    .option('--uri <uri>', 'a URI subject alternative name, e.g. spiffe://... (repeatable)', collect)
    .option('--ip <address>', 'an IP address subject alternative name (repeatable)', collect)
    .addOption(new Option('--key-type <type>', 'key algorithm').choices(['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096']).default('ec-p256'))
    .addOption(new Option('--validity <seconds>', 'requested validity').argParser(positiveInt('--validity')))
    .addOption(new Option('--wait <seconds>', 'how long to wait for the CA to sign').default(60).argParser(positiveInt('--wait')))
    .action(async (opts: { keyOut: string; certOut: string; chainOut?: string; profile?: string; commonName?: string; dns?: string[]; uri?: string[]; ip?: string[]; keyType: string; validity?: number; wait: number }, command: Command) => {
      if (!opts.commonName && !opts.dns && !opts.uri && !opts.ip) throw usage('Name the certificate: --common-name, --dns, --uri or --ip.');
      const { broker } = await brokerFrom(globals(command), io);
      const { generateKeyAndCsr } = await import('./key-and-csr');
      const { keyPem, csrPem } = await generateKeyAndCsr(opts.keyType as never, { commonName: opts.commonName, dns: opts.dns, uris: opts.uri, ips: opts.ip });
      let answer = await broker.call<IssuedCertificate>('POST', '/v1/certificates', {
        body: { csr: csrPem, ...(opts.profile ? { profile: opts.profile } : {}), ...(opts.validity ? { validitySeconds: opts.validity } : {}) },
      });
      // 202: the CA is still signing; the lease delivers the certificate once it has.
      const deadline = Date.now() + opts.wait * 1000;
      for (let delay = 1000; answer.certificate === undefined && typeof answer.leaseId === 'string'; delay = Math.min(delay * 2, 8000)) {
        if (answer.lease?.status === 'failed' || answer.lease?.status === 'abandoned') throw new NocredsClientError('broker', 'issuance_failed', `The CA did not issue the certificate (lease ${answer.leaseId}).`);
        if (Date.now() + delay > deadline) throw new NocredsClientError('broker', 'issuance_pending', `The CA has not issued the certificate within ${opts.wait} s; fetch it later with GET /v1/leases/${answer.leaseId}.`);
        await new Promise((resolve) => setTimeout(resolve, delay));
        answer = { ...(await broker.call<IssuedCertificate>('GET', `/v1/leases/${encodeURIComponent(answer.leaseId)}`)), leaseId: answer.leaseId };
      }
      if (typeof answer.certificate !== 'string' || !answer.certificate.includes('BEGIN CERTIFICATE')) {
        throw new NocredsClientError('broker', 'malformed_response', 'The broker answered without a PEM certificate.');
      }
      const chain = typeof answer.certificateChain === 'string' ? answer.certificateChain.trim() : '';
      const leaf = `${answer.certificate.trim()}\n`;
      await writePrivate(opts.keyOut, keyPem, 0o600);
      if (opts.chainOut) {
        await writePrivate(opts.certOut, leaf, 0o644);
        await writePrivate(opts.chainOut, chain ? `${chain}\n` : '', 0o644);
      } else {
        await writePrivate(opts.certOut, chain ? `${leaf}${chain}\n` : leaf, 0o644);
      }
      io.stderr(`nocreds: wrote ${opts.keyOut} and ${opts.certOut}${opts.chainOut ? ` and ${opts.chainOut}` : ''} (lease ${String(answer.leaseId)}, serial ${String(answer.serialNumber)}, valid until ${String(answer.notAfter)}).\n`);
    });

  program
    .command('whoami')
    .description('show who the broker thinks you are and which grant rules apply')
    .action(async (_opts: unknown, command: Command) => {
      const { broker } = await brokerFrom(globals(command), io);
      io.stdout(`${JSON.stringify(await broker.call('GET', '/v1/whoami'), null, 2)}\n`);
    });

  program
    .command('leases')
    .description('list your leases (an admin grant sees all)')
    .addOption(new Option('--status <status>', 'only leases in this state').choices(['pending', 'active', 'expired', 'revoked', 'failed', 'abandoned', 'unrecorded']))
    .addOption(new Option('--kind <kind>', 'only credentials or certificate leases').choices(['credentials', 'certificate']))
    .addOption(new Option('--limit <n>', 'page size').argParser(positiveInt('--limit')))
    .option('--cursor <cursor>', 'continue from a previous page')
    .action(async (opts: { status?: string; kind?: string; limit?: number; cursor?: string }, command: Command) => {
      const { broker } = await brokerFrom(globals(command), io);
      const page = await broker.call('GET', '/v1/leases', { query: { status: opts.status, kind: opts.kind, limit: opts.limit?.toString(), cursor: opts.cursor } });
      io.stdout(`${JSON.stringify(page, null, 2)}\n`);
    });

  registerAgentCommand(program, io);

  program.hook('postAction', () => done(EXIT_CODES.ok));
  program.addCommand(webhookCommand(io, (command) => globals(command).url));

  return program;
}

/** Runs the CLI and returns its exit code; never throws. */
export async function run(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let code: number = EXIT_CODES.ok;
  const program = buildProgram(io, (c) => (code = c));
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT_CODES.usage;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; every other parse failure is a usage error.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version' ? EXIT_CODES.ok : EXIT_CODES.usage;
    }
    if (error instanceof NocredsClientError) {
      io.stderr(`nocreds: ${error.message}\n`);
      return EXIT_CODES[error.kind];
    }
    io.stderr(`nocreds: ${(error as Error)?.message ?? String(error)}\n`);
    return EXIT_CODES.failure;
  }
}

if (require.main === module) {
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
