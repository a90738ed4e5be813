/**
 * Synthetic tabular patient records (`synth records`): quasi-identifiers (age, sex, ZIP) and
 * clinical features, with a 30-day readmission label drawn from a logistic model of the features,
 * so a classifier can learn it (the true model is right about 83% of the time against 63% for the
 * majority class; the label is noisy on purpose, like real outcomes). The columns match the `patient-record` canary pack.
 */
import type { Rng } from '../../core/rng.js';
import { seededFaker } from './faker.js';

export const recordColumns = ['age', 'sex', 'zip', 'bmi', 'systolic_bp', 'glucose', 'smoker', 'prior_admissions', 'label'] as const;
export type SyntheticRecord = Record<(typeof recordColumns)[number], string>;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.round(v)));

/** log-odds of readmission; the weights are the "true" model a classifier should recover. */
export function readmissionLogit(r: { age: number; bmi: number; systolic: number; glucose: number; smoker: boolean; prior: number }): number {
  return -2.4 + 0.08 * (r.age - 55) + 0.04 * (r.glucose - 110) + 0.05 * (r.systolic - 130) + 1.4 * (r.smoker ? 1 : 0) + 0.85 * r.prior + 0.08 * (r.bmi - 28);
}

export function* syntheticRecords(count: number, rng: Rng): Generator<SyntheticRecord> {
  const r = rng.fork('synth-records');
  const faker = seededFaker(r.fork('faker'));
  for (let i = 0; i < count; i++) {
    const age = clamp(55 + 16 * r.normal(), 18, 90);
    const sex = r.bernoulli(0.5) ? 'F' : 'M';
    const bmi = clamp(28 + 5.5 * r.normal(), 16, 50);
    const systolic = clamp(126 + 0.3 * (age - 55) + 0.6 * (bmi - 28) + 14 * r.normal(), 90, 200);
    const glucose = clamp(105 + 1.2 * (bmi - 28) + 0.4 * (age - 55) + 22 * Math.abs(r.normal()) * (r.bernoulli(0.2) ? 3 : 1), 60, 350);
    const smoker = r.bernoulli(0.18);
    // Prior admissions: geometric-like, more with age.
    let prior = 0;
    while (prior < 9 && r.bernoulli(0.25 + 0.004 * (age - 18))) prior++;
    const p = 1 / (1 + Math.exp(-readmissionLogit({ age, bmi, systolic, glucose, smoker, prior })));
    yield {
      age: String(age),
      sex,
      zip: faker.location.zipCode('#####'),
      bmi: String(bmi),
      systolic_bp: String(systolic),
      glucose: String(glucose),
      smoker: smoker ? '1' : '0',
      prior_admissions: String(prior),
      label: r.bernoulli(p) ? '1' : '0',
    };
  }
}
