# Entrypoint belay/authorization/decision of the allow-everything bundle.
package belay.authorization

import data.belay.allow

decision := allow.document
