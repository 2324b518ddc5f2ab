import * as z from 'zod/mini';

/**
 * Pieces of the API's answer schemas (functions/<fn>/answers.ts). They describe what the routes
 * send, for docs/openapi.json and the checks of real answers against it; the routes never parse
 * their own answers.
 */

/** An instant as `Date.toISOString()` writes it. */
export function timestamp(description: string) {
  return z.string().check(z.meta({ format: 'date-time', description, examples: ['2026-01-01T12:00:00.000Z'] }));
}

export function described<T extends z.ZodMiniType>(schema: T, description: string, example?: unknown): T {
  return schema.check(z.meta({ description, ...(example === undefined ? {} : { examples: [example] }) })) as T;
}
