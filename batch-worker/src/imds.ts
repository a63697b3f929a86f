/**
 * EC2 instance metadata through IMDSv2 (a session token first; v1 may be disabled on the instance).
 * In a Batch container the launch template must allow a hop limit of 2 for the token to reach us.
 */
export interface InstanceIdentity {
  instanceId: string;
  availabilityZone: string;
}

export async function instanceIdentity(
  endpoint = process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT ?? "http://169.254.169.254",
  timeoutMs = 5000,
): Promise<InstanceIdentity> {
  const base = endpoint.replace(/\/+$/, "");
  const res = await fetch(`${base}/latest/api/token`, {
    method: "PUT",
    headers: { "X-aws-ec2-metadata-token-ttl-seconds": "21600" },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`IMDSv2 token request failed: HTTP ${res.status}`);
  const token = await res.text();
  const get = async (p: string) => {
    const r = await fetch(`${base}/latest/meta-data/${p}`, {
      headers: { "X-aws-ec2-metadata-token": token },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!r.ok) throw new Error(`IMDS ${p}: HTTP ${r.status}`);
    return (await r.text()).trim();
  };
  return { instanceId: await get("instance-id"), availabilityZone: await get("placement/availability-zone") };
}
