{{/* Names and labels shared by every object of the chart. */}}
{{- define "ringside.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ringside.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "ringside.selector" -}}
app.kubernetes.io/name: {{ .context.Chart.Name }}
app.kubernetes.io/instance: {{ .context.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "ringside.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "ringside.secretName" -}}
{{- .Values.existingSecret | default (printf "%s-secrets" (include "ringside.fullname" .)) -}}
{{- end -}}

{{/* Longer than the edge's readiness grace plus its drain (DECISIONS.md 25). */}}
{{- define "ringside.terminationGrace" -}}
{{- add (int .Values.drainTimeoutS) (int .Values.readinessGraceS) (int .Values.terminationMarginS) -}}
{{- end -}}

{{/* The environment every role gets: the settings, the drain timeout, the service addresses, the Secret. */}}
{{- define "ringside.env" -}}
- name: RINGSIDE_DRAIN_TIMEOUT_S
  value: {{ .Values.drainTimeoutS | quote }}
- name: RINGSIDE_CORE_ADDRESS
  value: {{ printf "%s-core:%d" (include "ringside.fullname" .) (int .Values.core.grpcPort) | quote }}
{{- if .Values.rag.enabled }}
- name: RINGSIDE_RAG_ADDRESS
  value: {{ printf "%s-rag:%d" (include "ringside.fullname" .) (int .Values.rag.grpcPort) | quote }}
{{- end }}
{{- range $name, $value := .Values.settings }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{- define "ringside.envFrom" -}}
- secretRef:
    name: {{ include "ringside.secretName" . }}
{{- end -}}
