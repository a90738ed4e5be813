/** Dataset IO: format detection, streaming readers; synthetic clinical data lives in ./synth. */
export { detectFormat, resolveFormat, dataFormats, type DataFormat } from './format.js';
export { readRecords, parseJsonlLine, defaultTextField, type DataRecord, type ReadOptions } from './readers.js';
export { readLines, isBlank, type Line } from './lines.js';
export { checkReadableFile } from './open.js';
