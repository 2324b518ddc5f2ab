/**
 * Every price and every assumption `npm run model` (scripts/model.ts) uses, in one place.
 *
 * Prices: us-east-1, public list prices as recorded in the project's reference notes
 * (/work/shared/REFERENCE.md, "Prices used in the cost model" and "ACM Private CA") on the date
 * below. They were not re-checked against AWS's pricing pages by this script (no network): check
 * https://aws.amazon.com/api-gateway/pricing/, /lambda/pricing/, /dynamodb/pricing/on-demand/ and
 * /private-ca/pricing/ before relying on them.
 */
export const PRICES = {
  date: '2026-12-01',
  source: 'AWS public list prices, us-east-1, as recorded in the project reference notes (REFERENCE.md)',
  /** API Gateway HTTP API, per request (first 300 million a month). */
  httpApiPerRequest: 1.0 / 1e6,
  /** Lambda arm64: per request, and per GB-second. */
  lambdaPerRequest: 0.2 / 1e6,
  lambdaPerGbSecond: 0.0000133334,
  /** DynamoDB on demand: per write request unit and per read request unit. */
  dynamoPerWriteUnit: 0.625 / 1e6,
  dynamoPerReadUnit: 0.125 / 1e6,
  /** AWS Private CA, short-lived certificate mode (validity at most 7 days), per certificate; the CA itself is $50 a month, not per request. */
  privateCaShortLivedPerCertificate: 0.058,
  privateCaShortLivedPerCaMonth: 50,
  /** STS AssumeRole: no charge. */
  stsPerCall: 0,
} as const;

/**
 * Assumptions, not prices: what a request costs in Lambda time. Durations are estimates for AWS
 * (not measured there: this project has no AWS account); the memory sizes are read from infra.
 */
export const ASSUMPTIONS = {
  /** Billed duration of one vend on AWS: one STS AssumeRole (~30-50 ms) and one DynamoDB PutItem (~5-10 ms), plus nocreds' own ~1 ms. An estimate. */
  vendBilledMs: 60,
  /** Billed duration of one certificate request: the pending put, IssueCertificate, GetCertificate polling until ready, two updates. An estimate. */
  certificateBilledMs: 300,
  /** Item bytes an index entry adds beyond its projected attributes (DynamoDB's documented per-item overhead in an index). */
  indexEntryOverheadBytes: 100,
  /** The load the partition check is run at. */
  vendsPerSecond: 10_000,
  /** What one partition (of the table or an index) accepts. */
  partitionWriteUnitsPerSecond: 1_000,
} as const;

/** The targets from issue 13 (reported against, not asserted). */
export const TARGETS = {
  writeUnitsPerVend: 3,
  dollarsPerMillionVends: 3,
} as const;
