import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { EXIT_CODES, positiveInt, usage, type CliIo } from './context';
import { printDryRun } from './credentials';

/**
 * `nocreds grants validate FILE...`: the grant policy parser the broker and `cdk synth` use
 * (shared/domain/grant-policy-file.ts), offline, for CI. Problems print one a line as
 * `FILE:LINE PATH: message` on stdout; the exit code is 0 when every file is valid, 1 when one is
 * not, 2 when one cannot be read (as linters do).
 */
export async function validateGrantFiles(files: readonly string[], io: CliIo): Promise<number> {
  // Loaded here only: the YAML parser and the policy schema would slow every other command's start.
  const { parseGrantPolicy } = await import('../../shared/domain/grant-policy-file');
  let code: number = EXIT_CODES.ok;
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      io.stderr(`nocreds: ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).\n`);
      code = EXIT_CODES.usage;
      continue;
    }
    try {
      const policy = parseGrantPolicy(text, file);
      const issuers = policy.issuers?.length ?? 0;
      io.stdout(`${file}: valid (${policy.rules.length} rule${policy.rules.length === 1 ? '' : 's'}, ${issuers} issuer${issuers === 1 ? '' : 's'})\n`);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'invalid_grant_policy') throw error;
      // The parser's message is a heading line, then one `FILE:LINE PATH: problem` line per problem.
      const problems = (error as Error).message.split('\n').slice(1);
      io.stdout(problems.map((line) => `${line}\n`).join(''));
      if (code === EXIT_CODES.ok) code = EXIT_CODES.failure;
    }
  }
  return code;
}

interface ExplainFlags {
  policy: string;
  as: string;
  role?: string;
  duration?: number;
  policyFile?: string;
  profile?: string;
  csr?: string;
  validity?: number;
}

/**
 * `nocreds grants explain`: a dry run offline, against a grant policy file and a described identity,
 * through the same decision code the broker runs (shared/use-cases/dry-run.ts). Prints what the
 * broker's dry run would answer; exit 0 when allowed, 1 when refused, 2 on a usage problem.
 */
export async function explainGrant(opts: ExplainFlags, io: CliIo): Promise<number> {
  if ((opts.role === undefined) === (opts.profile === undefined && opts.csr === undefined)) {
    throw usage('Say what to explain: --role ARN for credentials, or --csr FILE (and --profile NAME) for a certificate.');
  }
  if (opts.role === undefined && opts.csr === undefined) throw usage('A certificate is explained for a CSR: pass --csr FILE.');
  const read = async (file: string, what: string) => {
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      throw usage(`${what} ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
    }
  };
  const policyText = await read(opts.policy, '--policy');
  // Loaded here only, as for validate.
  const [{ parseGrantPolicy }, dryRun, { dryRunResponse }, { parseSessionPolicy }] = await Promise.all([
    import('../../shared/domain/grant-policy-file'),
    import('../../shared/use-cases/dry-run'),
    import('../../shared/http/dry-run'),
    import('../../shared/domain/session-policy'),
  ]);
  let grants;
  try {
    grants = parseGrantPolicy(policyText, opts.policy);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'invalid_grant_policy') throw error;
    io.stderr(`${(error as Error).message}\n`);
    return EXIT_CODES.usage;
  }
  let identity;
  try {
    identity = dryRun.describeIdentity(grants, dryRun.parseDescribedIdentity(grants, opts.as));
  } catch (error) {
    throw usage(`--as: ${(error as Error).message}`);
  }
  let result;
  if (opts.role !== undefined) {
    let policy;
    if (opts.policyFile) {
      try {
        policy = parseSessionPolicy(JSON.parse(await read(opts.policyFile, '--policy-file')));
      } catch (error) {
        throw usage(`--policy-file: ${(error as Error).message}`);
      }
    }
    result = dryRun.dryRunCredentials(grants, identity, { roleArn: opts.role, durationSeconds: opts.duration, policy }, true);
  } else {
    const { dryRunCertificate } = await import('../../shared/use-cases/dry-run-certificate');
    result = await dryRunCertificate(grants, identity, { csr: await read(opts.csr as string, '--csr'), profile: opts.profile, validitySeconds: opts.validity }, true);
  }
  const answer = JSON.parse(dryRunResponse(result, 'offline', 201).body) as Record<string, unknown>;
  return printDryRun(io, answer);
}

export function registerGrantsCommand(program: Command, io: CliIo, exit: (code: number) => void): void {
  const grants = program
    .command('grants')
    .description('work with grant policy files (offline)')
    .addHelpText(
      'after',
      `
Example:
  $ nocreds grants validate infra/grants.yaml`,
    );
  grants
    .command('validate')
    .description('check grant policy files (YAML or JSON) as the broker would load them; no broker needed')
    .argument('<file...>', 'grant policy files')
    .addHelpText(
      'after',
      `
Prints "FILE:LINE PATH: problem" for every problem. Exit code 0: all valid; 1: problems found;
2: a file cannot be read.

Examples:
  $ nocreds grants validate infra/grants.yaml
  $ nocreds grants validate policies/*.yaml   # in CI`,
    )
    .action(async (files: string[]) => {
      exit(await validateGrantFiles(files, io));
    });
  grants
    .command('explain')
    .description('what a described identity would get, decided offline from a policy file as the broker decides (a dry run; no broker needed)')
    .requiredOption('--policy <file>', 'the grant policy file (YAML or JSON)')
    .requiredOption('--as <identity>', 'who: an IAM principal ARN, {"iam": ARN}, {"issuer": ID, "claims": {...}}, or token claims with "iss"')
    .option('--role <arn>', 'explain credentials for this role')
    .addOption(new Option('--duration <seconds>', 'requested session length').argParser(positiveInt('--duration')))
    .option('--policy-file <file>', 'a caller session policy (JSON) to narrow with')
    .option('--profile <name>', 'explain a certificate from this profile')
    .option('--csr <file>', 'the CSR (PEM) a certificate would be issued from')
    .addOption(new Option('--validity <seconds>', 'requested certificate validity').argParser(positiveInt('--validity')))
    .addHelpText(
      'after',
      `
Prints the broker's dry-run answer: allowed or not (with the error the broker would answer), every
rule with why it did or did not apply, and the session (role, session policy, tags, SourceIdentity,
duration) or certificate names. Exit code 0: allowed; 1: refused; 2: usage (unreadable file, invalid
policy or identity).

Examples:
  $ nocreds grants explain --policy grants.yaml --as '{"iss": "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE", "sub": "system:serviceaccount:team-a:api"}' --role arn:aws:iam::111122223333:role/team-a-app
  $ nocreds grants explain --policy grants.yaml --as arn:aws:iam::111122223333:role/platform-ci --role arn:aws:iam::111122223333:role/deploy
  $ nocreds grants explain --policy grants.yaml --as '{"issuer": "eks", "claims": {"sub": "system:serviceaccount:team-a:api"}}' --profile mesh --csr app.csr`,
    )
    .action(async (opts: ExplainFlags) => {
      exit(await explainGrant(opts, io));
    });
}
