{{/* image renders registry/repository:tag, the tag defaulting to v<appVersion>. */}}
{{- define "herald.image" -}}
{{- $tag := .image.tag | default (printf "v%s" .root.Chart.AppVersion) -}}
{{- printf "%s/%s:%s" .image.registry .image.repository $tag -}}
{{- end -}}

{{/* logArgs adds zap's level flag only when set, so defaults match manifests/herald.yaml. */}}
{{- define "herald.logArgs" -}}
{{- if .Values.logLevel }}
- --zap-log-level={{ .Values.logLevel }}
{{- end }}
{{- end -}}
