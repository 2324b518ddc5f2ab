/**
 * Structured logs: one JSON object per line on stderr. Callers pass facts (role names, lease
 * ids, error codes and messages), never tokens, keys or credentials: nothing here filters them.
 */
// @ts-nocheck

// 

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface AgentLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function jsonLogger(options: { level?: LogLevel; write?: (line: string) => void; now?: () => number } = {}): AgentLogger {
  const threshold = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? Date.now;
  const log = (level: LogLevel) => (message: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[level] < threshold) return;
    write(`${JSON.stringify({ time: new Date(now()).toISOString(), level, component: 'nocreds-agent', message, ...fields })}\n`);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** What a failure looks like in a log line: its kind and code and message (which hold no secrets). */
export function describeError(error: unknown): Record<string, unknown> {
  const e = error as { name?: string; kind?: string; code?: string; message?: string; status?: number };
  return { error: { name: e?.name, ...(e?.kind ? { kind: e.kind } : {}), ...(e?.code ? { code: e.code } : {}), ...(e?.status ? { status: e.status } : {}), message: e?.message ?? String(error) } };
}
