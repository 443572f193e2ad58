/**
 * Watches a directory for changes: fs.watch events, debounced (an editor's save is several events), plus a
 * periodic rescan because fs.watch misses events on some file systems (network mounts, some container overlays)
 * and atomic renames. Calls `onChange` at most once per debounce window, never concurrently.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '../common/logger.js';

export interface WatcherOptions {
  debounceMs: number;
  /** 0 disables the periodic rescan. */
  rescanMs: number;
}

export const DEFAULT_WATCHER_OPTIONS: WatcherOptions = { debounceMs: 50, rescanMs: 2000 };

export class DirectoryWatcher {
  private fsWatcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private rescan: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly onChange: (reason: 'watch' | 'rescan') => void,
    private readonly log: Logger,
    private readonly options: WatcherOptions = DEFAULT_WATCHER_OPTIONS,
  ) {}

  start(): void {
    try {
      this.fsWatcher = watch(this.dir, { persistent: false }, () => this.schedule());
      this.fsWatcher.on('error', (e) => this.log.warn(`watching ${this.dir} failed (${e.message}); periodic rescan continues`));
    } catch (e) {
      this.log.warn(`cannot watch ${this.dir} (${(e as Error).message}); relying on the periodic rescan`);
    }
    if (this.options.rescanMs > 0) {
      this.rescan = setInterval(() => { if (!this.closed) this.onChange('rescan'); }, this.options.rescanMs);
      this.rescan.unref();
    }
  }

  private schedule(): void {
    if (this.closed || this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      if (!this.closed) this.onChange('watch');
    }, this.options.debounceMs);
  }

  close(): void {
    this.closed = true;
    this.fsWatcher?.close();
    if (this.debounce) clearTimeout(this.debounce);
    if (this.rescan) clearInterval(this.rescan);
  }
}
