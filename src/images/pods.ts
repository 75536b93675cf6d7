// Where the images of a workload are (the pod spec of a Pod, of a workload's
// template, of a CronJob's job template) and the shape image facts take in the
// policy input: `input.images["<image as written>"]` (see docs/images.md).

import type { ImageFactsInput } from '../contract/index.js';
import type { ImageFacts } from './facts.js';

export type ContainerList = 'containers' | 'initContainers' | 'ephemeralContainers';

export interface ContainerImage {
  /** JSON pointer to the container (`/spec/template/spec/containers/0`). */
  readonly pointer: string;
  readonly list: ContainerList;
  readonly name: string;
  readonly image: string;
}

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : null;
}

/** The JSON pointer of the pod spec in a Pod, a workload, a CronJob or a PodTemplate; null when there is none. */
export function podSpecPointer(object: unknown): string | null {
  const o = obj(object);
  if (!o) return null;
  const at = (path: string[]): Obj | null => path.reduce<Obj | null>((v, k) => (v ? obj(v[k]) : null), o);
  const candidates: string[][] =
    o.kind === 'Pod'
      ? [['spec']]
      : o.kind === 'CronJob'
        ? [['spec', 'jobTemplate', 'spec', 'template', 'spec']]
        : o.kind === 'PodTemplate'
          ? [['template', 'spec']]
          : [
              ['spec', 'template', 'spec'],
              ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
            ];
  for (const path of candidates) {
    const spec = at(path);
    if (spec && Array.isArray(spec.containers)) return `/${path.join('/')}`;
  }
  return null;
}

function specAt(object: unknown, pointer: string): Obj | null {
  return pointer
    .split('/')
    .slice(1)
    .reduce<Obj | null>((v, k) => (v ? obj(v[k]) : null), obj(object));
}

/** The pod spec of a Pod, a workload, a CronJob or a PodTemplate; null when there is none. */
export function podSpecOf(object: unknown): Obj | null {
  const pointer = podSpecPointer(object);
  return pointer === null ? null : specAt(object, pointer);
}

/** Every container's image, in pod spec order (init containers first, as they run). */
export function containerImages(object: unknown): ContainerImage[] {
  const pointer = podSpecPointer(object);
  if (pointer === null) return [];
  const spec = specAt(object, pointer)!;
  const out: ContainerImage[] = [];
  for (const list of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    const items = spec[list];
    if (!Array.isArray(items)) continue;
    items.forEach((c, i) => {
      const container = obj(c);
      if (container && typeof container.image === 'string' && container.image !== '') {
        out.push({ pointer: `${pointer}/${list}/${i}`, list, name: typeof container.name === 'string' ? container.name : `#${i}`, image: container.image });
      }
    });
  }
  return out;
}

/** The names in the pod spec's imagePullSecrets (the caller fetches the Secrets and the service account's). */
export function pullSecretNames(object: unknown): string[] {
  const pointer = podSpecPointer(object);
  const refs = pointer === null ? null : specAt(object, pointer)?.imagePullSecrets;
  if (!Array.isArray(refs)) return [];
  return refs.map((r) => obj(r)?.name).filter((n): n is string => typeof n === 'string' && n !== '');
}

/** One image's facts as policy sees them (the contract's type). Unknown images carry only `known: false` and the reason. */
export type ImageInput = ImageFactsInput;

/** `input.images`: facts keyed by the image exactly as the pod spec writes it. */
export function imagesInput(facts: Readonly<Record<string, ImageFacts>>): Record<string, ImageInput> {
  const out: Record<string, ImageInput> = {};
  for (const [image, f] of Object.entries(facts)) {
    out[image] = f.known
      ? {
          known: true,
          user: f.user ?? '',
          uid: f.uid ?? null,
          named: f.named === true,
          nonRoot: f.nonRoot === true,
          ...(f.digest ? { digest: f.digest } : {}),
          ...(f.platform ? { platform: f.platform } : {}),
        }
      : { known: false, reason: f.reason ?? 'unknown' };
  }
  return out;
}
