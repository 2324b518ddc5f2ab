import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { BrokerClient } from '../broker-client';
import { NocredsClientError } from '../errors';
import { backoffMs, type AgentClock } from './clock';
import type { AgentCertificate } from './config';
import { writeVersionedFiles } from './files';
import { describeError, type AgentLogger } from './log';

/** Renew when this share of a certificate's life is left (a third) unless renewBefore says otherwise. */
const RENEW_WHEN_LEFT = 1 / 3;
const JITTER_SHARE = 0.05;
/** How long to wait for the CA to sign (202 answers), polling the lease. */
const ISSUE_WAIT_MS = 120_000;
const HOOK_TIMEOUT_MS = 60_000;
/** Successful issuances of one certificate are at least this far apart (see nextRenewal). */
export const MIN_RENEWAL_INTERVAL_MS = 60_000;

/** The files a certificate directory holds (names as in a Kubernetes TLS secret plus cert-manager's ca.crt). */
export const CERTIFICATE_FILES = {
  key: 'tls.key',
  /** The certificate followed by its chain: what a TLS server or client presents. */
  certificate: 'tls.crt',
  chain: 'chain.crt',
  /** The trust bundle: the CAs of the caller's granted profiles, to verify peers with. */
  trustBundle: 'ca.crt',
} as const;

export interface CertificateStatus {
  readonly name: string;
  readonly dir: string;
  readonly state: 'starting' | 'valid' | 'renewal-failing' | 'expired' | 'unavailable';
  readonly serialNumber?: string;
  readonly notAfter?: string;
  readonly nextRenewalAt?: string;
  readonly leaseId?: string;
  readonly consecutiveFailures: number;
  readonly lastError?: { readonly code: string; readonly message: string };
  /** Certificates issued and written (the first one included); a trust-bundle update is not one. */
  readonly rotations: number;
  /** Times a changed trust bundle was written next to the certificate already held. */
  readonly trustBundleUpdates: number;
}

export interface CertificateRotatorDeps {
  readonly broker: Pick<BrokerClient, 'call' | 'callText'>;
  readonly clock: AgentClock;
  readonly random: () => number;
  readonly log: AgentLogger;
  readonly trustBundleRefreshMs: number;
  /** A new certificate was written. */
  readonly onRotate?: (certificate: AgentCertificate) => void;
  /** A changed trust bundle was written (the certificate stayed the same). */
  readonly onTrustBundleUpdate?: (certificate: AgentCertificate) => void;
  readonly onFailure?: (certificate: AgentCertificate, error: NocredsClientError) => void;
}

interface Held {
  keyPem: string;
  certificatePem: string;
  chainPem: string;
  serialNumber: string;
  leaseId: string;
  notBefore: number;
  notAfter: number;
}

interface IssueAnswer {
  leaseId?: unknown;
  lease?: { status?: unknown };
  certificate?: unknown;
  certificateChain?: unknown;
  serialNumber?: unknown;
}

/**
 * One certificate kept valid in a directory: a key made here (it never leaves this machine; the
 * broker sees only the CSR), issued through a profile, renewed when a third of its life is left
 * (or `renewBeforeSeconds` before expiry), and written with the chain and the trust bundle as one
 * atomic version (files.ts). After each write the reload hook runs: a command, a signal to a pid,
 * or both. The trust bundle is revalidated with If-None-Match and rewritten when it changes.
 */
export class CertificateRotator {
  private held?: Held;
  private trustBundle?: { pem: string; etag?: string };
  private failures = 0;
  private lastError?: NocredsClientError;
  private nextRenewalAt?: number;
  private renewalTimer?: unknown;
  private bundleTimer?: unknown;
  private inFlight?: Promise<void>;
  private bundleCheck?: Promise<void>;
  private stopped = false;
  private rotations = 0;
  private trustBundleUpdates = 0;
  private started = false;

  constructor(
    readonly certificate: AgentCertificate,
    private readonly deps: CertificateRotatorDeps,
  ) {}

  /** Issues the first certificate; resolves after the first attempt, whatever its outcome. */
  start(): Promise<void> {
    this.started = true;
    this.scheduleBundleCheck();
    return this.renew();
  }

