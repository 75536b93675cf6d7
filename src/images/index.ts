// Image facts for policy: what an image runs as and which digest it is, read
// from its registry, and the decision table for fixes whose safety depends on
// the image. See docs/images.md.

export { LruCache } from './cache.js';
export { Keyring, type PullSecret, type RegistryCredential } from './credentials.js';
export { type ImageFacts, type ImageFactsOptions, ImageFactsResolver, parsePlatform } from './facts.js';
export { decideReadOnlyRootFilesystem, decideRunAsNonRoot, type NonRootAnswer, type NonRootQuestion, type NonRootRow } from './nonroot.js';
export { type ContainerImage, containerImages, type ImageInput, imagesInput, podSpecPointer, pullSecretNames } from './pods.js';
export { type ImageReference, ImageReferenceError, parseImageReference } from './reference.js';
export { type RegistryClientOptions, RegistryError, RegistrySession } from './registry.js';
export { type ImageUser, parseImageUser } from './user.js';
