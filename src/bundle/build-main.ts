// `make bundle`: builds .build/bundle.tar.gz from policies/ and its Gatekeeper
// sources (build.ts). Run with tsx, so the bundle needs no TypeScript build.
//
//   tsx src/bundle/build-main.ts --opa .tools/bin/opa --policies policies --out .build/bundle.tar.gz \
//     --revision <rev> [--signing-key key.pem [--signing-alg ES256]]

import { parseArgs } from 'node:util';
import { GatekeeperError } from '../gatekeeper/resources.js';
import { BuildError, buildBundle } from './build.js';

const { values } = parseArgs({
  options: {
    opa: { type: 'string', default: '.tools/bin/opa' },
    policies: { type: 'string', default: 'policies' },
    out: { type: 'string', default: '.build/bundle.tar.gz' },
    revision: { type: 'string', default: 'dev' },
    'signing-key': { type: 'string' },
    'signing-alg': { type: 'string' },
    'work-dir': { type: 'string' },
  },
});

try {
  const result = await buildBundle({
    opa: values.opa!,
    policies: values.policies!,
    out: values.out!,
    revision: values.revision!,
    ...(values['signing-key'] ? { signingKey: values['signing-key'] } : {}),
    ...(values['signing-alg'] ? { signingAlg: values['signing-alg'] } : {}),
    ...(values['work-dir'] ? { workDir: values['work-dir'] } : {}),
  });
  console.log(`bundle ${values.out} revision ${values.revision} (${result.templates} Gatekeeper templates, ${result.constraints} constraints)`);
} catch (err) {
  if (err instanceof BuildError || err instanceof GatekeeperError) {
    console.error(`make bundle: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
