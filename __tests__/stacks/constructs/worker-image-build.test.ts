/**
 * Runs the deploy-time build script of WorkerImage with stand-in `docker` and `aws`
 * commands that record their arguments, so its order of steps, its idempotence and its
 * errors are checked without a Docker engine or an AWS account.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { BUILD_AND_PUSH } from "../../../stacks/constructs/worker-image";

const REPO = "111111111111.dkr.ecr.us-east-1.amazonaws.com/ba-worker";
/** Absolute, because the script runs with PATH holding only the stand-ins. */
const BASH = spawnSync("bash", ["-c", "command -v bash"], { encoding: "utf8" }).stdout.trim();

interface Run {
  status: number | null;
  stderr: string;
  calls: string[];
}

function run(
  opts: {
    alreadyPushed?: boolean;
    withDocker?: boolean;
    engineDown?: boolean;
    buildFails?: boolean;
    assumeRoleArn?: string;
  } = {},
): Run {
  const bin = mkdtempSync(path.join(tmpdir(), "ba-build-bin-"));
  const log = path.join(bin, "calls.log");
  writeFileSync(log, "");
  const stub = (name: string, body: string) => {
    writeFileSync(
      path.join(bin, name),
      `#!${BASH}\necho "${name} $* [key=\${AWS_ACCESS_KEY_ID:-}]" >> "${log}"\n${body}\n`,
    );
    chmodSync(path.join(bin, name), 0o755);
  };
  stub(
    "aws",
    `case "$1 $2" in
  "ecr describe-images") exit ${opts.alreadyPushed ? 0 : 1} ;;
  "ecr get-login-password") echo secret-password ;;
  "sts assume-role") printf 'AKIAASSUMED\\tsecret\\ttoken\\n' ;;
esac`,
  );
  if (opts.withDocker ?? true)
    stub(
      "docker",
      `[ "$1" = login ] && read -r pw && echo "docker stdin $pw" >> "${log}"
[ "$1" = info ] && exit ${opts.engineDown ? 1 : 0}
[ "$1" = build ] && exit ${opts.buildFails ? 1 : 0}
exit 0`,
    );
  const result = spawnSync(BASH, ["-c", BUILD_AND_PUSH], {
    encoding: "utf8",
    // stdin not a socket: bash would otherwise take itself for an rsh/ssh session and read ~/.bashrc
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: bin, // only the stand-ins: a real docker or aws on this machine must not be used
      REPOSITORY_URL: REPO,
      REPOSITORY_NAME: "ba-worker",
      REGISTRY: "111111111111.dkr.ecr.us-east-1.amazonaws.com",
      TAG: "src-abc",
      REGION: "us-east-1",
      CONTEXT: "assets/context/ABC",
      ASSUME_ROLE_ARN: opts.assumeRoleArn ?? "",
    },
  });
  return {
    status: result.status,
    stderr: result.stderr,
    calls: readFileSync(log, "utf8").trim().split("\n").filter(Boolean),
  };
}

describe("worker image build script", () => {
  it("logs in, builds for linux/amd64 and pushes the content-hash tag", () => {
    const { status, calls } = run();
    expect(status).toBe(0);
    expect(calls[0]).toBe(
      "aws ecr describe-images --region us-east-1 --repository-name ba-worker --image-ids imageTag=src-abc [key=]",
    );
    // The two sides of `aws ecr get-login-password | docker login` start together: either may log first.
    expect(calls[1]).toBe("docker info [key=]");
    expect(calls.slice(2, 4).sort()).toEqual([
      "aws ecr get-login-password --region us-east-1 [key=]",
      "docker login --username AWS --password-stdin 111111111111.dkr.ecr.us-east-1.amazonaws.com [key=]",
    ]);
    expect(calls.slice(4)).toEqual([
      "docker stdin secret-password",
      `docker build --platform linux/amd64 --tag ${REPO}:src-abc assets/context/ABC [key=]`,
      `docker push ${REPO}:src-abc [key=]`,
      "docker logout 111111111111.dkr.ecr.us-east-1.amazonaws.com [key=]",
    ]);
  });

  it("leaves an image already pushed under the tag alone (tags are immutable)", () => {
    const { status, calls } = run({ alreadyPushed: true });
    expect(status).toBe(0);
    expect(calls).toEqual([
      "aws ecr describe-images --region us-east-1 --repository-name ba-worker --image-ids imageTag=src-abc [key=]",
    ]);
  });

  it("pushes with the account's deploy role when one is given", () => {
    const { status, calls } = run({ assumeRoleArn: "arn:aws:iam::222222222222:role/deploy" });
    expect(status).toBe(0);
    expect(calls[0]).toBe(
      "aws sts assume-role --role-arn arn:aws:iam::222222222222:role/deploy --role-session-name backup-actions-worker-image --query Credentials.[AccessKeyId,SecretAccessKey,SessionToken] --output text [key=]",
    );
    expect(calls.slice(1).every((c) => c.endsWith("[key=AKIAASSUMED]") || c.startsWith("docker stdin"))).toBe(true);
  });

  it("fails with a clear message when the docker client is there but its engine does not answer", () => {
    const { status, stderr, calls } = run({ engineDown: true });
    expect(status).toBe(1);
    expect(stderr).toBe(
      "worker image: docker is installed but its engine does not answer ('docker info' failed): start the Docker daemon where terraform applies, or set worker.imageUri to a prebuilt image\n",
    );
    expect(calls.some((c) => c.startsWith("docker login") || c.startsWith("docker build"))).toBe(false);
  });

  it("logs out of the registry when the build fails", () => {
    const { status, calls } = run({ buildFails: true });
    expect(status).toBe(1);
    expect(calls.some((c) => c.startsWith("docker push"))).toBe(false);
    expect(calls.at(-1)).toBe("docker logout 111111111111.dkr.ecr.us-east-1.amazonaws.com [key=]");
  });

  it("fails with a clear message when docker is missing", () => {
    const { status, stderr, calls } = run({ withDocker: false });
    expect(status).toBe(1);
    expect(stderr).toBe(
      `worker image: 'docker' is needed to build and push ${REPO}:src-abc (or set worker.imageUri to a prebuilt image)\n`,
    );
    expect(calls).toEqual([]);
  });
});
