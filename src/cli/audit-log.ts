/**
 * `memaudit audit-log verify`, and the two pieces every recorded command shares: the
 * --audit-log/--purpose flags and `recordRun`, which appends the run's entry (digests only) to the
 * hash-chained log. `train`, `probe`, `audit` and `gate` call it once their outputs are written.
 */
import type { Argv, CommandModule } from 'yargs';
import { appendAuditLog, auditLogEnv, defaultAuditLogPath, verifyAuditLog, type AuditLogEntry, type AuditLogRecord } from '../attest/audit-log.js';
import { ExitCode } from '../core/errors.js';
import { sha256File } from '../core/hash.js';
import { runCommand, type GlobalArgs } from './context.js';
import { emit } from './output.js';

export interface AuditLogArgs {
  auditLog?: string;
  purpose?: string;
}

/** Adds --audit-log and --purpose to a command. */
export function auditLogOptions<T>(y: Argv<T>) {
  return y
    .option('audit-log', { type: 'string', describe: `Hash-chained JSONL audit log to append this run to [default: $${auditLogEnv} or ${defaultAuditLogPath}]` })
    .option('purpose', { type: 'string', describe: 'Why this run happens (recorded in the audit log, e.g. a ticket or release id; no PHI)' });
}

/** The log a command appends to: --audit-log, else $MEMAUDIT_AUDIT_LOG, else reports/audit-log.jsonl. */
export function auditLogPath(args: AuditLogArgs, env: NodeJS.ProcessEnv = process.env): string {
  return args.auditLog ?? env[auditLogEnv] ?? defaultAuditLogPath;
}

/** Appends this run's entry. `record` holds digests and names only, never content. */
export function recordRun(args: AuditLogArgs, record: Omit<AuditLogRecord, 'purpose'>): AuditLogEntry {
  return appendAuditLog({ ...record, purpose: args.purpose }, auditLogPath(args));
}

interface VerifyArgs extends GlobalArgs, AuditLogArgs {}

const verifyCommand: CommandModule<GlobalArgs, VerifyArgs> = {
  command: 'verify',
  describe: 'Check the hash chain: exit 0 if intact, 1 at the first edited, removed or reordered entry',
  builder: (y) => auditLogOptions(y) as unknown as Argv<VerifyArgs>,
  handler: (args) =>
    runCommand('audit-log verify', async () => {
      const path = auditLogPath(args);
      const v = verifyAuditLog(path);
      emit(args, { path, ...v }, () =>
        v.ok
          ? `${path}: ${v.entries} entries, chain intact (head seq ${v.head.seq}, ${v.head.hash.slice(0, 16)}...)`
          : `${path} line ${v.problem!.line}: ${v.problem!.message}; the ${v.entries} entries before it chain correctly`,
      );
      if (!v.ok && !args.json) process.stderr.write(`memaudit audit-log verify: ${path} line ${v.problem!.line}: ${v.problem!.message}\n`);
      return v.ok ? ExitCode.ok : ExitCode.gateFailed;
    }),
};

export const auditLogCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'audit-log',
  describe: 'The hash-chained audit log of train, probe, audit and gate runs',
  builder: (y) => y.command(verifyCommand as unknown as CommandModule<GlobalArgs, GlobalArgs>).demandCommand(1, 'Name a subcommand: verify'),
  handler: () => {},
};

/** The entry of a `probe` run: target and manifest digests in, the result file's digest out. */
export async function recordProbeRun(
  args: AuditLogArgs,
  probe: string,
  result: { target: { digest: string }; manifestDigest: string },
  outPath: string,
  exitCode: number | void,
): Promise<void> {
  recordRun(args, {
    command: `probe ${probe}`,
    inputs: [
      { name: 'target', sha256: result.target.digest },
      { name: 'manifest', sha256: result.manifestDigest },
    ],
    outputs: [{ name: outPath, sha256: await sha256File(outPath) }],
    exitCode: exitCode ?? 0,
  });
}
