/**
 * `memaudit gate --report R [--policy P] [--junit F] [--attestation A --key PUB]`: re-decides the
 * verdict from a report's evidence (no re-probing), so a stricter policy can be applied later.
 * Exit 0 NOT_PHI, 1 PHI, 3 INCONCLUSIVE. Without --policy the report's own policy is used.
 * report.json itself is unsigned: a pipeline that cannot trust where it came from passes the
 * signed attestation and the public key, and the gate decides only if the signature holds and the
 * attestation names this very report (its sha256); otherwise it fails (exit 1), like attest verify.
 */
import type { Argv, CommandModule } from 'yargs';
import { loadPublicKey } from '../attest/keys.js';
import { privacyAuditPredicateType } from '../attest/statement.js';
import { readEnvelope, verifyAttestation } from '../attest/verify.js';
import { ExitCode, MemauditError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic.js';
import { sha256File, sha256Hex } from '../core/hash.js';
import { loadPolicy, policyDigest } from '../policy/load.js';
import type { LoadedPolicy } from '../policy/types.js';
import { decide } from '../policy/verdict.js';
import { evidenceOf, readReport, summaryRows } from '../report/assemble.js';
import { githubAnnotations, renderJunit } from '../report/ci.js';
import { verdictHeadline } from '../report/document.js';
import { auditLogOptions, recordRun, type AuditLogArgs } from './audit-log.js';
import { runCommand, type GlobalArgs } from './context.js';
import { emit } from './output.js';
import { renderTable } from '../core/format.js';

interface GateArgs extends GlobalArgs, AuditLogArgs {
  report: string;
  policy?: string;
  junit?: string;
  attestation?: string;
  key?: string;
}

/**
 * Checks that `attestationPath` is signed under the public key and attests exactly the report
 * file's bytes. Any failure is exit 1 with one line: a report nobody can vouch for must not pass.
 */
export async function verifyReportAttestation(reportPath: string, attestationPath: string, keyPath: string): Promise<{ keyid: string | null; reportSha256: string }> {
  const envelope = readEnvelope(attestationPath);
  const { key } = loadPublicKey(keyPath);
  const v = await verifyAttestation(envelope, key);
  if (!v.ok) throw new MemauditError(`${attestationPath}: ${v.problem}`, ExitCode.gateFailed);
  if (v.statement?.predicateType !== privacyAuditPredicateType) {
    throw new MemauditError(`${attestationPath}: predicateType is ${JSON.stringify(v.statement?.predicateType)}, not a memaudit audit (${privacyAuditPredicateType})`, ExitCode.gateFailed);
  }
  const attested = (v.statement.predicate as { report?: { sha256?: unknown } } | undefined)?.report?.sha256;
  const actual = await sha256File(reportPath);
  if (attested !== actual) {
    throw new MemauditError(`${reportPath}: sha256 ${actual} is not the report attested in ${attestationPath} (${typeof attested === 'string' ? attested : 'none'}): the report was changed or belongs to another run`, ExitCode.gateFailed);
  }
  return { keyid: v.keyid ?? null, reportSha256: actual };
}

export const gateCommand: CommandModule<GlobalArgs, GateArgs> = {
  command: 'gate',
  describe: "Re-decide a report's verdict (optionally under another policy; with --attestation and --key only a report the signed attestation vouches for): exit 0 NOT_PHI, 1 PHI or unverifiable report, 3 INCONCLUSIVE",
  builder: (y) =>
    auditLogOptions(
      y
        .option('report', { type: 'string', demandOption: true, describe: 'RUN_DIR/report.json written by `memaudit audit`' })
        .option('policy', { type: 'string', describe: "Policy file to decide with [default: the report's own policy]" })
        .option('junit', { type: 'string', describe: 'Also write the checks as JUnit XML to this file' })
        .option('attestation', {
          type: 'string',
          describe: 'RUN_DIR/attestation.dsse.json: decide only if it is signed under --key and attests this report file (sha256); else exit 1',
        })
        .option('key', { type: 'string', describe: 'Public key (memaudit.pub, SPKI PEM) that must have signed --attestation' })
        .implies('attestation', 'key')
        .implies('key', 'attestation'),
    ) as unknown as Argv<GateArgs>,
  handler: (args) =>
    runCommand('gate', async () => {
      // Before the report is parsed or trusted: its bytes must be the signed ones.
      const attested = args.attestation ? await verifyReportAttestation(args.report, args.attestation, args.key!) : null;
      const report = readReport(args.report);
      const policy: LoadedPolicy = args.policy ? loadPolicy(args.policy) : { policy: report.policy, digest: policyDigest(report.policy), source: `${args.report} (the audit's policy)` };
      const verdict = decide(evidenceOf(report), policy);
      const outputs = [];
      if (args.junit) {
        const xml = renderJunit(verdict, args.report);
        writeFileAtomic(args.junit, xml);
        outputs.push({ name: args.junit, sha256: sha256Hex(xml) });
      }
      // Logged before anything is printed: a run the log cannot record fails without a result.
      recordRun(args, {
        command: 'gate',
        inputs: [
          { name: args.report, sha256: await sha256File(args.report) },
          { name: 'policy', sha256: verdict.policy.digest },
          ...(args.attestation ? [{ name: args.attestation, sha256: await sha256File(args.attestation) }] : []),
        ],
        outputs,
        exitCode: verdict.exitCode,
        verdict: verdict.verdict,
      }, args.junit ? [args.junit] : []);
      const annotations = process.env.GITHUB_ACTIONS === 'true' ? githubAnnotations(verdict, args.report) : [];
      // Workflow commands are read from stdout; with --json stdout holds only the JSON, so they go to stderr.
      for (const line of annotations) (args.json ? process.stderr : process.stdout).write(line + '\n');
      const attestation = attested && args.attestation ? { path: args.attestation, keyid: attested.keyid, reportSha256: attested.reportSha256 } : null;
      emit(args, { verdict: verdict.verdict, reasons: verdict.reasons, report: args.report, policy: verdict.policy, previousVerdict: report.verdict.verdict, junit: args.junit ?? null, attestation }, () => {
        const changed = report.verdict.verdict !== verdict.verdict ? ` (the audit said ${report.verdict.verdict} under ${report.verdict.policy.name})` : '';
        const signed = attestation ? `\nreport attested by ${attestation.path} (signature valid${attestation.keyid ? `, keyid ${attestation.keyid.slice(0, 16)}...` : ''})` : '';
        return `${renderTable(summaryRows(report, verdict))}${verdictHeadline[verdict.verdict]}${changed}\npolicy: ${verdict.policy.name} (${verdict.policy.source})${signed}`;
      });
      return verdict.exitCode;
    }),
};
