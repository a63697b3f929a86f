import {
  DirectReadBudgetError,
  directReadShare,
  leasedShare,
  LEASE_HEARTBEAT_SECONDS,
  LEASE_TTL_SECONDS,
  maxConcurrentJobs,
} from "../../core/direct-read";

describe("the EBS direct read budget, split among the jobs that can run at once", () => {
  it("counts the jobs of every compute environment: floor(maxVcpus / job vCPUs) each", () => {
    expect(maxConcurrentJobs({ maxVcpus: 64, jobVcpus: 4, computeEnvironments: 2 })).toBe(32);
    expect(maxConcurrentJobs({ maxVcpus: 6, jobVcpus: 4, computeEnvironments: 1 })).toBe(1);
  });

  it("gives each job floor(budget / jobs): together they never exceed the budget", () => {
    // the defaults: 600 requests/s, 64 vCPUs of 4 per job in each of one AZ's environment = 16 jobs
    expect(directReadShare(600, { maxVcpus: 64, jobVcpus: 4, computeEnvironments: 1 })).toBe(37);
    const c = { maxVcpus: 64, jobVcpus: 4, computeEnvironments: 3 };
    expect(directReadShare(600, c) * maxConcurrentJobs(c)).toBeLessThanOrEqual(600);
  });

  it("refuses a budget that leaves a job less than one request per second, naming the key", () => {
    expect(() => directReadShare(10, { maxVcpus: 64, jobVcpus: 1, computeEnvironments: 2 })).toThrow(
      new DirectReadBudgetError(
        "worker.directRead.requestsPerSecond 10 leaves less than 1 request/s to each of the 128 jobs that can run at once " +
          "(2 compute environment(s) of 64 vCPUs, 1 per job): raise it or lower worker.maxVcpus",
      ),
    );
  });
});

describe("the shared budget: floor(budget / live leases), the static share as the floor", () => {
  it("gives a job alone the whole budget and N jobs floor(budget / N) each, which sum to the budget at most", () => {
    expect(leasedShare(600, 1, 18)).toBe(600);
    expect(leasedShare(600, 7, 18)).toBe(85);
    for (let n = 1; n <= 32; n++) expect(n * leasedShare(600, n, 18)).toBeLessThanOrEqual(600);
  });

  it("never gives less than the static share, nor more than the budget", () => {
    // more leases than jobs can run (crashed leases not yet expired): still the guaranteed floor
    expect(leasedShare(600, 40, 18)).toBe(18);
    expect(leasedShare(600, 0, 18)).toBe(600);
    expect(leasedShare(10, 1, 18)).toBe(10);
  });

  it("renews a lease several times within its TTL", () => {
    expect(LEASE_TTL_SECONDS / LEASE_HEARTBEAT_SECONDS).toBeGreaterThanOrEqual(3);
  });
});
