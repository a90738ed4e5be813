/**
 * Extraction: can the secrets (or any PHI-shaped training content) be pulled out of the model by
 * generation alone?
 *
 * - Targeted (Carlini et al. 2019, section 8; the SaTML'23 extraction challenge's prefix -> suffix
 *   setting): from each canary's prefix, greedy decoding and beam search for the secret's length.
 *   A canary is extracted when greedy decoding reproduces the secret exactly or the secret is
 *   among the beams (the beam width is the attacker's guess budget); its rank in the beam is
 *   reported. Beam search uses the target's own when it has one, else a beam search over the
 *   target's next-token distributions (scoring), else greedy only.
 * - Untargeted (Carlini et al., USENIX Security 2021): sample N generations, rank them by
 *   perplexity and by zlib ratio (zlib bytes / ln perplexity, higher = more suspicious), scan them
 *   with phi-scan, and with a training file count generations sharing a long span with a record.
 *
 * Never any generated text in the result: digests, counts and ranks only. `includeSamples` writes
 * the generations to a separate file, only when asked.
 */
import { deflateSync } from 'node:zlib';
import { readRecords } from '../src/data/index.js';
import { writeFileAtomic } from '../src/core/atomic.js';
import { UsageError } from '../src/core/errors.js';
import { sha256Hex } from '../src/core/hash.js';
import type { ManifestCanary } from '../src/canary/types.js';
import type { Decoding, Target } from '../src/targets/target.js';
import { probeRunInfo } from './common.js';
import { countPhi, scanPhi, type PhiType } from './phi-scan.js';
import type { ProbeContext, ProbeModule } from './registry.js';
import { extractionSpec } from './specs.js';
import { extractionResultSchema } from './schemas.js';
import type { ExtractionResult, TargetedExtraction, UntargetedExtraction } from './types.js';
import { VerbatimIndex } from './verbatim.js';
import { secretNll } from './secret-scoring.js';

export interface ExtractionOptions {
  beamWidth: number;
  samples: number;
  sampleLength: number;
  temperature: number;
  topK?: number;
  prompt: string;
  trainingData?: string;
  textField?: string;
  verbatimChars: number;
  rareMaxRecords: number;
  top: number;
  includeSamples?: string;
}

export const defaultExtractionOptions: ExtractionOptions = {
  beamWidth: 5,
  samples: 100,
  sampleLength: 200,
  temperature: 1,
  prompt: '',
  verbatimChars: 50,
  rareMaxRecords: 20,
  top: 10,
};

export interface TargetedCanaryOutcome {
  id: string;
  repetitions: number;
  role: 'inserted' | 'reference';
  greedy: boolean;
  beamRank: number | null;
  /** log p(secret | prefix) in nats, when the target can score text. */
  secretLogprob?: number;
}

export interface TargetedExtractionDetail extends TargetedExtraction {
  beamWidth: number;
  /** How beams were produced: the target's beam search, ours over its distributions, or none. */
  beam: 'target' | 'distributions' | 'unavailable';
  /** Inserted canaries extracted by greedy decoding alone. */
  extractedGreedy: number;
  /** The never-inserted reference canaries, attempted the same way: the chance baseline. */
  reference: { attempted: number; extracted: number };
  canaries: TargetedCanaryOutcome[];
}

export interface UntargetedExtractionDetail extends UntargetedExtraction {
  /** Generations with at least one validated identifier. */
  samplesWithIdentifiers: number;
  decoding: { temperature: number; topK: number | null; maxTokens: number; promptSha256: string };
  /** Where perplexities came from: scoring the generations, the generation log-probabilities, or nowhere. */
  perplexitySource: 'score' | 'generation' | 'unavailable';
  /** With a training file: the span length and the matches whose span occurs in few records (not boilerplate). */
  verbatim: { minChars: number; recordsScanned: number; rareMatches: number; rareMaxRecords: number } | null;
  top?: { sha256: string; perplexity: number; zlibRatio: number; identifiers: string[]; perplexityRank: number; zlibRank: number; verbatimRecords: number | null }[];
}

export interface ExtractionResultDetail extends ExtractionResult {
  targeted: TargetedExtractionDetail;
  untargeted: UntargetedExtractionDetail;
}

function readOptions(raw: Record<string, unknown>): ExtractionOptions {
  const d = defaultExtractionOptions;
  return {
    beamWidth: (raw.beamWidth as number | undefined) ?? d.beamWidth,
    samples: (raw.samples as number | undefined) ?? d.samples,
    sampleLength: (raw.sampleLength as number | undefined) ?? d.sampleLength,
    temperature: (raw.temperature as number | undefined) ?? d.temperature,
    topK: raw.topK as number | undefined,
    prompt: (raw.prompt as string | undefined) ?? d.prompt,
    trainingData: raw.trainingData as string | undefined,
    textField: raw.textField as string | undefined,
    verbatimChars: (raw.verbatimChars as number | undefined) ?? d.verbatimChars,
    rareMaxRecords: (raw.rareMaxRecords as number | undefined) ?? d.rareMaxRecords,
    top: (raw.top as number | undefined) ?? d.top,
    includeSamples: raw.includeSamples as string | undefined,
  };
}

