import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Testing, TerraformStack } from "cdktf";
import {
  contentHash,
  ecrRepositoryArnOf,
  sourcesHash,
  stageWorkerContext,
  WORKER_CONTEXT_FILES,
  WorkerImage,
  WorkerImageProps,
} from "../../../stacks/constructs/worker-image";
import { synth } from "../../helpers/synth";

const FIXTURE = path.join(__dirname, "..", "..", "fixtures", "batch-worker");

function imageOf(props: Partial<WorkerImageProps> = {}) {
  const stack = new TerraformStack(Testing.app(), "test");
  const image = new WorkerImage(stack, "worker-image", {
    repositoryName: "ba-worker",
    region: "us-east-1",
    contextDir: FIXTURE,
    ...props,
  });
  return { image, out: synth(stack), stack };
}

/** A copy of the fixture context to change. */
function copyOfFixture(): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), "ba-worker-ctx-")), "batch-worker");
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

describe("WorkerImage repository", () => {
  const { out } = imageOf();

  it("scans on push, refuses to overwrite a tag and encrypts with KMS", () => {
    const repo = out.only("aws_ecr_repository");
    expect(repo.name).toBe("ba-worker");
    expect(repo.image_tag_mutability).toBe("IMMUTABLE");
    expect(repo.image_scanning_configuration).toEqual({ scan_on_push: true });
    expect(repo.encryption_configuration).toEqual([{ encryption_type: "KMS" }]);
    expect(repo.force_delete).toBeUndefined();
  });

  it("uses the given KMS key", () => {
    const kmsKeyArn = "arn:aws:kms:us-east-1:111111111111:key/0a0a0a0a-0a0a-0a0a-0a0a-0a0a0a0a0a0a";
    expect(imageOf({ kmsKeyArn }).out.only("aws_ecr_repository").encryption_configuration).toEqual([
      { encryption_type: "KMS", kms_key: kmsKeyArn },
    ]);
  });

  it("expires untagged images after 3 days and keeps the newest 10", () => {
    const policy = out.only("aws_ecr_lifecycle_policy");
    expect(policy.repository).toMatch(/^\$\{aws_ecr_repository\.worker-image_this_\w+\.name\}$/);
    expect(JSON.parse(policy.policy)).toEqual({
      rules: [
        {
          rulePriority: 1,
          description: "Expire untagged images 3 days after push",
          selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 3 },
          action: { type: "expire" },
        },
        {
          rulePriority: 2,
          description: "Keep the newest 10 images",
          selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 10 },
          action: { type: "expire" },
        },
      ],
    });
  });

  it("takes other retention numbers and rejects nonsense", () => {
    const rules = JSON.parse(
      imageOf({ keepImages: 5, untaggedExpiryDays: 1 }).out.only("aws_ecr_lifecycle_policy").policy,
    ).rules;
    expect(rules.map((r: any) => r.selection.countNumber)).toEqual([1, 5]);
    expect(() => imageOf({ keepImages: 0 })).toThrow(
      "WorkerImage test/worker-image: keepImages must be a positive whole number (got 0)",
    );
  });
});

