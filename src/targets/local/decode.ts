/**
 * Decoding over a next-token log-probability function, batched across all sequences of all
 * requests at each step: greedy, sampling (temperature, top-k, from the caller's Rng) and beam
 * search. Generation of a sequence ends after `maxTokens` tokens or when the model predicts the
 * padding/beginning-of-text token (the char LM's end of a text).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Rng } from '../../core/rng.js';
import type { Decoding } from '../target.js';

/** Log-probabilities of the next token after each id sequence: one row of `vocabSize` per sequence. */
export type NextLogprobs = (sequences: number[][]) => Promise<Float32Array>;

export interface DecodeJob {
  prompt: number[];
  maxTokens: number;
  decoding: Decoding;
  n: number;
}

export interface Decoded {
  ids: number[];
  /** Sum of the untempered log-probabilities of the generated tokens. */
  logprob: number;
}

interface Sequence {
  job: number;
  ids: number[];
  generated: number[];
  /** Sum of the generated tokens' log-probabilities (what a Generation reports). */
  logprob: number;
  /** Beam ranking score: `logprob` plus, for a finished beam, the end token's log-probability. */
  score: number;
  done: boolean;
}

/**
 * Decodes every job. Between steps it yields to the event loop (a server keeps answering other
 * requests) and stops with `signal`'s reason once it is aborted (a client gone, a time limit).
 */
export async function decode(jobs: DecodeJob[], next: NextLogprobs, vocabSize: number, endId: number, rng: Rng, signal?: AbortSignal): Promise<Decoded[][]> {
  const results: Decoded[][] = jobs.map(() => []);
  // Greedy and sampled sequences advance together; beam jobs keep their own beams.
  const simple: Sequence[] = [];
  const beams: BeamState[] = [];
  jobs.forEach((job, j) => {
    if (job.decoding.kind === 'beam') {
      beams.push({ job: j, width: Math.max(job.decoding.width, job.n), live: [{ job: j, ids: [...job.prompt], generated: [], logprob: 0, score: 0, done: false }], finished: [] });
    } else {
      const count = job.decoding.kind === 'greedy' ? 1 : job.n;
      for (let k = 0; k < count; k++) simple.push({ job: j, ids: [...job.prompt], generated: [], logprob: 0, score: 0, done: job.maxTokens <= 0 });
    }
  });
  const maxSteps = Math.max(0, ...jobs.map((j) => j.maxTokens));
  for (let step = 0; step < maxSteps; step++) {
    const live = simple.filter((s) => !s.done && s.generated.length < jobs[s.job]!.maxTokens);
    const liveBeams = beams.filter((b) => b.live.length > 0 && b.live[0]!.generated.length < jobs[b.job]!.maxTokens);
    const beamSeqs = liveBeams.flatMap((b) => b.live);
    const all = [...live, ...beamSeqs];
    if (all.length === 0) break;
    await yieldToEventLoop();
    signal?.throwIfAborted();
    const rows = await next(all.map((s) => s.ids));
    live.forEach((s, i) => {
      const row = rows.subarray(i * vocabSize, (i + 1) * vocabSize);
      const d = jobs[s.job]!.decoding;
      const id = d.kind === 'sample' && d.temperature > 0 ? sampleToken(row, d.temperature, d.topK, rng) : argmax(row);
      advance(s, id, row[id]!, endId);
    });
    let offset = live.length;
    for (const b of liveBeams) {
      const count = b.live.length;
      stepBeam(b, rows.subarray(offset * vocabSize, (offset + count) * vocabSize), vocabSize, endId);
      offset += count;
    }
  }
  for (const s of simple) results[s.job]!.push({ ids: s.generated, logprob: s.logprob });
  for (const b of beams) {
    const all = [...b.finished, ...b.live].sort((x, y) => y.score - x.score);
    results[b.job] = all.slice(0, jobs[b.job]!.n).map((s) => ({ ids: s.generated, logprob: s.logprob }));
  }
  return results;
}

function advance(s: Sequence, id: number, logprob: number, endId: number): void {
  if (id === endId) {
    s.done = true;
    return;
  }
  s.ids.push(id);
  s.generated.push(id);
  s.logprob += logprob;
}

/** First index of the maximum: ties break towards the lower id, the same on every target. */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/** Draws from softmax(logprobs / temperature), restricted to the top-k tokens when k is given. */
export function sampleToken(row: Float32Array, temperature: number, topK: number | undefined, rng: Rng): number {
  let candidates = Array.from(row.keys());
  if (topK !== undefined && topK > 0 && topK < row.length) {
    candidates.sort((a, b) => row[b]! - row[a]! || a - b);
    candidates = candidates.slice(0, topK).sort((a, b) => a - b);
  }
  let max = -Infinity;
  for (const c of candidates) max = Math.max(max, row[c]! / temperature);
  const weights = candidates.map((c) => Math.exp(row[c]! / temperature - max));
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng.next() * total;
  for (let i = 0; i < candidates.length; i++) {
    u -= weights[i]!;
    if (u < 0) return candidates[i]!;
  }
  return candidates[candidates.length - 1]!;
}

interface BeamState {
  job: number;
  width: number;
  live: Sequence[];
  finished: Sequence[];
}

/**
 * One beam-search step: every live beam's extensions compete for `width` places; an extension by
 * the end token finishes its beam, scored with the end token's log-probability (so ending is not
 * free). Search stops for a job when `width` finished beams beat every live one (scores only fall
 * as sequences grow). Beams still live at `maxTokens` are ranked by their score so far.
 */
function stepBeam(b: BeamState, rows: Float32Array, vocabSize: number, endId: number): void {
  const candidates: { from: number; id: number; score: number }[] = [];
  b.live.forEach((s, i) => {
    for (let v = 0; v < vocabSize; v++) candidates.push({ from: i, id: v, score: s.score + rows[i * vocabSize + v]! });
  });
  candidates.sort((x, y) => y.score - x.score || x.from - y.from || x.id - y.id);
  const next: Sequence[] = [];
  for (const c of candidates) {
    if (next.length >= b.width) break;
    const parent = b.live[c.from]!;
    if (c.id === endId) {
      b.finished.push({ ...parent, score: c.score, done: true });
      continue;
    }
    const lp = rows[c.from * vocabSize + c.id]!;
    next.push({ job: parent.job, ids: [...parent.ids, c.id], generated: [...parent.generated, c.id], logprob: parent.logprob + lp, score: c.score, done: false });
  }
  b.finished.sort((x, y) => y.score - x.score);
  b.finished.length = Math.min(b.finished.length, b.width);
  const full = b.finished.length >= b.width;
  b.live = full && next.every((s) => s.score < b.finished[b.width - 1]!.score) ? [] : next;
}
