/**
 * What an API server's error body may add to our error lines: only words from a fixed vocabulary.
 *
 * A server (or a proxy in front of it) is not trusted with our output: it receives the API key and
 * the prompts (canaries, training records), and error lines reach terminals, CI logs and the failure
 * reasons in reports. Free text ("Incorrect API key provided: sk-...", "Invalid prompt: 'Patient
 * Jane Roe ...'") is never shown, and neither is any structured field whose value is not one of the
 * error types and codes the servers we speak document, or one of the request fields we send: a
 * hostile server can put the key or a canary in `code` or `param` as easily as in `message`.
 * With the HTTP status beside them that is enough to act on; the full body is one curl away.
 */

/** Error types and codes of OpenAI, vLLM (exception names), TGI (`error_type`) and FastAPI/pydantic (`detail[].type`). */
const knownErrorWords = new Set([
  // OpenAI
  'invalid_request_error', 'authentication_error', 'permission_error', 'not_found_error', 'rate_limit_error', 'server_error', 'api_error',
  'insufficient_quota', 'invalid_api_key', 'model_not_found', 'context_length_exceeded', 'rate_limit_exceeded', 'unsupported_value',
  'unsupported_parameter', 'invalid_value', 'invalid_type', 'missing_required_parameter', 'billing_hard_limit_reached', 'engine_overloaded',
  'unknown_url', 'invalid_model', 'requests', 'tokens', 'overloaded_error', 'timeout',
  // vLLM and other Python servers
  'BadRequestError', 'NotFoundError', 'InternalServerError', 'AuthenticationError', 'PermissionDeniedError', 'RateLimitError',
  'UnprocessableEntityError', 'ValueError', 'TypeError', 'NotImplementedError', 'OverflowError',
  // TGI
  'validation', 'generation', 'overloaded', 'incomplete_generation', 'tokenizer',
  // FastAPI / pydantic
  'missing', 'value_error', 'type_error', 'json_invalid', 'extra_forbidden', 'int_parsing', 'float_parsing', 'bool_parsing',
  'string_type', 'int_type', 'float_type', 'bool_type', 'list_type', 'dict_type', 'greater_than_equal', 'less_than_equal',
  // KServe / TF Serving
  'InvalidInput', 'InferenceError', 'ModelMissingError', 'INVALID_ARGUMENT', 'NOT_FOUND', 'FAILED_PRECONDITION', 'UNAVAILABLE', 'INTERNAL',
]);

/** The request fields memaudit sends: a `param` naming one of them is shown. */
const requestFields = new Set([
  'model', 'prompt', 'max_tokens', 'temperature', 'logprobs', 'echo', 'n', 'best_of', 'use_beam_search', 'top_k', 'top_p', 'seed',
  'prompt_logprobs', 'return_token_ids', 'messages', 'stop', 'stream', 'inputs', 'parameters', 'max_new_tokens', 'decoder_input_details',
  'details', 'do_sample', 'instances', 'outputs',
]);

function shown(name: 'type' | 'code' | 'param', value: unknown): string | undefined {
  if (typeof value === 'number') return name === 'code' && Number.isInteger(value) && value >= 100 && value <= 599 ? String(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const known = name === 'param' ? requestFields.has(value) : knownErrorWords.has(value);
  return known ? value : undefined;
}

/**
 * The structured error fields of a response body worth showing (OpenAI `error.type`/`code`/`param`;
 * vLLM and others at the top level; TGI `error_type`; FastAPI `detail[0].type`), each only when its
 * value is in the vocabulary above; '' when none is, or the body is not JSON.
 */
export function serverMessageOf(text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return '';
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return '';
  const top = body as Record<string, unknown>;
  const nested = top.error && typeof top.error === 'object' && !Array.isArray(top.error) ? (top.error as Record<string, unknown>) : {};
  const detail = Array.isArray(top.detail) && top.detail[0] && typeof top.detail[0] === 'object' ? (top.detail[0] as Record<string, unknown>) : {};
  const fields: ['type' | 'code' | 'param', unknown][] = [
    ['type', nested.type ?? top.type ?? top.error_type ?? detail.type],
    ['code', nested.code ?? top.code],
    ['param', nested.param ?? top.param],
  ];
  const parts: string[] = [];
  for (const [name, value] of fields) {
    const word = shown(name, value);
    if (word !== undefined) parts.push(`${name} ${word}`);
  }
  return parts.join(', ');
}
