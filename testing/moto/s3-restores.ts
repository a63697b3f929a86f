/**
 * The bench's hand on moto's archive restores (testing/moto/patches.py, "Archive restores"): in moto, as in
 * S3, a RestoreObject of a GLACIER / DEEP_ARCHIVE object stays under way (HeadObject `Restore:
 * ongoing-request="true"`, GetObject refused) until the hours it takes have passed; here a test says when
 * they have. Set-up and assertions only: nothing here is a request of product code.
 */
export interface RestoreRequestSeen {
  readonly bucket: string;
  readonly key: string;
  readonly tier: string;
  readonly days: number;
  /** 202 started, 200 a restored copy's expiry moved, 409 RestoreAlreadyInProgress. */
  readonly answer: 200 | 202 | 409;
}

function endpoint(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.AWS_ENDPOINT_URL;
  if (!url) throw new Error("AWS_ENDPOINT_URL is not set: the archive restores live in the moto server");
  return url;
}

/** Completes the restores under way under `prefix` of `bucket`; answers the keys it completed. */
export async function completeRestores(bucket: string, prefix = ""): Promise<string[]> {
  const response = await fetch(`${endpoint()}/moto-api/bench/s3/complete-restores`, {
    method: "POST",
    body: JSON.stringify({ bucket, prefix }),
  });
  if (!response.ok) throw new Error(`complete-restores answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { completed: string[] }).completed;
}

/** Every RestoreObject moto answered for `bucket` since its last reset, in order. */
export async function restoreRequests(bucket: string): Promise<RestoreRequestSeen[]> {
  const response = await fetch(`${endpoint()}/moto-api/bench/s3/restores?bucket=${encodeURIComponent(bucket)}`);
  if (!response.ok) throw new Error(`restores answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { requests: RestoreRequestSeen[] }).requests;
}

/**
 * Moves an INTELLIGENT_TIERING object to one of its opt-in archive tiers, as S3 does after months unread
 * (moto has no archive tiers): HeadObject then answers `ArchiveStatus`, GetObject is refused.
 */
export async function setArchiveTier(
  bucket: string,
  key: string,
  tier: "ARCHIVE_ACCESS" | "DEEP_ARCHIVE_ACCESS",
): Promise<void> {
  const response = await fetch(`${endpoint()}/moto-api/bench/s3/archive-tier`, {
    method: "POST",
    body: JSON.stringify({ bucket, key, tier }),
  });
  if (!response.ok) throw new Error(`archive-tier answered ${response.status}: ${await response.text()}`);
}
