/* global process, URL, fetch, AbortSignal */
// @ts-nocheck

// The job's OIDC token from the GitHub Actions runner, fresh on every call: the runner sets
// ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN in every step of a job with
// `permissions: id-token: write`. Never written anywhere: it lives in this process only.
export async function githubActionsToken(audience, env = process.env) {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !requestToken) {
    throw new Error('No GitHub Actions OIDC token request in this environment: give the job `permissions: id-token: write` (and contents: read).');
  }
  const target = new URL(url);
  target.searchParams.set('audience', audience);
  const response = await fetch(target, { headers: { authorization: `bearer ${requestToken}`, accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`The runner refused the OIDC token request (HTTP ${response.status}).`);
  const body = await response.json().catch(() => ({}));
  if (typeof body.value !== 'string' || body.value === '') throw new Error('The runner answered the OIDC token request without a token.');
  return body.value;
}

/**
 * Runs the installed nocreds CLI (`@nocreds/client/cli`, given as a path) with this token, in this
 * process. Returns its exit code and what it printed on stdout; stderr goes to ours.
 */
export async function runNocreds(cliModule, token, args) {
  const { createRequire } = await import('node:module');
  const cli = createRequire(import.meta.url)(cliModule);
  // The token goes in as NOCREDS_TOKEN; no token file of the environment may take precedence.
  delete process.env.NOCREDS_TOKEN_FILE;
  let stdout = '';
  const io = { stdout: (text) => (stdout += text), stderr: (text) => process.stderr.write(text), env: { ...process.env, NOCREDS_TOKEN: token } };
  const code = await cli.run(args, io);
  return { code, stdout };
}
