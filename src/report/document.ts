/**
 * The report's content as a neutral document (headings, paragraphs, tables, charts), rendered
 * to Markdown and to HTML by their own small renderers, so both say exactly the same thing.
 * Only counts, digests, canary ids and metrics go in: never canary text or generations.
 */
import type { DpClaimEvidence } from '../policy/evidence.js';
import type { Reason, VerdictName } from '../policy/verdict.js';
import { nonMembersToResolve, reportCharts, type Chart } from './charts.js';
import { nextSteps } from './next-steps.js';
import type { Report } from './types.js';

export type Block =
  | { kind: 'heading'; level: 2 | 3; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'table'; header: string[]; rows: string[][] }
  | { kind: 'chart'; chart: Chart };

export interface ReportDocument {
  title: string;
  verdict: VerdictName;
  blocks: Block[];
}

const num = (x: unknown): number => (typeof x === 'number' ? x : Number(x));

/** Human number: 4 significant digits, exponent only for tiny or huge magnitudes. */
export function show(value: unknown): string {
  if (value === null || value === undefined) return '-';
  const x = num(value);
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e6)) return x.toExponential(3);
  return String(Number(x.toPrecision(4)));
}

export const verdictHeadline: Record<VerdictName, string> = {
  PHI: 'PHI: the model weights must be treated as PHI.',
  NOT_PHI: 'NOT_PHI: the evidence clears the model under this policy.',
  INCONCLUSIVE: 'INCONCLUSIVE: not enough evidence to clear the model; treat the weights as PHI until it is.',
};

export function reasonRows(reasons: Reason[]): string[][] {
  return reasons.map((r) => [r.outcome, r.probe, r.metric, show(r.value), r.threshold === null ? '-' : `${r.comparator ?? ''} ${show(r.threshold)}`.trim(), r.message]);
}
const reasonHeader = ['outcome', 'probe', 'metric', 'value', 'pass if', 'why'];

const provenanceText: Record<DpClaimEvidence['provenance'], string> = {
  trusted: 'signed by a trusted key, covering these weight files',
  untrusted: 'signed, but not by a trusted key (--trust-key)',
  unsigned: 'unsigned (train --sign-key signs it)',
  invalid: 'INVALID',
};

/** The DP claim checks (docs/SCIENCE.md "Verifying a DP claim"): every mismatched field by name. */
export function dpClaimRows(c: DpClaimEvidence): string[][] {
  const rows = [
    ['ledger recomputed and matched to the training config', c.ledgerVerified ? 'verified' : `NOT verified: ${c.mismatches.length} mismatch${c.mismatches.length === 1 ? '' : 'es'}`],
    ['recomputed epsilon', show(c.recomputedEpsilon)],
    ...c.mismatches.map((m) => [`mismatch: ${m.field}`, `ledger ${m.ledger}, expected ${m.expected}`]),
    ['training provenance', `${provenanceText[c.provenance]}${c.provenanceKeyId ? ` (keyid ${c.provenanceKeyId.slice(0, 16)}...)` : ''}${c.provenanceProblem ? `: ${c.provenanceProblem}` : ''}`],
  ];
  const sa = c.selfAudit;
  if (sa) rows.push(['trainer self-audit', `${sa.method}, ${sa.canaries} audit canaries: epsilon >= ${show(sa.epsilonLowerBound)} at ${sa.confidence} (ceiling ${show(sa.ceiling)})${sa.refuted ? ': the claim is REFUTED' : ''}`]);
  return rows;
}

