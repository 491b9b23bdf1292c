{{/* The release's resources are named after the chart, prefixed by the
release unless the release is named after the chart already. */}}
{{- define "wolkvox-exporter.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "wolkvox-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "wolkvox-exporter.labels" -}}
{{ include "wolkvox-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "wolkvox-exporter.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* Several operations by a config file, or one by flags. */}}
{{- define "wolkvox-exporter.multi" -}}
{{- if gt (len .Values.config.operations) 0 }}true{{ end -}}
{{- end -}}

{{- define "wolkvox-exporter.stateDir" -}}/var/lib/wolkvox_exporter{{- end -}}
{{- define "wolkvox-exporter.tokenDir" -}}/etc/wolkvox/tokens{{- end -}}

{{/* The config file: the values' operations, each with the token file the
chart mounts from its Secret in place of tokenSecret. */}}
{{- define "wolkvox-exporter.configFile" -}}
{{- $ops := list -}}
{{- range .Values.config.operations -}}
{{- $op := omit . "tokenSecret" -}}
{{- $_ := set $op "token_file" (printf "%s/%s" (include "wolkvox-exporter.tokenDir" $) .name) -}}
{{- $ops = append $ops $op -}}
{{- end -}}
{{- $file := dict "operations" $ops -}}
{{- with .Values.config.defaults }}{{ $_ := set $file "defaults" . }}{{ end -}}
{{ toYaml $file }}
{{- end -}}

{{/* The exporter's command line. */}}
{{- define "wolkvox-exporter.args" -}}
{{- $v := .Values -}}
{{- if include "wolkvox-exporter.multi" . }}
- --config.file=/etc/wolkvox/config/wolkvox.yml
{{- else }}
{{- if and (not $v.operation.server) (not $v.operation.url) }}
{{- fail "operation.server or operation.url is needed for the flags' operation (or list config.operations)" }}
{{- end }}
{{- with $v.operation.server }}
- {{ printf "--wolkvox.server=%v" . | quote }}
{{- end }}
{{- with $v.operation.url }}
- {{ printf "--wolkvox.url=%s" . | quote }}
{{- end }}
{{- with $v.operation.name }}
- {{ printf "--wolkvox.operation=%s" . | quote }}
{{- end }}
- --wolkvox.token-file={{ include "wolkvox-exporter.tokenDir" . }}/token
- {{ printf "--wolkvox.timezone=%s" $v.operation.timezone | quote }}
{{- if $v.operation.dailyQuota }}
- --wolkvox.daily-quota={{ $v.operation.dailyQuota }}
{{- end }}
{{- end }}
- --storage.state-dir={{ include "wolkvox-exporter.stateDir" . }}
{{- /* The token locks on the state volume: the root file system is
read-only, and a backfill pod mounting the same volume meets them. */}}
- --storage.lock-dir={{ include "wolkvox-exporter.stateDir" . }}
- --poll.interval={{ $v.poll.interval }}
- --poll.delay={{ $v.poll.delay }}
- --poll.max-catchup={{ $v.poll.maxCatchup }}
- --chat.revisit={{ $v.chat.revisit }}
- --{{ if not $v.collector.agents }}no-{{ end }}collector.agents
- --collector.max-series-per-metric={{ $v.collector.maxSeriesPerMetric }}
- --log.level={{ $v.log.level }}
- --log.format={{ $v.log.format }}
- --web.listen-address=:{{ $v.web.port }}
{{- if $v.web.enableLifecycle }}
- --web.enable-lifecycle
{{- end }}
{{- if $v.web.config }}
- --web.config.file=/etc/wolkvox/web/web-config.yml
{{- end }}
{{- range $v.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/* The web config asks every client for a certificate, which the
kubelet's probes do not have. */}}
{{- define "wolkvox-exporter.clientCertRequired" -}}
{{- if and .Values.web.config (hasKey .Values.web.config "tls_server_config") }}
{{- if hasPrefix "Require" (default "" (index .Values.web.config.tls_server_config "client_auth_type")) }}true{{ end }}
{{- end }}
{{- end -}}

{{/* The web config serves TLS when it has a tls_server_config. */}}
{{- define "wolkvox-exporter.scheme" -}}
{{- if and .Values.web.config (hasKey .Values.web.config "tls_server_config") }}HTTPS{{ else }}HTTP{{ end -}}
{{- end -}}

{{/* The pod's volumes and the container's mounts, shared by the
Deployment and the backfill command in NOTES.txt. */}}
{{- define "wolkvox-exporter.volumeMounts" -}}
{{- $multi := include "wolkvox-exporter.multi" . -}}
- name: tokens
  mountPath: {{ include "wolkvox-exporter.tokenDir" . }}
  readOnly: true
- name: state
  mountPath: {{ include "wolkvox-exporter.stateDir" . }}
{{- if $multi }}
- name: config
  mountPath: /etc/wolkvox/config
  readOnly: true
{{- end }}
{{- if .Values.web.config }}
- name: web-config
  mountPath: /etc/wolkvox/web
  readOnly: true
{{- end }}
{{- if .Values.web.tlsSecret }}
- name: tls
  mountPath: /etc/wolkvox/tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "wolkvox-exporter.volumes" -}}
{{- $multi := include "wolkvox-exporter.multi" . -}}
# Each operation's token, from its existing Secret, as a file.
- name: tokens
  projected:
    defaultMode: 0440
    sources:
      {{- if $multi }}
      {{- range .Values.config.operations }}
      - secret:
          name: {{ .tokenSecret.name | quote }}
          items:
            - key: {{ .tokenSecret.key | quote }}
              path: {{ .name | quote }}
      {{- end }}
      {{- else }}
      - secret:
          name: {{ .Values.operation.tokenSecret.name | quote }}
          items:
            - key: {{ .Values.operation.tokenSecret.key | quote }}
              path: token
      {{- end }}
- name: state
  {{- if .Values.state.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ .Values.state.persistence.existingClaim | default (printf "%s-state" (include "wolkvox-exporter.fullname" .)) }}
  {{- else }}
  emptyDir: {}
  {{- end }}
{{- if $multi }}
- name: config
  configMap:
    name: {{ include "wolkvox-exporter.fullname" . }}
{{- end }}
{{- if .Values.web.config }}
- name: web-config
  secret:
    secretName: {{ include "wolkvox-exporter.fullname" . }}-web-config
{{- end }}
{{- if .Values.web.tlsSecret }}
- name: tls
  secret:
    secretName: {{ .Values.web.tlsSecret }}
{{- end }}
{{- end -}}
