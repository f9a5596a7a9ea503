{{/* The release's base name, at most 52 characters (room for a shard suffix and a CronJob's job suffix). */}}
{{- define "ocjob.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The name of one shard's objects: <fullname>-<shard>. Argument: dict root shard. */}}
{{- define "ocjob.shardName" -}}
{{- printf "%s-%s" (include "ocjob.fullname" .root) .shard.name | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "ocjob.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ocjob.labels" -}}
{{ include "ocjob.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "ocjob.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ocjob.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name: the existing ServiceAccount" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "ocjob.credentialsSecret" -}}
{{- if .Values.credentials.create -}}
{{- printf "%s-credentials" (include "ocjob.fullname" .) -}}
{{- else -}}
{{- required "credentials.existingSecret: the Secret with the OCJOB_* keys (or set credentials.create)" .Values.credentials.existingSecret -}}
{{- end -}}
{{- end -}}

{{- define "ocjob.caConfigMap" -}}
{{- default (printf "%s-ca" (include "ocjob.fullname" .)) .Values.ca.existingConfigMap -}}
{{- end -}}

{{- define "ocjob.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* config.json of one shard. Argument: dict root shard. */}}
{{- define "ocjob.config" -}}
{{- $cfg := mustMergeOverwrite (deepCopy .root.Values.config) (deepCopy (get .shard "config" | default dict)) -}}
{{- $compass := default dict $cfg.compass -}}
{{- $_ := set $compass "applicationPrefix" .shard.applicationPrefix -}}
{{- $oc := default dict $cfg.openConnectors -}}
{{- with get .shard "tags" }}{{ $_ := set $oc "tags" . }}{{ end -}}
{{- $sync := default dict $cfg.sync -}}
{{- $_ := set $sync "owner" .shard.owner -}}
{{- if .root.Values.ca.enabled -}}
{{- $_ := set $compass "caFile" "/etc/ocjob/ca/ca.pem" -}}
{{- $_ := set $oc "caFile" "/etc/ocjob/ca/ca.pem" -}}
{{- end -}}
{{- $_ := set $cfg "compass" $compass -}}
{{- $_ := set $cfg "openConnectors" $oc -}}
{{- $_ := set $cfg "sync" $sync -}}
{{- toPrettyJson $cfg -}}
{{- end -}}

{{/* The pod spec of one shard. Argument: dict root shard args restartPolicy. */}}
{{- define "ocjob.podSpec" -}}
{{- $root := .root -}}
restartPolicy: {{ .restartPolicy }}
serviceAccountName: {{ include "ocjob.serviceAccountName" $root }}
automountServiceAccountToken: false
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  fsGroup: 65532
  seccompProfile:
    type: RuntimeDefault
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
containers:
  - name: ocjob
    image: {{ include "ocjob.image" $root | quote }}
    imagePullPolicy: {{ $root.Values.image.pullPolicy }}
    args:
      {{- toYaml .args | nindent 6 }}
    env:
      {{- range list "OCJOB_COMPASS_CLIENT_ID" "OCJOB_COMPASS_CLIENT_SECRET" "OCJOB_OPENCONNECTORS_ORGANIZATION_SECRET" "OCJOB_OPENCONNECTORS_USER_SECRET" }}
      - name: {{ . }}
        valueFrom:
          secretKeyRef:
            name: {{ include "ocjob.credentialsSecret" $root }}
            key: {{ . }}
      {{- end }}
    {{- if eq $root.Values.mode "service" }}
    ports:
      - name: http
        containerPort: {{ $root.Values.service.port }}
        protocol: TCP
    livenessProbe:
      httpGet:
        path: /healthz
        port: http
      periodSeconds: 30
      failureThreshold: 3
    readinessProbe:
      httpGet:
        path: /readyz
        port: http
      periodSeconds: 10
    {{- end }}
    securityContext:
      runAsNonRoot: true
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities:
        drop: ["ALL"]
    resources:
      {{- toYaml $root.Values.resources | nindent 6 }}
    volumeMounts:
      - name: config
        mountPath: /config
        readOnly: true
      {{- if $root.Values.ca.enabled }}
      - name: ca
        mountPath: /etc/ocjob/ca
        readOnly: true
      {{- end }}
volumes:
  - name: config
    secret:
      secretName: {{ include "ocjob.shardName" . }}-config
      # 0440: readable by the fsGroup only.
      defaultMode: 288
  {{- if $root.Values.ca.enabled }}
  - name: ca
    configMap:
      name: {{ include "ocjob.caConfigMap" $root }}
  {{- end }}
{{- end -}}

{{/* Checks across values that the schema cannot express. */}}
{{- define "ocjob.validate" -}}
{{- $names := dict -}}
{{- $prefixes := dict -}}
{{- $owners := dict -}}
{{- range .Values.shards -}}
{{- if hasKey $names .name }}{{ fail (printf "shards: two shards are named %q" .name) }}{{ end -}}
{{- if hasKey $prefixes .applicationPrefix }}{{ fail (printf "shards: two shards have the applicationPrefix %q; each shard needs its own" .applicationPrefix) }}{{ end -}}
{{- if hasKey $owners .owner }}{{ fail (printf "shards: two shards have the owner %q; each shard needs its own" .owner) }}{{ end -}}
{{- $_ := set $names .name true -}}
{{- $_ := set $prefixes .applicationPrefix true -}}
{{- $_ := set $owners .owner true -}}
{{- end -}}
{{- if and .Values.podMonitor.enabled (ne .Values.mode "service") -}}
{{- fail "podMonitor.enabled needs mode: service (a CronJob's pods push to a Pushgateway: config.metrics.pushgatewayURL)" -}}
{{- end -}}
{{- if and .Values.ca.enabled (not .Values.ca.existingConfigMap) (not .Values.ca.pem) -}}
{{- fail "ca.enabled: give ca.pem or ca.existingConfigMap" -}}
{{- end -}}
{{- end -}}
