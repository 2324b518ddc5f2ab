import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { buildProgram, run, type CliIo } from '../../../client/cli';
import { bashCompletion } from '../../../client/cli/completion';
import { API_MAX_PAGE_SIZE } from '../../../client/cli/leases';
import { renderTable, TABLE_WIDTH } from '../../../client/cli/output';
import { PROOF_HEADER } from '../../../client/iam-signing';
import { MAX_PAGE_SIZE } from '../../../shared/use-cases/list-leases';
import { version as packageVersion } from '../../../package.json';

/**
 * The CLI's argument handling, against a broker faked at the transport (the global fetch the CLI
 * uses): which flag or variable wins, what is sent, exit codes, paging, tables, completion, and
 * that --debug never prints a secret. The real broker is in test/integration/client-cli*.test.ts.
 */
const exec = promisify(execFile);
const realFetch = globalThis.fetch;
const ENV_NAMES = ['NOCREDS_URL', 'NOCREDS_TOKEN_FILE', 'NOCREDS_TOKEN', 'NOCREDS_SERVER_ID', 'NOCREDS_STS_ENDPOINT', 'NOCREDS_REGION', 'NOCREDS_CACHE_DIR', 'NOCREDS_OUTPUT', 'NOCREDS_CLI_RESOLVING_IAM'];
const savedEnv = { ...process.env };

interface Seen {
  readonly url: URL;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}
let seen: Seen[];
let dir: string;

const CREDENTIALS = {
  leaseId: '01JD6S3M0Q8J4Z5X7Y9W2V1T0R',
  accessKeyId: 'ASIAFAKEACCESSKEY123',
  secretAccessKey: 'sEcReT/AcCeSs+KeY/that-must-never-be-logged',
  sessionToken: 'SeSsIoN-ToKeN-that-must-never-be-logged',
  expiration: new Date(Date.now() + 3600_000).toISOString(),
  assumedRoleArn: 'arn:aws:sts::123456789012:assumed-role/team-a-app/01JD6S3M0Q8J4Z5X7Y9W2V1T0R',
};

/** The fake broker: each request is recorded, then answered by `respond` (default: credentials). */
function broker(respond: (request: Seen) => Response = () => Response.json(CREDENTIALS, { status: 201 })) {
  seen = [];
  globalThis.fetch = (async (url: URL, init: RequestInit) => {
    const request = { url: new URL(String(url)), method: String(init.method), headers: init.headers as Record<string, string>, body: init.body ? JSON.parse(String(init.body)) : undefined };
    seen.push(request);
    return respond(request);
  }) as typeof fetch;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nocreds-cli-args-'));
  for (const name of ENV_NAMES) delete process.env[name];
  broker();
});

afterEach(() => {
  globalThis.fetch = realFetch;
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
});

/** Runs the CLI with these environment variables (commander reads its options' variables from process.env). */
async function cli(argv: string[], env: Record<string, string> = {}) {
  for (const name of ENV_NAMES) delete process.env[name];
  Object.assign(process.env, env);
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { ...process.env } };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

const ROLE = ['credentials', '--role', 'arn:aws:iam::123456789012:role/team-a-app'];
const bearer = () => seen[0]?.headers.authorization;
const proof = () => JSON.parse(Buffer.from(seen[0]?.headers[PROOF_HEADER] ?? '', 'base64').toString()) as { url: string; headers: Record<string, string> };