  stop(): void {
    this.stopped = true;
    for (const timer of [this.renewalTimer, this.bundleTimer]) if (timer !== undefined) this.deps.clock.cancel(timer);
  }

  /** Renews now (coalesced with a renewal already running). */
  renew(): Promise<void> {
    this.inFlight ??= this.attempt().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Resolves when no renewal or trust-bundle check is running. */
  async idle(): Promise<void> {
    await Promise.all([this.inFlight, this.bundleCheck]);
  }

  /** A certificate is in its directory and has not expired. */
  isReady(): boolean {
    return this.held !== undefined && this.deps.clock.now() < this.held.notAfter;
  }

  secondsToExpiry(): number | undefined {
    return this.held ? (this.held.notAfter - this.deps.clock.now()) / 1000 : undefined;
  }

  status(): CertificateStatus {
    const now = this.deps.clock.now();
    const held = this.held;
    const state = !held ? (this.lastError ? 'unavailable' : 'starting') : now >= held.notAfter ? 'expired' : this.lastError ? 'renewal-failing' : 'valid';
    return {
      name: this.certificate.name,
      dir: this.certificate.dir,
      state: this.started ? state : 'starting',
      ...(held ? { serialNumber: held.serialNumber, notAfter: new Date(held.notAfter).toISOString(), leaseId: held.leaseId } : {}),
      ...(this.nextRenewalAt !== undefined ? { nextRenewalAt: new Date(this.nextRenewalAt).toISOString() } : {}),
      consecutiveFailures: this.failures,
      ...(this.lastError ? { lastError: { code: this.lastError.code, message: this.lastError.message } } : {}),
      rotations: this.rotations,
      trustBundleUpdates: this.trustBundleUpdates,
    };
  }

  private async attempt(): Promise<void> {
    const { certificate, deps } = this;
    try {
      const held = await this.issue();
      const bundle = await this.fetchTrustBundle();
      this.held = held;
      this.failures = 0;
      this.lastError = undefined;
      await this.write(bundle ?? this.trustBundle);
      if (bundle) this.trustBundle = bundle;
      this.rotations += 1;
      deps.onRotate?.(certificate);
      this.scheduleRenewal(this.nextRenewal(held));
      deps.log.info('certificate issued and written', {
        certificate: certificate.name,
        dir: certificate.dir,
        serialNumber: held.serialNumber,
        leaseId: held.leaseId,
        notAfter: new Date(held.notAfter).toISOString(),
        nextRenewalAt: new Date(this.nextRenewalAt as number).toISOString(),
      });
      await this.runHooks();
    } catch (error) {
      const failure = error instanceof NocredsClientError ? error : new NocredsClientError('broker', 'unexpected_error', (error as Error)?.message ?? String(error), { cause: error });
      this.failures += 1;
      this.lastError = failure;
      const wait = Math.max(backoffMs(this.failures, deps.random), failure.details.retryAfterMs ?? 0);
      this.scheduleRenewal(deps.clock.now() + wait);
      deps.onFailure?.(certificate, failure);
      deps.log.warn(this.held ? 'certificate renewal failed; the current certificate stays in place' : 'certificate issuance failed', {
        certificate: certificate.name,
        consecutiveFailures: this.failures,
        retryInMs: wait,
        ...(this.held ? { notAfter: new Date(this.held.notAfter).toISOString() } : {}),
        ...describeError(failure),
      });
    }
  }

  /**
   * When to renew `held`, just issued: when a third of its life is left (or renewBeforeSeconds
   * before expiry), less up to a twentieth of its life of jitter.
   *
   * Invariant: the next renewal is at least MIN_RENEWAL_INTERVAL_MS after an issuance. A CA can
   * issue less life than the policy renews at (ACM PCA caps validity at the CA's own expiry;
   * renewBeforeSeconds may exceed the profile's validity; an emulator signs in its own time):
   * renewing at once would get the same again, in a loop that hammers the broker and reloads the
   * server each time. A certificate due (or nearly due) on arrival is renewed instead when half of
   * what is left of it has passed, and not within a minute. Otherwise the policy stands unchanged.
   */
  private nextRenewal(held: Held): number {
    const { certificate, deps } = this;
    const lifetime = held.notAfter - held.notBefore;
    const renewAt = certificate.renewBeforeSeconds !== undefined ? held.notAfter - certificate.renewBeforeSeconds * 1000 : held.notBefore + lifetime * (1 - RENEW_WHEN_LEFT);
    const planned = renewAt - lifetime * JITTER_SHARE * deps.random();
    const now = deps.clock.now();
    if (planned - now >= MIN_RENEWAL_INTERVAL_MS) return planned;
    const next = now + Math.max((held.notAfter - now) / 2, MIN_RENEWAL_INTERVAL_MS);
    deps.log.warn('the new certificate is already due for renewal (the CA issued less life than the renewal policy asks); renewing when half of what is left has passed', {
      certificate: certificate.name,
      notAfter: new Date(held.notAfter).toISOString(),
      nextRenewalAt: new Date(next).toISOString(),
    });
    return next;
  }

  private async issue(): Promise<Held> {
    const { certificate, deps } = this;
    const { generateKeyAndCsr } = await import('../key-and-csr');
    const { keyPem, csrPem } = await generateKeyAndCsr(certificate.keyType, { commonName: certificate.commonName, dns: certificate.dns, uris: certificate.uris, ips: certificate.ips });
    let answer = await deps.broker.call<IssueAnswer>('POST', '/v1/certificates', {
      body: { csr: csrPem, ...(certificate.profile ? { profile: certificate.profile } : {}), ...(certificate.validitySeconds ? { validitySeconds: certificate.validitySeconds } : {}) },
    });
    // 202: the CA is still signing; the lease delivers the certificate once it has.
    const deadline = deps.clock.now() + ISSUE_WAIT_MS;
    for (let delay = 1000; answer.certificate === undefined && typeof answer.leaseId === 'string'; delay = Math.min(delay * 2, 8000)) {
      if (answer.lease?.status === 'failed') throw new NocredsClientError('broker', 'issuance_failed', `The CA did not issue the certificate (lease ${answer.leaseId}).`);
      if (deps.clock.now() + delay > deadline) throw new NocredsClientError('broker', 'issuance_pending', `The CA has not issued the certificate within ${ISSUE_WAIT_MS / 1000} s (lease ${answer.leaseId}).`, { retryable: true });
      await new Promise<void>((resolve) => deps.clock.schedule(resolve, delay));
      const leaseId = answer.leaseId;
      answer = { ...(await deps.broker.call<IssueAnswer>('GET', `/v1/leases/${encodeURIComponent(leaseId)}`)), leaseId };
    }
    if (typeof answer.certificate !== 'string' || !answer.certificate.includes('BEGIN CERTIFICATE')) {
      throw new NocredsClientError('broker', 'malformed_response', 'The broker answered without a PEM certificate.');
    }
    let parsed: X509Certificate;
    try {
      parsed = new X509Certificate(answer.certificate);
    } catch (error) {
      throw new NocredsClientError('broker', 'malformed_response', 'The broker answered with a certificate that does not parse.', { cause: error });
    }
    // The certificate must be for the key made here: a mix-up would make TLS fail only later.
    const { createPrivateKey, createPublicKey } = await import('node:crypto');
    const ours = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
    if (!ours.equals(parsed.publicKey.export({ type: 'spki', format: 'der' }))) {
      throw new NocredsClientError('broker', 'certificate_key_mismatch', 'The broker returned a certificate for a different public key than the CSR.');
    }
    return {
      keyPem,
      certificatePem: `${answer.certificate.trim()}\n`,
      chainPem: typeof answer.certificateChain === 'string' && answer.certificateChain.trim() ? `${answer.certificateChain.trim()}\n` : '',
      serialNumber: parsed.serialNumber,
      leaseId: String(answer.leaseId),
      notBefore: Date.parse(parsed.validFrom),
      notAfter: Date.parse(parsed.validTo),
    };
  }

  /** The trust bundle if it changed (or was never fetched), else undefined. */
  private async fetchTrustBundle(): Promise<{ pem: string; etag?: string } | undefined> {
    const answer = await this.deps.broker.callText('/v1/trust-bundle', { headers: this.trustBundle?.etag ? { 'if-none-match': this.trustBundle.etag } : {} });
    if (answer.status === 304) return undefined;
    if (!answer.body.includes('BEGIN CERTIFICATE')) throw new NocredsClientError('broker', 'malformed_response', 'The broker answered GET /v1/trust-bundle without a PEM certificate.');
    if (answer.body === this.trustBundle?.pem) return undefined;
    return { pem: answer.body, ...(answer.etag ? { etag: answer.etag } : {}) };
  }

  private async write(bundle: { pem: string } | undefined): Promise<void> {
    const held = this.held as Held;
    await writeVersionedFiles(this.certificate.dir, [
      { name: CERTIFICATE_FILES.key, content: held.keyPem, mode: 0o600 },
      { name: CERTIFICATE_FILES.certificate, content: `${held.certificatePem}${held.chainPem}`, mode: 0o644 },
      { name: CERTIFICATE_FILES.chain, content: held.chainPem, mode: 0o644 },
      { name: CERTIFICATE_FILES.trustBundle, content: bundle?.pem ?? '', mode: 0o644 },
    ]);
  }

  private scheduleBundleCheck(): void {
    if (this.stopped) return;
    this.bundleTimer = this.deps.clock.schedule(() => {
      this.bundleCheck = this.checkTrustBundle().finally(() => {
        this.bundleCheck = undefined;
        this.scheduleBundleCheck();
      });
    }, this.deps.trustBundleRefreshMs * (0.9 + 0.2 * this.deps.random()));
  }

  /** Revalidates the trust bundle; a new one is written (with the held certificate) and the hook runs. */
  async checkTrustBundle(): Promise<void> {
    if (!this.held || this.inFlight) return;
    try {
      const bundle = await this.fetchTrustBundle();
      if (!bundle) return;
      this.trustBundle = bundle;
      await this.write(bundle);
      this.trustBundleUpdates += 1;
      this.deps.onTrustBundleUpdate?.(this.certificate);
      this.deps.log.info('trust bundle changed and was written', { certificate: this.certificate.name, dir: this.certificate.dir });
      await this.runHooks();
    } catch (error) {
      this.deps.log.warn('trust bundle check failed; the current bundle stays in place', { certificate: this.certificate.name, ...describeError(error) });
    }
  }

  private scheduleRenewal(when: number): void {
    if (this.stopped) return;
    const at = Math.ceil(when);
    if (this.renewalTimer !== undefined) this.deps.clock.cancel(this.renewalTimer);
    this.nextRenewalAt = at;
    const tick = () => {
      this.renewalTimer = undefined;
      if (this.stopped) return;
      if (this.deps.clock.now() < at) {
        this.renewalTimer = this.deps.clock.schedule(tick, at - this.deps.clock.now());
        return;
      }
      void this.renew();
    };
    this.renewalTimer = this.deps.clock.schedule(tick, Math.max(0, at - this.deps.clock.now()));
  }

  private async runHooks(): Promise<void> {
    const { certificate, deps } = this;
    if (certificate.pidFile) {
      try {
        const pid = Number((await readFile(certificate.pidFile, 'utf8')).trim());
        if (!Number.isInteger(pid) || pid <= 1) throw new Error(`${certificate.pidFile} does not hold a process id`);
        process.kill(pid, certificate.signal as NodeJS.Signals);
        deps.log.info('signalled the reload', { certificate: certificate.name, pid, signal: certificate.signal });
      } catch (error) {
        deps.log.warn('could not signal the reload', { certificate: certificate.name, pidFile: certificate.pidFile, ...describeError(error) });
      }
    }
    if (certificate.onRotate) {
      const code = await runCommand(certificate.onRotate, { ...process.env, NOCREDS_CERT_DIR: certificate.dir, NOCREDS_CERT_NAME: certificate.name });
      if (code === 0) deps.log.info('reload hook ran', { certificate: certificate.name });
      else deps.log.warn('reload hook failed', { certificate: certificate.name, exitCode: code });
    }
  }
}

/** Runs `sh -c command`; resolves with its exit code (or -1 if it could not run or timed out). */
function runCommand(command: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { env, stdio: ['ignore', 'inherit', 'inherit'], timeout: HOOK_TIMEOUT_MS });
    child.on('error', () => resolve(-1));
    child.on('exit', (code) => resolve(code ?? -1));
  });
}
