/**
 * The one error type of the workload package. `kind` says whose move it is, and is what the CLI's
 * exit code and the provider's message are built from:
 * - `usage`: the request cannot work as given (bad option, or the broker answered 400/404/405/409/413/415);
 * - `auth`: nobody could be identified, or the identity is not allowed (401/403, unreadable token);
 * - `broker`: the broker could not answer usefully (down, timeout, 429/5xx, a malformed answer).
 * Messages never contain tokens, keys or secrets.
 */
export type NocredsErrorKind = 'usage' | 'auth' | 'broker';

export class NocredsClientError extends Error {
  override readonly name = 'NocredsClientError';

  constructor(
    readonly kind: NocredsErrorKind,
    /** The broker's machine-readable code (e.g. `access_denied`), or one of ours (`broker_unreachable`). */
    readonly code: string,
    message: string,
    readonly details: {
      readonly status?: number;
      readonly requestId?: string;
      readonly retryable?: boolean;
      /** The broker's Retry-After, when it sent one: when a retry may succeed. */
      readonly retryAfterMs?: number;
      /** The broker's `error.details`, e.g. `{ grantedProfiles: ['mesh'] }` for `unknown_profile`. */
      readonly brokerDetails?: Readonly<Record<string, unknown>>;
      readonly cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }

  get status(): number | undefined {
    return this.details.status;
  }

  get requestId(): string | undefined {
    return this.details.requestId;
  }
}
