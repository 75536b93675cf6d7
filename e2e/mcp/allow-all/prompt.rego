# Entrypoint belay/prompt/decision of the allow-everything bundle.
package belay.prompt

import data.belay.allow

decision := allow.document
