// @ts-nocheck
// 
import { loadLeaseOperationsConfig } from '../../../shared/config';
import { ConfigurationError } from '../../../shared/domain/errors';

describe('NOCREDS_PENDING_GRACE_SECONDS', () => {
  test('defaults to 300 s', () => {
    expect(loadLeaseOperationsConfig({}).pendingGraceSeconds).toBe(300);
  });

  test('takes whole seconds from 60 to 600', () => {
    expect(loadLeaseOperationsConfig({ NOCREDS_PENDING_GRACE_SECONDS: '60' }).pendingGraceSeconds).toBe(60);
    expect(loadLeaseOperationsConfig({ NOCREDS_PENDING_GRACE_SECONDS: '600' }).pendingGraceSeconds).toBe(600);
  });

  test.each(['59', '601', '1.5', 'soon', '-300'])('refuses %s, saying why, at cold start', (value) => {
    expect(() => loadLeaseOperationsConfig({ NOCREDS_PENDING_GRACE_SECONDS: value })).toThrow(ConfigurationError);
    expect(() => loadLeaseOperationsConfig({ NOCREDS_PENDING_GRACE_SECONDS: value })).toThrow(/from 60 \(longer than any request holds a lease pending\) to 600/);
  });
});
