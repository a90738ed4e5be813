/**
 * KServe / Open Inference Protocol v2 classifier target (`kserve:URL#MODEL`):
 * `POST /v2/models/{name}/infer` (KServe Open Inference Protocol v2). The model's metadata
 * (`GET /v2/models/{name}`) names its inputs and outputs: one input takes the feature columns in an
 * order given by `--features`; several inputs are matched to features by name.
 */
import { InputError, UsageError } from '../../core/errors.js';
import { sha256Json } from '../../core/hash.js';
import { BaseTarget, noCapabilities } from '../base.js';
import { displayUrl, type HttpClient } from '../http/client.js';
import type { ClassProbabilities, FeatureRow, TargetCapabilities, TargetDescriptor } from '../target.js';
import { featureMatrix, labelsFor, pickOutputName, reshapeRows, toProbabilities } from './classifier-io.js';

interface TensorMeta {
  name: string;
  datatype?: string;
  shape?: number[];
}

interface ModelMetadata {
  name?: string;
  versions?: string[];
  platform?: string;
  inputs?: TensorMeta[];
  outputs?: TensorMeta[];
}

interface InferResponse {
  outputs?: { name: string; shape?: number[]; datatype?: string; data?: unknown[] }[];
}

export interface ClassifierApiOptions {
  features?: string[];
  labels?: string[];
}

export class KServeTarget extends BaseTarget {
  readonly kind = 'kserve' as const;
  readonly task = 'classifier' as const;
  readonly label: string;
  readonly capabilities: TargetCapabilities = { ...noCapabilities, classProbabilities: true };
  private readonly modelUrl: string;
  private readonly client: HttpClient;
  private readonly features: string[];
  private readonly labels: string[] | undefined;
  private readonly meta: ModelMetadata;
  private readonly output: string | undefined;

  private constructor(spec: string, modelUrl: string, client: HttpClient, meta: ModelMetadata, options: ClassifierApiOptions) {
    super();
    this.label = `target ${spec}`;
    this.modelUrl = modelUrl;
    this.client = client;
    this.meta = meta;
    this.labels = options.labels;
    const inputs = meta.inputs ?? [];
    // Input names reach error lines and reports: a hostile server could name one after the key it received.
    if (inputs.some((i) => client.serverName(i?.name, modelUrl) === undefined)) {
      throw new InputError(`${displayUrl(modelUrl)}: the model metadata names an input that is not a plain name`);
    }
    if (inputs.length > 1) {
      this.features = inputs.map((i) => i.name);
    } else if (options.features && options.features.length > 0) {
      this.features = options.features;
    } else {
      const name = inputs[0]?.name ?? 'its input';
      throw new UsageError(`--target ${spec}: give --features (the column order the model's input "${name}" expects)`);
    }
    this.output = pickOutputName((meta.outputs ?? []).map((o) => o.name));
  }

  static async open(spec: string, modelUrl: string, client: HttpClient, options: ClassifierApiOptions): Promise<KServeTarget> {
    const meta = await client.getJson<ModelMetadata>(modelUrl);
    if (!meta || typeof meta !== 'object') throw new InputError(`${displayUrl(modelUrl)}: the model metadata is not a JSON object`);
    return new KServeTarget(spec, modelUrl, client, meta, options);
  }

  async describe(): Promise<TargetDescriptor> {
    return {
      target: this.label.replace(/^target /, ''),
      kind: this.kind,
      task: this.task,
      digest: sha256Json({ kind: this.kind, url: displayUrl(this.modelUrl), versions: this.meta.versions ?? null, platform: this.meta.platform ?? null }),
      model: this.client.serverName(this.meta.name, this.modelUrl),
      capabilities: { ...this.capabilities },
    };
  }

  override async classProbabilities(rows: FeatureRow[]): Promise<ClassProbabilities> {
    const source = `${displayUrl(this.modelUrl)}/infer`;
    if (rows.length === 0) return { labels: this.labels ?? [], probabilities: [] };
    const matrix = featureMatrix(rows, this.features);
    const metaInputs = this.meta.inputs ?? [];
    const inputs =
      metaInputs.length > 1
        ? metaInputs.map((input, j) => ({
            name: input.name,
            shape: [rows.length, 1],
            datatype: input.datatype ?? 'FP32',
            data: matrix.map((row) => row[j]!),
          }))
        : [{ name: metaInputs[0]?.name ?? 'input-0', shape: [rows.length, this.features.length], datatype: metaInputs[0]?.datatype ?? 'FP32', data: matrix.flat() }];
    const body: Record<string, unknown> = { inputs };
    if (this.output) body.outputs = [{ name: this.output }];
    const r = await this.client.postJson<InferResponse>(`${this.modelUrl}/infer`, body);
    const out = r.outputs?.find((o) => o.name === this.output) ?? r.outputs?.[0];
    if (!out || !Array.isArray(out.data)) throw new InputError(`${source}: the response has no output tensor`);
    const flat = (out.data as unknown[]).flat(Infinity) as number[];
    const probabilities = toProbabilities(reshapeRows(flat, rows.length, source), source);
    return { labels: labelsFor(probabilities[0]!.length, this.labels, source), probabilities };
  }
}
