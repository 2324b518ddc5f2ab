/**
 * The Powertools tracer (and the X-Ray SDK under it) as one module of its own: infra bundles it
 * into `powertools-tracer.js` beside a function's bundle only when the stack has tracing on
 * (infra/broker-function.ts), and shared/adapters/telemetry.ts loads it only then. Bundled into
 * every function, unevaluated, it cost 35-85 ms of cold start (`npm run bench`, README).
 */
export { Tracer } from '@aws-lambda-powertools/tracer';
export { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
