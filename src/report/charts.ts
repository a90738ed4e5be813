/**
 * The report's three charts, each null when its data is absent:
 * ROC curves on log-log axes (low FPRs are where membership attacks matter, Carlini et al. 2022),
 * exposure by repetition count against the never-inserted reference baseline (Secret Sharer),
 * and epsilon over training steps from the DP ledger.
 */
import { exposureThreshold } from '../policy/verdict.js';
import { renderChart, type Marker, type Series } from './svg.js';
import type { Report } from './types.js';

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];
/** Per attack: a dash pattern and a marker as well as a colour, so curves that coincide (AUC 1, chance) all stay visible. */
const attackDashes = [undefined, '8 4', '2 3', '10 3 2 3', '4 4', '12 6', '1 2'];
const attackMarkers: Marker[] = ['circle', 'square', 'triangle', 'diamond', 'cross'];

/** Non-members needed to resolve a TPR at false positive rate `fpr` (docs/SCIENCE.md "What a sample can resolve, as the report shows it"). */
export function nonMembersToResolve(fpr: number): number {
  return Math.ceil(1 / fpr - 1e-9);
}
const num = (x: unknown): number => (typeof x === 'number' ? x : Number(x));
const show = (x: number): string => String(Number(x.toPrecision(3)));

export interface Chart {
  id: 'roc' | 'exposure' | 'epsilon';
  title: string;
  description: string;
  svg: string;
}

export function rocChart(report: Report): Chart | null {
  const attacks = (report.results.membership?.attacks ?? []).filter((a) => a.roc && a.roc.fpr.length > 1);
  if (attacks.length === 0) return null;
  // Floor of the log axes: the smallest FPR any attack's sample resolves (1 / non-members), a decade boundary.
  const maxNonMembers = Math.max(...attacks.map((a) => a.nonMembers));
  const policy = report.policy.membership;
  const policyFpr = Number(policy.fpr);
  // The axes reach the policy's FPR too, so its limit is drawn where it applies even when no curve gets there.
  const floor = 10 ** Math.floor(Math.log10(Math.min(policyFpr, 1 / Math.max(1, maxNonMembers))) + 1e-9);
  const series: Series[] = attacks.map((a, i) => {
    // An FPR below 1/non-members is not measured by this sample: those ROC points are not drawn.
    const resolved = a.roc!.fpr.map((f, j): [number, number] => [f, a.roc!.tpr[j]!]).filter(([f]) => f * a.nonMembers >= 1 - 1e-9);
    const tpr = a.nonMembers >= nonMembersToResolve(policyFpr) ? `, TPR@FPR ${policy.fpr} ${num(a.tprAtFpr[policy.fpr]).toFixed(3)}` : '';
    return {
      name: `${a.name} (AUC ${num(a.auc).toFixed(3)}${tpr})`,
      color: palette[i % palette.length]!,
      dash: attackDashes[i % attackDashes.length],
      marker: attackMarkers[i % attackMarkers.length],
      // Earlier curves wider and with larger markers: identical curves (AUC 1, or all at chance) show as nested bands.
      lineWidth: 2 + 2 * (attacks.length - 1 - i),
      markerRadius: 3 + 1.5 * (attacks.length - 1 - i),
      points: resolved.map(([f, t]): [number, number] => [f, Math.max(t, floor)]),
    };
  });
  series.push({ name: 'chance (TPR = FPR)', color: '#888', dashed: true, points: [[floor, floor], [1, 1]] });
  series.push({ name: `policy limit: TPR <= ${show(policy.maxTpr)} at FPR ${policy.fpr}`, color: '#000', style: 'points', marker: 'cross', points: [[policyFpr, Math.max(policy.maxTpr, floor)]] });
  const title = 'Membership inference ROC (log-log)';
  const description =
    attacks.map((a) => `${a.name}: AUC ${num(a.auc).toFixed(3)} (${a.members} members, ${a.nonMembers} non-members; ROC drawn down to FPR 1/${a.nonMembers})`).join('; ') +
    `; policy limit TPR <= ${show(policy.maxTpr)} at FPR ${policy.fpr}`;
  return {
    id: 'roc',
    title,
    description,
    svg: renderChart({ title, description, x: { min: floor, max: 1, log: true, label: 'false positive rate' }, y: { min: floor, max: 1, log: true, label: 'true positive rate' }, series }),
  };
}

