/**
 * What `memaudit demo` runs: one synthetic dataset with planted MRN canaries and a real holdout,
 * sized by `memaudit plan` (src/policy/plan.ts) for the DP guarantee the demo trains with, and the
 * same char LM trained twice on it, without DP and with DP-SGD at that guarantee. The DP budget
 * is small enough that its verified, signed guarantee passes membership and exposure at every
 * planted repetition count by theorem (docs/SCIENCE.md, "DP as a stand-in"), so the full demo's
 * DP model can clear. `quick` is sized to finish in about a minute: too few notes for the planned
 * holdout, so its DP model stays INCONCLUSIVE and the summary names the full sizes.
 */
import type { TrainConfig } from '../train/config.js';
import type { ProbeName } from '../../probes/types.js';
import { loadPack } from '../canary/index.js';
import { defaultPolicy } from '../policy/load.js';
import { planAudit, type Plan } from '../policy/plan.js';

export interface DemoRunPlan {
  name: 'no-dp' | 'dp';
  train: TrainConfig;
}

export interface DemoPlan {
  notes: number;
  /** Built-in canary pack: MRN-style 8-digit secrets (2^26.6 candidates, estimated exposure). */
  pack: string;
  repetitions: number[];
  /** `plan`'s sizes for the full demo's dataset and DP guarantee (the quick run plants its canaries but cannot hold its holdout). */
  audit: Plan;
  /** Real notes withheld from training as membership non-members (the plan's holdout, or fewer when quick). */
  holdout: number;
  runs: DemoRunPlan[];
  probeOptions: Partial<Record<ProbeName, Record<string, unknown>>>;
}

const common = { model: 'charlm', clipNorm: 1, learningRate: 0.01, optimizer: 'adam', accountant: 'rdp' } as const;

/**
 * The DP run's budget. Group privacy bounds the fraction of canaries inserted r times over
 * maxBits by e^(r eps) 2^-maxBits + r e^((r-1) eps) delta: at eps 0.9 that is 0.036 <= 0.05 for
 * r = 4, and membership's e^eps fpr + delta is 0.0025 <= 0.01.
 */
export const demoTargetEpsilon = 0.9;
export const demoDelta = 1e-5;
export const demoRepetitions = [1, 4];
export const demoPack = 'mrn';
/** The full demo's notes: the plan's holdout plus its members. */
export const demoFullNotes = 2000;

/** The `plan` command whose sizes the demo plants. */
export const demoPlanCommand = `npx memaudit plan --dataset-size ${demoFullNotes} --repetitions ${demoRepetitions.join(',')} --dp-epsilon ${demoTargetEpsilon} --dp-delta ${demoDelta}`;

/** `plan`'s sizes for the full demo: what demoPlanCommand prints. */
export function demoAuditPlan(): Plan {
  return planAudit({
    policy: defaultPolicy().policy,
    datasetSize: demoFullNotes,
    repetitions: demoRepetitions,
    spaceSizeLog2: loadPack(demoPack).space.log2Size,
    exposureMode: 'estimated',
    dp: { epsilon: demoTargetEpsilon, delta: demoDelta },
  });
}

export function demoPlan(quick: boolean): DemoPlan {
  const audit = demoAuditPlan();
  const epochs = quick ? 8 : 6;
  return {
    notes: quick ? 80 : demoFullNotes,
    pack: demoPack,
    repetitions: demoRepetitions,
    audit,
    holdout: quick ? 20 : audit.holdout,
    runs: [
      { name: 'no-dp', train: { ...common, dp: false, batchSize: 16, epochs } },
      {
        name: 'dp',
        train: { ...common, dp: true, targetEpsilon: demoTargetEpsilon, delta: demoDelta, batchSize: quick ? 32 : 64, epochs },
      },
    ],
    probeOptions: {
      extraction: { samples: quick ? 8 : 64 },
      exposure: quick ? { samples: 2000 } : {},
    },
  };
}
