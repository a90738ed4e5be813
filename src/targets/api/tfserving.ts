/**
 * TensorFlow Serving REST classifier target (`tfserving:URL/v1/models/NAME`), through `:predict`
 * in row format (../shared/reference/interfaces.md A.8). A model with one input takes each row as a
 * list in `--features` order; a model with named inputs takes each row as an object.
 */
import { InputError } from '../../core/errors.js';
import { sha256Json } from '../../core/hash.js';
import { BaseTarget, noCapabilities } from '../base.js';
import { displayUrl, HttpStatusError, isAuthError, type HttpClient } from '../http/client.js';
import type { ClassProbabilities, FeatureRow, TargetCapabilities, TargetDescriptor } from '../target.js';
import type { ClassifierApiOptions } from './kserve.js';
import { featureMatrix, labelsFor, pickOutputName, toProbabilities } from './classifier-io.js';

interface ModelStatus {
  model_version_status?: { version?: string; state?: string }[];
}

interface Metadata {
  metadata?: { signature_def?: { signature_def?: Record<string, { inputs?: Record<string, unknown> }> } };
}

export class TfServingTarget extends BaseTarget {
  readonly kind = 'tfserving' as const;
  readonly task = 'classifier' as const;
  readonly label: string;
  readonly capabilities: TargetCapabilities = { ...noCapabilities, classProbabilities: true };
  private readonly url: string;
  private readonly client: HttpClient;
  private readonly options: ClassifierApiOptions;
  private readonly model: string;
  private readonly status: ModelStatus;
  /** Input names of the serving signature, when the metadata lists several. */
  private readonly namedInputs: string[] | undefined;

  private constructor(spec: string, url: string, model: string, client: HttpClient, status: ModelStatus, namedInputs: string[] | undefined, options: ClassifierApiOptions) {
    super();
    this.label = `target ${spec}`;
    this.url = url;
    this.model = model;
    this.client = client;
    this.status = status;
    this.namedInputs = namedInputs;
    this.options = options;
  }

  static async open(spec: string, url: string, model: string, client: HttpClient, options: ClassifierApiOptions): Promise<TfServingTarget> {
    const status = await client.getJson<ModelStatus>(url);
    let namedInputs: string[] | undefined;
    try {
      const meta = await client.getJson<Metadata>(`${url}/metadata`);
      const inputs = meta.metadata?.signature_def?.signature_def?.serving_default?.inputs;
      if (inputs && Object.keys(inputs).length > 1) namedInputs = Object.keys(inputs);
    } catch (e) {
      if (!(e instanceof HttpStatusError) || isAuthError(e)) throw e;
    }
    if (!namedInputs && !(options.features && options.features.length > 0)) {
      throw new InputError(`--target ${spec}: give --features (the column order the model's input expects)`);
    }
    return new TfServingTarget(spec, url, model, client, status, namedInputs, options);
  }

  async describe(): Promise<TargetDescriptor> {
    const versions = (this.status.model_version_status ?? []).map((v) => v.version ?? '').sort();
    return {
      target: this.label.replace(/^target /, ''),
      kind: this.kind,
      task: this.task,
      digest: sha256Json({ kind: this.kind, url: displayUrl(this.url), versions }),
      model: this.model,
      capabilities: { ...this.capabilities },
    };
  }

  override async classProbabilities(rows: FeatureRow[]): Promise<ClassProbabilities> {
    const source = `${displayUrl(this.url)}:predict`;
    if (rows.length === 0) return { labels: this.options.labels ?? [], probabilities: [] };
    let instances: unknown[];
    if (this.namedInputs) {
      const matrix = featureMatrix(rows, this.namedInputs);
      instances = matrix.map((row) => Object.fromEntries(this.namedInputs!.map((name, j) => [name, [row[j]]])));
    } else {
      instances = featureMatrix(rows, this.options.features!);
    }
    const r = await this.client.postJson<{ predictions?: unknown[] }>(`${this.url}:predict`, { instances });
    const predictions = r.predictions;
    if (!Array.isArray(predictions) || predictions.length !== rows.length) {
      throw new InputError(`${source}: expected ${rows.length} predictions, got ${Array.isArray(predictions) ? predictions.length : 'none'}`);
    }
    const outputs = predictions.map((p) => {
      if (Array.isArray(p)) return (p as unknown[]).flat(Infinity) as number[];
      if (typeof p === 'number') return [p];
      if (p && typeof p === 'object') {
        const key = pickOutputName(Object.keys(p));
        const v = key === undefined ? undefined : (p as Record<string, unknown>)[key];
        if (Array.isArray(v)) return (v as unknown[]).flat(Infinity) as number[];
        if (typeof v === 'number') return [v];
      }
      throw new InputError(`${source}: a prediction is neither a list of numbers nor an object holding one`);
    });
    const probabilities = toProbabilities(outputs, source);
    return { labels: labelsFor(probabilities[0]!.length, this.options.labels, source), probabilities };
  }
}
