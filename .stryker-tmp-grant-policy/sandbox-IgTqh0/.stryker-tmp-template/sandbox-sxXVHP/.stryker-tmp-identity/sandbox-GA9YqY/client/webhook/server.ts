// @ts-nocheck
// 
// 
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MalformedAdmissionReview, reviewAdmission, type AdmissionOptions } from './admission';

/** AdmissionReviews of big pods stay well under this; anything larger is refused unread. */
const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface WebhookServerOptions extends AdmissionOptions {
  /** PEM certificate (with chain) and key the API server connects to; the Service's DNS name must be in it. */
  readonly tls: { cert: string | Buffer; key: string | Buffer };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * The admission webhook over HTTPS: `POST /mutate` takes an AdmissionReview, `GET /healthz` answers
 * the probes. A request it cannot read is a 400 with a `code`; no pod data is logged beyond names.
 */
export function createWebhookServer(options: WebhookServerOptions): Server {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'https://webhook').pathname;
    if (req.method === 'GET' && path === '/healthz') return send(res, 200, { ok: true });
    if (path !== '/mutate') return send(res, 404, { code: 'not_found', message: 'The webhook serves POST /mutate and GET /healthz.' });
    if (req.method !== 'POST') return send(res, 405, { code: 'method_not_allowed', message: 'POST an AdmissionReview to /mutate.' });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return send(res, 413, { code: 'payload_too_large', message: `AdmissionReviews over ${MAX_BODY_BYTES} bytes are refused.` });
      chunks.push(chunk);
    }
    let review: unknown;
    try {
      review = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return send(res, 400, { code: 'malformed_admission_review', message: 'The body is not JSON.' });
    }
    try {
      send(res, 200, await reviewAdmission(review, options));
    } catch (error) {
      if (error instanceof MalformedAdmissionReview) return send(res, 400, { code: error.code, message: error.message });
      throw error;
    }
  };
  return createServer({ cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.log?.({ level: 'error', event: 'unexpected_error', error: (error as Error)?.message ?? String(error) });
      if (!res.headersSent) send(res, 500, { code: 'internal_error', message: 'The webhook failed unexpectedly; see its log.' });
    });
  });
}
