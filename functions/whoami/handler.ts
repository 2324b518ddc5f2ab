import { JoseTokenVerifier } from '../../shared/adapters/jose-token-verifier';
import { loadGrantPolicy } from '../../shared/config';
import { Authenticator } from '../../shared/http/authenticator';
import { whoamiRoute } from './routes';

const grants = loadGrantPolicy(process.env);
export const handler = whoamiRoute({ grants, authenticator: new Authenticator({ tokenVerifier: new JoseTokenVerifier(grants.issuers) }) });
