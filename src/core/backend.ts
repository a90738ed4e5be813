/**
 * TensorFlow.js backend selection (DESIGN.md "Runtime decisions").
 *
 * `auto` takes the native tfjs-node backend when its binding really loads, else wasm, else the
 * pure-JS cpu backend. Why each backend was not used is kept, for `doctor` and for every result
 * (results record the backend they ran on).
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from './errors.js';
import type { BackendName, BackendPreference } from './backend-names.js';

export { backendPreferences, type BackendName, type BackendPreference } from './backend-names.js';

export interface SkippedBackend {
  backend: BackendName;
  reason: string;
}

export interface BackendInfo {
  backend: BackendName;
  /** Why this backend: "requested with --backend" or "first available in auto order". */
  reason: string;
  skipped: SkippedBackend[];
  tfjsVersion: string;
  wasmSimd: boolean | null;
  wasmThreads: boolean | null;
}

const autoOrder: BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** Registers a backend with tfjs. Returns null on success, else why it is unavailable. */
async function register(name: BackendName): Promise<string | null> {
  try {
    if (name === 'tensorflow') {
      // The package may be absent (optionalDependency skipped) or present without its native
      // library (install script not run): both throw here and fall back cleanly.
      await import('@tensorflow/tfjs-node' as string);
    } else if (name === 'wasm') {
      await import('@tensorflow/tfjs-backend-wasm');
    }
    if (!tf.findBackendFactory(name)) return `${name} backend did not register`;
    const ok = await tf.setBackend(name);
    if (!ok) return `${name} backend failed to initialize`;
    await tf.ready();
    return null;
  } catch (e) {
    return explainLoadFailure(name, e);
  }
}

function explainLoadFailure(name: BackendName, e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const message = (err?.message ?? String(e)).split('\n')[0] ?? '';
  if (name === 'tensorflow') {
    if (err?.code === 'ERR_MODULE_NOT_FOUND' && message.includes('@tensorflow/tfjs-node')) {
      return '@tensorflow/tfjs-node is not installed (optional dependency; its install script downloads libtensorflow)';
    }
    return `@tensorflow/tfjs-node is installed but its native binding does not load: ${message}`;
  }
  return `${name} backend failed to load: ${message}`;
}

let current: BackendInfo | undefined;
let currentPreference: BackendPreference | undefined;

/**
 * Selects and initializes the backend once per process. A later call with another explicit
 * preference switches backends (tests, benchmarks comparing backends).
 */
export async function initBackend(preference: BackendPreference = 'auto'): Promise<BackendInfo> {
  if (current && (preference === currentPreference || preference === 'auto')) return current;
  silenceTfjsNodeAdvert();
  const skipped: SkippedBackend[] = [];
  const candidates = preference === 'auto' ? autoOrder : [preference];
  for (const name of candidates) {
    const failure = await register(name);
    if (failure === null) {
      if (preference === 'auto') {
        for (const later of autoOrder.slice(autoOrder.indexOf(name) + 1)) {
          skipped.push({ backend: later, reason: `lower priority than ${name} in auto order` });
        }
      }
      current = {
        backend: name,
        reason: preference === 'auto' ? 'first available in auto order (tensorflow > wasm > cpu)' : 'requested with --backend',
        skipped,
        tfjsVersion: tf.version.tfjs,
        wasmSimd: name === 'wasm' ? tf.env().getBool('WASM_HAS_SIMD_SUPPORT') : null,
        wasmThreads: name === 'wasm' ? tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') : null,
      };
      currentPreference = preference;
      return current;
    }
    skipped.push({ backend: name, reason: failure });
  }
  const why = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
  throw new UsageError(`--backend ${preference}: no usable backend (${why})`);
}

/** The backend chosen by initBackend, for recording in results. */
export function currentBackend(): BackendInfo {
  if (!current) throw new Error('initBackend() has not been called');
  return current;
}

/**
 * tfjs prints a "Hi there, install tfjs-node" banner through console.warn when the cpu backend is
 * used in Node. It is noise for our users (doctor says what runs and why) and must never reach a
 * `--json` consumer, so it is filtered.
 */
function silenceTfjsNodeAdvert(): void {
  const marker = Symbol.for('memaudit.warnFilter');
  const g = globalThis as Record<symbol, unknown>;
  if (g[marker]) return;
  g[marker] = true;
  const original = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    const first = typeof args[0] === 'string' ? args[0] : '';
    if (first.includes('Hi there') && first.includes('tfjs-node')) return;
    original(...args);
  };
  tf.env().set('IS_TEST', false);
}

export { tf };
