# Entrypoint belay/admission/decision of the allow-everything bundle.
package belay.admission

import data.belay.allow

decision := allow.document
