/**
 * The report's three charts, each null when its data is absent:
 * ROC curves on log-log axes (low FPRs are where membership attacks matter, Carlini et al. 2022),
 * exposure by repetition count against the never-inserted reference baseline (Secret Sharer),
 * and epsilon over training steps from the DP ledger.
 */
import { exposureThreshold } from '../policy/verdict.js';
import { renderChart, type Series } from './svg.js';
import type { Report } from './types.js';

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];
const num = (x: unknown): number => (typeof x === 'number' ? x : Number(x));

export interface Chart {
  id: 'roc' | 'exposure' | 'epsilon';
  title: string;
  description: string;
  svg: string;
}

export function rocChart(report: Report): Chart | null {
  const attacks = (report.results.membership?.attacks ?? []).filter((a) => a.roc && a.roc.fpr.length > 1);
  if (attacks.length === 0) return null;
  // Floor of the log axes: one decade below the smallest resolvable FPR (1 / non-members).
  const maxNonMembers = Math.max(...attacks.map((a) => a.nonMembers));
  const floor = 10 ** Math.floor(Math.log10(Math.min(1e-3, 1 / Math.max(1, maxNonMembers))) - 1e-9);
  const series: Series[] = attacks.map((a, i) => ({
    name: `${a.name} (AUC ${num(a.auc).toFixed(3)}, TPR@0.1% ${num(a.tprAtFpr['0.001']).toFixed(3)})`,
    color: palette[i % palette.length]!,
    points: a.roc!.fpr.map((f, j): [number, number] => [Math.max(f, floor), Math.max(a.roc!.tpr[j]!, floor)]),
  }));
  series.push({ name: 'chance (TPR = FPR)', color: '#888', dashed: true, points: [[floor, floor], [1, 1]] });
  const title = 'Membership inference ROC (log-log)';
  const description = attacks.map((a) => `${a.name}: AUC ${num(a.auc).toFixed(3)}, TPR ${num(a.tprAtFpr['0.001']).toFixed(4)} at 0.1% FPR (${a.members} members, ${a.nonMembers} non-members)`).join('; ');
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
    { name: 'inserted canaries', color: palette[0]!, style: 'points', points: inserted.map((c) => [c.repetitions, num(c.exposureBits)]) },
    { name: 'mean by repetition count', color: palette[0]!, points: r.byRepetitions.map((g) => [g.repetitions, num(g.meanExposureBits)]) },
  ];
  if (r.reference.count > 0) {
    series.push({ name: `reference baseline: mean of ${r.reference.count} never inserted`, color: '#555', dashed: true, points: flat(num(r.reference.meanExposureBits)) });
    series.push({ name: 'reference baseline: max', color: '#aaa', dashed: true, points: flat(num(r.reference.maxExposureBits)) });
  }
  series.push({ name: `policy threshold (${threshold.toFixed(1)} bits)`, color: palette[1]!, dashed: true, points: flat(threshold) });
  series.push({ name: `largest possible (log2 |R| = ${r.spaceSizeLog2.toFixed(1)})`, color: palette[2]!, dashed: true, points: flat(r.spaceSizeLog2) });
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
  const yMax = Math.max(ceiling, ...history.map(([, e]) => e).filter(Number.isFinite)) * 1.1;
  const title = 'Privacy budget over training';
  const claimed = ledger.epsilon[ledger.accountant];
  const description = `epsilon (RDP, delta ${ledger.delta}) reaches ${history[history.length - 1]![1].toFixed(3)} after ${lastStep} steps; final claimed epsilon ${num(claimed).toFixed(3)} (${ledger.accountant}); policy ceiling ${ceiling}`;
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
      ],
    }),
  };
}

export function reportCharts(report: Report): Chart[] {
  return [rocChart(report), exposureChart(report), epsilonChart(report)].filter((c): c is Chart => c !== null);
}
