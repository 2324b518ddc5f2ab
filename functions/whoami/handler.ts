import type { Context } from 'aws-lambda';
import openApiDocument from '../../docs/openapi.json';
import { brokerAuthenticator } from '../../shared/adapters/broker-authenticator';
import { loadCallerProofConfig, loadGrantPolicy } from '../../shared/config';
import type { HttpEvent } from '../../shared/http/event';
import { openApiRoute, routeOf, whoamiRoute } from './routes';

const grants = loadGrantPolicy(process.env);
const routes = {
  whoami: whoamiRoute({ grants, authenticator: brokerAuthenticator(grants, loadCallerProofConfig(process.env)) }),
  openApiDocument: openApiRoute(openApiDocument),
};

/** One function serves GET /v1/whoami and GET /v1/openapi.json. */
export const handler = async (event: HttpEvent, context: Context) => routes[routeOf(event)](event, context);
