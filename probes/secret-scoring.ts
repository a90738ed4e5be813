/**
 * Log-perplexities of candidate secrets after a canary's prefix,
 *
 *   Px(s) = -log p(s | prefix) = -sum over the secret's tokens of log p(token | everything before),
 *
 * in nats (ranks and exposure do not depend on the log base). Two ways to get them:
 *
 * - prefix-shared: a secret is one alternative per slot, concatenated, so all candidates form a
 *   character trie; each distinct context (prefix + partial secret) is scored once with the
 *   target's next-token distribution, batched, and every candidate's Px is a sum along its path.
 *   A 10^5-candidate space of 5 digits needs 11,111 contexts instead of 10^5 full texts. This
 *   needs complete distributions over single characters (memaudit's char LM).
 * - per-text: each candidate text is scored with `scoreTexts`, summing the tokens that overlap the
 *   secret's characters (works for any tokenizer, including API models).
 */
import { CapabilityError, InconclusiveError, InputError } from '../src/core/errors.js';
import type { SecretSpace } from '../src/canary/types.js';
import type { Rng } from '../src/core/rng.js';
import type { ScoredText, Target, TargetDescriptor, TokenDistribution } from '../src/targets/target.js';

export type ScoringMethod = 'prefix-shared' | 'per-text';

export interface SecretScorerOptions {
  /** 'auto' (default) takes prefix sharing whenever the target allows it. */
  method?: ScoringMethod | 'auto';
  /** Contexts or texts per target call. */
  batchSize?: number;
  /** Called after each target call with the contexts (or texts) scored so far. */
  onProgress?: (scored: number) => void;
}

interface CharTrie {
  children: Map<string, CharTrie>;
  /** Ids of the strings ending at this node (alternative indices, or candidate indices). */
  ends: number[];
  /** Strings ending in this node's subtree. */
  count: number;
}

function innerNodes(node: CharTrie): number {
  if (node.children.size === 0) return 0;
  let count = 1;
  for (const child of node.children.values()) count += innerNodes(child);
  return count;
}

function buildTrie(strings: readonly string[]): CharTrie {
  const root: CharTrie = { children: new Map(), ends: [], count: 0 };
  strings.forEach((s, id) => {
    let node = root;
    node.count++;
    for (const ch of s) {
      let next = node.children.get(ch);
      if (!next) node.children.set(ch, (next = { children: new Map(), ends: [], count: 0 }));
      node = next;
      node.count++;
    }
    node.ends.push(id);
  });
  return root;
}

/** Candidates drawn from a secret space by importance sampling (see SecretScorer.sampleSpace). */
export interface ImportanceSample {
  texts: string[];
  /** Px (nats) of each drawn candidate. */
  px: Float64Array;
  /** log(u(r)/q(r)): uniform probability over the space over the proposal's probability. */
  logWeight: Float64Array;
}

interface WalkState {
  /** The partial secret read so far. */
  text: string;
  logp: number;
  slot: number;
  node: CharTrie;
}

/** Sum of -logprob over the tokens covering [start, end); throws when a token there was not scored. */
export function secretNll(scored: ScoredText, start: number, end: number, label: string): number {
  let nll = 0;
  let covered = start;
  const tokens = scored.tokens.filter((t) => t.end > start && t.start < end).sort((a, b) => a.start - b.start);
  for (const t of tokens) {
    if (t.start > covered) break;
    nll -= t.logprob;
    covered = Math.max(covered, t.end);
  }
  if (covered < end) {
    throw new InconclusiveError(
      `${label} returned no log-probability for part of a secret (characters ${covered}-${end}); an API that cannot score the first token needs canaries with a non-empty prefix`,
    );
  }
  return nll;
}

export class SecretScorer {
  readonly method: ScoringMethod;
  /** Contexts (prefix-shared) or texts (per-text) sent to the target so far. */
  scored = 0;
  private readonly target: Target;
  private readonly label: string;
  private readonly batchSize: number;
  private readonly onProgress?: (scored: number) => void;
  /** Character -> index in the target's (complete) distribution, for prefix sharing. */
  private readonly vocab: Map<string, number> | null;
  private vocabTokens: readonly string[] | null;

