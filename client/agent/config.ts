import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { NocredsClientError } from '../errors';
import { KEY_TYPES } from '../key-types';

/**
 * The agent's configuration: one validated object, merged from an optional file (`--config`,
 * YAML or JSON), the environment and flags; flags beat the environment, which beats the file.
 * Validated once, at start, with errors that name the setting and say what it should be.
 */

const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/[\x21-\x7e]{1,512}$/;
const ROLE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const port = z.number().int().min(0).max(65535);
const seconds = z.number().int().positive();

const authSchema = z.union([
  z.strictObject({ tokenFile: z.string().min(1) }),
  z.strictObject({ token: z.string().min(1) }),
  z.strictObject({ github: z.strictObject({ audience: z.string().min(1).default('nocreds') }) }),
  z.strictObject({
    iam: z.strictObject({
      method: z.enum(['proof', 'sigv4']).default('proof'),
      serverId: z.string().min(1).optional(),
      stsEndpoint: z.string().url().optional(),
      region: z.string().min(1).optional(),
    }),
  }),
]);

export const roleSchema = z.strictObject({
  /** The path segment SDKs use: `/roles/<name>`. */
  name: z.string().regex(ROLE_NAME, 'a role name is 1-64 letters, digits, _ . or -'),
  arn: z.string().regex(ROLE_ARN, 'expected a role ARN such as arn:aws:iam::123456789012:role/NAME'),
  durationSeconds: z.number().int().min(900).max(3600).optional(),
});

export const certificateSchema = z
  .strictObject({
    name: z.string().regex(ROLE_NAME, 'a certificate name is 1-64 letters, digits, _ . or -').default('default'),
    /** Where tls.key, tls.crt, chain.crt and ca.crt are kept (created if missing). */
    dir: z.string().min(1),
    profile: z.string().min(1).optional(),
    commonName: z.string().min(1).optional(),
    dns: z.array(z.string().min(1)).default([]),
    uris: z.array(z.string().min(1)).default([]),
    ips: z.array(z.string().min(1)).default([]),
    keyType: z.enum(KEY_TYPES).default('ec-p256'),
    validitySeconds: seconds.optional(),
    /** Renew this long before expiry; default: when a third of the lifetime is left. */
    renewBeforeSeconds: seconds.optional(),
    /** A shell command run after each rotation (`sh -c`), with NOCREDS_CERT_DIR set. */
    onRotate: z.string().min(1).optional(),
    /** Signal the process whose pid is in this file after each rotation. */
    pidFile: z.string().min(1).optional(),
    signal: z.string().regex(/^SIG[A-Z0-9]+$/, 'a signal name such as SIGHUP').default('SIGHUP'),
  })
  .refine((c) => c.commonName || c.dns.length + c.uris.length + c.ips.length > 0, { message: 'name the certificate: commonName, dns, uris or ips' });

const agentConfigObject = z.strictObject({
    url: z.string().url('the broker URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com'),
    auth: authSchema,
    /** Seconds per broker request attempt. */
    timeoutSeconds: seconds.default(10),
    listen: z
      .strictObject({
        host: z.string().default('127.0.0.1'),
        port: port.default(8790),
        /** Also (or only, with port omitted by `--no-tcp`) serve on this Unix socket, mode 0600. */
        socket: z.string().min(1).optional(),
        tcp: z.boolean().default(true),
      })
      .prefault({}),
    /** Where the agent writes the random token SDKs must send (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE). */
    authTokenFile: z.string().min(1).default(defaultAuthTokenFile()),
    roles: z.array(roleSchema).default([]),
    imds: z
      .strictObject({
        enabled: z.boolean().default(false),
        host: z.string().default('127.0.0.1'),
        port: port.default(8791),
        /** The role served as the instance profile; default the first role. */
        role: z.string().regex(ROLE_NAME).optional(),
      })
      .prefault({}),
    credentialsFile: z
      .strictObject({
        path: z.string().min(1).default(join(homedir(), '.aws', 'credentials')),
        profile: z.string().regex(/^[\w.@+-]{1,64}$/, 'a profile name of letters, digits and _ . @ + -').default('nocreds'),
        /** The role written there; default the first role. */
        role: z.string().regex(ROLE_NAME).optional(),
      })
      .optional(),
    certificates: z.array(certificateSchema).default([]),
    metrics: z.strictObject({ host: z.string().default('127.0.0.1'), port }).optional(),
    /** Last good credentials are served until this long before they expire, and never after. */
    safetyMarginSeconds: z.number().int().min(0).max(1800).default(120),
    /** How often the trust bundle is revalidated (If-None-Match). */
    trustBundleRefreshSeconds: seconds.default(300),
  });

