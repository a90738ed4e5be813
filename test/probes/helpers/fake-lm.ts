/**
 * A small deterministic character LM implementing the Target contract, for probe unit tests:
 * pseudo-random logits from the last three characters, plus a boost for "memorized" secrets
 * after their prefix. scoreTexts and nextTokenDistributions agree by construction.
 */
import { BaseTarget } from '../../../src/targets/base.js';
import type { GenerateRequest, Generation, ScoredText, TargetCapabilities, TargetDescriptor, TokenDistribution } from '../../../src/targets/target.js';
import type { Rng } from '../../../src/core/rng.js';

export const fakeVocab = ['<pad>', '<unk>', ...' .-:@0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'];

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0) / 4294967296;
}

export interface FakeLmOptions {
  memorized?: { prefix: string; secret: string; boost: number }[];
  capabilities?: Partial<TargetCapabilities>;
  tokenizer?: string;
}

export class FakeLm extends BaseTarget {
  readonly kind = 'local' as const;
  readonly task = 'lm' as const;
  readonly label = 'target fake-lm';
  readonly capabilities: TargetCapabilities;
  calls = { distributions: 0, scored: 0 };
  private readonly options: FakeLmOptions;

  constructor(options: FakeLmOptions = {}) {
    super();
    this.options = options;
    this.capabilities = { scoreText: true, nextTokenDistribution: true, generate: true, beamSearch: false, classProbabilities: false, ...options.capabilities };
  }

  async describe(): Promise<TargetDescriptor> {
    return {
      target: 'fake-lm',
      kind: 'local',
      task: 'lm',
      digest: '0'.repeat(64),
      capabilities: { ...this.capabilities },
      tokenizer: this.options.tokenizer ?? 'char',
    };
  }

  /** Log-probabilities of every vocabulary token after `context`. */
  logprobs(context: string): Float64Array {
    const tail = context.slice(-3);
    const logits = fakeVocab.map((t, i) => (i < 2 ? -4 : 3 * hash(`${tail}|${t}`)));
    for (const m of this.options.memorized ?? []) {
      if (!context.startsWith(m.prefix)) continue;
      const done = context.slice(m.prefix.length);
      if (done.length < m.secret.length && m.secret.startsWith(done)) logits[fakeVocab.indexOf(m.secret[done.length]!)]! += m.boost;
    }
    const max = Math.max(...logits);
    const lse = max + Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0));
    return Float64Array.from(logits, (l) => l - lse);
  }

  override async nextTokenDistributions(prompts: string[]): Promise<TokenDistribution[]> {
    this.require('nextTokenDistribution');
    this.calls.distributions += prompts.length;
    return prompts.map((p) => ({ tokens: [...fakeVocab], logprobs: this.logprobs(p), complete: true }));
  }

  override async scoreTexts(texts: string[]): Promise<ScoredText[]> {
    this.require('scoreText');
    this.calls.scored += texts.length;
    return texts.map((text) => ({
      tokens: [...text].map((ch, i) => {
        const lp = this.logprobs(text.slice(0, i));
        const id = fakeVocab.indexOf(ch);
        return { token: ch, start: i, end: i + 1, logprob: lp[id < 0 ? 1 : id]! };
      }),
    }));
  }

  override async generate(requests: GenerateRequest[], rng?: Rng): Promise<Generation[][]> {
    this.require('generate');
    return requests.map((r) => {
      const n = r.decoding.kind === 'greedy' ? 1 : (r.n ?? 1);
      return Array.from({ length: n }, () => {
        let text = '';
        let logprob = 0;
        for (let t = 0; t < r.maxTokens; t++) {
          const lp = this.logprobs(r.prompt + text);
          let id = 2;
          if (r.decoding.kind === 'sample' && rng) {
            let u = rng.next();
            for (id = 2; id < fakeVocab.length - 1; id++) {
              u -= Math.exp(lp[id]!);
              if (u <= 0) break;
            }
          } else {
            for (let j = 2; j < fakeVocab.length; j++) if (lp[j]! > lp[id]!) id = j;
          }
          text += fakeVocab[id];
          logprob += lp[id]!;
        }
        return { text, logprob };
      });
    });
  }
}