export function buildDocument(report: Report): ReportDocument {
  const v = report.verdict;
  const blocks: Block[] = [];
  const charts = new Map(reportCharts(report).map((c) => [c.id, c]));
  const p = (text: string) => blocks.push({ kind: 'paragraph', text });
  const h = (level: 2 | 3, text: string) => blocks.push({ kind: 'heading', level, text });
  const table = (header: string[], rows: string[][]) => blocks.push({ kind: 'table', header, rows });
  const chart = (id: Chart['id']) => {
    const c = charts.get(id);
    if (c) blocks.push({ kind: 'chart', chart: c });
  };

  p(verdictHeadline[v.verdict]);
  if (v.headline) p(`Coverage: ${v.headline}`);
  h(2, 'What to do next');
  for (const step of nextSteps(report)) p(step);
  h(2, 'Why');
  table(reasonHeader, reasonRows(v.reasons));

  h(2, 'What was audited');
  const t = report.target;
  const m = report.manifest;
  table(['item', 'value'], [
    ['target', `${t.target} (${t.kind}, ${t.task}${t.model ? `, model ${t.model}` : ''})`],
    ['target digest (sha256)', t.digest],
    ['model files', t.files ? `${t.files.length} files, each attested by sha256` : 'none (API target: the endpoint descriptor is attested)'],
    ['canaries', `pack ${m.pack}, ${m.mode} insertion, secret space 2^${show(m.spaceSizeLog2)}; inserted ${m.byRepetitions.map((g) => `${g.count} x${g.repetitions}`).join(', ') || 'none'}; ${m.references} references`],
    ['manifest (sha256)', m.digest],
    ['training data before / after insertion (sha256)', `${m.input.sha256} (${m.input.records} records) / ${m.output.sha256} (${m.output.records} records)`],
    [
      "model's training data (sha256)",
      report.binding?.modelTrainingDataSha256
        ? `${report.binding.modelTrainingDataSha256} (${report.binding.modelTrainingDataSha256 === (report.binding.manifestOutputSha256 ?? m.output.sha256) ? 'matches the manifest' : 'does NOT match the manifest'})`
        : 'not stated by the target: the manifest binding is unverified',
    ],
    ...manifestIntegrityRows(report),
    ['policy', `${v.policy.name} (${v.policy.source}), sha256 ${v.policy.digest}`],
    ['memaudit / backend / seed', `${report.toolVersion} / ${report.backend} / ${report.seed}`],
    ['run', `${report.startedAt} to ${report.finishedAt}`],
  ]);

  const ex = report.results.exposure;
  if (ex) {
    h(2, 'Exposure (Secret Sharer)');
    p(`Exposure = log2 |R| - log2 rank of the canary's secret among all ${show(ex.spaceSizeLog2)}-bit candidates. A never-inserted canary has exposure about 1 bit on average; ${show(ex.spaceSizeLog2)} bits means the secret is the model's first choice.`);
    table(['inserted', 'canaries', 'mean bits', 'max bits'], [
      ...ex.byRepetitions.map((g) => [`${g.repetitions}x`, String(g.count), show(g.meanExposureBits), show(g.maxExposureBits)]),
      ['reference (0x)', String(ex.reference.count), show(ex.reference.meanExposureBits), show(ex.reference.maxExposureBits)],
    ]);
    const sampled = ex.canaries.filter((c) => c.exposureInterval && c.samples !== undefined);
    if (sampled.length > 0) {
      const sizes = sampled.map((c) => c.samples!);
      const open = sampled.filter((c) => c.exposureInterval!.lower <= report.policy.exposure.maxBits && report.policy.exposure.maxBits < c.exposureInterval!.upper);
      p(
        `${sampled.length} canaries were estimated from ${Math.min(...sizes)}-${Math.max(...sizes)} uniformly sampled candidates each, with exposure intervals at ${show(sampled[0]!.exposureInterval!.confidence)} confidence; ` +
          `${open.length} still straddle ${show(report.policy.exposure.maxBits)} bits${open.length ? ` (${open.map((c) => c.id).slice(0, 10).join(', ')}${open.length > 10 ? ', ...' : ''})` : ''}.`,
      );
    }
    if (ex.insertedVsReference) p(`Inserted vs reference (${ex.insertedVsReference.test}): statistic ${show(ex.insertedVsReference.statistic)}, p = ${show(ex.insertedVsReference.pValue)}.`);
    chart('exposure');
  }

  const xt = report.results.extraction;
  if (xt) {
    h(2, 'Extraction');
    const ref = xt.targeted.reference;
    table(['inserted', 'attempted', 'secret reproduced'], [
      ...xt.targeted.byRepetitions.map((g) => [`${g.repetitions}x`, String(g.count), String(g.extracted)]),
      ...(ref ? [['reference (0x, never inserted)', String(ref.attempted), String(ref.extracted)]] : []),
    ]);
    const ids = Object.entries(xt.untargeted.identifiers);
    p(`Untargeted: ${xt.untargeted.samples} samples; identifier-shaped strings found: ${ids.length ? ids.map(([k, n]) => `${k} ${n}`).join(', ') : 'none'}; verbatim training matches: ${xt.untargeted.verbatimTrainingMatches ?? 'not checked'}. Generations are recorded by digest only.`);
  }

  const mb = report.results.membership;
  if (mb) {
    h(2, 'Membership inference');
    p('The gate reads TPR at a low FPR; AUC is shown but never decides (attacks with the same AUC differ tenfold at low FPR).');
    p(membershipPopulation(mb));
    const ci = (a: (typeof mb.attacks)[number], k: '0.001' | '0.01' | '0.1') => {
      const needed = nonMembersToResolve(Number(k));
      if (a.nonMembers < needed) return `not resolved (needs >= ${needed} non-members)`;
      const i = a.tprAtFprInterval?.[k];
      return i ? `${show(a.tprAtFpr[k])} [${show(i.lower)}, ${show(i.upper)}]` : show(a.tprAtFpr[k]);
    };
    table(['attack', 'members', 'non-members', 'AUC', 'TPR @ 0.1% FPR', 'TPR @ 1% FPR', 'TPR @ 10% FPR'], mb.attacks.map((a) => [a.name, String(a.members), String(a.nonMembers), show(a.auc), ci(a, '0.001'), ci(a, '0.01'), ci(a, '0.1')]));
    chart('roc');
  }

  h(2, 'Differential privacy');
  const l = report.ledger;
  if (!l) p('No DP ledger is available for this target.');
  else if (!l.dp) p('The model was trained without differential privacy.');
  else {
    table(['item', 'value'], [
      ['claimed epsilon', `${show(l.epsilon[l.accountant])} (${l.accountant}); RDP ${show(l.epsilon.rdp)}, PLD ${show(l.epsilon.pld)}`],
      ['delta', show(l.delta)],
      ['steps / noise multiplier / sampling rate / clip norm', `${l.steps} / ${show(l.noiseMultiplier)} / ${show(l.samplingRate)} / ${show(l.clipNorm)}`],
      ['noise source', l.noiseSource === 'seeded' ? 'seeded (reproducible; not for production)' : 'CSPRNG'],
    ]);
    chart('epsilon');
  }
  if (report.dpClaim) table(['claim check', 'result'], dpClaimRows(report.dpClaim));
  const da = report.results['dp-audit'];
  if (da) {
    p(dpAuditText(da));
  }

  if (report.failures.length > 0) {
    h(2, 'Probes that could not decide');
    table(['probe', 'kind', 'message'], report.failures.map((f) => [f.probe, f.kind + (f.capability ? ` (${f.capability})` : ''), f.message]));
  }

  h(2, 'Every check');
  table(reasonHeader, reasonRows(v.checks));

  h(2, 'Policy');
  const pol = report.policy;
  table(['setting', 'value', 'why'], [
    ['alpha', show(pol.alpha), pol.alphaWhy ?? ''],
    ['required probes', pol.requiredProbes.join(', '), pol.requiredProbesWhy ?? ''],
    ['power', `>= ${pol.power.minCanariesPerRepetition} canaries per repetition count, >= ${pol.power.minReferenceCanaries} references, secret space >= 2^${pol.power.minSecretSpaceBits}`, pol.power.why ?? ''],
    ['exposure', `max ${pol.exposure.maxBits} bits`, pol.exposure.why ?? ''],
    ['extraction', `max ${pol.extraction.maxExtracted} extracted`, pol.extraction.why ?? ''],
    ['membership', `TPR <= ${pol.membership.maxTpr} at FPR ${pol.membership.fpr}`, pol.membership.why ?? ''],
    ['DP', `${pol.dp.required ? 'required' : 'not required'}; epsilon <= ${pol.dp.maxEpsilon}, delta <= ${pol.dp.maxDelta}`, pol.dp.why ?? ''],
  ]);
  const used = Object.entries(report.probeOptions ?? {});
  if (used.length > 0) {
    h(2, 'Probe options');
    table(['probe', 'options'], used.map(([probe, o]) => [probe, Object.entries(o).map(([k, val]) => `${k}=${String(val)}`).join(', ')]));
  }
  p('This report holds no training records and no model generations: only digests, counts, canary ids and metrics.');
  return { title: `memaudit report: ${v.verdict}`, verdict: v.verdict, blocks };
}

