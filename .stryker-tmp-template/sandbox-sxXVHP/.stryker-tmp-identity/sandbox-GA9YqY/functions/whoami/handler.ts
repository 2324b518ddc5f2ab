// @ts-nocheck
// 
import { brokerAuthenticator } from '../../shared/adapters/broker-authenticator';
import { loadCallerProofConfig, loadGrantPolicy } from '../../shared/config';
import { whoamiRoute } from './routes';

const grants = loadGrantPolicy(process.env);
export const handler = whoamiRoute({
  grants,
  authenticator: brokerAuthenticator(grants, loadCallerProofConfig(process.env)),
});
