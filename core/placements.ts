/** Batch placements: one compute environment and job queue per AZ with a subnet (ADR 0006). */

/** A network as config gives it: new subnets in `azCount` AZs, or the subnets of an existing VPC. */
export type PlacementNetwork =
  { readonly azCount: number } | { readonly vpcId: string; readonly subnetIds: readonly string[] };

/** AZs with a subnet — one Batch placement (compute environment + queue) each. */
export function placementCountOf(network: PlacementNetwork): number {
  return "vpcId" in network ? network.subnetIds.length : network.azCount;
}