describe('a flag always beats its environment variable (and the variable is used without the flag)', () => {
  test('--url over NOCREDS_URL', async () => {
    await cli(['--url', 'https://flag.example', ...ROLE], { NOCREDS_URL: 'https://env.example', NOCREDS_TOKEN: 'a.b.c' });
    expect(seen[0]?.url.host).toBe('flag.example');
    await cli(ROLE, { NOCREDS_URL: 'https://env.example', NOCREDS_TOKEN: 'a.b.c' });
    expect(seen.at(-1)?.url.host).toBe('env.example');
  });

  test('--token-file over NOCREDS_TOKEN_FILE', async () => {
    const flag = file('flag-token', 'flag.token.value');
    const env = file('env-token', 'env.token.value');
    await cli(['--url', 'https://b.example', '--token-file', flag, ...ROLE], { NOCREDS_TOKEN_FILE: env });
    expect(bearer()).toBe('Bearer flag.token.value');
    broker();
    await cli(['--url', 'https://b.example', ...ROLE], { NOCREDS_TOKEN_FILE: env });
    expect(bearer()).toBe('Bearer env.token.value');
  });

  test('--token-file over NOCREDS_TOKEN; NOCREDS_TOKEN over NOCREDS_TOKEN_FILE', async () => {
    const flag = file('flag-token', 'flag.token.value');
    await cli(['--url', 'https://b.example', '--token-file', flag, ...ROLE], { NOCREDS_TOKEN: 'env.token.value' });
    expect(bearer()).toBe('Bearer flag.token.value');
    broker();
    await cli(['--url', 'https://b.example', ...ROLE], { NOCREDS_TOKEN: 'env.token.value', NOCREDS_TOKEN_FILE: flag });
    expect(bearer()).toBe('Bearer env.token.value');
  });

  describe('--iam settings', () => {
    const iamEnv = { AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE', AWS_SECRET_ACCESS_KEY: 'fake-secret-key', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
    const base = ['--url', 'https://b.example', '--iam'];

    test('--iam over NOCREDS_TOKEN', async () => {
      await cli([...base, ...ROLE], { ...iamEnv, NOCREDS_TOKEN: 'env.token.value' });
      expect(seen[0]?.headers[PROOF_HEADER]).toBeDefined();
      expect(bearer()).toBeUndefined();
    });

    test('--server-id over NOCREDS_SERVER_ID', async () => {
      await cli([...base, '--server-id', 'flag-server', ...ROLE], { ...iamEnv, NOCREDS_SERVER_ID: 'env-server' });
      expect(proof().headers['x-nocreds-server-id']).toBe('flag-server');
      broker();
      await cli([...base, ...ROLE], { ...iamEnv, NOCREDS_SERVER_ID: 'env-server' });
      expect(proof().headers['x-nocreds-server-id']).toBe('env-server');
    });

    test('--sts-endpoint over NOCREDS_STS_ENDPOINT', async () => {
      await cli([...base, '--sts-endpoint', 'https://sts.flag.example', ...ROLE], { ...iamEnv, NOCREDS_STS_ENDPOINT: 'https://sts.env.example' });
      expect(new URL(proof().url).host).toBe('sts.flag.example');
      broker();
      await cli([...base, ...ROLE], { ...iamEnv, NOCREDS_STS_ENDPOINT: 'https://sts.env.example' });
      expect(new URL(proof().url).host).toBe('sts.env.example');
    });

    test('--region over NOCREDS_REGION', async () => {
      await cli([...base, '--region', 'eu-west-1', ...ROLE], { ...iamEnv, NOCREDS_REGION: 'ap-south-1' });
      expect(proof().headers.authorization).toContain('/eu-west-1/sts/aws4_request');
      broker();
      await cli([...base, ...ROLE], { ...iamEnv, NOCREDS_REGION: 'ap-south-1' });
      expect(proof().headers.authorization).toContain('/ap-south-1/sts/aws4_request');
    });
  });

  test('--cache-dir over NOCREDS_CACHE_DIR', async () => {
    const flagDir = join(dir, 'flag-cache');
    const envDir = join(dir, 'env-cache');
    await cli(['--url', 'https://b.example', ...ROLE, '--cache-dir', flagDir], { NOCREDS_TOKEN: 'a.b.c', NOCREDS_CACHE_DIR: envDir });
    expect(readdirSync(flagDir)).toHaveLength(1);
    expect(() => readdirSync(envDir)).toThrow();
    await cli(['--url', 'https://b.example', ...ROLE], { NOCREDS_TOKEN: 'a.b.c', NOCREDS_CACHE_DIR: envDir });
    expect(readdirSync(envDir)).toHaveLength(1);
  });

  test('--output over NOCREDS_OUTPUT', async () => {
    broker(() => Response.json({ leases: [{ leaseId: CREDENTIALS.leaseId, kind: 'credentials', status: 'active' }], scope: 'own' }));
    const table = await cli(['--url', 'https://b.example', 'leases', '--output', 'table'], { NOCREDS_TOKEN: 'a.b.c', NOCREDS_OUTPUT: 'json' });
    expect(table.stdout).toMatch(/^LEASE ID/);
    const json = await cli(['--url', 'https://b.example', 'leases'], { NOCREDS_TOKEN: 'a.b.c', NOCREDS_OUTPUT: 'table' });
    expect(json.stdout).toMatch(/^LEASE ID/);
    const byDefault = await cli(['--url', 'https://b.example', 'leases'], { NOCREDS_TOKEN: 'a.b.c' });
    expect(JSON.parse(byDefault.stdout).leases).toHaveLength(1);
  });
});

describe('usage errors exit 2; help and --version exit 0', () => {
  test.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['leasse'], /Did you mean one of lease, leases\?/],
    [['credentials', '--rol', 'x'], /unknown option '--rol'\n\(Did you mean --role\?\)/],
    [['leases', '--page-sise', '5'], /Did you mean --page-size\?/],
    [['lease'], /Usage: nocreds lease/],
    [['lease', 'get'], /missing required argument 'lease-id'/],
    [['lease', 'revok', 'X'], /Did you mean revoke\?/],
    [['grants', 'validate'], /missing required argument 'file'/],
    [['completion', 'fish'], /Allowed choices are bash, zsh/],
    [['credentials'], /required option '--role <arn>' not specified/],
    [['leases', '--page-size', '101'], /--page-size must be at most 100/],
    [['--url', 'https://b.example', 'credentials', '--role', 'r', '--policy-file', '/nonexistent'], /not a readable JSON file/],
  ])('%j', async (argv, message) => {
    const { code, stdout, stderr } = await cli(argv as string[], { NOCREDS_TOKEN: 'a.b.c' });
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stdout).toBe('');
    expect(seen).toEqual([]);
  });

  test('--help, help COMMAND and --version', async () => {
    expect((await cli(['--help'])).code).toBe(0);
    const help = await cli(['help', 'lease']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: nocreds lease');
    const version = await cli(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${packageVersion}\n` });
  });

  test('every command\'s help has an example', async () => {
    const paths: string[][] = [];
    const walk = (command: ReturnType<typeof buildProgram>, path: string[]) => {
      paths.push(path);
      for (const child of command.commands) walk(child, [...path, child.name()]);
    };
    walk(buildProgram({ stdout: () => undefined, stderr: () => undefined, env: {} }), []);
    expect(paths.length).toBeGreaterThan(12);
    for (const path of paths) {
      const { code, stdout } = await cli([...path, '--help']);
      expect({ path, code }).toEqual({ path, code: 0 });
      expect({ path, example: /\n {2}\$ .*nocreds /.test(stdout) }).toEqual({ path, example: true });
    }
  });
});

describe('nocreds leases: paging', () => {
  const lease = (n: number) => ({ leaseId: `LEASE${String(n).padStart(21, '0')}`, kind: 'credentials', status: 'active', roleArn: 'arn:aws:iam::123456789012:role/team-a-app', expiresAt: '2030-01-01T00:00:00.000Z' });
  /** A broker holding `total` leases, paging by offset in the cursor. */
  const pagedBroker = (total: number) =>
    broker((request) => {
      const start = Number(request.url.searchParams.get('cursor') ?? 0);
      const limit = Number(request.url.searchParams.get('limit') ?? 50);
      const end = Math.min(total, start + limit);
      return Response.json({ leases: Array.from({ length: end - start }, (_, i) => lease(start + i)), scope: 'own', ...(end < total ? { cursor: String(end) } : {}) });
    });
  const argv = ['--url', 'https://b.example', 'leases'];

  test('follows the cursor until the end', async () => {
    pagedBroker(7);
    const { code, stdout } = await cli([...argv, '--page-size', '3'], { NOCREDS_TOKEN: 'a.b.c' });
    expect(code).toBe(0);
    const listing = JSON.parse(stdout);
    expect(listing.leases.map((l: { leaseId: string }) => l.leaseId)).toEqual([0, 1, 2, 3, 4, 5, 6].map((n) => lease(n).leaseId));
    expect(listing.cursor).toBeUndefined();
    expect(seen.map((s) => [s.url.searchParams.get('limit'), s.url.searchParams.get('cursor')])).toEqual([['3', null], ['3', '3'], ['3', '6']]);
  });

  test('--max-items never cuts a page: the last request asks for what is missing, and its cursor resumes', async () => {
    pagedBroker(7);
    const first = JSON.parse((await cli([...argv, '--page-size', '3', '--max-items', '4'], { NOCREDS_TOKEN: 'a.b.c' })).stdout);
    expect(first.leases).toHaveLength(4);
    expect(seen.map((s) => s.url.searchParams.get('limit'))).toEqual(['3', '1']);
    const rest = JSON.parse((await cli([...argv, '--cursor', first.cursor], { NOCREDS_TOKEN: 'a.b.c' })).stdout);
    expect([...first.leases, ...rest.leases].map((l: { leaseId: string }) => l.leaseId)).toEqual([0, 1, 2, 3, 4, 5, 6].map((n) => lease(n).leaseId));
  });

  test('--limit, the first release\'s name for --max-items, still works; hidden from help, refused beside --max-items', async () => {
    pagedBroker(7);
    const listing = JSON.parse((await cli([...argv, '--page-size', '3', '--limit', '2'], { NOCREDS_TOKEN: 'a.b.c' })).stdout);
    expect(listing.leases).toHaveLength(2);
    expect(listing.cursor).toBeDefined();
    const both = await cli([...argv, '--limit', '2', '--max-items', '3'], { NOCREDS_TOKEN: 'a.b.c' });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--limit.*cannot be used with.*--max-items/);
    expect((await cli(['leases', '--help'], {})).stdout).not.toContain('--limit');
  });

  test('a broker that repeats a cursor stops the listing (exit 4) instead of looping', async () => {
    broker(() => Response.json({ leases: [lease(1)], scope: 'own', cursor: 'same' }));
    const { code, stderr } = await cli(argv, { NOCREDS_TOKEN: 'a.b.c' });
    expect(code).toBe(4);
    expect(stderr).toMatch(/cursor it had already returned/);
    expect(seen).toHaveLength(2);
  });

  test('the client page-size limit is the broker\'s', () => {
    expect(API_MAX_PAGE_SIZE).toBe(MAX_PAGE_SIZE);
  });
});

describe('tables', () => {
  test('fit in 80 columns whatever the values; control characters cannot break a line', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ a: fc.string({ maxLength: 30 }), b: fc.string({ maxLength: 200 }) }), { maxLength: 5 }), (rows) => {
        const text = renderTable([{ header: 'A', value: (r: { a: string }) => r.a }, { header: 'B', value: (r: { b: string }) => r.b }], rows);
        const lines = text.split('\n').slice(0, -1);
        expect(lines).toHaveLength(rows.length + 1);
        for (const line of lines) expect([...line].length).toBeLessThanOrEqual(TABLE_WIDTH);
      }),
      { seed: 1401, numRuns: 100 },
    );
  });
});

describe('--debug', () => {
  test('traces requests, status, timing and cache use, and never a token, key or credential', async () => {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[A-Za-z0-9_-]{8,40}\.[A-Za-z0-9_-]{8,40}\.[A-Za-z0-9_-]{8,40}$/), fc.stringMatching(/^[A-Za-z0-9/+]{30,40}$/), async (token, secret) => {
        const answer = { ...CREDENTIALS, secretAccessKey: secret, sessionToken: `${secret}-session` };
        broker(() => Response.json(answer, { status: 201, headers: { 'apigw-requestid': 'Req-123' } }));
        const cacheDir = join(dir, `cache-${seen.length}-${Math.random()}`);
        const first = await cli(['--debug', '--url', 'https://b.example', ...ROLE, '--cache-dir', cacheDir, '--format', 'env'], { NOCREDS_TOKEN: token });
        const second = await cli(['--debug', '--url', 'https://b.example', ...ROLE, '--cache-dir', cacheDir], { NOCREDS_TOKEN: token });
        broker(() => Response.json({ error: { code: 'grant_denied', message: 'Not granted.', requestId: 'Err-456' } }, { status: 403 }));
        const denied = await cli(['--debug', '--url', 'https://b.example', ...ROLE], { NOCREDS_TOKEN: token });
        expect(first.stderr).toMatch(/debug: POST \/v1\/credentials -> 201 in \d+ ms \(attempt 1\/3, request id Req-123\)/);
        expect(first.stderr).toMatch(/debug: credentials cache miss/);
        expect(second.stderr).toMatch(/debug: credentials cache hit/);
        expect(denied.stderr).toMatch(/debug: POST \/v1\/credentials -> 403 grant_denied in \d+ ms \(attempt 1\/3, request id Err-456\)/);
        for (const stderr of [first.stderr, second.stderr, denied.stderr]) {
          for (const forbidden of [token, secret, answer.sessionToken, answer.accessKeyId]) expect(stderr).not.toContain(forbidden);
        }
        // The secrets did reach stdout: the test would see them if they leaked to stderr.
        expect(first.stdout).toContain(secret);
      }),
      { seed: 1402, numRuns: 15 },
    );
  });

  test('without --debug nothing is traced', async () => {
    const { stderr } = await cli(['--url', 'https://b.example', ...ROLE], { NOCREDS_TOKEN: 'a.b.c' });
    expect(stderr).toBe('');
  });
});

describe('credentials --fresh', () => {
  test('asks the broker for a new session and replaces the cached entry', async () => {
    const cacheDir = join(dir, 'cache');
    const argv = ['--url', 'https://b.example', ...ROLE, '--cache-dir', cacheDir, '--format', 'json'];
    await cli(argv, { NOCREDS_TOKEN: 'a.b.c' });
    expect(seen[0]?.body).toEqual({ role: 'arn:aws:iam::123456789012:role/team-a-app' });
    broker(() => Response.json({ ...CREDENTIALS, leaseId: 'FRESHLEASE' }, { status: 201 }));
    const fresh = await cli([...argv, '--fresh'], { NOCREDS_TOKEN: 'a.b.c' });
    expect(seen.map((s) => s.body)).toEqual([{ role: 'arn:aws:iam::123456789012:role/team-a-app', fresh: true }]);
    expect(JSON.parse(fresh.stdout).leaseId).toBe('FRESHLEASE');
    broker();
    const cached = await cli(argv, { NOCREDS_TOKEN: 'a.b.c' });
    expect(seen).toEqual([]);
    expect(JSON.parse(cached.stdout).leaseId).toBe('FRESHLEASE');
  });
});

describe('nocreds completion', () => {
  const program = () => buildProgram({ stdout: () => undefined, stderr: () => undefined, env: {} });

  test('the bash script is valid bash and completes commands, subcommands, options and choices', async () => {
    const script = file('completion.bash', bashCompletion(program()));
    await exec('bash', ['-n', script]);
    const complete = async (...words: string[]) => {
      const { stdout } = await exec('bash', ['-c', `source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _nocreds_completion; echo "\${COMPREPLY[*]}"`, script, 'nocreds', ...words]);
      return stdout.trim().split(' ').sort();
    };
    expect(await complete('le')).toEqual(['lease', 'leases']);
    expect(await complete('lease', '')).toEqual(['get', 'help', 'renew', 'revoke']);
    expect(await complete('--url', 'https://b.example', 'lease', 'r')).toEqual(['renew', 'revoke']);
    expect(await complete('leases', '--output', '')).toEqual(['json', 'table']);
    expect(await complete('leases', '--ma')).toEqual(['--max-items']);
    expect(await complete('credentials', '--format', 'e')).toEqual(['env']);
  });

  test('nocreds completion zsh loads the same completion through bashcompinit', async () => {
    const { code, stdout } = await cli(['completion', 'zsh']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^#compdef nocreds\n/);
    expect(stdout).toContain('bashcompinit');
    expect(stdout).toContain('complete -F _nocreds_completion nocreds');
  });
});
