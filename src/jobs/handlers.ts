/** Job kinds and their handlers, loaded lazily so a worker imports only what it runs. */
import type { HandlerTable } from './execute.js';

export const jobHandlers: HandlerTable = {
  'train-shadow': async () => (await import('./train-shadow.js')).trainShadowHandler,
};
