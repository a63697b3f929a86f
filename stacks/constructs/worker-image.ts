/**
 * The EBS worker's container image: an ECR repository (scan on push, immutable tags,
 * KMS, lifecycle policy) and the image built from `batch-worker/` at deploy time — or,
 * when `imageUri` is given, that prebuilt image and nothing else.
 *
 * Why `terraform_data` + `local-exec` and not the kreuzwerker/docker provider: that
 * provider is one more binary to mirror, pin and trust, and it is not in the offline
 * provider mirror, so `terraform validate` could not run offline. `terraform_data` is
 * built into Terraform. The tag is a SHA-256 of the build context computed at synth,
 * so the image (and the job definition that names it) changes exactly when the worker's
 * inputs change (its sources, the Dockerfile, and the versions of the packages it uses —
 * not the rest of the repository's dependencies: worker-manifest.ts), and a plan shows that change as a new tag. See docs/adr/0004.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import * as path from "node:path";
import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { Annotations, AssetType, DataResource, Fn, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { partitionOf } from "../../core/partition";
import { workerManifest } from "./worker-manifest";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

/**
 * What `batch-worker/Dockerfile` needs from the repository (it is written for the repository root
 * as build context), besides the manifest and lockfile: the bundler script and its options, the
 * worker's sources and the core/ modules they import.
 */
export const WORKER_CONTEXT_FILES = [
  "tsconfig.json",
  "scripts/build-worker.mjs",
  "scripts/worker-bundle.cjs",
  "batch-worker/Dockerfile",
  "batch-worker/src",
  "core",
];

/**
 * The files of the context, by their path in it: a path in the repository to copy, or content.
 * `package.json` and `package-lock.json` are the worker's own (worker-manifest.ts): only what the
 * worker imports, and the bundler, so bumping an unrelated dependency of the repository leaves the
 * context — and so the image tag — as it was. The Dockerfile is at the root too.
 */
export function workerContextEntries(repoRoot: string = REPO_ROOT): Map<string, string | Buffer> {
  const entries = new Map<string, string | Buffer>();
  for (const rel of WORKER_CONTEXT_FILES) {
    const from = path.join(repoRoot, rel);
    if (existsSync(from)) entries.set(rel, from); // a missing Dockerfile is reported at the construct
  }
  if (existsSync(path.join(repoRoot, "package.json")) && existsSync(path.join(repoRoot, "package-lock.json"))) {
    const { manifest, lock } = workerManifest(repoRoot);
    entries.set("package.json", Buffer.from(manifest));
    entries.set("package-lock.json", Buffer.from(lock));
  }
  const dockerfile = path.join(repoRoot, "batch-worker", "Dockerfile");
  if (existsSync(dockerfile)) entries.set("Dockerfile", dockerfile);
  return entries;
}

/**
 * Copies just those files into `.gen/worker-context/` (gitignored), with the Dockerfile
 * also at its root, so the build context is small (no node_modules) and `docker build
 * <context>` works as is. Staged anew at every synth: the content hash sees every change.
 *
 * Parallel synths (jest's workers) share the directory: a copy is staged under a name of its
 * own and, under a lock, renamed into place only when it differs from what is there, so a
 * directory that another process has staged and reads is never rewritten under it.
 * When what is there already has the content hash the sources would have as a copy
 * (`sourcesHash`), nothing is copied: a pipeline synthesis skips ~70 ms of copying.
 */
