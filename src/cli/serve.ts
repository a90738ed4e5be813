/**
 * `memaudit serve --model DIR --port P`: a local LM behind the OpenAI-compatible completions API.
 * The model code (TensorFlow.js) is imported by the handler, not when the flags are defined.
 */
import type { CommandModule } from 'yargs';
import { basename, resolve } from 'node:path';
import { InputError, isMemauditError, UsageError } from '../core/errors.js';
import { numberFlag, rules } from '../core/flags.js';
import { runCommand, type GlobalArgs } from './context.js';
import { emit } from './output.js';

interface ServeArgs extends GlobalArgs {
  model: string;
  port: number;
  host: string;
  modelName?: string;
  apiKeyEnv?: string;
  vocabFile?: string;
  contextLength?: number;
  insecureNoAuth?: boolean;
  maxRequestMb: number;
  maxRequestTokens: number;
  requestTimeout: number;
}

export const serveCommand: CommandModule<GlobalArgs, ServeArgs> = {
  command: 'serve',
  describe: 'Serve a local language model over the OpenAI-compatible completions API (echo + logprobs, generation)',
  builder: (y) =>
    y
      .option('model', { type: 'string', demandOption: true, describe: 'Model directory (memaudit-trained, or a tfjs LM with --vocab-file)' })
      .option('port', { type: 'string', demandOption: true, coerce: numberFlag('port', { integer: true, min: 0, max: 65535 }), describe: 'TCP port (0 picks a free one)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Interface to listen on (the model may hold PHI: local only by default)' })
      .option('model-name', { type: 'string', describe: 'Model id clients name (openai:URL#NAME) [default: the directory name]' })
      .option('api-key-env', { type: 'string', describe: 'Environment variable holding a key clients must send as a Bearer token (needed to listen beyond loopback)' })
      .option('insecure-no-auth', { type: 'boolean', describe: 'Listen on a non-loopback --host without a key: anyone who can reach it can query the model' })
      .option('max-request-mb', { type: 'string', default: '1', coerce: numberFlag('max-request-mb', { min: 0.001, max: 1024 }), describe: 'Largest request body, MB (larger: HTTP 413)' })
      .option('max-request-tokens', { type: 'string', default: '65536', coerce: numberFlag('max-request-tokens', rules.positiveInt), describe: 'Most work per request: prompts x choices x (prompt + max_tokens) characters (more: HTTP 400)' })
      .option('request-timeout', { type: 'string', default: '60', coerce: numberFlag('request-timeout', rules.positive), describe: 'Seconds one request may take (longer: HTTP 503, work stopped)' })
      .option('vocab-file', { type: 'string', describe: 'Vocabulary of a tfjs LM without memaudit.json' })
      .option('context-length', { type: 'string', coerce: numberFlag('context-length', rules.positiveInt), describe: 'Context window of a tfjs LM without memaudit.json' }) as never,
  handler: (args) =>
    runCommand('serve', async () => {
      let apiKey: string | undefined;
      if (args.apiKeyEnv !== undefined) {
        apiKey = process.env[args.apiKeyEnv]?.trim();
        if (!apiKey) throw new UsageError(`--api-key-env ${args.apiKeyEnv}: that environment variable is not set`);
      }
      const { checkBindSafety, isLoopbackHost } = await import('../targets/serve/server.js');
      // Before the model loads: a refused bind should not cost a model load.
      checkBindSafety(args.host, apiKey, args.insecureNoAuth === true);
      const [{ initBackend }, { LocalLmTarget }, { openLocalTarget }, { startServer }] = await Promise.all([
        import('../core/backend.js'),
        import('../targets/local/lm.js'),
        import('../targets/local/open.js'),
        import('../targets/serve/server.js'),
      ]);
      await initBackend(args.backend);
      const target = await openLocalTarget(args.model, { task: 'lm', vocabFile: args.vocabFile, contextLength: args.contextLength });
      if (!(target instanceof LocalLmTarget)) {
        await target.close();
        throw new UsageError(`--model ${args.model}: a ${target.task} model; serve serves language models`);
      }
      const modelName = args.modelName ?? basename(resolve(args.model));
      let server;
      try {
        server = await startServer({
          target,
          modelName,
          port: args.port,
          host: args.host,
          apiKey,
          insecureNoAuth: args.insecureNoAuth === true,
          maxBodyBytes: Math.round(args.maxRequestMb * 2 ** 20),
          maxRequestTokens: args.maxRequestTokens,
          requestTimeoutMs: Math.round(args.requestTimeout * 1000),
        });
      } catch (e) {
        if (isMemauditError(e)) throw e;
        const code = (e as NodeJS.ErrnoException).code;
        throw new InputError(`--port ${args.port}: cannot listen on ${args.host} (${code ?? (e as Error).message})`);
      }
      const spec = `openai:${server.url}#${modelName}`;
      if (!isLoopbackHost(args.host) && apiKey === undefined) {
        process.stderr.write(`memaudit serve: warning: serving ${args.model} without a key on ${args.host}: anyone who can reach it can query the model (--insecure-no-auth)\n`);
      }
      emit(args, { url: server.url, model: modelName, target: spec, port: server.port }, () => `serving ${args.model} as "${modelName}" at ${server.url}\nprobe it with --target ${spec}\n`);
      await new Promise<void>((done) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          done();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await server.close();
      await target.close();
    }),
};
