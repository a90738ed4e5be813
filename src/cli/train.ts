/**
 * `memaudit train`: trains a charlm, an mlp or a user's model.json, with or without DP-SGD, and
 * writes a model directory. Thin: parse flags, call src/train, print (--json fields: DESIGN.md).
 * src/train and src/models load TensorFlow.js, so the handler imports them; the flag choices and
 * defaults below mirror theirs (test/core/startup.test.ts keeps them equal).
 */
import type { CommandModule } from 'yargs';
import { accountantNames, type AccountantName } from '../accounting/types.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SelfAuditRecord } from '../accounting/privacyFile.js';
import { loadSigningKey, signingKeyEnv } from '../attest/keys.js';
import { ExitCode, UsageError } from '../core/errors.js';
import { sha256Hex } from '../core/hash.js';
import { fmt, renderTable } from '../core/format.js';
import { numberFlag, numberListFlag, rules } from '../core/flags.js';
import { dataFormats, type DataFormat } from '../data/format.js';
import type { HiddenActivation } from '../models/charlm.js';
import type { OptimizerName, TrainConfig } from '../train/index.js';
import { progressFor, runCommand, type GlobalArgs } from './context.js';
import { emit } from './output.js';
import { auditLogOptions, recordRun, type AuditLogArgs } from './audit-log.js';

/** src/train's optimizerNames. */
export const optimizerChoices: readonly OptimizerName[] = ['sgd', 'momentum', 'adam'];
/** src/models/charlm's hiddenActivations. */
export const activationChoices: readonly HiddenActivation[] = ['relu', 'tanh', 'sigmoid', 'elu', 'selu', 'softplus', 'linear'];
/** src/train's trainDefaults, for the flags that show them. */
export const trainFlagDefaults = { clipNorm: 1, batchSize: 64, epochs: 3, learningRate: 0.005, optimizer: 'adam' as OptimizerName, accountant: 'rdp' as AccountantName };

interface TrainArgs extends GlobalArgs, AuditLogArgs {
  data: string;
  model: string;
  out: string;
  format?: DataFormat;
  textField?: string;
  labelColumn?: string;
  dp: boolean;
  noiseMultiplier?: number;
  targetEpsilon?: number;
  delta?: number;
  clipNorm: number;
  batchSize: number;
  epochs: number;
  lr: number;
  optimizer: OptimizerName;
  accountant: AccountantName;
  contextLength?: number;
  embeddingDim?: number;
  hidden?: number[];
  activation?: HiddenActivation;
  layerNorm?: boolean;
  signKey?: string;
  selfAudit?: number;
  selfAuditConfidence?: number;
}

export interface TrainJson {
  modelDir: string;
  steps: number;
  epsilon: number | null;
  delta: number | null;
  noiseMultiplier: number | null;
  samplingRate: number;
  finalLoss: number;
  plannedSteps: number;
  stoppedAtBudget: boolean;
  task: string;
  accountant: AccountantName | null;
  noiseSource: string | null;
  backend: string;
  /** DIR/provenance.dsse.json when signed (--sign-key or $MEMAUDIT_SIGNING_KEY), else null. */
  provenance: string | null;
  provenanceKeyid: string | null;
  /** The white-box self-audit (`--self-audit M`), as in privacy.json; null without it. */
  selfAudit: SelfAuditRecord | null;
}