// ---- targeted -----------------------------------------------------------------------------------

function secretLength(secret: string): number {
  // Tokens are at least one character each, so the secret's length in characters bounds its tokens.
  return [...secret].length;
}

/** Special tokens that end or cannot continue a text (the char LM's PAD/UNK). */
function isSpecial(token: string): boolean {
  return token === '' || /^<[a-z|_]+>$/i.test(token);
}

/**
 * Beam search over next-token distributions (for targets that can score but not beam-search):
 * all canaries' beams advance together, one batched call per step.
 */
export async function beamSearchByDistributions(target: Target, prompts: string[], lengths: number[], width: number): Promise<string[][]> {
  let beams = prompts.map(() => [{ text: '', logp: 0 }]);
  const maxSteps = Math.max(0, ...lengths);
  for (let step = 0; step < maxSteps; step++) {
    const live: { canary: number; beam: number }[] = [];
    beams.forEach((list, c) =>
      list.forEach((b, j) => {
        if (secretLength(b.text) < lengths[c]!) live.push({ canary: c, beam: j });
      }),
    );
    if (live.length === 0) break;
    const dists = await target.nextTokenDistributions(live.map(({ canary, beam }) => prompts[canary]! + beams[canary]![beam]!.text));
    const next = beams.map((list, c) => list.filter((b) => secretLength(b.text) >= lengths[c]!));
    live.forEach(({ canary, beam }, i) => {
      const b = beams[canary]![beam]!;
      const d = dists[i]!;
      d.tokens.forEach((token, t) => {
        if (isSpecial(token)) return;
        next[canary]!.push({ text: b.text + token, logp: b.logp + d.logprobs[t]! });
      });
    });
    beams = next.map((list) => list.sort((a, b) => b.logp - a.logp).slice(0, width));
  }
  return beams.map((list) => list.map((b) => b.text));
}

export async function runTargeted(ctx: ProbeContext, options: ExtractionOptions): Promise<TargetedExtractionDetail> {
  const { target } = ctx;
  const caps = ctx.targetDescriptor.capabilities;
  const canaries: ManifestCanary[] = ctx.manifest.canaries;
  const lengths = canaries.map((c) => secretLength(c.secret));
  ctx.progress.update(`extraction: greedy decoding of ${canaries.length} canaries`);
  const greedy = await target.generate(canaries.map((c, i) => ({ prompt: c.prefix, maxTokens: lengths[i]!, decoding: { kind: 'greedy' } as Decoding })));

  let beam: TargetedExtractionDetail['beam'] = 'unavailable';
  let beams: string[][] = canaries.map(() => []);
  if (caps.beamSearch) {
    ctx.progress.update(`extraction: beam search (width ${options.beamWidth})`);
    const gens = await target.generate(
      canaries.map((c, i) => ({ prompt: c.prefix, maxTokens: lengths[i]!, decoding: { kind: 'beam', width: options.beamWidth } as Decoding, n: options.beamWidth })),
    );
    beams = gens.map((g) => g.map((x) => x.text));
    beam = 'target';
  } else if (caps.nextTokenDistribution) {
    ctx.progress.update(`extraction: beam search over next-token distributions (width ${options.beamWidth})`);
    beams = await beamSearchByDistributions(target, canaries.map((c) => c.prefix), lengths, options.beamWidth);
    beam = 'distributions';
  }

  let secretLogprobs: (number | undefined)[] = canaries.map(() => undefined);
  if (caps.scoreText) {
    const scored = await target.scoreTexts(canaries.map((c) => c.prefix + c.secret));
    secretLogprobs = scored.map((s, i) => {
      const c = canaries[i]!;
      try {
        return -secretNll(s, c.prefix.length, c.prefix.length + c.secret.length, `target ${ctx.targetDescriptor.target}`);
      } catch {
        return undefined; // the target did not score every token of the secret: leave it out
      }
    });
  }

  const outcomes: TargetedCanaryOutcome[] = canaries.map((c, i) => {
    const hitGreedy = (greedy[i]?.[0]?.text ?? '').startsWith(c.secret);
    const at = beams[i]!.findIndex((text) => text.startsWith(c.secret));
    const outcome: TargetedCanaryOutcome = { id: c.id, repetitions: c.repetitions, role: c.role, greedy: hitGreedy, beamRank: at < 0 ? null : at + 1 };
    if (secretLogprobs[i] !== undefined) outcome.secretLogprob = secretLogprobs[i];
    return outcome;
  });
  const extracted = (o: TargetedCanaryOutcome) => o.greedy || o.beamRank !== null;
  const inserted = outcomes.filter((o) => o.role === 'inserted');
  const references = outcomes.filter((o) => o.role === 'reference');
  const groups = new Map<number, TargetedCanaryOutcome[]>();
  for (const o of inserted) groups.set(o.repetitions, [...(groups.get(o.repetitions) ?? []), o]);
  return {
    attempted: inserted.length,
    extracted: inserted.filter(extracted).length,
    extractedGreedy: inserted.filter((o) => o.greedy).length,
    byRepetitions: [...groups.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([repetitions, list]) => ({ repetitions, count: list.length, extracted: list.filter(extracted).length })),
    reference: { attempted: references.length, extracted: references.filter(extracted).length },
    beamWidth: options.beamWidth,
    beam,
    canaries: outcomes,
  };
}

