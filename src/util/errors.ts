/**
 * Errors are data: a stable `code`, the side that failed, and whether a retry is safe.
 * The CLI prints `code: message` for these and never a stack trace.
 */
export class SwitchyardError extends Error {
  readonly code: string;
  readonly side: 'client' | 'upstream' | 'internal' | 'config';
  readonly retryable: boolean;
  constructor(code: string, message: string, side: SwitchyardError['side'] = 'internal', retryable = false) {
    super(message);
    this.name = 'SwitchyardError';
    this.code = code;
    this.side = side;
    this.retryable = retryable;
  }
}

/** A config that cannot be used; `errors` are `path: reason` lines. */
export class ConfigError extends SwitchyardError {
  readonly errors: readonly string[];
  constructor(source: string, errors: readonly string[]) {
    super('SWY_CONFIG_INVALID', `${source}: invalid config\n  ${errors.join('\n  ')}`, 'config');
    this.errors = errors;
  }
}
