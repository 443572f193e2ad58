/**
 * A small leveled logger writing one line per event to stderr. Levels as Envoy's `--log-level`.
 */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical', 'off'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

let threshold = LOG_LEVELS.indexOf('info');

export function setLogLevel(level: LogLevel): void {
  threshold = LOG_LEVELS.indexOf(level);
}

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

export interface Logger {
  trace(msg: string): void;
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  enabled(level: LogLevel): boolean;
}

export function logger(component: string): Logger {
  const emit = (level: LogLevel, msg: string): void => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    process.stderr.write(`[${new Date().toISOString()}][${level}][${component}] ${msg}\n`);
  };
  return {
    trace: (m) => emit('trace', m),
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
    enabled: (level) => LOG_LEVELS.indexOf(level) >= threshold,
  };
}
