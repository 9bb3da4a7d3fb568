export {
  type EscalationLevel,
  type EscalationPolicy,
  type EscalationStep,
  type EscalationTarget,
  escalationSteps,
  exhaustedAt,
  nextStep,
  type Recipient,
  recipients,
  roundLength,
  stepsDue,
} from "./escalation.ts";
export {
  type ContactTarget,
  createNotifier,
  DeliveryError,
  type Notifier,
  type PageMessage,
  pagerDutyEvent,
  pageText,
  slackMessage,
  webhookSignature,
} from "./notifiers/index.ts";
export {
  type OncallDeclaration,
  OncallDirectory,
  type OncallDirectoryDeps,
  type OncallSource,
  type StoredOverride,
} from "./oncall-directory.ts";
export { type PageRecord, Pager, type PagerDeps } from "./pager.ts";
export {
  layerActive,
  type OnCall,
  type Override,
  onCallAt,
  type Restriction,
  type RotationLayer,
  restrictionWindows,
  type Schedule,
  type Shift,
  shifts,
  type Turn,
  turnAt,
  turnStart,
} from "./rotation.ts";
