{{/*
Names, labels and the pieces several templates share: the agents CEL
expression (one source for every matchCondition), the gateway's username, the
webhook configuration names the certificate controller patches.
*/}}

{{- define "belay.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "belay.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "belay.selectorLabels" -}}
app.kubernetes.io/name: {{ include "belay.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object; "component" is added per object. */}}
{{- define "belay.labels" -}}
{{ include "belay.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: belay
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "belay.gatewaySelector" -}}
{{ include "belay.selectorLabels" . }}
app.kubernetes.io/component: gateway
{{- end -}}

{{- define "belay.serviceAccountName" -}}
{{- default (include "belay.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* The gateway's username to the API server; excluded from its own webhooks. */}}
{{- define "belay.gatewayUser" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "belay.serviceAccountName" .) -}}
{{- end -}}

{{- define "belay.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "belay.fullname" .)) .Values.tls.secretName -}}
{{- end -}}

{{- define "belay.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The Service's DNS names, which belay's own or cert-manager's certificate carries. */}}
{{- define "belay.serviceDNSNames" -}}
{{- $svc := include "belay.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- $names := list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.clusterDomain) -}}
{{- concat $names .Values.tls.extraDNSNames | uniq | toJson -}}
{{- end -}}

{{- define "belay.serviceIPAddresses" -}}
{{- $ips := .Values.tls.extraIPAddresses -}}
{{- if .Values.service.clusterIP }}{{ $ips = prepend $ips .Values.service.clusterIP }}{{ end -}}
{{- $ips | uniq | toJson -}}
{{- end -}}

{{/*
The four webhook configurations, as "<kind>/<name>" (kind mutating or
validating): what the certificate controller writes the CA into, what
cert-manager's CA injector annotates, what the pre-delete hooks remove.
*/}}
{{- define "belay.webhookConfigurations" -}}
{{- $f := include "belay.fullname" . -}}
{{- list (printf "mutating/%s" $f) (printf "validating/%s" $f) (printf "mutating/%s-approvals" $f) (printf "validating/%s-approvals" $f) | toJson -}}
{{- end -}}

{{/* A service account reference ("ns/name", "ns:name" or the full username) as its username. */}}
{{- define "belay.serviceAccountUsername" -}}
{{- if hasPrefix "system:serviceaccount:" . -}}
{{- . -}}
{{- else -}}
{{- $parts := regexSplit "[/:]" . 2 -}}
{{- printf "system:serviceaccount:%s:%s" (index $parts 0) (index $parts 1) -}}
{{- end -}}
{{- end -}}

{{/*
The agents CEL expression. Strings are JSON literals, which CEL reads as its
own double-quoted strings (escapes included), so no value can break out of
its literal. Called with (dict "user" <CEL username> "groups" <CEL groups> "agents" .Values.agents):
admission uses request.userInfo.username / .groups, authorization request.user / request.groups.
*/}}
{{- define "belay.agentsExpression" -}}
{{- $a := include "belay.agents" .agents | fromJson -}}
{{- $terms := list -}}
{{- range $a.serviceAccountNamespaces -}}
{{- $terms = append $terms (printf "%s.startsWith(%s)" $.user (printf "system:serviceaccount:%s:" . | toJson)) -}}
{{- end -}}
{{- $names := list -}}
{{- range $a.serviceAccounts -}}
{{- $names = append $names (include "belay.serviceAccountUsername" .) -}}
{{- end -}}
{{- $names = concat $names $a.usernames | uniq -}}
{{- if $names -}}
{{- $terms = append $terms (printf "%s in %s" $.user (toJson $names)) -}}
{{- end -}}
{{- if $a.groups -}}
{{- $terms = append $terms (printf "(has(%s) && %s.exists(g, g in %s))" $.groups $.groups (toJson $a.groups)) -}}
{{- end -}}
{{- join " ||\n" $terms -}}
{{- end -}}

{{/* The agents value with every key present (a key set to null is an empty list). */}}
{{- define "belay.agents" -}}
{{- $a := . -}}
{{- dict "usernames" ($a.usernames | default list) "serviceAccountNamespaces" ($a.serviceAccountNamespaces | default list) "serviceAccounts" ($a.serviceAccounts | default list) "groups" ($a.groups | default list) | toJson -}}
{{- end -}}

{{- define "belay.admissionAgents" -}}
{{- include "belay.agentsExpression" (dict "user" "request.userInfo.username" "groups" "request.userInfo.groups" "agents" .Values.agents) -}}
{{- end -}}

{{/* The webhooks' clientConfig: the Service, and the caBundle where the chart knows it. */}}
{{- define "belay.clientConfig" -}}
{{- $root := index . 0 -}}
{{- $path := index . 1 -}}
clientConfig:
  service:
    namespace: {{ $root.Release.Namespace }}
    name: {{ include "belay.fullname" $root }}
    path: {{ $path }}
    port: {{ $root.Values.service.port }}
  {{- if eq $root.Values.tls.mode "secret" }}
  caBundle: {{ $root.Values.tls.caBundle | b64enc }}
  {{- end }}
{{- end -}}

{{/* Annotations of a webhook configuration: cert-manager's CA injector in that mode. */}}
{{- define "belay.webhookAnnotations" -}}
{{- if eq .Values.tls.mode "cert-manager" -}}
cert-manager.io/inject-ca-from: {{ printf "%s/%s" .Release.Namespace (include "belay.fullname" .) }}
{{- end -}}
{{- end -}}

{{- define "belay.excludedNamespaces" -}}
{{- $ns := .Values.webhooks.excludedNamespaces -}}
{{- if .Values.webhooks.excludeReleaseNamespace }}{{ $ns = append $ns .Release.Namespace }}{{ end -}}
{{- $ns | uniq | toJson -}}
{{- end -}}

{{/* The configuration overlay the gateway lays over data.belay.config of every bundle. */}}
{{- define "belay.configOverlay" -}}
{{- $overlay := dict
  "agents" (include "belay.agents" .Values.agents | fromJson)
  "approval" (dict "groups" (dict "global" .Values.approverGroups))
  "tamper" (dict "namespaces" (list .Release.Namespace))
-}}
{{- toPrettyJson $overlay -}}
{{- end -}}

{{- define "belay.authorizationServer" -}}
{{- if .Values.authorization.server -}}
{{- .Values.authorization.server -}}
{{- else if .Values.service.clusterIP -}}
{{- printf "https://%s:%v/authorize" .Values.service.clusterIP .Values.service.port -}}
{{- else -}}
{{- printf "https://%s.%s.svc:%v/authorize" (include "belay.fullname" .) .Release.Namespace .Values.service.port -}}
{{- end -}}
{{- end -}}

{{/*
Notifications (--notify-config): the channels of .Values.notifications with
every {secretName, key} replaced by the file the Secret is mounted as, so the
gateway reads credentials from files and never from this ConfigMap.
*/}}
{{- define "belay.notifySecretFile" -}}
{{- printf "/etc/belay/notify/secrets/%s/%s" .secretName .key -}}
{{- end -}}

{{- define "belay.notifyConfig" -}}
{{- $n := .Values.notifications -}}
{{- $channels := list -}}
{{- range $n.channels -}}
{{- $c := omit . "urlSecret" "tokenSecret" "smtp" -}}
{{- with .urlSecret }}{{ $_ := set $c "urlFile" (include "belay.notifySecretFile" .) }}{{ end -}}
{{- with .tokenSecret }}{{ $_ := set $c "tokenFile" (include "belay.notifySecretFile" .) }}{{ end -}}
{{- with .smtp -}}
{{- $smtp := omit . "usernameSecret" "passwordSecret" -}}
{{- with .usernameSecret }}{{ $_ := set $smtp "usernameFile" (include "belay.notifySecretFile" .) }}{{ end -}}
{{- with .passwordSecret }}{{ $_ := set $smtp "passwordFile" (include "belay.notifySecretFile" .) }}{{ end -}}
{{- $_ := set $c "smtp" $smtp -}}
{{- end -}}
{{- $channels = append $channels $c -}}
{{- end -}}
{{- $cfg := dict "channels" $channels -}}
{{- with $n.consoleUrl }}{{ $_ := set $cfg "consoleUrl" . }}{{ end -}}
{{- with $n.source }}{{ $_ := set $cfg "source" . }}{{ end -}}
{{- with $n.delivery }}{{ $_ := set $cfg "delivery" . }}{{ end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* The Secrets the notification channels read, each once, as a JSON list. */}}
{{- define "belay.notifySecrets" -}}
{{- $names := list -}}
{{- range .Values.notifications.channels -}}
{{- range (list .urlSecret .tokenSecret) -}}
{{- if . }}{{ $names = append $names .secretName }}{{ end -}}
{{- end -}}
{{- with .smtp -}}
{{- range (list .usernameSecret .passwordSecret) -}}
{{- if . }}{{ $names = append $names .secretName }}{{ end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $names | uniq | sortAlpha | toJson -}}
{{- end -}}