export function stageWorkerContext(
  repoRoot: string = REPO_ROOT,
  outDir: string = path.join(repoRoot, ".gen", "worker-context"),
): string {
  if (existsSync(outDir)) {
    const wanted = sourcesHash(repoRoot);
    let same = false;
    withLock(`${outDir}.lock`, () => {
      same = existsSync(outDir) && contentHash(outDir) === wanted;
    });
    if (same) return outDir;
  }
  const staging = `${outDir}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
  mkdirSync(staging, { recursive: true });
  for (const [rel, from] of workerContextEntries(repoRoot)) {
    const to = path.join(staging, rel);
    if (typeof from === "string") cpSync(from, to, { recursive: true });
    else {
      mkdirSync(path.dirname(to), { recursive: true });
      writeFileSync(to, from);
    }
  }
  withLock(`${outDir}.lock`, () => {
    if (existsSync(outDir) && contentHash(outDir) === contentHash(staging)) return;
    const retired = `${staging}.old`;
    if (existsSync(outDir)) renameSync(outDir, retired);
    renameSync(staging, outDir);
    rmSync(retired, { recursive: true, force: true });
  });
  rmSync(staging, { recursive: true, force: true });
  return outDir;
}

/** Runs `fn` holding `lockDir` (made with mkdir, atomic); a lock whose process is gone is taken over. */
function withLock(lockDir: string, fn: () => void): void {
  const deadline = Date.now() + 120_000;
  mkdirSync(path.dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = Number(readFileOr(path.join(lockDir, "pid")));
    if (owner && !processAlive(owner)) rmSync(lockDir, { recursive: true, force: true });
    else if (Date.now() > deadline) throw new Error(`${lockDir} has been held by process ${owner} for 2 minutes`);
    else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
  try {
    writeFileSync(path.join(lockDir, "pid"), String(process.pid));
    fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

function readFileOr(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Never part of the build context's hash: dependencies and outputs are rebuilt by the Dockerfile. */
const HASH_EXCLUDES = new Set(["node_modules", ".git", "dist", "cdktf.out", "coverage", ".work"]);

export interface WorkerImageProps {
  /** ECR repository name, e.g. `<name>-worker`. */
  readonly repositoryName: string;
  /** Region of the repository (for `aws ecr get-login-password`). */
  readonly region: string;
  /**
   * A prebuilt image (tag or digest). When set, no repository is created and nothing is built.
   * @default none: build from `contextDir`
   */
  readonly imageUri?: string;
  /** Build context holding a `Dockerfile`. @default the staged context (`stageWorkerContext()`) */
  readonly contextDir?: string;
  /** Role the build assumes to push (the account's deploy role). @default the deployer's own credentials */
  readonly assumeRoleArn?: string;
  /** KMS key of the repository. @default the AWS managed `aws/ecr` key */
  readonly kmsKeyArn?: string;
  /** Images kept in the repository, newest first. @default 10 */
  readonly keepImages?: number;
  /** Days after which untagged images (interrupted pushes) expire. @default 3 */
  readonly untaggedExpiryDays?: number;
}

export class WorkerImage extends Construct {
  /** The image the job definition runs: `<repository url>:<tag>` or the prebuilt `imageUri`. */
  public readonly imageUri: string;
  /** The repository; undefined with a prebuilt image. */
  public readonly repository?: EcrRepository;
  /** ARN of the repository the execution role pulls from; undefined for a non-ECR prebuilt image. */
  public readonly repositoryArn?: string;
  /** The deploy-time build; the job definition must depend on it so it never names an unpushed tag. */
  public readonly build?: DataResource;

  constructor(scope: Construct, id: string, props: WorkerImageProps) {
    super(scope, id);
    const contextDir = props.contextDir ?? (props.imageUri ? "" : stageWorkerContext());
    const keepImages = props.keepImages ?? 10;
    const untaggedExpiryDays = props.untaggedExpiryDays ?? 3;
    if (!Number.isInteger(keepImages) || keepImages < 1)
      throw new Error(`WorkerImage ${this.node.path}: keepImages must be a positive whole number (got ${keepImages})`);
    if (!Number.isInteger(untaggedExpiryDays) || untaggedExpiryDays < 1) {
      throw new Error(
        `WorkerImage ${this.node.path}: untaggedExpiryDays must be a positive whole number (got ${untaggedExpiryDays})`,
      );
    }

    if (props.imageUri) {
      this.imageUri = props.imageUri;
      this.repositoryArn = ecrRepositoryArnOf(props.imageUri);
      return;
    }

    const repository = new EcrRepository(this, "this", {
      name: props.repositoryName,
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [{ encryptionType: "KMS", kmsKey: props.kmsKeyArn }],
    });
    new EcrLifecyclePolicy(this, "lifecycle", {
      repository: repository.name,
      policy: JSON.stringify(lifecyclePolicy(keepImages, untaggedExpiryDays)),
    });
    this.repository = repository;
    this.repositoryArn = repository.arn;

    const dockerfile = path.join(contextDir, "Dockerfile");
    if (!existsSync(dockerfile)) {
      // Synthesis still works (a plan can be reviewed without the worker sources); the
      // build refuses at apply, before any job definition names an image that was never pushed.
      const shown = path.relative(process.cwd(), dockerfile) || dockerfile; // no machine-specific path in the plan
      Annotations.of(this).addWarning(
        `${shown} does not exist: the worker image cannot be built at apply. Add it, or set worker.imageUri.`,
      );
      const tag = "missing-dockerfile";
      this.imageUri = `${repository.repositoryUrl}:${tag}`;
      this.build = new DataResource(this, "build", {
        triggersReplace: { tag },
        provisioners: [
          {
            type: "local-exec",
            interpreter: ["bash", "-c"],
            command: `echo ${JSON.stringify(`worker image: ${shown} did not exist at synth; add it or set worker.imageUri`)} >&2; exit 1`,
          },
        ],
      });
      return;
    }

    const hash = contentHash(contextDir);
    const tag = `src-${hash.slice(0, 32)}`;
    // The context is copied into the synthesized stack (cdktf.out/stacks/<stack>/assets/...),
    // so the build works from the stack directory wherever it was synthesized.
    const context = new TerraformAsset(this, "context", {
      path: contextDir,
      type: AssetType.DIRECTORY,
      assetHash: hash,
    });
    this.imageUri = `${repository.repositoryUrl}:${tag}`;
    this.build = new DataResource(this, "build", {
      triggersReplace: { repository: repository.repositoryUrl, tag },
      provisioners: [
        {
          type: "local-exec",
          interpreter: ["bash", "-c"],
          command: BUILD_AND_PUSH,
          environment: {
            REPOSITORY_URL: repository.repositoryUrl,
            REPOSITORY_NAME: repository.name,
            // `<account>.dkr.ecr.<region>.amazonaws.com`: the registry docker logs in to.
            REGISTRY: Fn.element(Fn.split("/", repository.repositoryUrl), 0),
            TAG: tag,
            REGION: props.region,
            CONTEXT: context.path,
            ASSUME_ROLE_ARN: props.assumeRoleArn ?? "",
          },
        },
      ],
    });
  }
}

/** Expire untagged images after a few days; keep the newest `keep` images of any tag. */
export function lifecyclePolicy(keep: number, untaggedDays: number) {
  return {
    rules: [
      {
        rulePriority: 1,
        description: `Expire untagged images ${untaggedDays} days after push`,
        selection: {
          tagStatus: "untagged",
          countType: "sinceImagePushed",
          countUnit: "days",
          countNumber: untaggedDays,
        },
        action: { type: "expire" },
      },
      {
        // A tagStatus "any" rule must have the highest rulePriority number.
        rulePriority: 2,
        description: `Keep the newest ${keep} images`,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keep },
        action: { type: "expire" },
      },
    ],
  };
}

/**
 * SHA-256 over every file's relative path, mode and content, in sorted order, so a
 * rename, a chmod +x or an edit changes it and nothing else does.
 */
export function contentHash(dir: string): string {
  return hashOfTree({ names: () => readdirSync(dir), at: (name) => path.join(dir, name) });
}

/**
 * The tree stageWorkerContext would stage, read where it lies: each entry of WORKER_CONTEXT_FILES at its path,
 * directories (`scripts/`, `batch-worker/`) made of the entries under them, and the Dockerfile at the root too.
 */
interface Tree {
  names(): string[];
  /** A real path, a file's content, or a tree made only of listed entries. */
  at(name: string): string | Buffer | Tree;
}

/** contentHash of the copy stageWorkerContext would make of `repoRoot`, without copying. */
export function sourcesHash(repoRoot: string = REPO_ROOT): string {
  const root = new Map<string, unknown>();
  const place = (rel: string, abs: string | Buffer) => {
    const parts = rel.split("/");
    let dir = root;
    for (const part of parts.slice(0, -1)) {
      if (!(dir.get(part) instanceof Map)) dir.set(part, new Map<string, unknown>());
      dir = dir.get(part) as Map<string, unknown>;
    }
    dir.set(parts[parts.length - 1]!, abs);
  };
  for (const [rel, from] of workerContextEntries(repoRoot)) place(rel, from);
  const treeOf = (dir: Map<string, unknown>): Tree => ({
    names: () => [...dir.keys()],
    at: (name) => {
      const entry = dir.get(name);
      return entry instanceof Map ? treeOf(entry as Map<string, unknown>) : (entry as string | Buffer);
    },
  });
  return hashOfTree(treeOf(root));
}

function hashOfTree(tree: Tree): string {
  const hash = createHash("sha256");
  const walk = (rel: string, node: Tree) => {
    for (const name of node.names().sort()) {
      if (HASH_EXCLUDES.has(name)) continue;
      const child = rel === "" ? name : `${rel}/${name}`;
      const at = node.at(name);
      if (Buffer.isBuffer(at)) {
        // as a staged copy written with writeFileSync hashes: mode 0644 (umask 022), not executable
        hash.update(`${child}\0-\0${at.length}\0`);
        hash.update(at);
        continue;
      }
      if (typeof at !== "string") {
        walk(child, at);
        continue;
      }
      const stat = statSync(at);
      if (stat.isDirectory()) {
        walk(child, { names: () => readdirSync(at), at: (n) => path.join(at, n) });
      } else if (stat.isFile()) {
        hash.update(`${child}\0${(stat.mode & 0o111) !== 0 ? "x" : "-"}\0${stat.size}\0`);
        hash.update(readFileSync(at));
      }
    }
  };
  walk("", tree);
  return hash.digest("hex");
}

/** `123456789012.dkr.ecr.us-east-1.amazonaws.com/repo[:tag|@digest]` → its repository ARN, in the partition of the registry's region. */
export function ecrRepositoryArnOf(imageUri: string): string | undefined {
  const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/([^:@]+)/.exec(imageUri);
  if (!m) return undefined;
  return `arn:${partitionOf(m[2]!)}:ecr:${m[2]}:${m[1]}:repository/${m[4]}`;
}

/**
 * Runs where `terraform apply` runs; needs `docker` (with an engine that answers, not only the client)
 * and the AWS CLI there. Idempotent: tags are immutable, so an image already pushed under this tag is
 * left alone. Logs out of the registry when it ends, whether the push worked or not.
 * `--platform linux/amd64`: the compute environments launch x86_64 families only.
 */
export const BUILD_AND_PUSH = `set -euo pipefail
for tool in docker aws; do
  command -v "$tool" >/dev/null || { echo "worker image: '$tool' is needed to build and push $REPOSITORY_URL:$TAG (or set worker.imageUri to a prebuilt image)" >&2; exit 1; }
done
if [ -n "$ASSUME_ROLE_ARN" ]; then
  creds="$(aws sts assume-role --role-arn "$ASSUME_ROLE_ARN" --role-session-name backup-actions-worker-image --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)"
  read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN <<<"$creds"
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
fi
if aws ecr describe-images --region "$REGION" --repository-name "$REPOSITORY_NAME" --image-ids imageTag="$TAG" >/dev/null 2>&1; then
  echo "worker image $REPOSITORY_URL:$TAG already pushed"; exit 0
fi
docker info >/dev/null 2>&1 || { echo "worker image: docker is installed but its engine does not answer ('docker info' failed): start the Docker daemon where terraform applies, or set worker.imageUri to a prebuilt image" >&2; exit 1; }
# The registry's token is valid 12 h: never leave it in the docker config of the machine, also on failure.
trap 'docker logout "$REGISTRY" >/dev/null 2>&1 || true' EXIT
aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin "$REGISTRY"
docker build --platform linux/amd64 --tag "$REPOSITORY_URL:$TAG" "$CONTEXT"
docker push "$REPOSITORY_URL:$TAG"`;
