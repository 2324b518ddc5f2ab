import { randomBytes } from 'node:crypto';
import { access, link, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Command, Option } from 'commander';
import type { BrokerClient } from '../broker-client';
import { NocredsClientError } from '../errors';
import { KEY_TYPES } from '../key-types';
import { brokerFrom, collect, debugFor, positiveInt, usage, type CliIo, type Debug } from './context';
import { printDryRun } from './credentials';

/** POST /v1/certificates (201 issued, 202 pending), POST /v1/leases/{id}/renew and GET /v1/leases/{id} answers. */
export interface IssuedCertificate {
  leaseId?: unknown;
  status?: unknown;
  lease?: { status?: unknown };
  certificate?: unknown;
  certificateChain?: unknown;
  serialNumber?: unknown;
  notAfter?: unknown;
  renewedFrom?: unknown;
}

/**
 * Follows a 202 (the CA is still signing) with GET /v1/leases/{id} until the certificate is there,
 * the lease failed, or `waitSeconds` passed; then checks the answer carries a PEM certificate.
 */
export async function awaitCertificate(broker: BrokerClient, first: IssuedCertificate, waitSeconds: number, debug: Debug): Promise<IssuedCertificate & { certificate: string }> {
  let answer = first;
  const deadline = Date.now() + waitSeconds * 1000;
  for (let delay = 1000; answer.certificate === undefined && typeof answer.leaseId === 'string'; delay = Math.min(delay * 2, 8000)) {
    if (answer.lease?.status === 'failed' || answer.lease?.status === 'abandoned') throw new NocredsClientError('broker', 'issuance_failed', `The CA did not issue the certificate (lease ${answer.leaseId}).`);
    if (Date.now() + delay > deadline) throw new NocredsClientError('broker', 'issuance_pending', `The CA has not issued the certificate within ${waitSeconds} s; fetch it later with: nocreds lease get ${answer.leaseId}`);
    debug(`lease ${answer.leaseId} is pending at the CA; asking again in ${delay} ms`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    answer = { ...(await broker.call<IssuedCertificate>('GET', `/v1/leases/${encodeURIComponent(answer.leaseId)}`)), leaseId: answer.leaseId, ...(answer.renewedFrom ? { renewedFrom: answer.renewedFrom } : {}) };
  }
  if (typeof answer.certificate !== 'string' || !answer.certificate.includes('BEGIN CERTIFICATE')) {
    throw new NocredsClientError('broker', 'malformed_response', 'The broker answered without a PEM certificate.');
  }
  return answer as IssuedCertificate & { certificate: string };
}

/**
 * Writes a file atomically with the given mode (keys 0600). With `replace: false` an existing file
 * is never replaced, not even one created while the CA was signing (link(2) fails on it).
 */
export async function writePrivate(path: string, content: string, mode: number, replace = true): Promise<void> {
  const temporary = join(dirname(path), `.${randomBytes(6).toString('hex')}.nocreds.tmp`);
  try {
    await writeFile(temporary, content, { mode, flag: 'wx' });
    if (replace) await rename(temporary, path);
    else {
      await link(temporary, path).catch((error: NodeJS.ErrnoException) => {
        throw error.code === 'EEXIST' ? keyExists(path) : error;
      });
      await unlink(temporary);
    }
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

function keyExists(path: string): NocredsClientError {
  return usage(`${path} already exists; pass --force to replace it (the key in it is then lost, and so is any certificate that only it matches).`);
}

/** The certificate (and chain) as files: the chain after the certificate, or in its own file. */
export async function writeCertificateFiles(answer: IssuedCertificate & { certificate: string }, certOut: string, chainOut: string | undefined): Promise<void> {
  const chain = typeof answer.certificateChain === 'string' ? answer.certificateChain.trim() : '';
  const leaf = `${answer.certificate.trim()}\n`;
  if (chainOut) {
    await writePrivate(certOut, leaf, 0o644);
    await writePrivate(chainOut, chain ? `${chain}\n` : '', 0o644);
  } else {
    await writePrivate(certOut, chain ? `${leaf}${chain}\n` : leaf, 0o644);
  }
}

/** Adds the profiles the caller may use to a refusal that names a profile (the broker sends them in `details`). */
function withGrantedProfiles(error: unknown): unknown {
  if (!(error instanceof NocredsClientError) || !['unknown_profile', 'profile_required', 'grant_denied'].includes(error.code)) return error;
  const granted = error.details.brokerDetails?.grantedProfiles;
  if (!Array.isArray(granted) || !granted.every((name) => typeof name === 'string')) return error;
  const hint = granted.length > 0 ? `Profiles you may use: ${granted.join(', ')} (--profile NAME).` : 'No certificate profile is granted to you.';
  return new NocredsClientError(error.kind, error.code, `${error.message}\n${hint}`, error.details);
}

interface CertificateFlags {
  keyOut: string;
  certOut: string;
  chainOut?: string;
  profile?: string;
  commonName?: string;
  dns?: string[];
  uri?: string[];
  ip?: string[];
  keyType: string;
  validity?: number;
  wait: number;
  force?: boolean;
  dryRun?: boolean;
}

export function registerCertificateCommand(program: Command, io: CliIo, exit: (code: number) => void = () => undefined): void {
  program
    .command('certificate')
    .description('make a key here, send its CSR, and write the key, certificate and chain')
    .requiredOption('--key-out <file>', 'where to write the private key (PKCS#8 PEM, mode 0600); never replaced without --force')
    .requiredOption('--cert-out <file>', 'where to write the certificate, followed by its chain unless --chain-out is given')
    .option('--chain-out <file>', 'write the CA chain here instead of after the certificate')
    .option('--profile <name>', "the grant's certificate profile (needed when you are granted several)")
    .option('--common-name <cn>', 'subject common name')
    .option('--dns <name>', 'a DNS subject alternative name (repeatable)', collect)
    .option('--uri <uri>', 'a URI subject alternative name, e.g. spiffe://... (repeatable)', collect)
    .option('--ip <address>', 'an IP address subject alternative name (repeatable)', collect)
    .addOption(new Option('--key-type <type>', 'key algorithm').choices(KEY_TYPES).default('ec-p256'))
    .addOption(new Option('--validity <seconds>', 'requested validity').argParser(positiveInt('--validity')))
    .addOption(new Option('--wait <seconds>', 'how long to wait for the CA to sign').default(60).argParser(positiveInt('--wait')))
    .option('--force', 'replace an existing --key-out file')
    .option('--dry-run', 'ask the broker what certificate it would issue (names, validity, profile) for a fresh key; writes nothing (exit 0 allowed, 1 refused)')
    .addHelpText(
      'after',
      `
The key is made here and never leaves this machine; the broker sees only the CSR.

Examples:
  $ nocreds certificate --profile mesh --dns app.team-a.svc --key-out tls.key --cert-out tls.crt
  $ nocreds certificate --dns app.team-a.svc --key-out tls.key --cert-out tls.crt --chain-out ca.crt --force`,
    )
    .action(async (opts: CertificateFlags, command: Command) => {
      if (!opts.commonName && !opts.dns && !opts.uri && !opts.ip) throw usage('Name the certificate: --common-name, --dns, --uri or --ip.');
      // Before the broker is asked: a refusal must not leave an issued certificate and its lease behind.
      if (!opts.dryRun && !opts.force && (await access(opts.keyOut).then(() => true, () => false))) throw keyExists(opts.keyOut);
      const debug = debugFor(command, io);
      const { broker } = await brokerFrom(command, io, debug);
      const { generateKeyAndCsr } = await import('../key-and-csr');
      const started = Date.now();
      const { keyPem, csrPem } = await generateKeyAndCsr(opts.keyType as never, { commonName: opts.commonName, dns: opts.dns, uris: opts.uri, ips: opts.ip });
      debug(`made a ${opts.keyType} key and its CSR in ${Date.now() - started} ms`);
      if (opts.dryRun) {
        const body = { csr: csrPem, ...(opts.profile ? { profile: opts.profile } : {}), ...(opts.validity ? { validitySeconds: opts.validity } : {}), dryRun: true };
        exit(printDryRun(io, await broker.call<Record<string, unknown>>('POST', '/v1/certificates', { body })));
        return;
      }
      const first = await broker
        .call<IssuedCertificate>('POST', '/v1/certificates', {
          body: { csr: csrPem, ...(opts.profile ? { profile: opts.profile } : {}), ...(opts.validity ? { validitySeconds: opts.validity } : {}) },
        })
        .catch((error: unknown) => {
          throw withGrantedProfiles(error);
        });
      const answer = await awaitCertificate(broker, first, opts.wait, debug);
      await writePrivate(opts.keyOut, keyPem, 0o600, opts.force === true);
      await writeCertificateFiles(answer, opts.certOut, opts.chainOut);
      io.stderr(`nocreds: wrote ${opts.keyOut} and ${opts.certOut}${opts.chainOut ? ` and ${opts.chainOut}` : ''} (lease ${String(answer.leaseId)}, serial ${String(answer.serialNumber)}, valid until ${String(answer.notAfter)}).\n`);
    });
}
