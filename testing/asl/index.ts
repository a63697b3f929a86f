/** Public API of the state machine test helper; see README.md in this folder. */
export { executeStateMachine, validateDefinition, InvalidDefinitionError } from "./execute";
export type { ExecuteOptions } from "./execute";
export { runLocal } from "./local";
export type { LocalOptions } from "./local";
export { runInMoto } from "./moto";
export type { MotoOptions } from "./moto";
export { TaskResolver } from "./resolver";
export type { BatchJob, BatchJobRunner, Fault, LambdaHandler, RecordedCall, TaskCall, TaskHandler } from "./resolver";
export { VirtualClock } from "./clock";
export { AWS_HISTORY_LIMIT } from "./history";
export { StatesError } from "./types";
export type { AslDefinition, AslState, ExecutionResult, HistoryEvent, Json } from "./types";
