/** Crafted probe results for verdict, report and gate tests (no model needed). */
import type { DpAuditResult, ExposureResult, ExtractionResult, MembershipResult, ProbeRunInfo } from '../../probes/types.js';
import type { AuditEvidence, LedgerEvidence, ManifestSummary } from '../../src/policy/evidence.js';
import type { TargetDescriptor } from '../../src/targets/target.js';

export const target: TargetDescriptor = {
  target: '/models/m1',
  kind: 'local',
  task: 'lm',
  digest: 'a'.repeat(64),
  files: [
    { name: 'model.json', sha256: 'b'.repeat(64) },
    { name: 'weights.bin', sha256: 'c'.repeat(64) },
  ],
  capabilities: { scoreText: true, nextTokenDistribution: true, generate: true, beamSearch: true, classProbabilities: false },
  tokenizer: 'char',
};

function info<P extends ProbeRunInfo['probe']>(probe: P) {
  return {
    probe,
    version: 1 as const,
    toolVersion: '0.1.0',
    backend: 'wasm',
    target,
    manifestDigest: 'd'.repeat(64),
    seed: '7',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:01:00.000Z',
  };
}

export function manifest(perRep = 10, references = 40, reps = [1, 4, 16], bits = 29.9): ManifestSummary {
  return {
    digest: 'd'.repeat(64),
    mode: 'fixed',
    pack: 'ssn',
    kind: 'text',
    spaceSizeLog2: bits,
    inserted: perRep * reps.length,
    references,
    byRepetitions: reps.map((repetitions) => ({ repetitions, count: perRep })),
    input: { sha256: 'e'.repeat(64), records: 1000 },
    output: { sha256: 'f'.repeat(64), records: 1210 },
  };
}

/** Exposure: inserted canaries get `exposureFor(reps, i)` bits, references spread like the null. */
export function exposure(exposureFor: (reps: number, i: number) => number, m = manifest()): ExposureResult {
  const canaries: ExposureResult['canaries'] = [];
  for (const g of m.byRepetitions) {
    for (let i = 0; i < g.count; i++) {
      canaries.push({ id: `c${g.repetitions}-${i}`, role: 'inserted', repetitions: g.repetitions, exposureBits: exposureFor(g.repetitions, i), method: 'exact', rank: 1, logPerplexity: 10 });
    }
  }
  // Null exposures: -log2 of evenly spread uniform quantiles.
  for (let i = 0; i < m.references; i++) {
    canaries.push({ id: `r-${i}`, role: 'reference', repetitions: 0, exposureBits: -Math.log2((i + 0.5) / m.references), method: 'exact', rank: 1, logPerplexity: 20 });
  }
  return exposureResult(canaries, m, 'exact');
}

/** An exposure result holding these canaries, with the summaries probes/exposure.ts writes beside them. */
export function exposureResult(canaries: ExposureResult['canaries'], m: ManifestSummary, mode: 'exact' | 'estimated', candidatesPerCanary = 2 ** m.spaceSizeLog2): ExposureResult {
  const stats = (list: typeof canaries) => ({
    count: list.length,
    meanExposureBits: list.reduce((s, c) => s + c.exposureBits, 0) / list.length,
    maxExposureBits: Math.max(...list.map((c) => c.exposureBits)),
  });
  const refs = canaries.filter((c) => c.role === 'reference');
  // Everything probes/exposure.ts writes (the report holds results to the probe's own schema).
  return {
    ...info('exposure'),
    mode,
    scoring: 'prefix-shared',
    candidatesPerCanary,
    spaceSizeLog2: m.spaceSizeLog2,
    canaries,
    byRepetitions: m.byRepetitions.map((g) => ({ repetitions: g.repetitions, ...stats(canaries.filter((c) => c.role === 'inserted' && c.repetitions === g.repetitions)) })),
    reference: stats(refs),
  } as ExposureResult;
}

