{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "goodput.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the prefix of every object the chart creates. */}}
{{- define "goodput.fullname" -}}
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

{{- define "goodput.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "goodput.selectorLabels" -}}
app.kubernetes.io/name: {{ include "goodput.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "goodput.labels" -}}
helm.sh/chart: {{ include "goodput.chart" . }}
{{ include "goodput.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: goodput
{{- end }}

{{- define "goodput.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "goodput.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "goodput.operatorImage" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "goodput.trainerImage" -}}
{{- printf "%s:%s-%s" .Values.trainer.image.repository (default .Chart.AppVersion .Values.trainer.image.tag) .Values.trainer.image.flavor }}
{{- end }}

{{- define "goodput.pricingName" -}}
{{- printf "%s-pricing" (include "goodput.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* One price as numbers (helm --set passes decimals as strings): onDemand, and spot when given. */}}
{{- define "goodput.price" -}}
onDemand: {{ float64 .onDemand }}
{{- if hasKey . "spot" }}
spot: {{ float64 .spot }}
{{- end }}
{{- end }}

{{/* What the operator's QUARKUS_OPERATOR_SDK_*NAMESPACES variables get: JOSDK_ALL_NAMESPACES or a comma list. */}}
{{- define "goodput.watchNamespaces" -}}
{{- if .Values.watchNamespaces }}
{{- join "," .Values.watchNamespaces }}
{{- else }}
{{- print "JOSDK_ALL_NAMESPACES" }}
{{- end }}
{{- end }}

{{/*
"true" when a monitor kind renders: enabled true, or enabled auto and the cluster serves monitoring.coreos.com/v1.
Call with (list $ "serviceMonitor") or (list $ "podMonitor").
*/}}
{{- define "goodput.monitorEnabled" -}}
{{- $root := index . 0 }}
{{- $enabled := index $root.Values.monitoring (index . 1) "enabled" }}
{{- if eq (toString $enabled) "auto" }}
{{- $root.Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}
{{- else }}
{{- $enabled }}
{{- end }}
{{- end }}

{{/*
The namespaced permissions of the operator, the same in the ClusterRole (all namespaces) and in each Role (a list).
What the code does with them:
- trainingjobs: the primary resource's informer (get/list/watch); patch/update for metadata the SDK writes;
  /status: the status patch of every reconcile; /finalizers: update, which the OwnerReferencesPermissionEnforcement
  admission plugin requires to set blockOwnerDeletion on the owner references of what the operator creates.
- pods: the trainer pods' informer, server-side apply (patch; create when the pod does not exist yet), delete.
- configmaps (<job>-config; the namespace's goodput-tuning-cache, one field manager per key),
  persistentvolumeclaims (checkpoints; validation reads named claims): server-side apply, informers, clean-up.
- services, networkpolicies (a job with spec.resources.workers > 1: the headless Service its ranks find rank 0 by,
  and the NetworkPolicy that lets them reach each other): server-side apply only; the garbage collector deletes them.
- events: the operator records what it decided (core and events.k8s.io APIs).
Nothing else: no Secrets, no wildcards.
*/}}
{{- define "goodput.namespacedRules" -}}
# Exactly what the operator uses (OperatorUnderChartRbacTest runs it under these rules and checks the apiserver's
# audit log): informers list and watch jobs and pods; server-side apply (patch, and create for a new object) writes
# the ConfigMap, claim and pods, and a multi-worker job's Service and NetworkPolicy; status and finalizers are
# patched; ttlSecondsAfterFinished deletes jobs.
- apiGroups: ["goodput.dev"]
  resources: ["trainingjobs"]
  verbs: ["get", "list", "watch", "patch", "delete"]
- apiGroups: ["goodput.dev"]
  resources: ["trainingjobs/status"]
  verbs: ["patch"]
# Owner references with blockOwnerDeletion (OwnerReferencesPermissionEnforcement admission).
- apiGroups: ["goodput.dev"]
  resources: ["trainingjobs/finalizers"]
  verbs: ["update"]
# Trainer pods: applied, their tracking finalizer removed and stop reason noted (patch), stopped on suspend or deletion.
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["create", "patch"]
# get: a claim named in spec.checkpoint.claimName or spec.data.claimName must exist.
- apiGroups: [""]
  resources: ["persistentvolumeclaims"]
  verbs: ["get", "create", "patch"]
# A job with several workers: its headless Service and NetworkPolicy, by server-side apply (never read or deleted:
# owner references let the garbage collector delete them with the job).
- apiGroups: [""]
  resources: ["services"]
  verbs: ["create", "patch"]
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["create", "patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end }}
