/**
 * Execution history shaped like Step Functions' GetExecutionHistory: sequential ids from 1, the
 * `previousEventId` of the same thread of execution, the thread's virtual timestamp, and a
 * `<camelCaseType>EventDetails` object (e.g. `taskFailedEventDetails`).
 */
import { VirtualClock } from "./clock";
import { HistoryEvent, StatesError } from "./types";

/** AWS ends an execution that reaches 25,000 history events; the recorder enforces the same limit. */
export const AWS_HISTORY_LIMIT = 25_000;

/** A thread of execution: its clock and the id of its last event. */
export interface Thread {
  readonly clock: VirtualClock;
  lastEventId: number;
}

export class HistoryRecorder {
  readonly events: HistoryEvent[] = [];

  constructor(private readonly limit: number = AWS_HISTORY_LIMIT) {}

  /** `final` lets the closing ExecutionFailed event through even when the limit was hit. */
  add(thread: Thread, type: string, details?: Record<string, unknown>, final = false): number {
    if (this.events.length >= this.limit && !final) {
      throw new StatesError(
        "States.HistoryLimitExceeded",
        `The execution reached the limit of ${this.limit} history events`,
      );
    }
    const id = this.events.length + 1;
    const event: HistoryEvent = { id, previousEventId: thread.lastEventId, timestamp: thread.clock.now(), type };
    if (details) (event as Record<string, unknown>)[detailsKey(type)] = details;
    this.events.push(event);
    thread.lastEventId = id;
    return id;
  }
}

/** `TaskStateEntered` → `stateEnteredEventDetails`, `TaskFailed` → `taskFailedEventDetails`, as AWS names them. */
export function detailsKey(type: string): string {
  const stateEvent = /^(Task|Pass|Choice|Wait|Succeed|Fail|Parallel|Map)State(Entered|Exited)$/.exec(type);
  const base = stateEvent ? `state${stateEvent[2]}` : type[0].toLowerCase() + type.slice(1);
  return `${base}EventDetails`;
}