  private constructor(target: Target, label: string, method: ScoringMethod, vocabTokens: readonly string[] | null, options: SecretScorerOptions) {
    this.target = target;
    this.label = label;
    this.method = method;
    this.vocabTokens = vocabTokens;
    this.vocab = vocabTokens ? new Map(vocabTokens.map((t, i) => [t, i])) : null;
    this.batchSize = options.batchSize ?? (method === 'prefix-shared' ? 2048 : 256);
    this.onProgress = options.onProgress;
  }

  /**
   * Chooses the method: prefix sharing needs complete next-token distributions whose tokens are
   * single characters; otherwise per-text scoring (needs `scoreText`).
   */
  static async create(target: Target, descriptor: TargetDescriptor, options: SecretScorerOptions = {}): Promise<SecretScorer> {
    const want = options.method ?? 'auto';
    const label = `target ${descriptor.target}`;
    if (want !== 'per-text' && target.capabilities.nextTokenDistribution && descriptor.tokenizer === 'char') {
      const [probe] = await target.nextTokenDistributions(['']);
      if (probe && probe.complete) return new SecretScorer(target, label, 'prefix-shared', probe.tokens, options);
    }
    if (want === 'prefix-shared') {
      throw new CapabilityError('nextTokenDistribution', `${label} cannot give complete next-character distributions, so candidates cannot share prefixes`);
    }
    if (!target.capabilities.scoreText) {
      throw new CapabilityError('scoreText', `${label} cannot score given text, which exposure needs (log-probabilities of candidate secrets)`);
    }
    return new SecretScorer(target, label, 'per-text', null, options);
  }

  /** Whether the space can be walked (and sampled) with shared prefixes. */
  /**
   * Model queries one `scoreSpace` call makes, for progress: one per candidate scored as a text, or
   * with prefix sharing one per trie node that has children, under every combination of the slots
   * before it (texts two combinations share are counted twice, so this is an upper bound).
   */
  queriesToEnumerate(space: SecretSpace): number {
    if (!this.canWalk(space)) return Number(space.size);
    let combinations = 1;
    let queries = 0;
    for (const slot of space.slots) {
      queries += combinations * innerNodes(buildTrie(slot.alternatives));
      combinations *= slot.alternatives.length;
    }
    return queries;
  }

  canWalk(space: SecretSpace): boolean {
    return this.method === 'prefix-shared' && this.covers(space.slots.flatMap((s) => s.alternatives));
  }

  /** Whether every character of these strings is a token of the target's vocabulary. */
  private covers(strings: Iterable<string>): boolean {
    if (!this.vocab) return false;
    for (const s of strings) for (const ch of s) if (!this.vocab.has(ch)) return false;
    return true;
  }

  /** Px (nats) of each candidate after `prefix`. */
  async scoreCandidates(prefix: string, candidates: readonly string[]): Promise<Float64Array> {
    const out = new Float64Array(candidates.length);
    if (this.method === 'prefix-shared' && this.covers(candidates)) {
      await this.walk(prefix, [buildTrie(candidates)], (state, id) => (out[id] = -state.logp));
      return out;
    }
    await this.perText(prefix, candidates.length, (i) => candidates[i]!, (i, px) => (out[i] = px));
    return out;
  }

  /**
   * How many candidates have Px <= maxPx after `prefix`. With shared prefixes a branch is dropped as
   * soon as its Px exceeds maxPx, so candidates far less likely than the bound cost one or two
   * contexts instead of one per character.
   */
  async countAtMost(prefix: string, candidates: readonly string[], maxPx: number): Promise<number> {
    if (this.method === 'prefix-shared' && this.covers(candidates)) {
      let count = 0;
      await this.walk(prefix, [buildTrie(candidates)], () => count++, maxPx);
      return count;
    }
    const px = await this.scoreCandidates(prefix, candidates);
    return px.filter((v) => v <= maxPx).length;
  }