export const trainCommand: CommandModule<GlobalArgs, TrainArgs> = {
  command: 'train',
  describe: 'Train a model (charlm, mlp, or a tfjs model.json), optionally with DP-SGD, into a model directory',
  builder: (y) =>
    auditLogOptions(y)
      .option('data', { type: 'string', demandOption: true, describe: 'Training data: JSONL, CSV or plain text (e.g. the output of canary insert)' })
      .option('model', { type: 'string', default: 'charlm', describe: 'charlm | mlp | path of a tfjs LayersModel model.json to train as given' })
      .option('out', { type: 'string', demandOption: true, describe: 'Model directory to write' })
      .option('format', { choices: dataFormats, describe: 'Data format (default: from the file extension)' })
      .option('text-field', { type: 'string', describe: 'JSONL field / CSV column holding the text (default "text")' })
      .option('label-column', { type: 'string', describe: 'Column (CSV) or field (JSONL) holding the label: trains a classifier (mlp)' })
      .option('dp', { type: 'boolean', default: false, describe: 'Train with DP-SGD (Poisson sampling, per-example clipping, Gaussian noise); --no-dp for a baseline' })
      .option('noise-multiplier', { type: 'string', describe: 'DP noise multiplier sigma', coerce: numberFlag('noise-multiplier') })
      .option('target-epsilon', { type: 'string', describe: 'DP budget: calibrates sigma (or, with --noise-multiplier, stops training at the budget)', coerce: numberFlag('target-epsilon') })
      .option('delta', { type: 'string', describe: 'DP delta (default min(1e-5, 1/(10 N)))', coerce: numberFlag('delta', rules.openUnit) })
      .option('clip-norm', { type: 'string', default: String(trainFlagDefaults.clipNorm), describe: 'Per-example gradient clip norm C', coerce: numberFlag('clip-norm') })
      .option('batch-size', { type: 'string', default: String(trainFlagDefaults.batchSize), describe: 'Expected batch size (DP: q = B/N)', coerce: numberFlag('batch-size') })
      .option('epochs', { type: 'string', default: String(trainFlagDefaults.epochs), describe: 'Epochs (steps = ceil(E*N/B))', coerce: numberFlag('epochs') })
      .option('lr', { type: 'string', default: String(trainFlagDefaults.learningRate), describe: 'Learning rate', coerce: numberFlag('lr') })
      .option('optimizer', { choices: optimizerChoices, default: trainFlagDefaults.optimizer, describe: 'Optimizer' })
      .option('accountant', { choices: accountantNames, default: trainFlagDefaults.accountant, describe: 'Accountant for epsilon and calibration: rdp, or pld (tighter)' })
      .option('context-length', { type: 'string', describe: 'charlm: characters of context', coerce: numberFlag('context-length') })
      .option('embedding-dim', { type: 'string', describe: 'charlm: embedding size', coerce: numberFlag('embedding-dim') })
      .option('hidden', { type: 'string', describe: 'Hidden layer sizes, e.g. 128 or 64,64', coerce: numberListFlag('hidden') })
      .option('activation', { choices: activationChoices, describe: 'Hidden activation' })
      .option('layer-norm', { type: 'boolean', describe: 'Layer normalization after each hidden layer' })
      .option('sign-key', { type: 'string', describe: `Private key (PKCS#8 PEM) to sign the training provenance, provenance.dsse.json [default: $${signingKeyEnv}]` })
      .option('self-audit', { type: 'string', describe: 'DP: audit the run from inside with M gradient canaries (one-run white-box bound in privacy.json)', coerce: numberFlag('self-audit', rules.positiveInt) })
      .option('self-audit-confidence', { type: 'string', describe: "Confidence of the self-audit's bound (default: the default policy's, 1 - alpha)", coerce: numberFlag('self-audit-confidence', rules.openUnit) }) as never,
  handler: (args) =>
    runCommand('train', async () => {
      if (args.model === 'mlp' && args.labelColumn === undefined) throw new UsageError('--model mlp needs --label-column');
      if (args.selfAuditConfidence !== undefined && args.selfAudit === undefined) throw new UsageError('--self-audit-confidence needs --self-audit M');
      const selfAudit = args.selfAudit === undefined ? undefined : { canaries: args.selfAudit, confidence: args.selfAuditConfidence ?? 1 - (await import('../policy/load.js')).defaultPolicy().policy.alpha };
      // A bad key is refused before training, not after it.
      const signingKey = loadSigningKey(args.signKey);
      if (signingKey?.warning) process.stderr.write(`memaudit train: warning: ${signingKey.warning}\n`);
      const [{ initBackend }, { readTrainingRecords, saveTrainedModel, trainModel }, { modelFiles }, { provenanceFileName, writeProvenance }] = await Promise.all([
        import('../core/backend.js'),
        import('../train/index.js'),
        import('../models/model-dir.js'),
        import('../attest/provenance.js'),
      ]);
      const info = await initBackend(args.backend);
      const config: TrainConfig = {
        model: args.model,
        architecture: { contextLength: args.contextLength, embeddingDim: args.embeddingDim, hiddenUnits: args.hidden, activation: args.activation, layerNorm: args.layerNorm },
        dp: args.dp,
        noiseMultiplier: args.noiseMultiplier,
        targetEpsilon: args.targetEpsilon,
        delta: args.delta,
        clipNorm: args.clipNorm,
        batchSize: args.batchSize,
        epochs: args.epochs,
        learningRate: args.lr,
        optimizer: args.optimizer,
        accountant: args.accountant,
        seed: args.seed,
        ...(selfAudit ? { selfAudit } : {}),
      };
      const records = await readTrainingRecords(args.data, { format: args.format, textField: args.textField, labelColumn: args.labelColumn });
      const result = await trainModel(config, records, { progress: progressFor(args), backend: info.backend });
      await saveTrainedModel(args.out, result, signingKey ? { beforePublish: async (dir) => void (await writeProvenance(dir, signingKey)) } : {});
      const signed = signingKey ? { path: join(args.out, provenanceFileName), keyid: signingKey.keyid } : null;
      const outputs = modelFiles(args.out);
      if (signed) outputs.push({ name: provenanceFileName, sha256: sha256Hex(readFileSync(signed.path)) });
      // A refuted DP claim fails the run (exit 1, like a refuted claim in `audit`); the model directory stays, as evidence.
      const exitCode = result.selfAudit?.refuted ? ExitCode.gateFailed : ExitCode.ok;
      recordRun(args, { command: 'train', inputs: [{ name: args.data, sha256: records.source.sha256 }], outputs, exitCode }, [args.out]);
      const privacy = result.privacy.dp ? result.privacy : undefined;
      const json: TrainJson = {
        modelDir: args.out,
        steps: result.steps,
        epsilon: result.epsilon,
        delta: result.delta,
        noiseMultiplier: result.noiseMultiplier,
        samplingRate: result.samplingRate,
        finalLoss: result.finalLoss,
        plannedSteps: result.plannedSteps,
        stoppedAtBudget: result.stoppedAtBudget,
        task: result.meta.task,
        accountant: privacy ? privacy.accountant : null,
        noiseSource: privacy ? privacy.noiseSource : null,
        backend: info.backend,
        provenance: signed?.path ?? null,
        provenanceKeyid: signed?.keyid ?? null,
        selfAudit: result.selfAudit ?? null,
      };
      emit(args, json, () => {
        const rows: (string | number)[][] = [
          ['item', 'value'],
          ['model directory', json.modelDir],
          ['task', json.task],
          ['steps', json.stoppedAtBudget ? `${json.steps} of ${json.plannedSteps} (stopped at the epsilon budget)` : json.steps],
          ['final loss', fmt(json.finalLoss)],
          ['sampling rate', fmt(json.samplingRate)],
        ];
        if (privacy) {
          rows.push(['noise multiplier', fmt(json.noiseMultiplier)]);
          rows.push(['epsilon', `${fmt(json.epsilon)} at delta ${fmt(json.delta)} (${json.accountant}; rdp ${fmt(privacy.epsilon.rdp)}, pld ${fmt(privacy.epsilon.pld)})`]);
          rows.push(['noise source', json.noiseSource === 'seeded' ? 'seeded (--seed: reproducible, not for production)' : 'csprng']);
          const a = json.selfAudit;
          if (a) {
            const verdict = a.refuted ? 'REFUTED: the DP-SGD implementation or its accounting is wrong' : `not refuted (no bound from ${a.canaries} canaries can exceed ${fmt(a.ceiling)})`;
            rows.push(['self-audit', `epsilon >= ${fmt(a.epsilonLowerBound)} at ${a.confidence} confidence (${a.correct} of ${a.guesses} guesses right, ${a.canaries} canaries): ${verdict}`]);
          }
        } else {
          rows.push(['privacy', 'not private (no DP): treat the weights as possibly memorizing their training data']);
        }
        rows.push(['backend', json.backend]);
        rows.push(['training provenance', signed ? `${signed.path} (signed, keyid ${signed.keyid.slice(0, 16)}...)` : `unsigned (no --sign-key or $${signingKeyEnv})`]);
        return renderTable(rows);
      });
      return exitCode;
    }),
};
