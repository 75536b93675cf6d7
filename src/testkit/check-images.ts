// Test support: the images of the real-world-shaped manifests in
// src/policytest/testdata/check, pushed into a local registry with the users
// their real counterparts run as, and the manifests' text pointed at them.

import { pushImages } from './registry.js';

/** Each image as the testdata writes it → the User its config sets ("" for none: root). */
export const TESTDATA_IMAGE_USERS: Readonly<Record<string, string>> = {
  'registry.example.com/shop/web:2.4.1': '65532',
  'registry.example.com/tools/shipper:1.0': '65532:65532',
  'redis:7.4': '',
  'bitnami/postgresql:16': '1001',
  'cgr.dev/chainguard/busybox:latest': '65532',
  'registry.example.com/batch/worker:5': '10001',
  'ghcr.io/example/migrate:v5': '1000:1000',
  'registry.example.com/finance/report:3': '10001',
  'registry.example.com/app:1': '65532',
  'jenkins/jenkins:lts-jdk17': 'jenkins',
};

export interface TestdataImages {
  /** Each testdata image → where the local registry serves it. */
  readonly local: Readonly<Record<string, string>>;
  /** A manifest's text with every testdata image replaced by its local copy. */
  localise(text: string): string;
}

/** Pushes the testdata images into the registry at `host` (crane, no daemon). */
export function serveTestdataImages(crane: string, host: string): TestdataImages {
  // registry.example.com/shop/web:2.4.1 → shop/web:2.4.1 in the local registry; redis:7.4 stays redis:7.4.
  const names = Object.fromEntries(Object.keys(TESTDATA_IMAGE_USERS).map((image) => [image, image.replace(/^[^/]+\.[^/]+\//, '')]));
  const pushed = pushImages(crane, host, Object.fromEntries(Object.entries(names).map(([image, name]) => [name, TESTDATA_IMAGE_USERS[image]!])));
  const local = Object.fromEntries(Object.entries(names).map(([image, name]) => [image, pushed[name]!]));
  return { local, localise: (text) => Object.entries(local).reduce((t, [from, to]) => t.split(from).join(to), text) };
}
