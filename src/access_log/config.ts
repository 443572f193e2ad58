/**
 * envoy.config.accesslog.v3.AccessLog lists read into loggers: envoy.access_loggers.file (FileAccessLog) and
 * envoy.access_loggers.stdout / stderr (StdoutAccessLog / StderrAccessLog), text formats only. Filters, JSON
 * formats and other loggers are refused by name.
 */
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import { compileFormat, DEFAULT_FORMAT, type AccessLogEntry, type AccessLogFormatter } from './format.js';
import { accessLogSink, type AccessLogSink } from './writer.js';

export const FILE_ACCESS_LOG_TYPE_URL = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
export const STDOUT_ACCESS_LOG_TYPE_URL = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';
export const STDERR_ACCESS_LOG_TYPE_URL = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog';

/** The extensions (for the config subset's allow-list). */
export const ACCESS_LOG_EXTENSIONS = [
  { name: 'envoy.access_loggers.file', typeUrl: FILE_ACCESS_LOG_TYPE_URL },
  { name: 'envoy.access_loggers.stdout', typeUrl: STDOUT_ACCESS_LOG_TYPE_URL },
  { name: 'envoy.access_loggers.stderr', typeUrl: STDERR_ACCESS_LOG_TYPE_URL },
] as const;

export interface AccessLogger {
  log(entry: AccessLogEntry): void;
}

interface SubstitutionFormatString {
  text_format?: string;
  text_format_source?: { inline_string?: string; filename?: string; inline_bytes?: unknown };
  json_format?: unknown;
}
interface AccessLogMessage {
  name?: string;
  filter?: unknown;
  typed_config?: { '@type'?: string; path?: string; format?: string; log_format?: SubstitutionFormatString; json_format?: unknown; typed_json_format?: unknown };
}

class FormattedLogger implements AccessLogger {
  constructor(private readonly format: AccessLogFormatter, private readonly sink: AccessLogSink) {}
  log(entry: AccessLogEntry): void { this.sink.write(this.format(entry)); }
}

function formatOf(f: SubstitutionFormatString | undefined, path: string): string {
  if (f === undefined) return DEFAULT_FORMAT;
  if (f.json_format !== undefined) throw new UnsupportedConfigError(`${path}.json_format`, 'JSON access log format');
  if (f.text_format !== undefined) return f.text_format;
  const src = f.text_format_source;
  if (src !== undefined) {
    if (typeof src.inline_string === 'string') return src.inline_string;
    throw new UnsupportedConfigError(`${path}.text_format_source`, 'a text format from anything but inline_string');
  }
  return DEFAULT_FORMAT;
}

/** Builds the loggers of an `access_log` list at `path`; [] for none. */
export function accessLoggers(list: readonly unknown[] | undefined, path: string): AccessLogger[] {
  if (list === undefined) return [];
  return list.map((item, i) => {
    const at = `${path}[${i}]`;
    const m = item as AccessLogMessage;
    if (m.filter !== undefined) throw new UnsupportedConfigError(`${at}.filter`, 'access log filters');
    const cfg = m.typed_config;
    const url = cfg?.['@type'];
    if (cfg === undefined || url === undefined) throw new ConfigError(`${at}.typed_config`, 'an access logger needs a typed_config');
    const tc = `${at}.typed_config`;
    if (url === FILE_ACCESS_LOG_TYPE_URL) {
      if (cfg.json_format !== undefined || cfg.typed_json_format !== undefined) throw new UnsupportedConfigError(`${tc}.json_format`, 'JSON access log format');
      if (typeof cfg.path !== 'string' || cfg.path === '') throw new ConfigError(`${tc}.path`, 'a file access log needs a path');
      const format = cfg.log_format !== undefined ? formatOf(cfg.log_format, `${tc}.log_format`) : (cfg.format ?? DEFAULT_FORMAT);
      const field = cfg.log_format !== undefined ? `${tc}.log_format` : `${tc}.format`;
      return new FormattedLogger(compileFormat(format, field), accessLogSink(cfg.path));
    }
    if (url === STDOUT_ACCESS_LOG_TYPE_URL || url === STDERR_ACCESS_LOG_TYPE_URL) {
      const format = formatOf(cfg.log_format, `${tc}.log_format`);
      return new FormattedLogger(compileFormat(format, `${tc}.log_format`), accessLogSink(url === STDOUT_ACCESS_LOG_TYPE_URL ? '/dev/stdout' : '/dev/stderr'));
    }
    throw new UnsupportedConfigError(tc, `access logger ${url}`);
  });
}
