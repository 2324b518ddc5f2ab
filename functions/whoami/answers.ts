import * as z from 'zod/mini';
import { described } from '../../shared/http/answer-schema';

// What the whoami function answers, as a schema for docs/openapi.json (functions/api-contract.ts).
// The route imports only its type, so the handler never builds it (see ../credentials/answers.ts).

const ruleSummarySchema = z.strictObject({
  id: z.string(),
  effect: z.enum(['allow', 'deny']),
  description: z.optional(z.string()),
  roles: z.optional(described(z.array(z.string()), 'Role ARN patterns, rendered with the caller\'s attributes.')),
  maxDurationSeconds: z.optional(z.number()),
  profiles: z.optional(described(z.array(z.string()), 'Certificate profiles the rule grants (allow) or withholds (deny).')),
  admin: z.optional(z.boolean()),
});

/** GET /v1/whoami. */
export const whoamiAnswerSchema = z.strictObject({
  caller: described(z.string(), 'The caller as leases record it.', 'oidc:dev:system:serviceaccount:team-a:app'),
  kind: z.enum(['iam', 'oidc']),
  issuer: z.optional(described(z.string(), 'OIDC: the grant policy\'s issuer id.')),
  subject: z.optional(described(z.string(), 'OIDC: the token\'s `sub`.')),
  principalArn: z.optional(described(z.string(), 'IAM: the caller\'s principal.')),
  accountId: z.optional(z.string()),
  attributes: described(z.record(z.string(), z.string()), 'What grant templates can substitute (`${name}`).'),
  claimLists: z.optional(described(z.record(z.string(), z.array(z.string())), 'OIDC: list claims (e.g. `groups`), each element as text. Read by `claims:` conditions (one element must match), never by templates.')),
  unreadableClaims: z.optional(described(z.array(z.string()), 'OIDC: claims the broker cannot read as values (objects, null, nested or oversized lists): a deny rule\'s condition on one holds, an allow rule\'s does not.')),
  admin: described(z.boolean(), 'Whether an admin grant applies (sees every lease).'),
  rules: z.array(ruleSummarySchema),
});
