/**
 * `node --require tsx/cjs --require testing/iam/preload.ts`: a child process the tests spawn records
 * its AWS requests (to the run's recording file) as the caller named by its parent
 * (`subprocessEnv(caller)` in testing/iam/recorder.ts). Nothing else changes in the child.
 */
import { adoptProcessCaller, installRecorder } from "./recorder";

installRecorder();
adoptProcessCaller();
