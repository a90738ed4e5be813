/**
 * Progress on stderr, only when stderr is a TTY and the user did not pass --quiet, so that pipes,
 * CI logs and `--json` consumers never see it. One line, rewritten in place, throttled.
 */
export interface Progress {
  /** Updates the status line, e.g. `train step 120/800 loss 1.93 eps 0.84`. */
  update(message: string): void;
  /** Prints a line that stays (a stage finished). */
  log(message: string): void;
  done(): void;
}

export interface ProgressOptions {
  quiet?: boolean;
  /** Force on/off regardless of TTY (tests). */
  enabled?: boolean;
  stream?: NodeJS.WriteStream;
  /** Minimum milliseconds between two status redraws. */
  intervalMs?: number;
}

export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const enabled = options.enabled ?? (!options.quiet && stream.isTTY === true);
  if (!enabled) return { update() {}, log() {}, done() {} };
  const interval = options.intervalMs ?? 100;
  let last = 0;
  let shown = false;
  const clear = () => {
    if (shown) stream.write('\r\x1b[K');
    shown = false;
  };
  return {
    update(message) {
      const now = Date.now();
      if (now - last < interval) return;
      last = now;
      const width = Math.max(20, (stream.columns ?? 100) - 1);
      stream.write('\r\x1b[K' + message.slice(0, width));
      shown = true;
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

/** A progress that reports nothing (library callers that did not ask for one). */
export const silentProgress: Progress = { update() {}, log() {}, done() {} };
