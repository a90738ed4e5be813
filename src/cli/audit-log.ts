/**
 * `memaudit audit-log verify`, and the two pieces every recorded command shares: the
 * --audit-log/--purpose flags and `recordRun`, which appends the run's entry (digests only) to the
 * hash-chained log. `train`, `probe`, `audit` and `gate` call it once their outputs are written.
 */
import type { Argv, CommandModule } from 'yargs';
import { appendAuditLog, auditLogEnv, defaultAuditLogPath, readAuditLogChain, type AuditLogEntry, type AuditLogRecord } from '../attest/audit-log.js';
import { checkAuditLogAnchors, type AnchorCheck } from '../attest/audit-log-anchors.js';
import { loadPublicKey } from '../attest/keys.js';
import { removeTemp } from '../core/atomic.js';
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

/**
 * Appends this run's entry. `record` holds digests and names only, never content. If the entry
 * cannot be appended (full disk, unwritable log), the run's outputs at `written` are removed
 * before the error propagates: no output exists that the log does not account for.
 */
export function recordRun(args: AuditLogArgs, record: Omit<AuditLogRecord, 'purpose'>, written: string[] = []): AuditLogEntry {
  try {
    return appendAuditLog({ ...record, purpose: args.purpose }, auditLogPath(args));
  } catch (e) {
    for (const path of written) removeTemp(path);
    throw e;
  }
}

interface VerifyArgs extends GlobalArgs, AuditLogArgs {
  attestation?: string[];
  key?: string;
}

/** The log against the signed heads of the given attestations (null when none were given). */
async function anchorsOf(args: VerifyArgs, verification: ReturnType<typeof readAuditLogChain>): Promise<AnchorCheck | null> {
  if (!args.attestation?.length) return null;
  // ajv (schema checks) is loaded only by the command that needs it, not by every start-up.
  const { readEnvelope } = await import('../attest/verify.js');
  const sources = args.attestation.map((name) => ({ name, envelope: readEnvelope(name) }));
  return checkAuditLogAnchors(verification.verification, verification.chain, sources, loadPublicKey(args.key!).key);
}

function anchorSummary(a: AnchorCheck | null): string {
  if (a === null) return '\nnot checked against signed heads: without --attestation and --key, a rewritten chain also verifies';
  const tail = a.unanchoredTail > 0 ? `; the last ${a.unanchoredTail} entries come after the last signed head and no signature covers them` : '';
  return `\nsigned heads: ${a.anchoredSeqs.length} attested audit entries match (seq ${a.anchoredSeqs.join(', ')})${tail}`;
}

const verifyCommand: CommandModule<GlobalArgs, VerifyArgs> = {
  command: 'verify',
  describe: 'Check the hash chain, and with --attestation/--key the heads signed by audits: exit 0 if intact, 1 at the first problem',
  builder: (y) =>
    y
      .option('audit-log', { type: 'string', describe: `Hash-chained JSONL audit log to check [default: $${auditLogEnv} or ${defaultAuditLogPath}]` })
      .option('attestation', { type: 'string', array: true, describe: 'Attestations of audits that appended to this log (repeatable): the log must reproduce their signed heads' })
      .option('key', { type: 'string', describe: 'Public key (memaudit.pub) that signed the --attestation files' })
      .implies('attestation', 'key')
      .implies('key', 'attestation') as unknown as Argv<VerifyArgs>,
  handler: (args) =>
    runCommand('audit-log verify', async () => {
      const path = auditLogPath(args);
      const read = readAuditLogChain(path);
      const v = read.verification;
      const anchors = v.ok ? await anchorsOf(args, read) : null;
      const ok = v.ok && (anchors?.ok ?? true);
      emit(args, { path, ...v, ok, anchors }, () =>
        !v.ok
          ? `${path} line ${v.problem!.line}: ${v.problem!.message}; the ${v.entries} entries before it chain correctly`
          : !ok
            ? `${path}: ${anchors!.problem}`
            : `${path}: ${v.entries} entries, chain intact (head seq ${v.head.seq}, ${v.head.hash.slice(0, 16)}...)${anchorSummary(anchors)}`,
      );
      if (!v.ok && !args.json) process.stderr.write(`memaudit audit-log verify: ${path} line ${v.problem!.line}: ${v.problem!.message}\n`);
      else if (!ok && !args.json) process.stderr.write(`memaudit audit-log verify: ${path}: ${anchors!.problem}\n`);
      return ok ? ExitCode.ok : ExitCode.gateFailed;
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
  }, [outPath]);
}
