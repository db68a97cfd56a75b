{{/* Chart name, shortened to the 63 characters a label value allows. */}}
{{- define "jmap-auth-proxy.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full resource name: release plus chart name, unless one contains the other. */}}
{{- define "jmap-auth-proxy.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "jmap-auth-proxy.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "jmap-auth-proxy.labels" -}}
helm.sh/chart: {{ include "jmap-auth-proxy.chart" . }}
{{ include "jmap-auth-proxy.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels never change over the release's life: a Deployment's selector is immutable. */}}
{{- define "jmap-auth-proxy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jmap-auth-proxy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "jmap-auth-proxy.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "jmap-auth-proxy.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret that holds the secret settings: the user's existingSecret or the chart's own. */}}
{{- define "jmap-auth-proxy.secretName" -}}
{{- default (include "jmap-auth-proxy.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* The Secret that holds the origin JWT key file. */}}
{{- define "jmap-auth-proxy.originJwtKeySecretName" -}}
{{- default (include "jmap-auth-proxy.secretName" .) .Values.origin.jwtKey.secretName }}
{{- end }}

{{- define "jmap-auth-proxy.originJwtKeyPath" -}}
/etc/jmap-auth-proxy/origin-jwt/key.pem
{{- end }}

{{/* Whether the chart renders its own Secret. */}}
{{- define "jmap-auth-proxy.renderSecret" -}}
{{- if not .Values.existingSecret }}true{{ end }}
{{- end }}

{{/* Seconds between the start of termination and SIGKILL. */}}
{{- define "jmap-auth-proxy.terminationGracePeriod" -}}
{{- if .Values.terminationGracePeriodSeconds }}
{{- .Values.terminationGracePeriodSeconds }}
{{- else }}
{{- add (mul 2 (int .Values.shutdown.drainDelaySeconds)) (int .Values.shutdown.timeoutSeconds) 10 }}
{{- end }}
{{- end }}

{{/*
Refuses values that would deploy something other than what they seem to say; called from the
Deployment so every render checks them.
*/}}
{{- define "jmap-auth-proxy.validate" -}}
{{- $v := .Values }}
{{- if not (has $v.redis.mode (list "standalone" "sentinel" "cluster")) }}
{{- fail (printf "redis.mode must be standalone, sentinel or cluster, not %q" $v.redis.mode) }}
{{- end }}
{{- if not $v.redis.hosts }}
{{- fail "redis.hosts must list at least one redis:// URL" }}
{{- end }}
{{- if and (eq $v.redis.mode "sentinel") (not $v.redis.masterName) }}
{{- fail "redis.masterName is required when redis.mode is sentinel" }}
{{- end }}
{{- if not (has $v.origin.auth (list "basic" "cyrus-jwt")) }}
{{- fail (printf "origin.auth must be basic or cyrus-jwt, not %q" $v.origin.auth) }}
{{- end }}
{{- if not (has $v.shutdown.preStopAction (list "exec" "sleep")) }}
{{- fail (printf "shutdown.preStopAction must be exec or sleep, not %q" $v.shutdown.preStopAction) }}
{{- end }}
{{- if $v.existingSecret }}
{{- if or $v.jwt.secret $v.credentials.key $v.credentials.previousKeys $v.redis.password $v.origin.jwtKey.pem }}
{{- fail "existingSecret is set: leave jwt.secret, credentials.key, credentials.previousKeys, redis.password and origin.jwtKey.pem empty and put them in that Secret" }}
{{- end }}
{{- end }}
{{- if and $v.origin.jwtKey.pem $v.origin.jwtKey.secretName }}
{{- fail "origin.jwtKey: set either pem or secretName, not both" }}
{{- end }}
{{- if and (eq $v.origin.auth "cyrus-jwt") (not (or $v.origin.jwtKey.pem $v.origin.jwtKey.secretName $v.existingSecret)) }}
{{- fail "origin.auth is cyrus-jwt: give the key with origin.jwtKey.pem (--set-file), origin.jwtKey.secretName or existingSecret" }}
{{- end }}
{{- if and $v.terminationGracePeriodSeconds (le (int $v.terminationGracePeriodSeconds) (add (mul 2 (int $v.shutdown.drainDelaySeconds)) (int $v.shutdown.timeoutSeconds) | int)) }}
{{- fail "terminationGracePeriodSeconds must exceed 2 x shutdown.drainDelaySeconds (preStop sleep, then shutdown delay) + shutdown.timeoutSeconds" }}
{{- end }}
{{- end }}

{{/*
Container env entries for the secret settings, each a secretKeyRef (never a value), plus
extraEnv. The required ones depend on what is in use: the HS512 secret only for HS512, the AES key
only for aes-gcm. The optional ones are referenced with optional: true, so an existingSecret may
lack them.
*/}}
{{- define "jmap-auth-proxy.secretEnv" -}}
{{- $v := .Values }}
{{- $secretName := include "jmap-auth-proxy.secretName" . }}
{{- if eq $v.jwt.algorithm "HS512" }}
- name: AUTHPROXY_JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: {{ $v.secretKeys.jwtSecret }}
{{- end }}
{{- if eq $v.credentials.encryption "aes-gcm" }}
- name: AUTHPROXY_CREDENTIALS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: {{ $v.secretKeys.credentialsKey }}
{{- end }}
{{- if or $v.existingSecret $v.credentials.previousKeys }}
- name: AUTHPROXY_CREDENTIALS_PREVIOUS_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: {{ $v.secretKeys.credentialsPreviousKeys }}
      optional: true
{{- end }}
{{- if or $v.existingSecret $v.redis.password }}
- name: QUARKUS_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: {{ $v.redis.passwordKey }}
      optional: true
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Labels of the helm test pod: the release, but not the chart's name label, so that the Service
never picks the test pod as an endpoint; the NetworkPolicy lets exactly these pods in.
*/}}
{{- define "jmap-auth-proxy.testSelectorLabels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: helm-test
{{- end }}
