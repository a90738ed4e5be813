/** Training: the per-example clipping engine, Poisson sampling, DP noise and the DP-SGD loop. */
export { trainModel, saveTrainedModel, evaluateLoss, trainStep, makeOptimizer, type StepContext, type TrainOptions, type TrainResult } from './loop.js';
export { trainDefaults, checkTrainConfig, optimizerNames, type TrainConfig, type OptimizerName, type ArchitectureOptions } from './config.js';
export { readTrainingRecords, lmExamples, classifierExamples, makeBatch, type TrainingRecords, type ExampleSet, type ReadTrainingOptions } from './examples.js';
export { ClippingEngine, planModel, clipFactors, type ClippedGradients, type MeanGradients } from './engine.js';
export { naiveClippedGradients } from './naive.js';
export { poissonSample, ShuffledBatches } from './sampler.js';
export { csprngGaussian, seededGaussian, type CsprngGaussian, type GaussianSource, type NoiseSourceKind } from './noise.js';
export type { Batch } from './batch.js';
