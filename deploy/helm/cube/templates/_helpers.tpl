{{- define "cube.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cube.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Settings shared by the server, the workers and the migration job. */}}
{{- define "cube.env" -}}
- name: Cube__Database__Provider
  value: PostgreSQL
- name: Cube__Database__ConnectionString
  valueFrom: { secretKeyRef: { name: {{ .Values.database.existingSecret }}, key: connectionString } }
- name: Cube__Database__MigrateOnStartup
  value: "false"
- name: Cube__Runs__Queue
  value: PostgreSQL
- name: Cube__Storage__Kind
  value: S3
- name: Cube__Storage__S3__Endpoint
  value: {{ .Values.storage.endpoint | quote }}
- name: Cube__Storage__S3__Bucket
  value: {{ .Values.storage.bucket | quote }}
- name: Cube__Storage__S3__Region
  value: {{ .Values.storage.region | quote }}
- name: Cube__Storage__S3__CreateBucket
  value: {{ .Values.storage.createBucket | quote }}
- name: Cube__Storage__S3__AccessKey
  valueFrom: { secretKeyRef: { name: {{ .Values.storage.existingSecret }}, key: accessKey } }
- name: Cube__Storage__S3__SecretKey
  valueFrom: { secretKeyRef: { name: {{ .Values.storage.existingSecret }}, key: secretKey } }
- name: Cube__Admin__UserName
  value: {{ .Values.admin.userName | quote }}
- name: Cube__Admin__Password
  valueFrom: { secretKeyRef: { name: {{ .Values.admin.existingSecret }}, key: password } }
- name: Cube__Logging__Json
  value: "true"
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
