/** Synthetic clinical data: notes (JSONL) and patient records (CSV), seeded, nothing real. */
export { syntheticNotes, type SyntheticNote } from './notes.js';
export { syntheticRecords, recordColumns, readmissionLogit, type SyntheticRecord } from './records.js';
export { writeSyntheticNotes, writeSyntheticRecords } from './write.js';
export { seededFaker, synthReferenceDate } from './faker.js';
