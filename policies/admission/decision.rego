# Entrypoint belay/admission/decision: AdmissionReview (validating and
# mutating) for writes, deletes, CONNECT and RBAC objects.
package belay.admission

import rego.v1

import data.belay.admission.context
import data.belay.admission.destructive
import data.belay.admission.gatekeeper
import data.belay.admission.interactive
import data.belay.admission.outcomes
import data.belay.admission.pss
import data.belay.admission.rbac
import data.belay.admission.secrets
import data.belay.admission.sensitive
import data.belay.admission.tamper
import data.belay.lib.decision as doc

violations := ((((((((pss.violations | rbac.violations) | destructive.violations) | interactive.violations) | context.violations) | secrets.violations) | sensitive.violations) | tamper.violations) | gatekeeper.violations) | outcomes.violations

# METADATA
# title: admission face (AdmissionReview on /validate and /mutate)
# entrypoint: true
decision := doc.document(violations)
