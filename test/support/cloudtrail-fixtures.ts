import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Raw event JSON, for tests that change a field to see what the parser makes of it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON, edited by tests
export type CloudTrailEventJson = Record<string, any>;

/** A CloudTrail event as EventBridge delivers it, from test/fixtures/cloudtrail/<name>.json (a fresh copy each call). */
export function cloudTrailFixture(name: string): CloudTrailEventJson {
  return JSON.parse(readFileSync(join(__dirname, '../fixtures/cloudtrail', `${name}.json`), 'utf8'));
}

/**
 * The grant policy the CloudTrail fixtures were recorded under (account 123456789012): service
 * accounts in team-* namespaces get `role/nocreds/<namespace>-app`. Ends inside the rules list, so
 * a test can append rules.
 */
export const FIXTURE_GRANTS_YAML = `
version: 1
issuers:
  - { id: dev, url: "https://issuer.example", audiences: [nocreds], preset: kubernetes }
rules:
  - id: team-apps
    callers: [{ oidc: dev, claims: { namespace: "team-*" } }]
    credentials:
      roles: ["arn:aws:iam::123456789012:role/nocreds/\${namespace}-app"]
`;
