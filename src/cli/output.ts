/**
 * What a command prints. With `--json` only the machine-readable result goes to stdout (nothing
 * else ever does); otherwise a human summary, suppressed by `--quiet`. Errors and progress go to
 * stderr. Number and table formatting live in src/core/format.ts.
 */
import { jsonReplacer } from '../core/format.js';
import type { GlobalArgs } from './context.js';

/** Prints the command's result: JSON when `--json`, else the human text (unless `--quiet`). */
export function emit(args: GlobalArgs, result: unknown, human: () => string): void {
  if (args.json) {
    process.stdout.write(JSON.stringify(result, jsonReplacer, 2) + '\n');
  } else if (!args.quiet) {
    const text = human();
    if (text) process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }
}
