/** Every benchmark suite, in the order `npm run bench` runs them. */
import type { BenchSuite } from './suite.js';
import { accountingSuite } from './accounting.js';
import { targetsSuite } from './targets.js';
import { exposureSuite } from './exposure.js';
import { trainerSuite } from './trainer.js';
import { shadowsSuite } from './shadows.js';
import { insertSuite } from './insert.js';
import { queueSuite } from './queue.js';

export const suites: BenchSuite[] = [
  accountingSuite,
  targetsSuite,
  exposureSuite,
  trainerSuite,
  shadowsSuite,
  insertSuite,
  queueSuite,
];
