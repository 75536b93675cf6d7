// The configuration overlay file (--config-overlay, a ConfigMap volume):
// read at start, read again whenever it changes (a ConfigMap update swaps
// the volume's ..data symlink), and handed to the policy store. A file that
// cannot be used is reported and changes nothing: the last good overlay keeps
// serving, and before the first good one nothing is activated (not ready).

import { asBelayError } from '../errors.js';
import { watchFiles } from '../util/watch-files.js';
import type { PolicyStore } from './active.js';
import { type ConfigOverlay, parseOverlay } from './overlay.js';

export interface OverlayFileStatus {
  readonly file: string;
  /** The overlay serving now (undefined before the first good read). */
  readonly overlay: ConfigOverlay | undefined;
  /** Why the file as it is now is not used; undefined when it is. */
  readonly error: string | undefined;
}

export interface OverlayFileOptions {
  onLoaded?: (overlay: ConfigOverlay) => void;
  onError?: (message: string) => void;
  pollMs?: number;
}

export interface OverlayFile {
  status(): OverlayFileStatus;
  close(): void;
}

export async function watchOverlayFile(file: string, store: PolicyStore, options: OverlayFileOptions = {}): Promise<OverlayFile> {
  let error: string | undefined;
  let applying: Promise<void> = Promise.resolve();
  const fail = (message: string) => {
    error = message;
    options.onError?.(message);
  };
  const watched = await watchFiles(
    [file],
    (contents) => {
      const c = contents.get(file);
      applying = applying.then(async () => {
        if (c instanceof Error) return fail(`cannot read configuration overlay ${file}: ${c.message}`);
        let overlay: ConfigOverlay;
        try {
          overlay = parseOverlay(c?.toString('utf8') ?? '', file);
        } catch (err) {
          return fail(asBelayError(err).message);
        }
        if (overlay.digest === store.overlay?.digest) {
          error = undefined;
          return;
        }
        try {
          await store.setOverlay(overlay);
        } catch (err) {
          return fail(`configuration overlay ${file} refused: ${asBelayError(err).message}`);
        }
        error = undefined;
        options.onLoaded?.(overlay);
      });
    },
    { ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}) },
  );
  await applying;
  return {
    status: () => ({ file, overlay: store.overlay, error }),
    close: () => watched.close(),
  };
}
