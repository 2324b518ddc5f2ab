/**
 * In-memory fakes of our ports (shared/ports), for unit tests of use cases and routes. They keep
 * the adapters' observable semantics (conditional writes, error classes and codes) and record
 * what they were asked, so tests can check both outcomes and the calls that were (not) made.
 */
export { InMemoryLeaseStore, type LeaseStoreOperation } from './lease-store';
export { RecordingRoleAssumer } from './role-assumer';
export { FixedClock } from './clock';
export { SequentialIds } from './ids';
export { StaticTokenVerifier } from './token-verifier';
export { iamIdentity, oidcIdentity } from './identities';
export { FakeCertificateAuthority, type CertificateAuthorityOperation } from './certificate-authority';
export { RecordingSessionRevoker } from './session-revoker';
export { RecordingEventPublisher } from './event-publisher';
export { InMemoryReportStore, RecordingMetricPublisher } from './report-store';
export { LocalTokenSigner } from './token-signer';
