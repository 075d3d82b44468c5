{{/* Names, labels and the pieces every CAR-T Track pod shares. */}}

{{- define "carttrack.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* "<fullname>-<component>" for a dict with root and component. */}}
{{- define "carttrack.componentName" -}}
{{- printf "%s-%s" (include "carttrack.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "carttrack.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "carttrack.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "carttrack.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The Secret's name; rendering fails with this message when it is not given. */}}
{{- define "carttrack.secretName" -}}
{{- required "secret.name is required: the Secret with SECRET_KEY, DATABASE_URL and CELERY_BROKER_URL (docs/deployment.md, Secrets)" .Values.secret.name -}}
{{- end -}}

{{- define "carttrack.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: carttrack
{{- end -}}

{{/* Selector labels of one component; dict with root and component. */}}
{{- define "carttrack.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* metadata.labels of a component's object or pod; dict with root and component. */}}
{{- define "carttrack.componentLabels" -}}
{{ include "carttrack.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/*
The environment of a process: the ConfigMap, then the Secret's keys. Required keys make the pod
fail to start (CreateContainerConfigError) when the Secret lacks them; the read replica's URL is
given only to processes that read from it (dict with root and replica: true/false).
*/}}
{{- define "carttrack.secretEnv" -}}
{{- $secret := include "carttrack.secretName" .root -}}
{{- $env := list -}}
{{- range list "SECRET_KEY" "DATABASE_URL" "CELERY_BROKER_URL" -}}
{{- $env = append $env (dict "name" . "valueFrom" (dict "secretKeyRef" (dict "name" $secret "key" .))) -}}
{{- end -}}
{{- $optional := list "CELERY_BROKER_SENTINEL_PASSWORD" "REDIS_URL" "EMAIL_HOST_PASSWORD" "ALERT_WEBHOOK_URL" "ALERT_WEBHOOK_SECRET" -}}
{{- if .replica }}{{ $optional = prepend $optional "DATABASE_REPLICA_URL" }}{{ end -}}
{{- range $optional -}}
{{- $env = append $env (dict "name" . "valueFrom" (dict "secretKeyRef" (dict "name" $secret "key" . "optional" true))) -}}
{{- end -}}
{{- toYaml $env -}}
{{- end -}}

{{/* The container fields every process shares; dict with root and replica. */}}
{{- define "carttrack.containerCommon" -}}
image: {{ include "carttrack.image" .root | quote }}
imagePullPolicy: {{ .root.Values.image.pullPolicy }}
securityContext:
  {{- toYaml .root.Values.containerSecurityContext | nindent 2 }}
envFrom:
  - configMapRef:
      name: {{ include "carttrack.fullname" .root }}
env:
  {{- include "carttrack.secretEnv" . | nindent 2 }}
{{ include "carttrack.volumeMounts" .root }}
{{- end -}}

{{/* The two writable directories of a read-only root filesystem (the root context). */}}
{{- define "carttrack.volumeMounts" -}}
volumeMounts:
  - {name: tmp, mountPath: /tmp}
  - {name: var, mountPath: {{ .Values.config.CARTTRACK_VAR_DIR | default "/app/var" }}}
{{- end -}}

{{/*
The pod fields every process shares (the root context). The service account is named by each
Deployment: the migrate hook runs before the release's ServiceAccount exists.
*/}}
{{- define "carttrack.podCommon" -}}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir: {medium: Memory, sizeLimit: 64Mi}
  - name: var
    emptyDir: {sizeLimit: 256Mi}
{{- end -}}

{{/* Pod annotations: a changed ConfigMap rolls every pod. */}}
{{- define "carttrack.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Spread a replicated component over nodes; dict with root and component. */}}
{{- define "carttrack.topologySpread" -}}
{{- if .root.Values.topologySpread.enabled -}}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: {{ .root.Values.topologySpread.topologyKey }}
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "carttrack.selectorLabels" . | nindent 8 }}
{{- end -}}
{{- end -}}

{{/* Tolerations; singletons leave an unreachable node after singletonFailoverSeconds. */}}
{{- define "carttrack.tolerations" -}}
{{- $all := .root.Values.tolerations -}}
{{- if .singleton -}}
{{- range list "node.kubernetes.io/not-ready" "node.kubernetes.io/unreachable" -}}
{{- $all = append $all (dict "key" . "operator" "Exists" "effect" "NoExecute" "tolerationSeconds" (int $.root.Values.singletonFailoverSeconds)) -}}
{{- end -}}
{{- end -}}
{{- with $all -}}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end -}}
{{- end -}}

{{/* Probe timing from values (periodSeconds, timeoutSeconds, failureThreshold). */}}
{{- define "carttrack.probeTiming" -}}
periodSeconds: {{ .periodSeconds }}
timeoutSeconds: {{ .timeoutSeconds }}
failureThreshold: {{ .failureThreshold }}
{{- end -}}

{{/*
The web probes' request: /health/ with the first allowed host as Host header (Django refuses any
other host) and X-Forwarded-Proto: https (production settings redirect plain HTTP).
*/}}
{{- define "carttrack.healthGet" -}}
httpGet:
  path: /health/
  port: http
  httpHeaders:
    - name: Host
      value: {{ first (splitList "," .Values.config.ALLOWED_HOSTS) | trim | quote }}
    - name: X-Forwarded-Proto
      value: https
{{- end -}}
