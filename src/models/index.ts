/** The model zoo, tokenizer, tabular features and the model directory. */
export * from './tokenizer.js';
export * from './features.js';
export * from './charlm.js';
export * from './mlp.js';
export * from './model-dir.js';
