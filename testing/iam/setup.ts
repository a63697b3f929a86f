/**
 * Jest setupFilesAfterEnv: every SDK client that product code builds (core/aws-client-hook) gets the
 * IAM recorder's middleware. Nothing is recorded outside a caller context (testing/iam/recorder.ts).
 */
import { installRecorder } from "./recorder";

installRecorder();
