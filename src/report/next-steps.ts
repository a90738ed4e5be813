/**
 * "What to do next" at the top of the report, by verdict. For INCONCLUSIVE the audit size that
 * `memaudit plan` gives for this policy and this dataset (the manifest's record count before
 * canaries), so the reader gets the numbers that would resolve it, not only a reason it failed.
 */
import { ImpossiblePlan, planAudit } from '../policy/plan.js';
import type { Report } from './types.js';

const pct = (p: number) => `${Number((100 * p).toPrecision(3))}%`;
/**
 * A planned count, with thousands separators from 10,000: easier to read, and never a 5+ digit
 * token the no-PHI guard could take for a canary secret (these counts are not in report.json).
 */
const count = (n: number) => (n >= 10_000 ? n.toLocaleString('en-US') : String(n));

function plannedRepetitions(report: Report): number[] {
  const coverage = report.policy.coverage.repetitions;
  const inserted = report.manifest.byRepetitions.map((g) => g.repetitions);
  const list = coverage === 'inserted' ? (inserted.length > 0 ? inserted : [1, 4]) : coverage;
  return [...new Set(list)].sort((a, b) => a - b);
}

/** The plan for a rerun, in words, or why no audit of this dataset can resolve the policy. */
export function planText(report: Report): string {
  const datasetSize = report.manifest.input.records;
  const repetitions = plannedRepetitions(report);
  const exposure = report.results.exposure;
  const exposureMode = exposure && exposure.canaries.every((c) => c.method === 'exact') ? 'exact' : 'estimated';
  const command = `memaudit plan --dataset-size ${datasetSize} --repetitions ${repetitions.join(',')}`;
  try {
    const plan = planAudit({ policy: report.policy, datasetSize, repetitions, spaceSizeLog2: report.manifest.spaceSizeLog2, exposureMode });
    const perCount = repetitions.map((r) => `${count(plan.canaries[String(r)]!)} at ${r}x`).join(', ');
    const membership = plan.members + plan.holdout > 0 ? `, ${count(plan.members)} member records and a holdout of ${count(plan.holdout)} records as non-members` : '';
    return (
      `To resolve it, plant and audit again at the size \`${command}\` gives for this policy and these ${datasetSize} records: inserted canaries ${perCount}, ` +
      `${count(plan.references)} never-inserted references${membership}. At that size a model that memorized nothing is cleared with probability >= ${pct(plan.pNotPhiNull)}, ` +
      `and one at the policy's material effect is found PHI with probability >= ${pct(plan.pPhiAtEffect)}.`
    );
  } catch (e) {
    if (e instanceof ImpossiblePlan) return `No audit of these ${datasetSize} records can resolve this policy (\`${command}\`): ${e.message}.`;
    throw e;
  }
}

export function nextSteps(report: Report): string[] {
  const v = report.verdict;
  const failed = report.failures.length > 0 ? [`First make the probes that could not decide run (see "Probes that could not decide" below): ${report.failures.map((f) => f.probe).join(', ')}.`] : [];
  switch (v.verdict) {
    case 'PHI':
      return [
        'Treat the weights as PHI: store, share and delete them under the same controls as the training data.',
        `To release a model, train it again with DP-SGD within the policy (epsilon <= ${report.policy.dp.maxEpsilon}, \`memaudit train --dp --target-epsilon\`) or without the repeated records, then audit it again.`,
      ];
    case 'INCONCLUSIVE':
      return ['Until an audit clears it, treat the weights as PHI.', ...failed, planText(report)];
    case 'NOT_PHI':
      return [
        'The weights may be handled as not PHI within the coverage stated above, under this policy.',
        'File this report with attestation.dsse.json; `memaudit attest show` prints the signed verdict and its reasons, and `memaudit attest verify --key memaudit.pub --model MODEL_DIR` checks the signature and that the weights are the audited ones.',
      ];
  }
}