  /**
   * Px of every secret of the space after `prefix` (one value per slot combination), and the Px of
   * each of `secrets` among them (the very values they are ranked with). Canaries sharing a prefix
   * share one enumeration.
   */
  async scoreSpace(prefix: string, space: SecretSpace, secrets: readonly string[]): Promise<{ all: Float64Array; secrets: Float64Array }> {
    const size = Number(space.size);
    const all = new Float64Array(size);
    const wanted = new Map<string, number[]>();
    secrets.forEach((s, i) => wanted.set(s, [...(wanted.get(s) ?? []), i]));
    const found = new Float64Array(secrets.length).fill(NaN);
    const record = (text: string, px: number) => {
      const at = wanted.get(text);
      if (at) for (const i of at) if (Number.isNaN(found[i]!)) found[i] = px;
    };
    let k = 0;
    if (this.canWalk(space)) {
      await this.walk(
        prefix,
        space.slots.map((s) => buildTrie(s.alternatives)),
        (state) => {
          const px = -state.logp;
          all[k++] = px;
          record(state.text, px);
        },
      );
    } else {
      await this.perText(prefix, size, (i) => space.at(BigInt(i)), (i, px, text) => {
        all[i] = px;
        k++;
        record(text, px);
      });
    }
    if (k !== size) throw new Error(`secret space enumeration produced ${k} candidates, expected ${size}`);
    if (found.some((v) => Number.isNaN(v))) throw new InputError(`manifest: a canary secret is not in the manifest's secret space`);
    return { all, secrets: found };
  }

  /**
   * Draws `count` candidates from the space with a model-guided proposal, for importance-sampled
   * ranks: at each trie node the next character is chosen with probability
   *
   *   q(c) = mix * (model's p(c | context), renormalized over the allowed characters)
   *        + (1 - mix) * (share of the space's secrets below c, i.e. the uniform distribution),
   *
   * (a defensive mixture, Hesterberg 1995: weights u/q stay below 1/(1 - mix)). The model part puts
   * samples where candidates are likely, which is exactly the low-Px tail exposure is about, so
   * P_uniform(Px(r) <= t) = E_q[(u/q)(r) 1{Px(r) <= t}] is estimated well far beyond 1/count.
   * Needs prefix sharing (complete character distributions).
   */
  async sampleSpace(prefix: string, space: SecretSpace, count: number, rng: Rng, mix = 0.5): Promise<ImportanceSample> {
    if (!this.canWalk(space)) {
      throw new CapabilityError('nextTokenDistribution', `${this.label} cannot give complete next-character distributions for every secret character`);
    }
    const slots = space.slots.map((s) => buildTrie(s.alternatives));
    const last = slots.length - 1;
    interface Draw extends WalkState {
      logWeight: number;
      done: boolean;
    }
    const draws: Draw[] = Array.from({ length: count }, () => ({ text: '', logp: 0, slot: 0, node: slots[0]!, logWeight: 0, done: false }));
    /** Takes forced steps: an alternative ends here and nothing continues it. */
    const settle = (d: Draw): void => {
      while (!d.done && d.node.children.size === 0) {
        if (d.slot === last) d.done = true;
        else d.node = slots[++d.slot]!;
      }
    };
    draws.forEach(settle);
    for (;;) {
      const live = draws.filter((d) => !d.done);
      if (live.length === 0) break;
      for (let from = 0; from < live.length; from += this.batchSize) {
        const batch = live.slice(from, from + this.batchSize);
        const contexts = new Map<string, number>();
        for (const d of batch) if (!contexts.has(d.text)) contexts.set(d.text, contexts.size);
        const texts = [...contexts.keys()];
        const dists = await this.target.nextTokenDistributions(texts.map((t) => prefix + t));
        this.scored += texts.length;
        this.onProgress?.(this.scored);
        for (const d of batch) {
          const row = contexts.get(d.text)!;
          const indexOf = this.rowIndex(dists[row]!);
          const logprobs = dists[row]!.logprobs;
          const node = d.node;
          // Options: each child character, and ending the alternative here (then the next slot).
          const chars = [...node.children.keys()];
          const uniform = chars.map((c) => node.children.get(c)!.count / node.count);
          const uEnd = node.ends.length / node.count;
          const modelP = chars.map((c) => {
            const j = indexOf(c);
            return j < 0 ? 0 : Math.exp(logprobs[j]!);
          });
          const modelSum = modelP.reduce((a, b) => a + b, 0);
          const q = chars.map((_, i) => mix * (modelSum > 0 ? (1 - uEnd) * (modelP[i]! / modelSum) : uniform[i]!) + (1 - mix) * uniform[i]!);
          const qEnd = uEnd; // the model has no say in where an alternative ends: uniform share
          let x = rng.next() * (q.reduce((a, b) => a + b, 0) + qEnd);
          let pick = -1;
          for (let i = 0; i < chars.length; i++) {
            x -= q[i]!;
            if (x < 0) {
              pick = i;
              break;
            }
          }
          if (pick < 0 && qEnd === 0) pick = chars.length - 1;
          if (pick < 0) {
            d.logWeight += Math.log(uEnd) - Math.log(qEnd);
            if (d.slot === last) d.done = true;
            else d.node = slots[++d.slot]!;
          } else {
            const c = chars[pick]!;
            const j = indexOf(c);
            d.logp += j < 0 ? -Infinity : logprobs[j]!;
            d.logWeight += Math.log(uniform[pick]!) - Math.log(q[pick]!);
            d.text += c;
            d.node = node.children.get(c)!;
          }
          settle(d);
        }
      }
    }
    return {
      texts: draws.map((d) => d.text),
      px: Float64Array.from(draws, (d) => -d.logp),
      logWeight: Float64Array.from(draws, (d) => d.logWeight),
    };
  }

