import { JoseTokenVerifier } from '../../shared/adapters/jose-token-verifier';
import { callerProofVerifierFor } from '../../shared/adapters/sts-caller-proof-verifier';
import { loadCallerProofConfig, loadGrantPolicy } from '../../shared/config';
import { Authenticator } from '../../shared/http/authenticator';
import { whoamiRoute } from './routes';

const grants = loadGrantPolicy(process.env);
export const handler = whoamiRoute({
  grants,
  authenticator: new Authenticator({ tokenVerifier: new JoseTokenVerifier(grants.issuers), proofVerifier: callerProofVerifierFor(loadCallerProofConfig(process.env)) }),
});
