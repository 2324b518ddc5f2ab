import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { EXIT_CODES, type CliIo } from './context';

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
}
