{{/* The chart's name, or nameOverride. */}}
{{- define "member-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name: fullnameOverride, else the release's name with the chart's
name appended unless the release's name already contains it. Two releases in one namespace get
different prefixes.
*/}}
{{- define "member-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "member-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The standard labels of every object. */}}
{{- define "member-operator.labels" -}}
helm.sh/chart: {{ include "member-operator.chart" . }}
{{ include "member-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: member-operator
{{- end }}

{{/* What a release's selectors match on: never another release's Pods. */}}
{{- define "member-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "member-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "member-operator.managerSelectorLabels" -}}
{{ include "member-operator.selectorLabels" . }}
app.kubernetes.io/component: manager
{{- end }}

{{- define "member-operator.acceptSelectorLabels" -}}
{{ include "member-operator.selectorLabels" . }}
app.kubernetes.io/component: accept
{{- end }}

{{/* The image reference: the digest when given, else the tag (default: the chart's appVersion). */}}
{{- define "member-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "member-operator.managerServiceAccount" -}}
{{ include "member-operator.fullname" . }}-controller-manager
{{- end }}

{{- define "member-operator.acceptServiceAccount" -}}
{{ include "member-operator.fullname" . }}-accept
{{- end }}

{{/* cert-manager's issuer of the webhook and metrics certificates. */}}
{{- define "member-operator.issuerRef" -}}
{{- if .Values.webhooks.certManager.issuerRef }}
{{- toYaml .Values.webhooks.certManager.issuerRef }}
{{- else }}
kind: Issuer
name: {{ include "member-operator.fullname" . }}-selfsigned-issuer
{{- end }}
{{- end }}

{{/* Whether cert-manager issues the certificates (webhooks or metrics need one). */}}
{{- define "member-operator.certManager" -}}
{{- if and .Values.webhooks.certManager.enabled (or .Values.webhooks.enabled .Values.metrics.enabled) }}true{{ end }}
{{- end }}

{{/* The flags and environment both Deployments share. */}}
{{- define "member-operator.commonArgs" -}}
- {{ printf "--mail-from=%s" (required "mailFrom is required" .Values.mailFrom) | quote }}
- {{ printf "--public-url=%s" (required "publicURL is required" .Values.publicURL) | quote }}
- {{ printf "--token-key-secret=%s-token-key" (include "member-operator.fullname" .) | quote }}
- {{ printf "--accept-service-account=%s" (include "member-operator.acceptServiceAccount" .) | quote }}
{{- if .Values.exclusiveMembership }}
- --exclusive-membership
{{- end }}
{{- if .Values.smtp.allowInsecure }}
- --smtp-allow-insecure
{{- end }}
{{- end }}

{{- define "member-operator.commonEnv" -}}
- name: SMTP_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.smtp.secretName }}
      key: {{ .Values.smtp.urlKey }}
- name: SMTP_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.smtp.secretName }}
      key: {{ .Values.smtp.passwordKey }}
      optional: true
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- end }}

{{/* The restricted Pod Security profile, for both Deployments. */}}
{{- define "member-operator.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "member-operator.containerSecurityContext" -}}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities:
  drop:
  - ALL
{{- end }}

{{/* Scheduling settings of a component (.manager or .accept values). */}}
{{- define "member-operator.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end }}

{{/* The webhook server's TLS Secret: cert-manager's, or the one given. */}}
{{- define "member-operator.webhookCertSecret" -}}
{{- if .Values.webhooks.certManager.enabled }}
{{- include "member-operator.fullname" . }}-webhook-server-cert
{{- else }}
{{- required "webhooks.certSecretName is required when webhooks.certManager.enabled is false" .Values.webhooks.certSecretName }}
{{- end }}
{{- end }}

{{/* The component labels of a controller Deployment (manager-deployment.yaml's dict): a shard's
carry its index, so that each shard's Deployment and PodDisruptionBudget select its own Pods. */}}
{{- define "member-operator.shardLabels" -}}
app.kubernetes.io/component: {{ .component }}
{{- with .index }}
membership.storeops.io/shard: {{ . | quote }}
{{- end }}
{{- end }}

{{/* The ingress every controller Pod admits (the cluster shard's and the namespace shards'
NetworkPolicies): metrics, from networkPolicy.metricsFrom when set, and the probes. */}}
{{- define "member-operator.controllerIngress" }}
{{- if .Values.metrics.enabled }}
  - ports:
    - port: metrics
      protocol: TCP
    {{- with .Values.networkPolicy.metricsFrom }}
    from:
      {{- toYaml . | nindent 6 }}
    {{- end }}
{{- end }}
  - ports:
    - port: probes
      protocol: TCP
{{- end }}
