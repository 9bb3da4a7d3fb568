export { ExperimentAlertFeed, feedRolloutAlerts, SloAlertFeed } from "./alert-feeds.ts";
export {
  alertBody,
  experimentAlert,
  fromAlertBody,
  fromWebhook,
  rolloutAlert,
  sloAlerts,
  webhookBody,
} from "./alert-sources.ts";
export { type AlertmanagerPayload, alertmanagerPayload, fromAlertmanager } from "./alertmanager.ts";
export {
  type Alert,
  type AlertInput,
  type AlertSource,
  type Incident,
  type IncidentStatus,
  incidentStatuses,
  isHighSeverity,
  type Postmortem,
  postmortemSpec,
  type Severity,
  severities,
  type TimelineEntry,
} from "./incident-model.ts";
export {
  describeChange,
  type IncidentChange,
  type IncidentDetail,
  IncidentService,
  type IncidentServiceDeps,
  type IngestResult,
  isChange,
} from "./incident-service.ts";
export { type IncidentQuery, IncidentStore } from "./incident-store.ts";
