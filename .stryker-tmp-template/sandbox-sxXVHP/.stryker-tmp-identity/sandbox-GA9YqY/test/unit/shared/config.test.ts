// @ts-nocheck
// 
import { loadCallerProofConfig } from '../../../shared/config';
import { ConfigurationError } from '../../../shared/domain/errors';

describe('server id (binds GetCallerIdentity proofs to one broker)', () => {
  it('is the configured one', () => {
    expect(loadCallerProofConfig({ NOCREDS_SERVER_ID: 'nocreds:111122223333:eu-west-1:Nocreds:Broker:uuid' }).serverId).toBe('nocreds:111122223333:eu-west-1:Nocreds:Broker:uuid');
  });

  it('is required in Lambda: no shared default a proof for another broker could also carry', () => {
    expect(() => loadCallerProofConfig({ AWS_LAMBDA_FUNCTION_NAME: 'leases' })).toThrow(ConfigurationError);
    expect(() => loadCallerProofConfig({ AWS_LAMBDA_FUNCTION_NAME: 'leases' })).toThrow(/NOCREDS_SERVER_ID must be set/);
  });

  it('falls back to nocreds-local only outside Lambda', () => {
    expect(loadCallerProofConfig({}).serverId).toBe('nocreds-local');
  });
});