/** Shaped as probes/extraction.ts writes it: inserted canaries by repetition count, references apart. */
export function extraction(extractedByReps: Record<number, number>, m = manifest(), referenceExtracted = 0): ExtractionResult {
  const byRepetitions = m.byRepetitions.map((g) => ({ repetitions: g.repetitions, count: g.count, extracted: extractedByReps[g.repetitions] ?? 0 }));
  const canaries = [
    ...byRepetitions.flatMap((g) => Array.from({ length: g.count }, (_, i) => ({ id: `c${g.repetitions}-${i}`, repetitions: g.repetitions, role: 'inserted' as const, greedy: i < g.extracted, beamRank: null }))),
    ...Array.from({ length: m.references }, (_, i) => ({ id: `r-${i}`, repetitions: 0, role: 'reference' as const, greedy: i < referenceExtracted, beamRank: null })),
  ];
  return {
    ...info('extraction'),
    targeted: {
      attempted: byRepetitions.reduce((s, g) => s + g.count, 0),
      extracted: byRepetitions.reduce((s, g) => s + g.extracted, 0),
      byRepetitions,
      reference: { attempted: m.references, extracted: referenceExtracted },
      beam: 'distributions',
      canaries,
    } as ExtractionResult['targeted'],
    untargeted: { samples: 50, identifiers: { ssn: 3 }, verbatimTrainingMatches: 0 },
  };
}

/**
 * Membership results whose ROC holds `tpr` up to FPR 10/n (every low-FPR vertex a probe keeps),
 * then rises: or the given ROC.
 */
export function membership(attacks: { name: string; members: number; nonMembers: number; tpr: number; auc?: number; roc?: { fpr: number[]; tpr: number[] } }[]): MembershipResult {
  return {
    ...info('membership'),
    population: 'manifest',
    skipped: [],
    attacks: attacks.map((a) => ({
      name: a.name,
      members: a.members,
      nonMembers: a.nonMembers,
      auc: a.auc ?? 0.5,
      tprAtFpr: { '0.001': a.tpr, '0.01': Math.min(1, a.tpr + 0.01), '0.1': Math.min(1, a.tpr + 0.1) },
      roc: a.roc ?? {
        fpr: [0, ...Array.from({ length: 10 }, (_, k) => (k + 1) / a.nonMembers), 0.01, 0.1, 0.5, 1],
        tpr: [a.tpr, ...Array.from({ length: 10 }, () => a.tpr), Math.min(1, a.tpr + 0.01), Math.min(1, a.tpr + 0.1), 0.6, 1],
      },
    })),
  } as MembershipResult;
}

/** `audit` runs dp-audit at the policy's confidence, 1 - alpha (0.999 under the default policy). */
export function dpAudit(lowerBound: number, claimed: number | null, confidence = 0.999): DpAuditResult {
  return {
    ...info('dp-audit'),
    method: 'clopper-pearson',
    epsilonLowerBound: lowerBound,
    confidence,
    ceiling: 3.28,
    claimedEpsilon: claimed,
    delta: 1e-5,
    refuted: claimed !== null && lowerBound > claimed,
    canaries: 200,
  };
}

export const dpLedger = (epsilon = 2.5, noiseSource: 'csprng' | 'seeded' = 'csprng'): LedgerEvidence => ({
  version: 1,
  dp: true,
  epsilon: { rdp: epsilon + 0.2, pld: epsilon },
  accountant: 'pld',
  delta: 1e-5,
  noiseSource,
  steps: 300,
  noiseMultiplier: 1.1,
  samplingRate: 0.01,
  clipNorm: 1,
  datasetSize: 1210,
  epsilonHistory: Array.from({ length: 30 }, (_, i) => ({ step: (i + 1) * 10, epsilon: epsilon * Math.sqrt((i + 1) / 30) })),
});

/** The default policy's membership attacks (every one must be present to clear), each with these figures. */
export function policyAttacks(members: number, nonMembers: number, tpr: number): { name: string; members: number; nonMembers: number; tpr: number }[] {
  return ['loss', 'zlib', 'min-k', 'min-k++'].map((name) => ({ name, members, nonMembers, tpr }));
}

/** A well-powered clean run: low exposure, nothing extracted, membership at chance with big samples. */
export function cleanEvidence(): AuditEvidence {
  const m = manifest(200, 1200);
  return {
    manifest: m,
    results: {
      exposure: exposure((_r, i) => -Math.log2((i + 0.5) / 200), m),
      extraction: extraction({}, m),
      membership: membership(policyAttacks(800, 1200, 0)),
    },
    failures: [],
    ledger: { version: 1, dp: false },
  };
}
