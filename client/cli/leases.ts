import { type Command, Option } from 'commander';
import type { BrokerClient } from '../broker-client';
import { NocredsClientError } from '../errors';
import { awaitCertificate, writeCertificateFiles, type IssuedCertificate } from './certificate';
import { brokerFrom, debugFor, OUTPUT_FORMATS, positiveInt, type CliIo, type Debug, type OutputFormat } from './context';
import { renderRecord, renderTable, shortTime, type Column } from './output';

/**
 * `nocreds leases` (every page, like aws-cli's automatic pagination) and `nocreds lease get |
 * revoke | renew ID`, over GET /v1/leases, GET /v1/leases/{id}, POST /v1/leases/{id}/revoke and
 * POST /v1/leases/{id}/renew (functions/leases/routes.ts).
 */

/** The broker's largest page (MAX_PAGE_SIZE in shared/use-cases/list-leases.ts; a unit test keeps them equal). */
export const API_MAX_PAGE_SIZE = 100;
// A listing that needs more pages than this is a broker handing out cursors in a loop.
const MAX_PAGES = 10_000;

type LeaseView = Record<string, unknown>;

interface LeasePage {
  leases?: unknown;
  scope?: unknown;
  cursor?: unknown;
}

export interface LeaseListing {
  leases: LeaseView[];
  scope?: unknown;
  /** Set when --max-items stopped the listing before its end: pass it as --cursor to go on. */
  cursor?: string;
}

export interface ListOptions {
  readonly status?: string;
  readonly kind?: string;
  readonly caller?: string;
  readonly pageSize?: number;
  readonly maxItems?: number;
  readonly cursor?: string;
}

/**
 * Follows the cursor until the listing ends or `maxItems` leases are in hand. A page is never cut:
 * the last request asks for exactly what is missing, so the cursor it returns resumes right after.
 */
export async function listAllLeases(broker: BrokerClient, options: ListOptions, debug: Debug): Promise<LeaseListing> {
  const leases: LeaseView[] = [];
  const seen = new Set<string>();
  let cursor = options.cursor;
  let scope: unknown;
  for (let page = 1; ; page++) {
    const missing = options.maxItems === undefined ? undefined : options.maxItems - leases.length;
    const limit = missing === undefined ? options.pageSize : Math.min(options.pageSize ?? API_MAX_PAGE_SIZE, missing);
    const answer = await broker.call<LeasePage>('GET', '/v1/leases', {
      query: { status: options.status, kind: options.kind, caller: options.caller, limit: limit?.toString(), cursor },
    });
    if (!Array.isArray(answer.leases)) throw new NocredsClientError('broker', 'malformed_response', 'The broker answered a lease listing without a "leases" list.');
    leases.push(...(answer.leases as LeaseView[]));
    scope = answer.scope;
    cursor = typeof answer.cursor === 'string' && answer.cursor !== '' ? answer.cursor : undefined;
    debug(`page ${page}: ${answer.leases.length} leases${cursor ? ', more to come' : ', the last'}`);
    if (cursor === undefined || (options.maxItems !== undefined && leases.length >= options.maxItems)) break;
    if (seen.has(cursor) || page >= MAX_PAGES) throw new NocredsClientError('broker', 'malformed_response', 'The broker returned a page cursor it had already returned; stopping the listing.');
    seen.add(cursor);
  }
  return { leases, scope, ...(cursor ? { cursor } : {}) };
}

