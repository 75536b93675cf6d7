# Entrypoint belay/authorization/decision: SubjectAccessReview. `allow`
# means no opinion (RBAC decides); `defer` and `deny` deny the request with
# the first reason.
package belay.authorization

import rego.v1

import data.belay.authorization.rules
import data.belay.lib.decision as doc

violations := rules.violations

# METADATA
# title: authorization face (SubjectAccessReview on /authorize)
# entrypoint: true
decision := doc.document(violations)
