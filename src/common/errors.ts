/**
 * Typed errors with stable codes. `source` says which side is at fault, `retryable` whether the proxy
 * may try again (as Pingora's error kinds do). Codes never change once published: tests and logs use them.
 */
export type ErrorSource = 'downstream' | 'upstream' | 'internal' | 'config';

export class SkiffError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly source: ErrorSource = 'internal',
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SkiffError';
  }
}

/** A configuration error: `path` names the field (e.g. `static_resources.clusters[0].lb_policy`). */
export class ConfigError extends SkiffError {
  constructor(readonly path: string, message: string, options?: { cause?: unknown }) {
    super('SKIFF_CONFIG_INVALID', `${path}: ${message}`, 'config', false, options);
    this.name = 'ConfigError';
  }
}

/** A field or extension Skiff does not implement; rejected by name, never ignored. */
export class UnsupportedConfigError extends ConfigError {
  constructor(path: string, what: string) {
    super(path, `unsupported ${what}`);
    (this as { code: string }).code = 'SKIFF_CONFIG_UNSUPPORTED';
    this.name = 'UnsupportedConfigError';
  }
}