export const agentConfigSchema = agentConfigObject.superRefine((config, ctx) => {
    const names = new Set<string>();
    config.roles.forEach((role, i) => {
      if (names.has(role.name)) ctx.addIssue({ code: 'custom', path: ['roles', i, 'name'], message: `role name "${role.name}" is used twice` });
      names.add(role.name);
    });
    if (config.roles.length === 0 && config.certificates.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['roles'], message: 'nothing to do: configure at least one role (--role) or certificate (--cert-dir)' });
    }
    for (const [path, role] of [
      [['imds', 'role'], config.imds.role],
      [['credentialsFile', 'role'], config.credentialsFile?.role],
    ] as const) {
      if (role !== undefined && !names.has(role)) ctx.addIssue({ code: 'custom', path: [...path], message: `no role is named "${role}" (configured: ${[...names].join(', ') || 'none'})` });
    }
    if ((config.imds.enabled || config.credentialsFile) && config.roles.length === 0) {
      ctx.addIssue({ code: 'custom', path: [config.imds.enabled ? 'imds' : 'credentialsFile'], message: 'needs at least one role' });
    }
    const dirs = config.certificates.map((c) => c.dir);
    if (new Set(dirs).size !== dirs.length) ctx.addIssue({ code: 'custom', path: ['certificates'], message: 'two certificates share a directory' });
    if (!config.listen.tcp && !config.listen.socket) ctx.addIssue({ code: 'custom', path: ['listen'], message: 'with tcp off, give a socket' });
  });

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type AgentRole = z.infer<typeof roleSchema>;
export type AgentCertificate = z.infer<typeof certificateSchema>;
export type AgentConfigInput = z.input<typeof agentConfigSchema>;

export function defaultAuthTokenFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_RUNTIME_DIR || join(homedir(), '.cache'), 'nocreds', 'agent-token');
}

function formatPath(path: PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)';
}

/** Validates a merged configuration; the error lists every problem with its path. */
export function validateAgentConfig(value: unknown, source: string): AgentConfig {
  const parsed = agentConfigSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `  ${formatPath(issue.path)}: ${issue.message}`);
  throw new NocredsClientError('usage', 'invalid_config', `The agent configuration (${source}) is invalid:\n${problems.join('\n')}`);
}

/** Just what `nocreds agent env` needs (where the agent listens, its token file, the roles), validated. */
export function agentConfigFields(layer: Record<string, unknown>, source: string): Pick<AgentConfig, 'listen' | 'authTokenFile' | 'roles' | 'imds'> {
  const schema = agentConfigObject.pick({ listen: true, authTokenFile: true, roles: true, imds: true });
  const parsed = schema.safeParse({ listen: layer.listen, authTokenFile: layer.authTokenFile, roles: layer.roles, imds: layer.imds });
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `  ${formatPath(issue.path)}: ${issue.message}`);
  throw new NocredsClientError('usage', 'invalid_config', `The agent configuration (${source}) is invalid:\n${problems.join('\n')}`);
}

/** Reads `--config`: YAML (JSON is YAML too). */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new NocredsClientError('usage', 'config_unreadable', `The agent config file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new NocredsClientError('usage', 'invalid_config', `The agent config file ${path} is not valid YAML or JSON: ${(error as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new NocredsClientError('usage', 'invalid_config', `The agent config file ${path} must hold a mapping (key: value), not ${Array.isArray(value) ? 'a list' : typeof value}.`);
  return value as Record<string, unknown>;
}

type Layer = Record<string, unknown>;

function isPlainObject(value: unknown): value is Layer {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Merges configuration layers, later ones winning: objects merge key by key, lists and values are
 * replaced whole (roles from flags replace the file's list rather than adding to it). `auth` is
 * replaced whole too: a token file from the flags must not combine with the file's `iam`.
 */
export function mergeLayers(...layers: Layer[]): Layer {
  const merged: Layer = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      const previous = merged[key];
      merged[key] = key !== 'auth' && isPlainObject(previous) && isPlainObject(value) ? mergeLayers(previous, value) : value;
    }
  }
  return merged;
}

/** `name=ARN`, or a bare ARN named after the role (`arn:...:role/path/team-a-app` -> `team-a-app`). */
export function parseRoleFlag(value: string): { name: string; arn: string } {
  const at = value.indexOf('=');
  if (at > 0 && !value.startsWith('arn:')) return { name: value.slice(0, at), arn: value.slice(at + 1) };
  const name = value.split('/').pop() ?? value;
  return { name, arn: value };
}
