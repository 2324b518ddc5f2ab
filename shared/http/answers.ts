import { methodOf, pathOf, type HttpEvent, type HttpResult } from './event';

/** One answer of a route, as the caller receives it, with the request line it answers. */
export interface RouteAnswer {
  readonly method: string;
  readonly path: string;
  readonly result: HttpResult;
}

/** Sees answers; must not throw or change them. */
export type AnswerObserver = (answer: RouteAnswer) => void;

const observers = new Set<AnswerObserver>();

/**
 * Lets `observer` see every answer every `httpRoute` gives in this process, errors included, after
 * the error envelope. The integration tests check each one against docs/openapi.json
 * (test/support/openapi-answers.ts). Returns the function that stops it.
 */
export function observeAnswers(observer: AnswerObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

export function reportAnswer(event: HttpEvent, result: HttpResult | undefined): void {
  if (observers.size === 0 || result === undefined) return;
  const answer = { method: methodOf(event), path: pathOf(event), result };
  for (const observer of observers) observer(answer);
}