export function exposureChart(report: Report): Chart | null {
  const r = report.results.exposure;
  if (!r) return null;
  const inserted = r.canaries.filter((c) => c.role === 'inserted');
  if (inserted.length === 0) return null;
  const reps = [...new Set(inserted.map((c) => c.repetitions))].sort((a, b) => a - b);
  const threshold = exposureThreshold(report.policy).bits;
  const xMin = Math.max(0.5, reps[0]! / 1.6);
  const xMax = reps[reps.length - 1]! * 1.6;
  const yMax = Math.ceil(Math.max(r.spaceSizeLog2, threshold, ...inserted.map((c) => num(c.exposureBits)).filter(Number.isFinite)) + 1);
  const flat = (y: number): [number, number][] => [[xMin, y], [xMax, y]];
  const series: Series[] = [
    { name: 'inserted canaries', color: palette[0]!, style: 'points', marker: 'circle', points: inserted.map((c) => [c.repetitions, num(c.exposureBits)]) },
    { name: 'mean by repetition count', color: '#222', style: 'both', marker: 'square', points: r.byRepetitions.map((g) => [g.repetitions, num(g.meanExposureBits)]) },
  ];
  if (r.reference.count > 0) {
    series.push({ name: `reference baseline: mean of ${r.reference.count} never inserted`, color: '#555', dashed: true, points: flat(num(r.reference.meanExposureBits)) });
    series.push({ name: 'reference baseline: max', color: '#aaa', dash: '2 3', points: flat(num(r.reference.maxExposureBits)) });
  }
  series.push({ name: `policy threshold (${threshold.toFixed(1)} bits)`, color: palette[1]!, dashed: true, points: flat(threshold) });
  series.push({ name: `largest possible (log2 |R| = ${r.spaceSizeLog2.toFixed(1)})`, color: palette[2]!, dash: '10 3 2 3', points: flat(r.spaceSizeLog2) });
  const title = 'Canary exposure by repetition count';
  const description = `${r.byRepetitions.map((g) => `${g.repetitions}x: mean ${num(g.meanExposureBits).toFixed(2)}, max ${num(g.maxExposureBits).toFixed(2)} bits`).join('; ')}; references mean ${num(r.reference.meanExposureBits).toFixed(2)} bits; threshold ${threshold.toFixed(2)} bits`;
  return {
    id: 'exposure',
    title,
    description,
    svg: renderChart({
      title,
      description,
      x: { min: xMin, max: xMax, log: true, label: 'times inserted in the training data', ticks: reps, tickLabel: (v) => `${v}x` },
      y: { min: 0, max: yMax, label: 'exposure (bits)' },
      series,
    }),
  };
}

export function epsilonChart(report: Report): Chart | null {
  const ledger = report.ledger;
  if (!ledger || !ledger.dp || !ledger.epsilonHistory || ledger.epsilonHistory.length === 0) return null;
  const history = ledger.epsilonHistory.map((p): [number, number] => [p.step, num(p.epsilon)]);
  const lastStep = Math.max(...history.map(([s]) => s), 1);
  const ceiling = report.policy.dp.maxEpsilon;
  // The empirical lower bound the DP audit tests the claim with, when it resolved one above 0.
  const audit = report.results['dp-audit'];
  const lowerBound = audit && num(audit.ceiling) > 0 && Number.isFinite(num(audit.epsilonLowerBound)) ? num(audit.epsilonLowerBound) : null;
  const yMax = Math.max(ceiling, lowerBound ?? 0, ...history.map(([, e]) => e).filter(Number.isFinite)) * 1.1;
  const title = 'Privacy budget over training';
  const claimed = ledger.epsilon[ledger.accountant];
  const description =
    `epsilon (RDP, delta ${ledger.delta}) reaches ${history[history.length - 1]![1].toFixed(3)} after ${lastStep} steps; final claimed epsilon ${num(claimed).toFixed(3)} (${ledger.accountant}); policy ceiling ${ceiling}` +
    (lowerBound === null ? '' : `; empirical lower bound ${show(lowerBound)}`);
  return {
    id: 'epsilon',
    title,
    description,
    svg: renderChart({
      title,
      description,
      x: { min: 0, max: lastStep, label: 'training step' },
      y: { min: 0, max: yMax, label: `epsilon (delta = ${ledger.delta})` },
      series: [
        { name: 'epsilon (RDP accountant)', color: palette[0]!, points: history },
        { name: `policy ceiling (${ceiling})`, color: palette[1]!, dashed: true, points: [[0, ceiling], [lastStep, ceiling]] },
        ...(lowerBound === null
          ? []
          : [{ name: `empirical lower bound (dp-audit, ${audit!.confidence} confidence): ${show(lowerBound)}`, color: palette[3]!, dash: '2 3', points: [[0, lowerBound], [lastStep, lowerBound]] as [number, number][] }]),
      ],
    }),
  };
}

export function reportCharts(report: Report): Chart[] {
  return [rocChart(report), exposureChart(report), epsilonChart(report)].filter((c): c is Chart => c !== null);
}
