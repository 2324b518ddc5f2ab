import { Counter, Gauge, Registry } from 'prom-client';
import type { CertificateRotator } from './certificate-rotator';
import type { RoleCredentials } from './role-credentials';

/**
 * The agent's Prometheus metrics, on their own registry (never the process-global one). Gauges
 * are computed at scrape time from the refreshers' state, so they are never out of date.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly refreshes: Counter<'kind' | 'name'>;
  readonly failures: Counter<'kind' | 'name' | 'code'>;
  readonly trustBundleUpdates: Counter<'name'>;

  constructor(sources: { roles: () => readonly RoleCredentials[]; certificates: () => readonly CertificateRotator[] }) {
    const registers = [this.registry];
    this.refreshes = new Counter({ name: 'nocreds_agent_refreshes_total', help: 'Successful credential refreshes and certificate issuances.', labelNames: ['kind', 'name'], registers });
    this.failures = new Counter({ name: 'nocreds_agent_refresh_failures_total', help: 'Failed refreshes and issuances, by error code.', labelNames: ['kind', 'name', 'code'], registers });
    this.trustBundleUpdates = new Counter({ name: 'nocreds_agent_trust_bundle_updates_total', help: 'Changed trust bundles written next to the certificate already held (not counted as issuances).', labelNames: ['name'], registers });
    new Gauge({
      name: 'nocreds_agent_seconds_to_expiry',
      help: 'Seconds until the held credentials or certificate expire (negative once expired).',
      labelNames: ['kind', 'name'],
      registers,
      collect() {
        this.reset();
        for (const role of sources.roles()) {
          const seconds = role.secondsToExpiry();
          if (seconds !== undefined) this.set({ kind: 'credentials', name: role.role.name }, seconds);
        }
        for (const rotator of sources.certificates()) {
          const seconds = rotator.secondsToExpiry();
          if (seconds !== undefined) this.set({ kind: 'certificate', name: rotator.certificate.name }, seconds);
        }
      },
    });
    new Gauge({
      name: 'nocreds_agent_serving_stale',
      help: '1 while the last refresh failed and the last good credentials are being served.',
      labelNames: ['name'],
      registers,
      collect() {
        this.reset();
        for (const role of sources.roles()) this.set({ name: role.role.name }, role.status().state === 'stale' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'nocreds_agent_credentials_available',
      help: '1 while credentials for the role can be served (0 before the first, or once past the safety margin).',
      labelNames: ['name'],
      registers,
      collect() {
        this.reset();
        for (const role of sources.roles()) {
          const state = role.status().state;
          this.set({ name: role.role.name }, state === 'fresh' || state === 'stale' ? 1 : 0);
        }
      },
    });
  }
}
