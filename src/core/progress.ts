/**
 * Progress on stderr, never stdout (so `--json` consumers see only the result), nothing with --quiet.
 * On a TTY: one live line rewritten in place. Otherwise (CI logs, pipes): a plain line at most every
 * `intervalMs` (10 s by default, `MEMAUDIT_PROGRESS_INTERVAL_MS` overrides), so a long run is never
 * silent for minutes yet a log is not flooded. Counted tasks (`step`) show done/total, rate and ETA.
 */
export interface Progress {
  /** Updates the status line with free text, e.g. `extraction: greedy decoding of 8 canaries`. */
  update(message: string): void;
  /** Updates a counted task: `train 120/800 (15%)  4.1 step/s  ETA 2m50s  loss 1.93`. */
  step(task: string, done: number, total: number, detail?: string): void;
  /** Prints a line that stays (a stage finished). */
  log(message: string): void;
  done(): void;
}

export interface ProgressOptions {
  quiet?: boolean;
  /** Live line (true) or plain lines at the interval (false); defaults to whether the stream is a TTY. */
  live?: boolean;
  stream?: NodeJS.WriteStream;
  /** Minimum milliseconds between two status lines (live: redraws; plain: printed lines). */
  intervalMs?: number;
  /** The clock, in milliseconds (tests). */
  now?: () => number;
}

const LIVE_INTERVAL_MS = 100;
const PLAIN_INTERVAL_MS = 10_000;

/** The plain-line interval from MEMAUDIT_PROGRESS_INTERVAL_MS (tests shorten it), else 10 s. */
export function plainIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = Number(env.MEMAUDIT_PROGRESS_INTERVAL_MS);
  return Number.isFinite(raw) && raw >= 0 ? raw : PLAIN_INTERVAL_MS;
}

/** A duration as `45s`, `2m05s` or `1h02m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatRate(perSecond: number): string {
  if (perSecond >= 100) return perSecond.toFixed(0);
  if (perSecond >= 1) return perSecond.toFixed(1);
  return perSecond.toPrecision(2);
}

/** Rate and ETA of one counted task, measured from when it was first reported. */
class TaskClock {
  private task = '';
  private startedAt = 0;
  private startDone = 0;
  private lastDone = 0;

  constructor(private readonly now: () => number) {}

  describe(task: string, done: number, total: number, detail?: string): string {
    const t = this.now();
    if (task !== this.task || done < this.lastDone) [this.task, this.startedAt, this.startDone] = [task, t, done];
    this.lastDone = done;
    const seconds = (t - this.startedAt) / 1000;
    const rate = seconds > 0 ? (done - this.startDone) / seconds : 0;
    const percent = total > 0 ? ` (${Math.floor((100 * done) / total)}%)` : '';
    const timing = rate > 0 ? `  ${formatRate(rate)}/s  ETA ${formatDuration((total - done) / rate)}` : '  ETA ?';
    return `${task} ${done}/${total}${percent}${done >= total ? '' : timing}${detail ? '  ' + detail : ''}`;
  }
}

export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) return silentProgress;
  const live = options.live ?? stream.isTTY === true;
  const interval = options.intervalMs ?? (live ? LIVE_INTERVAL_MS : plainIntervalMs());
  const now = options.now ?? Date.now;
  const clock = new TaskClock(now);
  // Plain mode waits one interval before its first line: a run shorter than that prints none.
  let last = live ? 0 : now();
  let shown = false;
  const clear = () => {
    if (shown) stream.write('\r\x1b[K');
    shown = false;
  };
  const show = (message: string) => {
    if (live) {
      const width = Math.max(20, (stream.columns || 100) - 1); // a pty may report 0 columns
      stream.write('\r\x1b[K' + message.slice(0, width));
      shown = true;
    } else {
      stream.write(message + '\n');
    }
  };
  const due = () => {
    const t = now();
    if (t - last < interval) return false;
    last = t;
    return true;
  };
  return {
    update(message) {
      if (due()) show(message);
    },
    step(task, done, total, detail) {
      const line = clock.describe(task, done, total, detail); // always, so the rate is measured from the task's start
      if (due()) show(line);
    },
    log(message) {
      clear();
      stream.write(message + '\n');
    },
    done() {
      clear();
    },
  };
}

/** A progress that reports nothing (library callers that did not ask for one, --quiet). */
export const silentProgress: Progress = { update() {}, step() {}, log() {}, done() {} };