  /** Index of each vocabulary token in a distribution (identical to the first one's, normally). */
  private rowIndex(dist: TokenDistribution): (ch: string) => number {
    const same = this.vocabTokens !== null && dist.tokens.length === this.vocabTokens.length && dist.tokens.every((t, i) => t === this.vocabTokens![i]);
    if (!dist.complete) throw new CapabilityError('nextTokenDistribution', `${this.label} returned a truncated next-token distribution`);
    if (same) return (ch) => this.vocab!.get(ch) ?? -1;
    const local = new Map(dist.tokens.map((t, i) => [t, i]));
    return (ch) => local.get(ch) ?? -1;
  }

  /**
   * Walks the trie of slot tries depth-first in batches: each state whose node has children needs
   * the distribution after prefix + its text; identical texts in a batch share one context.
   */
  private async walk(prefix: string, slots: CharTrie[], onLeaf: (state: WalkState, id: number) => void, maxPx = Infinity): Promise<void> {
    const last = slots.length - 1;
    const pending: WalkState[] = [];
    const settle = (state: WalkState): void => {
      // Px only grows along a path (every log-probability is <= 0): nothing below exceeds-then-returns.
      if (-state.logp > maxPx) return;
      for (const id of state.node.ends) {
        if (state.slot === last) onLeaf(state, id);
        else settle({ text: state.text, logp: state.logp, slot: state.slot + 1, node: slots[state.slot + 1]! });
      }
      if (state.node.children.size > 0) pending.push(state);
    };
    settle({ text: '', logp: 0, slot: 0, node: slots[0]! });
    while (pending.length > 0) {
      const batch = pending.splice(Math.max(0, pending.length - this.batchSize));
      const contexts = new Map<string, number>();
      for (const s of batch) if (!contexts.has(s.text)) contexts.set(s.text, contexts.size);
      const texts = [...contexts.keys()];
      const dists = await this.target.nextTokenDistributions(texts.map((t) => prefix + t));
      this.scored += texts.length;
      this.onProgress?.(this.scored);
      const indexers = dists.map((d) => this.rowIndex(d));
      for (const s of batch) {
        const row = contexts.get(s.text)!;
        const logprobs = dists[row]!.logprobs;
        const indexOf = indexers[row]!;
        for (const [ch, child] of s.node.children) {
          const j = indexOf(ch);
          const lp = j < 0 ? -Infinity : logprobs[j]!;
          settle({ text: s.text + ch, logp: s.logp + lp, slot: s.slot, node: child });
        }
      }
    }
  }

  /** Scores prefix + candidate(i) for i in [0, count) with scoreTexts, in batches. */
  private async perText(prefix: string, count: number, candidate: (i: number) => string, onScore: (i: number, px: number, text: string) => void): Promise<void> {
    for (let from = 0; from < count; from += this.batchSize) {
      const to = Math.min(count, from + this.batchSize);
      const secrets: string[] = [];
      for (let i = from; i < to; i++) secrets.push(candidate(i));
      const scored = await this.target.scoreTexts(secrets.map((s) => prefix + s));
      this.scored += secrets.length;
      this.onProgress?.(this.scored);
      scored.forEach((st, j) => onScore(from + j, secretNll(st, prefix.length, prefix.length + secrets[j]!.length, this.label), secrets[j]!));
    }
  }
}