const roleName = (arn: unknown) => (typeof arn === 'string' ? arn.replace(/^arn:[^:]*:iam::\d{12}:role\//, '') : '');

/** What a lease is for, in a few characters: the role name, or the certificate profile and first name. */
function subject(lease: LeaseView): string {
  if (lease.kind === 'credentials') return roleName(lease.roleArn) || '-';
  const names = Array.isArray(lease.names) ? lease.names.join(',') : '';
  return [lease.profile, names].filter((part) => typeof part === 'string' && part !== '').join(' ') || '-';
}

const LEASE_COLUMNS: readonly Column<LeaseView>[] = [
  { header: 'LEASE ID', value: (l) => String(l.leaseId ?? '-') },
  { header: 'KIND', value: (l) => (l.kind === 'credentials' ? 'cred' : l.kind === 'certificate' ? 'cert' : String(l.kind ?? '-')) },
  { header: 'STATUS', value: (l) => String(l.status ?? '-') },
  { header: 'EXPIRES', value: (l) => shortTime(l.expiresAt) },
  { header: 'ROLE / NAMES', value: subject },
];

export function leasesTable(leases: readonly LeaseView[]): string {
  return leases.length === 0 ? 'No leases.\n' : renderTable(LEASE_COLUMNS, leases);
}

const outputOption = () =>
  new Option('--output <format>', 'json (the broker answer, for scripts) or table (for people)')
    .choices(OUTPUT_FORMATS as string[])
    .default('json')
    .env('NOCREDS_OUTPUT');

function leasePath(id: string, action?: 'revoke' | 'renew'): string {
  return `/v1/leases/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;
}

// Never printed in a table: the secrets of a renewed credentials lease and PEM blobs.
const NOT_IN_TABLES = new Set(['secretAccessKey', 'sessionToken', 'certificate', 'certificateChain']);

function withoutSecrets(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !NOT_IN_TABLES.has(key)));
}

interface ListFlags extends ListOptions {
  output: OutputFormat;
}

interface GetFlags {
  output: OutputFormat;
  certOut?: string;
  chainOut?: string;
}

interface RenewFlags extends GetFlags {
  duration?: number;
  wait: number;
}

export function registerLeaseCommands(program: Command, io: CliIo): void {
  program
    .command('leases')
    .description('list your leases, every page (an admin grant sees all)')
    .addOption(new Option('--status <status>', 'only leases in this state').choices(['pending', 'active', 'expired', 'revoked', 'failed', 'abandoned', 'unrecorded']))
    .addOption(new Option('--kind <kind>', 'only credentials or certificate leases').choices(['credentials', 'certificate']))
    .option('--caller <caller>', "another caller's leases (admin grants only)")
    .addOption(new Option('--max-items <n>', 'stop after this many leases; the output then carries a cursor to go on from').argParser(positiveInt('--max-items')))
    .addOption(new Option('--page-size <n>', `leases per request (the broker's default 50, at most ${API_MAX_PAGE_SIZE})`).argParser(positiveInt('--page-size', API_MAX_PAGE_SIZE)))
    .option('--cursor <cursor>', 'go on from where an earlier --max-items stopped')
    // The first release's name for --max-items: still accepted, no longer shown.
    .addOption(new Option('--limit <n>').argParser(positiveInt('--limit')).conflicts('maxItems').hideHelp())
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Pages are followed until the listing ends (or --max-items). JSON output: {"leases": [...], "scope", "cursor"?}.

Examples:
  $ nocreds leases --status active --output table
  $ nocreds leases --kind certificate --max-items 20
  $ nocreds leases --max-items 20 --cursor "$(nocreds leases --max-items 20 | jq -r .cursor)"`,
    )
    .action(async ({ limit, ...flags }: ListFlags & { limit?: number }, command: Command) => {
      const opts: ListFlags = { ...flags, maxItems: flags.maxItems ?? limit };
      const debug = debugFor(command, io);
      const { broker } = await brokerFrom(command, io, debug);
      const listing = await listAllLeases(broker, opts, debug);
      if (opts.output === 'table') {
        io.stdout(leasesTable(listing.leases));
        if (listing.cursor) io.stderr(`nocreds: more leases; go on with --cursor ${listing.cursor}\n`);
      } else {
        io.stdout(`${JSON.stringify(listing, null, 2)}\n`);
      }
    });

  const lease = program
    .command('lease')
    .description('read, revoke or renew one lease')
    .addHelpText(
      'after',
      `
Examples:
  $ nocreds lease get 01JD6S3M0Q8J4Z5X7Y9W2V1T0R --output table
  $ nocreds lease revoke 01JD6S3M0Q8J4Z5X7Y9W2V1T0R --reason KEY_COMPROMISE
  $ nocreds lease renew 01JD6S3M0Q8J4Z5X7Y9W2V1T0R --cert-out tls.crt`,
    );

  lease
    .command('get')
    .description('show one lease; for a certificate lease, also its certificate')
    .argument('<lease-id>', 'the lease id (26 characters, from `nocreds leases` or an issuing answer)')
    .addOption(outputOption())
    .option('--cert-out <file>', 'for a certificate lease: write its certificate (and chain) here')
    .option('--chain-out <file>', 'with --cert-out: write the chain here instead of after the certificate')
    .addHelpText(
      'after',
      `
Examples:
  $ nocreds lease get 01JD6S3M0Q8J4Z5X7Y9W2V1T0R
  $ nocreds lease get 01JD6S3M0Q8J4Z5X7Y9W2V1T0R --output table --cert-out tls.crt`,
    )
    .action(async (id: string, opts: GetFlags, command: Command) => {
      const debug = debugFor(command, io);
      const { broker } = await brokerFrom(command, io, debug);
      const answer = await broker.call<{ lease?: LeaseView } & IssuedCertificate>('GET', leasePath(id));
      if (opts.output === 'table') {
        const extra = answer.serialNumber === undefined ? {} : { serialNumber: answer.serialNumber, notAfter: answer.notAfter };
        io.stdout(renderRecord({ ...withoutSecrets(answer.lease ?? {}), ...extra }));
      } else {
        io.stdout(`${JSON.stringify(answer, null, 2)}\n`);
      }
      await writeCertificateIfAsked(io, { ...answer, leaseId: answer.lease?.leaseId ?? id }, opts);
    });

  lease
    .command('revoke')
    .description('revoke a lease: a certificate at the CA; credentials through a deny on their session')
    .argument('<lease-id>', 'the lease id')
    .option('--reason <reason>', 'for a certificate: the CRL reason, e.g. KEY_COMPROMISE, SUPERSEDED, CESSATION_OF_OPERATION (default UNSPECIFIED)')
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Revoking twice is harmless: the second answer is the first. The answer's "effect" says what revoking did.

Examples:
  $ nocreds lease revoke 01JD6S3M0Q8J4Z5X7Y9W2V1T0R
  $ nocreds lease revoke 01JD6S3M0Q8J4Z5X7Y9W2V1T0R --reason KEY_COMPROMISE --output table`,
    )
    .action(async (id: string, opts: { reason?: string; output: OutputFormat }, command: Command) => {
      const debug = debugFor(command, io);
      const { broker } = await brokerFrom(command, io, debug);
      const answer = await broker.call<{ lease?: LeaseView; effect?: unknown }>('POST', leasePath(id, 'revoke'), opts.reason ? { body: { reason: opts.reason } } : {});
      if (opts.output === 'table') io.stdout(renderRecord({ ...withoutSecrets(answer.lease ?? {}), effect: answer.effect }));
      else io.stdout(`${JSON.stringify(answer, null, 2)}\n`);
    });

  lease
    .command('renew')
    .description('renew a lease: a new certificate for the same key, or a fresh credentials session')
    .argument('<lease-id>', 'the lease id')
    .addOption(new Option('--duration <seconds>', 'for credentials: the new session length, 900-3600').argParser(positiveInt('--duration')))
    .option('--cert-out <file>', 'for a certificate: write the new certificate (and chain) here')
    .option('--chain-out <file>', 'with --cert-out: write the chain here instead of after the certificate')
    .addOption(new Option('--wait <seconds>', 'how long to wait for the CA to sign').default(60).argParser(positiveInt('--wait')))
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
JSON output is the broker's answer: for credentials it holds the new secret key and session token.
The table never shows secrets or PEM.

Examples:
  $ nocreds lease renew 01JD6S3M0Q8J4Z5X7Y9W2V1T0R --cert-out tls.crt
  $ nocreds lease renew 01JD6S3M0Q8J4Z5X7Y9W2V1T0R --duration 900 --output table`,
    )
    .action(async (id: string, opts: RenewFlags, command: Command) => {
      const debug = debugFor(command, io);
      const { broker } = await brokerFrom(command, io, debug);
      let answer = await broker.call<IssuedCertificate & Record<string, unknown>>('POST', leasePath(id, 'renew'), opts.duration ? { body: { durationSeconds: opts.duration } } : {});
      // A certificate renewal may be 202 (the CA still signing): wait for it as `certificate` does.
      if (answer.status === 'pending' || answer.certificate !== undefined) answer = (await awaitCertificate(broker, answer, opts.wait, debug)) as typeof answer;
      // Printed before any file is written: a renewal that happened must not be lost to a bad --cert-out.
      if (opts.output === 'table') io.stdout(renderRecord(withoutSecrets(answer)));
      else io.stdout(`${JSON.stringify(answer, null, 2)}\n`);
      await writeCertificateIfAsked(io, answer, opts);
    });
}

async function writeCertificateIfAsked(io: CliIo, answer: IssuedCertificate, opts: GetFlags): Promise<void> {
  if (!opts.certOut) return;
  if (typeof answer.certificate !== 'string' || !answer.certificate.includes('BEGIN CERTIFICATE')) {
    throw new NocredsClientError('usage', 'usage', 'This lease has no certificate to write (not a certificate lease, or the CA has not signed it yet).');
  }
  await writeCertificateFiles(answer as IssuedCertificate & { certificate: string }, opts.certOut, opts.chainOut);
  io.stderr(`nocreds: wrote ${opts.certOut}${opts.chainOut ? ` and ${opts.chainOut}` : ''} (lease ${String(answer.leaseId ?? '')}).\n`);
}