/** The empirical DP audit in words; a bound the sample cannot lift above 0 is said to be unresolved, not "epsilon >= 0". */
function dpAuditText(da: NonNullable<Report['results']['dp-audit']>): string {
  const setting = `Empirical audit (${da.method}, ${da.canaries} canaries, ${da.confidence} confidence)`;
  if (!(num(da.ceiling) > 0)) {
    return `${setting}: not resolved: ${da.canaries} canaries cannot show any epsilon above 0 at this confidence, whatever the model does; it needs more canaries (memaudit plan sizes them).`;
  }
  const claim = da.claimedEpsilon === null ? '' : ` against a claim of ${show(da.claimedEpsilon)}`;
  return `${setting}: epsilon >= ${show(da.epsilonLowerBound)}${claim}${da.refuted ? ': the DP claim is REFUTED.' : '.'} The largest bound ${da.canaries} canaries can show is ${show(da.ceiling)}, so a bound below the claim is not evidence of privacy.`;
}

/** Which members and non-members the membership figures compare (counts and digests only). */
function membershipPopulation(mb: NonNullable<Report['results']['membership']>): string {
  if (mb.population === 'records' && mb.records) {
    const r = mb.records;
    return `Population: real records. Members: ${r.members} drawn at random from the ${r.training.realRecords} real training records (sha256 ${r.training.sha256.slice(0, 16)}...); non-members: the ${r.nonMembers} held-out records (sha256 ${r.holdout.sha256.slice(0, 16)}...).`;
  }
  return mb.population === 'files' ? "Population: the user's member and non-member files." : 'Population: inserted canaries (members) against reference canaries (non-members).';
}

const signatureWords = {
  verified: 'signed, verified with a trusted key',
  unverified: 'signed, NOT verified (no --trust-key given)',
  unsigned: 'unsigned',
} as const;

/** The manifest's signature and role check, for "What was audited" (none in reports written before they existed). */
function manifestIntegrityRows(report: Report): [string, string][] {
  const mi = report.manifestIntegrity;
  if (!mi) return [];
  return [
    ['manifest signature', `${signatureWords[mi.signature.status]}${mi.signature.keyid ? `, keyid ${mi.signature.keyid}` : ''}`],
    [
      'manifest roles',
      mi.roles.status === 'verified'
        ? `checked against ${mi.roles.data} (sha256 ${mi.roles.dataSha256}): every inserted secret occurs its recorded number of times, no reference secret occurs`
        : 'not checked against the training data (pass --data)',
    ],
  ];
}
