/**
 * The request path's CloudWatch metrics (embedded metric format, namespace `nocreds`, dimension
 * `service=nocreds`), published once per invocation by the HTTP edge (shared/http/audit.ts) and the
 * SDK clients' latency middleware (shared/adapters/telemetry.ts). infra/monitoring.ts charts and
 * alarms on these names: change both together (test/infra/nocreds.test.ts).
 */
export const REQUEST_METRICS = {
  namespace: 'nocreds',
  /** The default dimension of every request metric. */
  dimensions: { service: 'nocreds' },
  /** Credentials handed out (POST /v1/credentials, the container route, a credentials renewal), reused or not. */
  vends: 'Vends',
  /** Of those, how many reused a live session (or shared a concurrent STS call) and how many were new. */
  reuseHits: 'SessionReuseHits',
  reuseMisses: 'SessionReuseMisses',
  /** Certificates delivered or accepted for issuance (201 or 202). */
  certificatesIssued: 'CertificatesIssued',
  /** Every 4xx answer, also published with the dimension `Code` (its error code). */
  denials: 'Denials',
  /** Every 5xx answer, also published with the dimension `Code`. */
  failures: 'Failures',
  /** The dimension that splits Denials and Failures by error code. */
  codeDimension: 'Code',
  /** Milliseconds each AWS call took, retries included, one metric per dependency. */
  latency: { STS: 'StsLatency', PCA: 'PcaLatency', DynamoDB: 'DynamoDbLatency' },
  /** Powertools' own cold-start metric (dimensions service and function_name). */
  coldStart: 'ColdStart',
} as const;

export type Dependency = keyof typeof REQUEST_METRICS.latency;
