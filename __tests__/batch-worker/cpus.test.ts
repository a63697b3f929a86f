import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { cpusFromCfs, cpusFromCpuMax, jobCpus } from "../../batch-worker/src/cpus";
import { zstdArgs } from "../../batch-worker/src/pipeline";

/** A fake cgroup mount: `files` relative to its root. */
function cgroup(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), "cgroup-"));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), content);
  }
  return root;
}

describe("jobCpus: zstd's threads are the job's CPUs, not the host's", () => {
  const roots: string[] = [];
  const fake = (files: Record<string, string>) => {
    const r = cgroup(files);
    roots.push(r);
    return r;
  };
  afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

  it("reads a cgroup v2 quota (cpu.max), rounding a fraction of a CPU up", () => {
    expect(jobCpus({ env: {}, cgroupRoot: fake({ "cpu.max": "400000 100000\n" }), availableParallelism: 48 })).toEqual({
      cpus: 4,
      source: expect.stringMatching(/cpu\.max quota$/),
    });
    expect(jobCpus({ env: {}, cgroupRoot: fake({ "cpu.max": "250000 100000" }), availableParallelism: 48 }).cpus).toBe(
      3,
    );
  });

  it("reads a cgroup v1 CFS quota", () => {
    const root = fake({ "cpu/cpu.cfs_quota_us": "200000\n", "cpu/cpu.cfs_period_us": "100000\n" });
    expect(jobCpus({ env: {}, cgroupRoot: root, availableParallelism: 48 })).toEqual({
      cpus: 2,
      source: expect.stringMatching(/CFS quota$/),
    });
  });

  it("falls back to the available parallelism (nproc) when the cgroup sets no quota", () => {
    expect(jobCpus({ env: {}, cgroupRoot: fake({ "cpu.max": "max 100000" }), availableParallelism: 6 })).toEqual({
      cpus: 6,
      source: "available parallelism (nproc)",
    });
    expect(
      jobCpus({
        env: {},
        cgroupRoot: fake({ "cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000" }),
        availableParallelism: 6,
      }).cpus,
    ).toBe(6);
    expect(jobCpus({ env: {}, cgroupRoot: fake({}), availableParallelism: 6 }).cpus).toBe(6);
  });

  it("takes the job definition's vCPUs (Batch gives CPU shares, not a quota), and the smallest of what is known", () => {
    const noQuota = fake({ "cpu.max": "max 100000", "cpu.weight": "157" });
    expect(jobCpus({ env: { BACKUP_ACTIONS_VCPUS: "4" }, cgroupRoot: noQuota, availableParallelism: 48 })).toEqual({
      cpus: 4,
      source: "BACKUP_ACTIONS_VCPUS",
    });
    const quota = fake({ "cpu.max": "200000 100000" });
    expect(jobCpus({ env: { BACKUP_ACTIONS_VCPUS: "4" }, cgroupRoot: quota, availableParallelism: 48 }).cpus).toBe(2);
    expect(jobCpus({ env: { BACKUP_ACTIONS_VCPUS: "8" }, cgroupRoot: noQuota, availableParallelism: 2 }).cpus).toBe(2);
  });

  it("refuses a BACKUP_ACTIONS_VCPUS that is not a positive whole number", () => {
    expect(() =>
      jobCpus({ env: { BACKUP_ACTIONS_VCPUS: "0" }, cgroupRoot: fake({}), availableParallelism: 2 }),
    ).toThrow('BACKUP_ACTIONS_VCPUS must be a positive whole number, got "0"');
  });

  it("parses quota lines as the kernel writes them", () => {
    expect(cpusFromCpuMax(undefined)).toBeUndefined();
    expect(cpusFromCpuMax("max")).toBeUndefined();
    expect(cpusFromCpuMax("50000 100000")).toBe(1);
    expect(cpusFromCfs("-1", "100000")).toBeUndefined();
    expect(cpusFromCfs("150000", "100000")).toBe(2);
  });
});

describe("zstdArgs", () => {
  it("passes the job's threads, never -T0", () => {
    expect(zstdArgs(3, 4)).toEqual(["-T4", "-3", "-c", "-q"]);
    expect(zstdArgs(19, 1)).not.toContain("-T0");
    expect(() => zstdArgs(3, 0)).toThrow("zstd threads must be a whole number >= 1, got 0");
  });
});