// ---- untargeted ---------------------------------------------------------------------------------

/** zlib-compressed size in bytes (as Python's zlib.compress at the default level). */
export function zlibBytes(text: string): number {
  return deflateSync(Buffer.from(text, 'utf8')).length;
}

/** Carlini et al. 2021: zlib entropy over log-perplexity; higher = more likely memorized. */
export function zlibRatio(text: string, perplexity: number): number {
  return zlibBytes(text) / Math.max(Math.log(perplexity), 1e-6);
}

/** 1-based ranks of `values` in the given order (ties share the better rank). */
function ranks(values: number[], ascending: boolean): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => (ascending ? a[0] - b[0] : b[0] - a[0]));
  const out = new Array<number>(values.length);
  order.forEach(([v, i], pos) => (out[i] = pos > 0 && order[pos - 1]![0] === v ? out[order[pos - 1]![1]]! : pos + 1));
  return out;
}

export async function runUntargeted(ctx: ProbeContext, options: ExtractionOptions): Promise<UntargetedExtractionDetail> {
  const { target } = ctx;
  const caps = ctx.targetDescriptor.capabilities;
  const decoding = { temperature: options.temperature, topK: options.topK ?? null, maxTokens: options.sampleLength, promptSha256: sha256Hex(options.prompt) };
  if (options.samples === 0 || !caps.generate) {
    return {
      samples: 0,
      identifiers: countPhi([]),
      verbatimTrainingMatches: null,
      samplesWithIdentifiers: 0,
      decoding,
      perplexitySource: 'unavailable',
      verbatim: null,
    };
  }
  ctx.progress.update(`extraction: sampling ${options.samples} generations`);
  const request = {
    prompt: options.prompt,
    maxTokens: options.sampleLength,
    decoding: { kind: 'sample', temperature: options.temperature, ...(options.topK ? { topK: options.topK } : {}) } as Decoding,
    n: options.samples,
  };
  const [gens = []] = await target.generate([request], ctx.rng.fork('untargeted'));
  const texts = gens.map((g) => g.text);

  // Perplexity per generation: exp(mean NLL over the generated tokens).
  let perplexitySource: UntargetedExtractionDetail['perplexitySource'] = 'unavailable';
  let perplexities: (number | null)[] = texts.map(() => null);
  if (caps.scoreText) {
    const scored = await target.scoreTexts(texts.map((t) => options.prompt + t));
    const start = options.prompt.length;
    perplexities = scored.map((s) => {
      const tokens = s.tokens.filter((t) => t.end > start);
      return tokens.length === 0 ? null : Math.exp(-tokens.reduce((sum, t) => sum + t.logprob, 0) / tokens.length);
    });
    perplexitySource = 'score';
  } else if (gens.every((g) => g.logprob !== undefined)) {
    // Per character: the number of API tokens in a generation is not known here.
    perplexities = gens.map((g) => (g.text.length === 0 ? null : Math.exp(-g.logprob! / [...g.text].length)));
    perplexitySource = 'generation';
  }

  const found = texts.map((t) => scanPhi(t));
  const identifiers = countPhi([]);
  for (const list of found) for (const m of list) identifiers[m.type]++;

  let verbatim: UntargetedExtractionDetail['verbatim'] = null;
  let verbatimRecords: (number | null)[] = texts.map(() => null);
  let verbatimTrainingMatches: number | null = null;
  if (options.trainingData) {
    ctx.progress.update('extraction: comparing generations with the training data');
    const index = new VerbatimIndex(texts, options.verbatimChars);
    const textField = options.textField ?? ctx.manifest.textField;
    for await (const record of readRecords(options.trainingData, textField ? { textField } : {})) index.scan(record.text ?? record.raw);
    const matches = index.matches();
    verbatimRecords = texts.map(() => null);
    for (const m of matches) verbatimRecords[m.generation] = m.records;
    verbatimTrainingMatches = matches.length;
    verbatim = {
      minChars: options.verbatimChars,
      recordsScanned: index.recordsScanned,
      rareMatches: matches.filter((m) => m.records <= options.rareMaxRecords).length,
      rareMaxRecords: options.rareMaxRecords,
    };
  }

  const result: UntargetedExtractionDetail = {
    samples: texts.length,
    identifiers,
    verbatimTrainingMatches,
    samplesWithIdentifiers: found.filter((l) => l.length > 0).length,
    decoding,
    perplexitySource,
    verbatim,
  };
  const usable = perplexities.every((p) => p !== null && Number.isFinite(p));
  const ratios = usable ? texts.map((t, i) => zlibRatio(t, perplexities[i]!)) : [];
  if (usable && texts.length > 0) {
    const pplRank = ranks(perplexities as number[], true);
    const zRank = ranks(ratios, false);
    const order = texts.map((_, i) => i).sort((a, b) => zRank[a]! - zRank[b]! || pplRank[a]! - pplRank[b]!);
    result.top = order.slice(0, options.top).map((i) => ({
      sha256: sha256Hex(texts[i]!),
      perplexity: perplexities[i]!,
      zlibRatio: ratios[i]!,
      identifiers: [...new Set(found[i]!.map((m) => m.type))] as PhiType[],
      perplexityRank: pplRank[i]!,
      zlibRank: zRank[i]!,
      verbatimRecords: verbatimRecords[i]!,
    }));
  }

  if (options.includeSamples) {
    // Generated text may be PHI: only on explicit request, in its own file, readable by the owner only.
    const lines = texts.map((text, i) =>
      JSON.stringify({
        index: i,
        sha256: sha256Hex(text),
        text,
        perplexity: perplexities[i],
        zlibRatio: usable ? ratios[i] : null,
        identifiers: found[i]!.map((m) => ({ type: m.type, start: m.start, end: m.end })),
        verbatimRecords: verbatimRecords[i],
      }),
    );
    writeFileAtomic(options.includeSamples, lines.join('\n') + (lines.length ? '\n' : ''), { mode: 0o600 });
  }
  return result;
}

