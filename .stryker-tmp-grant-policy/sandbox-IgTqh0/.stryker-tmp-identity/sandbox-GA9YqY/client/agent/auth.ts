// @ts-nocheck
// 
import type { BrokerAuth } from '../broker-client';
import { NocredsClientError } from '../errors';
import type { AgentConfig } from './config';

/**
 * How the agent proves who it is: the same BrokerAuth as the CLI and fromNocreds (an OIDC token
 * file, read again on every request so a rotated projected token is picked up; an IAM proof or
 * SigV4 with the default credential chain), plus a GitHub Actions token requested on every call.
 */
export async function agentBrokerAuth(auth: AgentConfig['auth'], env: NodeJS.ProcessEnv = process.env, doFetch: typeof fetch = fetch): Promise<BrokerAuth> {
  if ('tokenFile' in auth) return { oidc: { tokenFile: auth.tokenFile } };
  if ('token' in auth) return { oidc: { token: auth.token } };
  if ('github' in auth) return { oidc: { tokenSource: () => githubActionsToken(auth.github.audience, env, doFetch) } };
  // Loaded only for IAM: the default chain (env, profiles, SSO, IMDS, ECS) is heavy.
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  return {
    iam: {
      credentials: defaultProvider(),
      method: auth.iam.method,
      ...(auth.iam.serverId ? { serverId: auth.iam.serverId } : {}),
      ...(auth.iam.stsEndpoint ? { stsEndpoint: auth.iam.stsEndpoint } : {}),
      ...(auth.iam.region ? { region: auth.iam.region } : {}),
    },
  };
}

/**
 * A GitHub Actions OIDC token for `audience`: the runner gives jobs with `id-token: write` a URL
 * and a bearer token to request one (ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN).
 */
export async function githubActionsToken(audience: string, env: NodeJS.ProcessEnv, doFetch: typeof fetch = fetch): Promise<string> {
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!requestUrl || !requestToken) {
    throw new NocredsClientError('auth', 'github_token_unavailable', 'No GitHub Actions token request: ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN are set only in jobs with "permissions: id-token: write".');
  }
  const url = new URL(requestUrl);
  url.searchParams.set('audience', audience);
  let response: Response;
  try {
    response = await doFetch(url, { headers: { authorization: `bearer ${requestToken}`, accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new NocredsClientError('auth', 'github_token_unavailable', `The GitHub Actions token request failed (${(error as Error).message}).`, { retryable: true, cause: error });
  }
  const body = (await response.json().catch(() => ({}))) as { value?: unknown };
  if (!response.ok || typeof body.value !== 'string' || body.value === '') {
    throw new NocredsClientError('auth', 'github_token_unavailable', `The GitHub Actions token request answered HTTP ${response.status} without a token.`, { retryable: response.status >= 500 });
  }
  return body.value;
}
