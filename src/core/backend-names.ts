/**
 * The backend names and the `--backend` choices, apart from src/core/backend.ts: that module
 * loads TensorFlow.js (about half a second), and every command's flag definitions need these
 * names, including `--version` and `--help`.
 */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendPreference = 'auto' | BackendName;
export const backendPreferences: readonly BackendPreference[] = ['auto', 'tensorflow', 'wasm', 'cpu'];
