/**
 * Configuration for AWS SDK v3 clients in tests:
 *
 *   const s3 = new S3Client(awsClientConfig());
 *
 * The endpoint is not set here on purpose: the SDK reads AWS_ENDPOINT_URL
 * (moto) and AWS_ENDPOINT_URL_BACKUP (the Backup fake) itself, exactly as the
 * product's code does at run time. Credentials and region are pinned to the
 * bench's values so a developer's ~/.aws profile can never leak in.
 */
import { BENCH_REGION } from "./bench-env";

export interface BenchClientConfig {
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** S3 only (other clients ignore it): moto serves buckets by path, not by virtual host. */
  forcePathStyle: true;
  /** Fail fast on an emulator error instead of retrying with backoff. */
  maxAttempts: number;
}

export function awsClientConfig(env: NodeJS.ProcessEnv = process.env): BenchClientConfig {
  return {
    region: env.AWS_REGION ?? BENCH_REGION,
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? "testing",
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "testing",
    },
    forcePathStyle: true,
    maxAttempts: 2,
  };
}