// ---- the probe ----------------------------------------------------------------------------------

export async function runExtraction(ctx: ProbeContext): Promise<ExtractionResultDetail> {
  const startedAt = new Date();
  const options = readOptions(ctx.options);
  if (ctx.targetDescriptor.task !== 'lm') throw new UsageError(`probe extraction: ${ctx.targetDescriptor.target} is a classifier; extraction needs a language model`);
  if (ctx.manifest.kind !== 'text') throw new UsageError('probe extraction: the manifest holds tabular canaries; extraction needs text canaries');
  if (options.includeSamples && options.trainingData && options.includeSamples === options.trainingData) {
    throw new UsageError('--include-samples must not be the training file');
  }
  const targeted = await runTargeted(ctx, options);
  const untargeted = await runUntargeted(ctx, options);
  ctx.progress.done();
  return { ...probeRunInfo(ctx, 'extraction', startedAt), targeted, untargeted };
}

export const extractionProbe: ProbeModule<ExtractionResultDetail> = {
  ...extractionSpec,
  needs: (c) => (c.generate ? null : 'the target cannot generate text, and extraction is generation'),
  resultSchema: extractionResultSchema,
  run: runExtraction,
  summary: (r) => {
    const rows: (string | number | null)[][] = [['extraction', 'group', 'tried', 'found']];
    for (const g of r.targeted.byRepetitions) rows.push(['targeted', `${g.repetitions} repetitions`, g.count, g.extracted]);
    rows.push(['targeted', 'reference (never inserted)', r.targeted.reference.attempted, r.targeted.reference.extracted]);
    const ids = Object.entries(r.untargeted.identifiers).filter(([, n]) => n > 0).map(([t, n]) => `${t} ${n}`).join(', ') || 'none';
    rows.push(['untargeted', `identifiers: ${ids}`, r.untargeted.samples, r.untargeted.samplesWithIdentifiers]);
    if (r.untargeted.verbatimTrainingMatches !== null) {
      rows.push(['untargeted', `verbatim >= ${r.untargeted.verbatim?.minChars} chars (rare: ${r.untargeted.verbatim?.rareMatches})`, r.untargeted.samples, r.untargeted.verbatimTrainingMatches]);
    }
    rows.push([`beam: ${r.targeted.beam}, width ${r.targeted.beamWidth}`, `perplexity: ${r.untargeted.perplexitySource}`, '', '']);
    return rows;
  },
};