describe("WorkerImage build", () => {
  it("builds and pushes at deploy time with terraform_data (no docker provider), tagged by the context's content hash", () => {
    const { image, out } = imageOf();
    const build = out.only("terraform_data");
    const tag = `src-${contentHash(FIXTURE).slice(0, 32)}`;
    expect(build.triggers_replace).toEqual({ repository: expect.stringMatching(/repository_url\}$/), tag });
    const exec = build.provisioner[0]["local-exec"];
    expect(exec.interpreter).toEqual(["bash", "-c"]);
    expect(exec.environment).toMatchObject({ TAG: tag, REGION: "us-east-1", ASSUME_ROLE_ARN: "" });
    expect(exec.environment.CONTEXT).toMatch(new RegExp(`^assets/worker-image_context_\\w+/${contentHash(FIXTURE)}$`));
    expect(exec.environment.REGISTRY).toMatch(
      /^\$\{element\(split\("\/", aws_ecr_repository\.worker-image_this_\w+\.repository_url\), 0\)\}$/,
    );
    expect(exec.command).toContain('docker build --platform linux/amd64 --tag "$REPOSITORY_URL:$TAG" "$CONTEXT"');
    expect(exec.command).toContain('docker push "$REPOSITORY_URL:$TAG"');
    // Immutable tags: an image already pushed under the tag is left alone instead of failing.
    expect(exec.command).toContain(
      'aws ecr describe-images --region "$REGION" --repository-name "$REPOSITORY_NAME" --image-ids imageTag="$TAG"',
    );
    // No `${` reaches Terraform, which would read it as interpolation.
    expect(exec.command).not.toContain("${");
    expect(image.imageUri.endsWith(`:${tag}`)).toBe(true); // resolved in the job definition test
    expect(out.resources("docker_image")).toEqual({});
  });

  it("passes the account's deploy role to the push", () => {
    const assumeRoleArn = "arn:aws:iam::222222222222:role/deploy";
    const exec = imageOf({ assumeRoleArn }).out.only("terraform_data").provisioner[0]["local-exec"];
    expect(exec.environment.ASSUME_ROLE_ARN).toBe(assumeRoleArn);
  });

  it("changes the tag exactly when the context changes: content, names, executable bits", () => {
    const dir = copyOfFixture();
    const first = contentHash(dir);
    expect(contentHash(dir)).toBe(first);
    writeFileSync(path.join(dir, "batch-entrypoint.js"), 'console.log("changed");\n');
    const edited = contentHash(dir);
    expect(edited).not.toBe(first);
    renameSync(path.join(dir, "batch-entrypoint.js"), path.join(dir, "entry.js"));
    const renamed = contentHash(dir);
    expect(renamed).not.toBe(edited);
    chmodSync(path.join(dir, "entry.js"), 0o755);
    expect(contentHash(dir)).not.toBe(renamed);
  });

  it("stageWorkerContext copies only when the staged context differs from what the sources would stage", () => {
    // GIVEN a repository holding every context entry (directories with a nested file each)
    const repo = mkdtempSync(path.join(tmpdir(), "ba-worker-repo-"));
    for (const rel of WORKER_CONTEXT_FILES) {
      const isDir = rel === "core" || rel.endsWith("/src");
      const file = isDir ? path.join(repo, rel, "sub", "a.ts") : path.join(repo, rel);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, `${rel}\n`);
    }
    const out = path.join(repo, ".gen", "worker-context");
    const staged = () => {
      stageWorkerContext(repo, out);
      return contentHash(out);
    };
    // THEN the staged copy hashes as the sources do, before and after each change
    const first = staged();
    expect(first).toBe(sourcesHash(repo));
    expect(readFileSync(path.join(out, "Dockerfile"), "utf8")).toBe("batch-worker/Dockerfile\n");
    writeFileSync(path.join(repo, "core", "sub", "a.ts"), "edited\n");
    const edited = staged();
    expect(edited).not.toBe(first);
    expect(readFileSync(path.join(out, "core", "sub", "a.ts"), "utf8")).toBe("edited\n");
    chmodSync(path.join(repo, "scripts", "build-worker.mjs"), 0o755);
    const executable = staged();
    expect(executable).not.toBe(edited);
    expect(executable).toBe(sourcesHash(repo));
    writeFileSync(path.join(out, "core", "sub", "a.ts"), "changed in the staged copy\n");
    expect(staged()).toBe(executable); // restaged from the sources
    writeFileSync(path.join(repo, "batch-worker", "Dockerfile"), "FROM scratch\n");
    expect(staged()).toBe(sourcesHash(repo));
    expect(readFileSync(path.join(out, "Dockerfile"), "utf8")).toBe("FROM scratch\n");
  });

  it("sourcesHash of the repository is the hash of its staged context", () => {
    expect(contentHash(stageWorkerContext())).toBe(sourcesHash());
  });

  it("ignores node_modules and build outputs in the hash", () => {
    const dir = copyOfFixture();
    const before = contentHash(dir);
    for (const sub of ["node_modules", "dist"]) {
      cpSync(FIXTURE, path.join(dir, sub), { recursive: true });
    }
    expect(contentHash(dir)).toBe(before);
  });

  it("without a Dockerfile: synthesizes with a warning and a build that fails at apply", () => {
    const empty = mkdtempSync(path.join(tmpdir(), "ba-no-dockerfile-"));
    const { stack, out } = imageOf({ contextDir: empty });
    const exec = out.only("terraform_data").provisioner[0]["local-exec"];
    expect(exec.command).toMatch(/did not exist at synth; add it or set worker\.imageUri" >&2; exit 1$/);
    const warnings = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === "@cdktf/warn").map((m) => String(m.data)));
    expect(warnings).toEqual([
      expect.stringContaining(
        "does not exist: the worker image cannot be built at apply. Add it, or set worker.imageUri.",
      ),
    ]);
  });
});

describe("WorkerImage with a prebuilt image", () => {
  it("creates no repository and builds nothing", () => {
    const imageUri = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/tools/worker:1.2.0";
    const { image, out } = imageOf({ imageUri });
    expect(out.resources("aws_ecr_repository")).toEqual({});
    expect(out.resources("terraform_data")).toEqual({});
    expect(image.imageUri).toBe(imageUri);
    expect(image.build).toBeUndefined();
    expect(image.repositoryArn).toBe("arn:aws:ecr:eu-west-1:123456789012:repository/tools/worker");
  });

  it("knows the repository ARN of ECR images only", () => {
    expect(ecrRepositoryArnOf("123456789012.dkr.ecr.us-east-1.amazonaws.com/w@sha256:" + "a".repeat(64))).toBe(
      "arn:aws:ecr:us-east-1:123456789012:repository/w",
    );
    expect(ecrRepositoryArnOf("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/w:1")).toBe(
      "arn:aws-cn:ecr:cn-north-1:123456789012:repository/w",
    );
    expect(ecrRepositoryArnOf("123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/w:1")).toBe(
      "arn:aws-us-gov:ecr:us-gov-west-1:123456789012:repository/w",
    );
    expect(ecrRepositoryArnOf("public.ecr.aws/acme/worker:1")).toBeUndefined();
  });
});
