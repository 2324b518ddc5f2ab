// @ts-nocheck
// 
import { createHash } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * SigV4 for the two ways an IAM workload proves itself. Loaded only when IAM auth is used, so the
 * OIDC path never pulls in the signer.
 */

/** The workload's own AWS credentials (any AWS SDK credential provider returns this shape). */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** The header the broker reads the GetCallerIdentity proof from (shared/adapters/sts-caller-proof-verifier.ts). */
export const PROOF_HEADER = 'x-nocreds-iam-proof';
/** Bound into the signature, so a proof made for one broker is refused by every other. */
export const SERVER_ID_HEADER = 'x-nocreds-server-id';
const GET_CALLER_IDENTITY = 'Action=GetCallerIdentity&Version=2011-06-15';

interface SignableRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: string;
}

function toSignable(method: string, url: URL, headers: Record<string, string>, body?: string): SignableRequest {
  return {
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams.entries()),
    headers: { host: url.host, ...headers },
    ...(body === undefined ? {} : { body }),
  };
}

async function sign(signer: SignatureV4, request: SignableRequest, signingDate?: Date): Promise<{ headers: Record<string, string> }> {
  // The signer's overloads take smithy's HttpRequest; a plain object of the same shape is what it reads.
  const signed: unknown = await signer.sign(request as never, signingDate ? { signingDate } : {});
  return signed as { headers: Record<string, string> };
}

/**
 * Signs `sts:GetCallerIdentity` for the broker's STS endpoint and region, binding the broker's
 * server id and the body hash into the signature, and returns the `x-nocreds-iam-proof` value:
 * base64 of JSON `{method, url, headers, body}` (body base64).
 */
export async function signCallerIdentityProof(
  credentials: AwsCredentials,
  options: { readonly stsEndpoint: string; readonly region: string; readonly serverId: string; readonly now?: Date },
): Promise<string> {
  const url = new URL(options.stsEndpoint);
  url.pathname = '/';
  const headers = {
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    [SERVER_ID_HEADER]: options.serverId,
    'x-amz-content-sha256': createHash('sha256').update(GET_CALLER_IDENTITY).digest('hex'),
  };
  const signer = new SignatureV4({ service: 'sts', region: options.region, credentials, sha256: Sha256, applyChecksum: true });
  const signed = await sign(signer, toSignable('POST', url, headers, GET_CALLER_IDENTITY), options.now);
  const proof = {
    method: 'POST',
    url: `${url.origin}/`,
    headers: signed.headers,
    body: Buffer.from(GET_CALLER_IDENTITY).toString('base64'),
  };
  return Buffer.from(JSON.stringify(proof)).toString('base64');
}

/**
 * Signs a request to the broker's IAM-authorized API (API Gateway, service `execute-api`) and
 * returns the headers to send with it.
 */
export async function signExecuteApiRequest(
  credentials: AwsCredentials,
  request: { readonly method: string; readonly url: URL; readonly headers: Record<string, string>; readonly body?: string; readonly region: string },
): Promise<Record<string, string>> {
  const signer = new SignatureV4({ service: 'execute-api', region: request.region, credentials, sha256: Sha256 });
  const signed = await sign(signer, toSignable(request.method, request.url, request.headers, request.body));
  return signed.headers;
}

/** `https://ID.execute-api.REGION.amazonaws.com` -> `REGION`. */
export function regionOfExecuteApiUrl(url: URL): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
}
