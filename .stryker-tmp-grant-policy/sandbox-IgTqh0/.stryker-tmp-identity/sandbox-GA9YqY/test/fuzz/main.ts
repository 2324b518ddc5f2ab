// @ts-nocheck
// 
import { runFuzz } from './run';

/**
 * npm run fuzz [-- --seed N] [--requests N] [--concurrency N]
 * Prints the seed first, so any failure reproduces with the same command.
 */
function option(name: string): number | undefined {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return undefined;
  const value = Number(process.argv[at + 1]);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} takes a whole number`);
  return value;
}

async function main() {
  const report = await runFuzz({
    seed: option('seed') ?? Math.floor(Math.random() * 2 ** 31),
    requests: option('requests') ?? 10_000,
    concurrency: option('concurrency') ?? 8,
  });
  process.exitCode = report.ok ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 2;
});
