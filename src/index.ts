/** memaudit as a library: the stages a pipeline can call directly. */
export * from './core/errors.js';
export { Rng, rngFromSeed } from './core/rng.js';
export { initBackend, currentBackend, type BackendInfo, type BackendName, type BackendPreference } from './core/backend.js';
export * from './targets/target.js';
export type * from '../probes/types.js';
