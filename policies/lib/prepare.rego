# What depends on the bundle's data alone, evaluated once when the gateway
# loads that data (src/policy/wasm.ts) instead of on every request: the
# result of `config` is put at data.belay_prepared.config, which
# lib/config.rego's `cfg` reads when present.
package belay.prepare

import rego.v1

import data.belay.lib.config

# METADATA
# title: the configuration with its defaults merged in, once per bundle data
# entrypoint: true
config := config.merged
