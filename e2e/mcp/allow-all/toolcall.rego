# Entrypoint belay/toolcall/decision of the allow-everything bundle.
package belay.toolcall

import data.belay.allow

decision := allow.document
