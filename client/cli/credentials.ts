import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { CredentialCache, cacheKey, defaultCacheDir } from '../credential-cache';
import { credentialsFromResponse } from '../provider';
import { brokerFrom, debugFor, EXIT_CODES, positiveInt, usage, type CliIo } from './context';

export type CredentialsFormat = 'process' | 'env' | 'json';

interface CredentialsFlags {
  role: string;
  format: CredentialsFormat;
  duration?: number;
  policyFile?: string;
  cache?: boolean;
  cacheDir?: string;
  fresh?: boolean;
  dryRun?: boolean;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Prints a broker credentials answer (POST /v1/credentials, or a renewed credentials lease) in a format. */
export function printCredentials(io: CliIo, answer: Record<string, unknown>, format: CredentialsFormat): void {
  const c = credentialsFromResponse(answer);
  if (format === 'json') io.stdout(`${JSON.stringify(answer, null, 2)}\n`);
  else if (format === 'env') {
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
}

/** Prints a dry run's answer (the broker's, or `grants explain`'s) and returns the exit code: 0 allowed, 1 refused. */
export function printDryRun(io: CliIo, answer: Record<string, unknown>): number {
  io.stdout(`${JSON.stringify(answer, null, 2)}\n`);
  return answer.allowed === true ? EXIT_CODES.ok : EXIT_CODES.failure;
}

export const credentialsFormatOption = () =>
  new Option('--format <format>', 'output: process (credential_process JSON), env (shell exports), json (the broker answer)').choices(['process', 'env', 'json']).default('process');

export function registerCredentialsCommand(program: Command, io: CliIo, exit: (code: number) => void = () => undefined): void {
  program
    .command('credentials')
    .description('vend STS credentials for a role (use as credential_process)')
    .requiredOption('--role <arn>', 'role ARN, e.g. arn:aws:iam::123456789012:role/team-a-app')
    .addOption(credentialsFormatOption())
    .addOption(new Option('--duration <seconds>', 'session length, 900-3600').argParser(positiveInt('--duration')))
    .option('--policy-file <file>', 'an inline session policy (JSON) to narrow the session further')
    .option('--cache', 'reuse credentials cached on disk while more than 10 minutes remain')
    .addOption(new Option('--cache-dir <dir>', 'cache directory (implies --cache; default ~/.cache/nocreds)').env('NOCREDS_CACHE_DIR'))
    .option('--fresh', 'a new session: skip the cache and the broker\'s session reuse (the answer still goes into the cache)')
    .option('--dry-run', 'ask the broker what it would decide and send to STS, without a lease or credentials (exit 0 allowed, 1 refused)')
    .addHelpText(
      'after',
      `
Examples:
  $ eval "$(nocreds credentials --role arn:aws:iam::123456789012:role/team-a-app --format env)"
  $ nocreds credentials --role arn:aws:iam::123456789012:role/team-a-app --cache    # in ~/.aws/config: credential_process = nocreds ... credentials ...
  $ nocreds credentials --role arn:aws:iam::123456789012:role/team-a-app --format json --duration 900 --policy-file narrow.json
  $ nocreds credentials --role arn:aws:iam::123456789012:role/team-a-app --dry-run   # the rule, session policy and tags, no credentials`,
    )
    .action(async (opts: CredentialsFlags, command: Command) => {
      const debug = debugFor(command, io);
      let policy: unknown;
      if (opts.policyFile) {
        try {
          policy = JSON.parse(await readFile(opts.policyFile, 'utf8'));
        } catch (error) {
          throw usage(`--policy-file ${opts.policyFile} is not a readable JSON file (${(error as Error).message}).`);
        }
      }
      const { broker, cacheIdentity } = await brokerFrom(command, io, debug);
      const request = { role: opts.role, ...(opts.duration ? { durationSeconds: opts.duration } : {}), ...(policy === undefined ? {} : { policy }) };
      if (opts.dryRun) {
        exit(printDryRun(io, await broker.call<Record<string, unknown>>('POST', '/v1/credentials', { body: { ...request, dryRun: true } })));
        return;
      }
      const warn = (message: string) => io.stderr(`nocreds: warning: ${message}\n`);
      const cacheDir = opts.cache || opts.cacheDir ? (opts.cacheDir ?? defaultCacheDir(io.env)) : undefined;
      const cache = cacheDir ? new CredentialCache(cacheDir, { warn }) : undefined;
      // Keyed by who authenticates, the broker and the request without `fresh` (client/credential-cache.ts):
      // a fresh answer replaces the entry a later plain call reads.
      const identity = cache ? await cacheIdentity() : undefined;
      const key = identity ? cacheKey({ url: broker.url, identity, request }) : undefined;
      if (cache && !key) debug('credentials cache not used: the identity cannot be read to key it');
      let answer = key && !opts.fresh ? await cache?.get(key) : undefined;
      if (key) debug(opts.fresh ? `credentials cache skipped (--fresh) in ${cacheDir}` : `credentials cache ${answer ? 'hit' : 'miss'} in ${cacheDir}`);
      if (!answer) {
        answer = await broker.call<Record<string, unknown>>('POST', '/v1/credentials', { body: opts.fresh ? { ...request, fresh: true } : request });
        credentialsFromResponse(answer);
        if (typeof answer.leaseId === 'string') debug(`lease ${answer.leaseId}, expires ${String(answer.expiration)}`);
        if (key) {
          await cache?.put(key, answer).then(
            () => debug('credentials cache written'),
            (error: Error) => warn(`could not write the credentials cache (${error.message}).`),
          );
        }
      }
      printCredentials(io, answer, opts.format);
    });
}
