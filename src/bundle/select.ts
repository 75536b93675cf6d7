// Which bundle source a gateway runs: a file (read once, or watched), a
// watched directory, or an HTTP bundle server. Exactly one.

import { BelayError } from '../errors.js';
import { type HttpSourceOptions, httpSource } from './http.js';
import { type BundleSource, fileSource } from './source.js';
import { type WatchOptions, watchSource } from './watch.js';

/** Where `make bundle` writes the bundle, and where the gateway and the CLI look for it unless told. */
export const DEFAULT_BUNDLE = '.build/bundle.tar.gz';

export interface BundleSourceSpec {
  /** A bundle archive; read once unless `watchFile`. */
  file?: string;
  watchFile?: boolean;
  /** A directory holding an unpacked bundle or one archive, watched for changes. */
  dir?: string;
  /** An HTTP(S) bundle server, polled with ETags. */
  url?: string;
  http?: HttpSourceOptions;
  watch?: WatchOptions;
}

export function selectSource(spec: BundleSourceSpec): BundleSource {
  const given = [spec.file, spec.dir, spec.url].filter((s) => s !== undefined && s !== '');
  if (given.length !== 1)
    throw new BelayError('bad_request', 'give exactly one bundle source: a file (--bundle), a directory (--bundle-dir) or a bundle server (--bundle-url)');
  if (spec.url) return httpSource(spec.url, spec.http);
  if (spec.dir) return watchSource(spec.dir, spec.watch);
  return spec.watchFile ? watchSource(spec.file!, spec.watch) : fileSource(spec.file!);
}

/** Sources that keep delivering: a gateway may start on them before the first bundle arrives (not ready until then). */
export function isLive(spec: BundleSourceSpec): boolean {
  return Boolean(spec.dir || spec.url || spec.watchFile);
}
