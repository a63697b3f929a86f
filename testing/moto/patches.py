"""Patches for gaps in moto 5.2.1 that the bench depends on.

moto 5.2.1 is installed system-wide on the build machines and PyPI is not
reachable, so it cannot be upgraded. Each patch below says what it fixes, why
the bench needs it, and in which upstream version (if any) the gap is closed,
so it can be deleted once the machines move on. Every patch is covered by
__tests__/testing/moto.test.ts.

Patches are applied in-process, before the server starts, and never touch the
installed moto files.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Callable

import moto

from dynamodb_patches import PATCHES as DYNAMODB_PATCHES

# The patches were written against these internals. A different minor version
# may have moved them, so refuse to start instead of misbehaving silently.
SUPPORTED_PREFIX = "5.2."


def check_version() -> None:
    if not moto.__version__.startswith(SUPPORTED_PREFIX):
        raise SystemExit(
            f"moto {moto.__version__} is installed; the bench launcher supports "
            f"moto {SUPPORTED_PREFIX}x (see testing/README-moto.md)"
        )


def _version_tuple(version: str) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in version.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


# --------------------------------------------------------------------------
# 1. StateMachine.__deepcopy__
#
# What: StepFunctionsParserBackend.start_execution() deep-copies the
#   StateMachine model so that a later UpdateStateMachine does not change a
#   running execution. The model holds `backend` (the whole region backend) and
#   `executions` (live Execution objects owning threads, locks and events).
#   The first execution works because `executions` is still empty; from the
#   second one on -- or as soon as any other machine of the region has an
#   execution, since `backend` leads to every machine -- deepcopy reaches a
#   thread lock and raises
#   "TypeError: cannot pickle '_thread.lock' object" -> HTTP 500 on
#   StartExecution.
# Why: every pipeline test starts the same state machine more than once.
# Upstream: fixed in moto 5.2.3 (StateMachine got its own __deepcopy__).
# Fix: copy the definition-level data deeply, share the backend, and give the
#   clone a shallow copy of the containers of live objects (executions,
#   versions, aliases): the execution only reads them.
# --------------------------------------------------------------------------
_SHARED_ATTRIBUTES = frozenset({"backend"})
_SHALLOW_ATTRIBUTES = frozenset({"executions", "versions", "aliases", "latest_version"})


def _state_machine_deepcopy(self: Any, memo: dict[int, Any]) -> Any:
    cls = self.__class__
    clone = cls.__new__(cls)
    memo[id(self)] = clone
    for key, value in self.__dict__.items():
        if key in _SHARED_ATTRIBUTES:
            setattr(clone, key, value)
        elif key in _SHALLOW_ATTRIBUTES:
            setattr(clone, key, copy.copy(value))
        else:
            setattr(clone, key, copy.deepcopy(value, memo))
    return clone


def patch_state_machine_deepcopy() -> bool:
    if _version_tuple(moto.__version__) >= (5, 2, 3):
        return False
    from moto.stepfunctions.models import StateMachine

    if "__deepcopy__" in StateMachine.__dict__:
        return False
    StateMachine.__deepcopy__ = _state_machine_deepcopy  # type: ignore[attr-defined]
    return True


# --------------------------------------------------------------------------
# 2. ValidateStateMachineDefinition
#
# What: the action is missing from moto's Step Functions responses, so moto
#   answers it with an error.
# Why: the Terraform AWS provider (>= 5.5x, so also 5.100.0) calls it before
#   CreateStateMachine/UpdateStateMachine for every aws_sfn_state_machine, so
#   no stack with a state machine could be applied to moto.
# Upstream: not implemented in moto 5.2.x at the time of writing.
# Fix: answer with the real API's shape
#   {"result": "OK"|"FAIL", "diagnostics": [...], "truncated": false}.
#   Syntax errors give INVALID_JSON_DESCRIPTION, definitions moto's own ASL
#   parser (the one that executes machines) rejects give
#   SCHEMA_VALIDATION_FAILED -- the codes the real service uses.
# --------------------------------------------------------------------------
def _diagnostic(code: str, message: str, location: str | None = None) -> dict[str, Any]:
    diagnostic: dict[str, Any] = {"severity": "ERROR", "code": code, "message": message}
    if location is not None:
        diagnostic["location"] = location
    return diagnostic


def validate_definition(definition: Any) -> list[dict[str, Any]]:
    """Diagnostics for one definition; [] means valid."""
    if not isinstance(definition, str) or definition == "":
        return [_diagnostic("SCHEMA_VALIDATION_FAILED", "Definition is required")]
    try:
        document = json.loads(definition)
    except ValueError as error:
        return [_diagnostic("INVALID_JSON_DESCRIPTION", f"Invalid JSON: {error}")]
    if not isinstance(document, dict):
        return [_diagnostic("SCHEMA_VALIDATION_FAILED", "The definition must be a JSON object", "/")]
    missing = [key for key in ("StartAt", "States") if key not in document]
    if missing:
        return [
            _diagnostic(
                "SCHEMA_VALIDATION_FAILED",
                f"These fields are required: [{', '.join(missing)}]",
                "/",
            )
        ]
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    try:
        AmazonStateLanguageParser.parse(definition)
    except Exception as error:  # the parser raises many types; all mean invalid
        return [_diagnostic("SCHEMA_VALIDATION_FAILED", f"{type(error).__name__}: {error}")]
    return []


def _validate_state_machine_definition(self: Any) -> Any:
    from moto.core.responses import ActionResult

    diagnostics = validate_definition(self._get_param("definition"))
    return ActionResult(
        {
            "result": "FAIL" if diagnostics else "OK",
            "diagnostics": diagnostics,
            "truncated": False,
        }
    )


def patch_validate_state_machine_definition() -> bool:
    from moto.stepfunctions.responses import StepFunctionResponse

    if hasattr(StepFunctionResponse, "validate_state_machine_definition"):
        return False
    StepFunctionResponse.validate_state_machine_definition = (  # type: ignore[attr-defined]
        _validate_state_machine_definition
    )
    return True


# --------------------------------------------------------------------------
# 3. StartExecution without a name (executing backend)
#
# What: with stepfunctions.execute_state_machine=true, moto's executing
#   backend uses the missing name as-is: the execution is called "None", and
#   a second unnamed StartExecution fails with ExecutionAlreadyExists. The real
#   service (and moto's non-executing backend) generates a UUID name.
# Why: tests and tools start executions without a name, like the console does.
# Upstream: still present in moto 5.2.1's stepfunctions/parser/models.py.
# Fix: generate the UUID name and validate given names like the
#   non-executing backend does, then delegate.
# --------------------------------------------------------------------------
def patch_unnamed_start_execution() -> bool:
    from moto.moto_api._internal import mock_random
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution
    if getattr(original, "_bench_patched", False):
        return False

    def start_execution(self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any) -> Any:
        if name:
            self._validate_name(name)
        else:
            name = str(mock_random.uuid4())
        return original(self, state_machine_arn, name, *args, **kwargs)

    start_execution._bench_patched = True  # type: ignore[attr-defined]
    StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]
    return True


# --------------------------------------------------------------------------
# 4. ListStateMachineVersions
#
# What: the action is missing from moto's Step Functions responses; moto
#   answers HTTP 500 (NotImplementedError).
# Why: the Terraform AWS provider 5.100.0 reads the versions of every
#   aws_sfn_state_machine after creating it and retries the 500 until its
#   timeout, so `terraform apply` of any stack with a state machine hangs.
# Upstream: not implemented in moto 5.2.x at the time of writing.
# Fix: list the versions moto already keeps on the model (published with
#   `publish=true`), newest first, with the real response shape and
#   nextToken/maxResults paging.
# --------------------------------------------------------------------------
def _list_state_machine_versions(self: Any) -> Any:
    from moto.core.responses import ActionResult

    state_machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
    versions = sorted(state_machine.versions.values(), key=lambda v: v.version, reverse=True)
    max_results = int(self._get_param("maxResults") or 100) or 100
    token = self._get_param("nextToken")
    start = int(token) if token and str(token).isdigit() else 0
    page = versions[start : start + max_results]
    response: dict[str, Any] = {
        "stateMachineVersions": [
            {"stateMachineVersionArn": v.arn, "creationDate": v.creation_date} for v in page
        ]
    }
    if start + max_results < len(versions):
        response["nextToken"] = str(start + max_results)
    return ActionResult(response)


def patch_list_state_machine_versions() -> bool:
    from moto.stepfunctions.responses import StepFunctionResponse

    if hasattr(StepFunctionResponse, "list_state_machine_versions"):
        return False
    StepFunctionResponse.list_state_machine_versions = _list_state_machine_versions  # type: ignore[attr-defined]
    return True


# --------------------------------------------------------------------------
# 5. Security group rule descriptions
#
# What: SecurityGroupRule.description only reads the description of a CIDR
#   range. A rule that references a security group (UserIdGroupPairs) or a
#   prefix list (PrefixListIds) keeps its description in that dict instead, so
#   DescribeSecurityGroupRules returns no Description for it.
# Why: the network stack's aws_vpc_security_group_{ingress,egress}_rule
#   resources reference the worker/endpoint security groups and the gateway
#   endpoints' prefix lists, each with a description; the second `terraform
#   plan` after apply then shows a change on every one of them.
# Upstream: moto 5.2.1 behaviour; not fixed at the time of writing.
# Fix: read the description from whichever of ip range, source group or
#   prefix list the rule was made from.
# --------------------------------------------------------------------------
def patch_security_group_rule_description() -> bool:
    from moto.ec2.models.security_groups import SecurityGroupRule

    if getattr(SecurityGroupRule, "_bench_description_patched", False):
        return False
    original_init = SecurityGroupRule.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        prefix_list = kwargs.get("prefix_list_id", args[7] if len(args) > 7 else None)
        self._bench_prefix_list_description = (prefix_list or {}).get("Description")

    def description(self: Any) -> Any:
        return (
            (self.ip_range or {}).get("Description")
            or (self.source_group or {}).get("Description")
            or getattr(self, "_bench_prefix_list_description", None)
        )

    SecurityGroupRule.__init__ = __init__  # type: ignore[method-assign]
    SecurityGroupRule.description = property(description)  # type: ignore[assignment]
    SecurityGroupRule._bench_description_patched = True  # type: ignore[attr-defined]
    return True


# --------------------------------------------------------------------------
# 6. HeadObject's composite checksum
#
# What: for an object completed from a multipart upload with a COMPOSITE
#   checksum (ChecksumAlgorithm SHA256), HeadObject with x-amz-checksum-mode
#   ENABLED answers the bare base64 value, without the "-<parts>" suffix and
#   without x-amz-checksum-type. Real S3 answers "<base64>-<parts>" and
#   COMPOSITE on HeadObject as on GetObject, and so does moto 5.2.1's own
#   GetObject (S3Response._key_response_get builds qualified_checksum); only
#   its head_object was left out.
# Why: the verify Lambda compares HeadObject's ChecksumSHA256 with the
#   composite the worker records in the manifest; unpatched, every archive the
#   worker writes to moto would fail verification.
# Upstream: getmoto/moto#8762, fixed by getmoto/moto#9849 (after 5.2.1).
# Fix: after head_object, qualify the header the way moto's GetObject does.
#   A no-op where the value already carries a suffix (a fixed moto), for
#   FULL_OBJECT checksums, and for partNumber requests.
# --------------------------------------------------------------------------
def patch_head_object_composite_checksum() -> bool:
    from moto.s3.responses import S3Response

    original = S3Response.head_object
    if getattr(original, "_bench_patched", False):
        return False

    def head_object(self: Any, bucket_name: str, query: dict[str, Any], key_name: str, headers: dict[str, Any]) -> Any:
        status, response_headers, body = original(self, bucket_name, query, key_name, headers)
        if status != 200 or headers.get("x-amz-checksum-mode") != "ENABLED" or query.get("partNumber"):
            return status, response_headers, body
        key = self.backend.head_object(bucket_name, key_name, version_id=query.get("versionId", [None])[0])
        if key is None or not key.checksum_algorithm or key.checksum_type != "COMPOSITE":
            return status, response_headers, body
        header = f"x-amz-checksum-{key.checksum_algorithm.lower()}"
        if response_headers.get(header) == key.checksum_value:
            response_headers[header] = f"{key.checksum_value}-{key.checksum_parts}"
            response_headers["x-amz-checksum-type"] = key.checksum_type
        return status, response_headers, body

    head_object._bench_patched = True  # type: ignore[attr-defined]
    S3Response.head_object = head_object  # type: ignore[method-assign]
    return True


# --------------------------------------------------------------------------
# 7. CreateVolume's ClientToken
#
# What: moto 5.2.1 ignores CreateVolume's ClientToken, so every call makes a
#   new volume. In EC2 the token makes the call idempotent: a retry with the
#   same token returns the volume the first call created (a different request
#   under the same token is IdempotentParameterMismatch).
# Why: the EBS child retries a throttled CreateVolume; only the token keeps a
#   retry whose first attempt EC2 had already carried out from leaking a second
#   volume. Without this patch moto cannot tell a definition with the token
#   from one without it (__tests__/stacks/workflows/ebs-export.exec.test.ts).
# Upstream: not implemented as of 5.2.x.
# Fix: remember token -> (volume id, request) per account and region, on the
#   region's backend (so /moto-api/reset forgets them); answer a repeated token
#   with that volume while it exists. Simplification: once the volume is gone,
#   a repeated token creates a new one (EC2 keeps tokens for a while).
# --------------------------------------------------------------------------
_IDEMPOTENT_VOLUME_FIELDS = ("Size", "AvailabilityZone", "SnapshotId", "VolumeType", "Iops", "Throughput", "Encrypted", "KmsKeyId")


def patch_create_volume_client_token() -> bool:
    from moto.core.responses import ActionResult
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.responses.elastic_block_store import ElasticBlockStore

    original = ElasticBlockStore.create_volume
    if getattr(original, "_bench_patched", False):
        return False

    def create_volume(self: Any) -> Any:
        token = self._get_param("ClientToken")
        if not token:
            return original(self)
        request = tuple(str(self._get_param(field)) for field in _IDEMPOTENT_VOLUME_FIELDS)
        tokens = self.ec2_backend.__dict__.setdefault("_bench_volume_tokens", {})
        known = tokens.get(token)
        if known is not None and known[0] in self.ec2_backend.volumes:
            if known[1] != request:
                raise EC2ClientError(
                    "IdempotentParameterMismatch",
                    f"The client token {token} was used with a different CreateVolume request.",
                )
            return ActionResult(self.ec2_backend.volumes[known[0]])
        result = original(self)
        tokens[token] = (result.result.id, request)
        return result

    create_volume._bench_patched = True  # type: ignore[attr-defined]
    ElasticBlockStore.create_volume = create_volume  # type: ignore[method-assign]
    return True


# --------------------------------------------------------------------------
# 8. PutObject / UploadPart checksums
#
# What: moto 5.2.1 stores the x-amz-checksum-<algorithm> value the client sends
#   (header or aws-chunked trailer) without checking it ("TODO: AWS computes the
#   provided value and verifies it's the same"), so HeadObject and GetObject
#   later report whatever the client claimed. S3 computes the checksum of what
#   it received and refuses a mismatch: 400 BadDigest.
# Why: the worker sends each part's SHA-256 so that S3 checks it, and verify
#   trusts the composite checksum S3 reports. On unpatched moto that checksum
#   is the worker's own claim and a corrupted part would be accepted.
# Upstream: open TODO in moto/s3/responses.py (_get_checksum).
# Fix: before PutObject and UploadPart store anything, compute the checksum of
#   the decoded body for the algorithms moto computes exactly (SHA256, SHA1,
#   CRC32; CRC32C falls back to CRC32 in moto without the crc32c module, so it
#   is not checked) and raise BadDigest on a mismatch.
# --------------------------------------------------------------------------
_CHECKED_ALGORITHMS = ("SHA256", "SHA1", "CRC32")


def _claimed_checksum(response: Any) -> tuple[str, str] | None:
    import re

    for algorithm in _CHECKED_ALGORITHMS:
        header = f"x-amz-checksum-{algorithm.lower()}"
        value = response.headers.get(header)
        if not value and header in str(response.headers.get("x-amz-trailer", "")).lower():
            raw = response.raw_body if isinstance(response.raw_body, bytes) else bytes(response.raw_body or b"")
            found = re.search(rb"x-amz-checksum-" + algorithm.lower().encode() + rb":([A-Za-z0-9+/=]+)", raw)
            value = found.group(1).decode() if found else None
        if value:
            return algorithm, value.decode() if isinstance(value, bytes) else value
    return None


def patch_object_checksums() -> bool:
    from moto.s3.exceptions import S3ClientError
    from moto.s3.responses import S3Response
    from moto.s3.utils import compute_checksum

    if getattr(S3Response.put_object, "_bench_patched", False):
        return False

    def check(self: Any) -> None:
        claimed = _claimed_checksum(self)
        if claimed is None:
            return
        algorithm, value = claimed
        body = self.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        actual = compute_checksum(body, algorithm=algorithm)
        actual = actual.decode() if isinstance(actual, bytes) else actual
        if actual != value:
            raise S3ClientError("BadDigest", f"The {algorithm} you specified did not match the calculated checksum.")

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def checked(self: Any) -> Any:
            check(self)
            return original(self)

        checked._bench_patched = True  # type: ignore[attr-defined]
        return checked

    S3Response.put_object = wrap(S3Response.put_object)  # type: ignore[method-assign]
    S3Response.upload_part = wrap(S3Response.upload_part)  # type: ignore[method-assign]
    return True


# --------------------------------------------------------------------------
# 9. RDS StartExportTask of an AWS Backup snapshot
#
# What: moto 5.2.1 takes the snapshot id of SourceArn as its last ':'-field
#   and the type as the one before. An AWS Backup snapshot's id has a colon
#   itself (arn:aws:rds:<region>:<account>:snapshot:awsbackup:job-<id>), so
#   moto reads type "awsbackup", id "job-<id>", and fails with a KeyError
#   (HTTP 500) instead of exporting it.
# Why: every RDS and Aurora recovery point is such a snapshot; the children
#   export them by the recovery point ARN (stacks/workflows/rds-export.ts).
# Upstream: not fixed as of 5.2.x.
# Fix: split SourceArn at ":snapshot:" / ":cluster-snapshot:" and keep all
#   that follows as the id; then moto's own checks and model as before.
# --------------------------------------------------------------------------
def patch_start_export_task_source_arn() -> bool:
    from moto.rds.exceptions import DBClusterSnapshotNotFoundError, DBSnapshotNotFoundFault
    from moto.rds.models import RDSBackend

    original = RDSBackend.start_export_task
    if getattr(original, "_bench_patched", False):
        return False

    def start_export_task(self: Any, kwargs: dict[str, Any]) -> Any:
        source_arn = kwargs["source_arn"]
        for marker, snapshots, not_found in (
            (":cluster-snapshot:", self.cluster_snapshots, DBClusterSnapshotNotFoundError),
            (":snapshot:", self.database_snapshots, DBSnapshotNotFoundFault),
        ):
            if marker not in source_arn:
                continue
            head, snapshot_id = source_arn.split(marker, 1)
            if snapshot_id not in snapshots:
                raise not_found(snapshot_id)
            alias = snapshot_id.split(":")[-1]
            if alias == snapshot_id:
                return original(self, kwargs)
            # moto looks the snapshot up by the ARN's last field: lend it that key for the call.
            lent = alias not in snapshots
            if lent:
                snapshots[alias] = snapshots[snapshot_id]
            try:
                task = original(self, {**kwargs, "source_arn": f"{head}{marker}{alias}"})
            finally:
                if lent:
                    del snapshots[alias]
            task.source_arn = source_arn
            return task
        return original(self, kwargs)

    start_export_task._bench_patched = True  # type: ignore[attr-defined]
    RDSBackend.start_export_task = start_export_task  # type: ignore[method-assign]
    return True


# --------------------------------------------------------------------------
# 10. Snapshots named as AWS Backup names them
#
# What: AWS Backup creates an RDS or Aurora recovery point as a snapshot
#   named awsbackup:job-<uuid> (with a colon, which CreateDBSnapshot refuses
#   to anyone else). moto has no AWS Backup and validates every snapshot
#   identifier like CreateDBSnapshot's.
# Why: the bench seeds recovery points as AWS Backup leaves them, through
#   CreateDBSnapshot / CreateDBClusterSnapshot, and the children read and
#   export them by that name (__tests__/helpers/rds-bench.ts).
# Fix: accept exactly awsbackup:job-<uuid>; every other identifier is
#   checked by moto's rule as before.
# --------------------------------------------------------------------------
_AWS_BACKUP_SNAPSHOT_ID = r"^awsbackup:job-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def patch_aws_backup_snapshot_identifiers() -> bool:
    import re

    from moto.rds.models import RDSBackend

    original = RDSBackend.validate_db_snapshot_identifier
    if getattr(original, "_bench_patched", False):
        return False

    def validate(db_snapshot_identifier: str, parameter_name: str) -> None:
        if re.match(_AWS_BACKUP_SNAPSHOT_ID, db_snapshot_identifier or ""):
            return
        original(db_snapshot_identifier, parameter_name)

    validate._bench_patched = True  # type: ignore[attr-defined]
    RDSBackend.validate_db_snapshot_identifier = staticmethod(validate)  # type: ignore[method-assign,assignment]
    return True


# --------------------------------------------------------------------------
# 11. EBS direct APIs: block size, listing, errors, block checks
#
# What: moto 5.2.1 answers StartSnapshot/ListSnapshotBlocks with BlockSize 512
#   (AWS: 524288, the size every block has); lists blocks in the order they
#   were written, with BlockIndex as a string, all at once (no MaxResults,
#   NextToken, StartingBlockIndex); answers an unknown snapshot or block with a
#   500 (KeyError); lists and reads a pending snapshot; ignores the block token;
#   stores a PutSnapshotBlock of any length without checking its checksum.
#   AWS (EBS direct APIs reference; user guide FAQ): blocks are 512 KiB, listed
#   unique and in numerical order, MaxResults 100..10000 with a NextToken page
#   token; an unknown snapshot is ResourceNotFoundException (404); only a
#   completed snapshot can be read; a block token that does not name the block
#   and a block whose data or checksum is wrong are ValidationException (400).
# Why: the snapshot reader (batch-worker/src/snapshot-reader.ts) computes each
#   block's offset from BlockSize, pages through the listing, and reports an
#   unknown snapshot clearly; the test bench builds snapshots with
#   PutSnapshotBlock and must not store a block AWS would refuse.
# Upstream: not implemented as of 5.2.x.
# Fix: wrap the EBSResponse handlers; keep blocks keyed by int index.
# --------------------------------------------------------------------------
EBS_BLOCK_SIZE = 524288


def _ebs_error(status: int, code: str, message: str, reason: str | None = None) -> Any:
    import json

    body: dict[str, str] = {"message": message}
    if reason:
        body["Reason"] = reason
    return status, {"status": status, "x-amzn-ErrorType": code, "Content-Type": "application/json"}, json.dumps(body)


def patch_ebs_direct() -> bool:
    import base64
    import hashlib
    import json

    from moto.ebs.models import EBSSnapshot
    from moto.ebs.responses import EBSResponse

    if getattr(EBSResponse.list_snapshot_blocks, "_bench_patched", False):
        return False
    original_put = EBSResponse.put_snapshot_block
    original_get = EBSResponse.get_snapshot_block
    original_init = EBSSnapshot.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.block_size = EBS_BLOCK_SIZE

    def snapshot_of(self: Any, snapshot_id: str) -> Any:
        return self.ebs_backend.snapshots.get(snapshot_id)

    def missing(snapshot_id: str) -> Any:
        return _ebs_error(404, "ResourceNotFoundException", f"The snapshot '{snapshot_id}' does not exist.", "SNAPSHOT_NOT_FOUND")

    def put_snapshot_block(self: Any) -> Any:
        parts = self.parsed_url.path.split("/")
        snapshot_id, index = parts[-3], parts[-1]
        snap = snapshot_of(self, snapshot_id)
        if snap is None:
            return missing(snapshot_id)
        if snap.status != "pending":
            return _ebs_error(400, "ValidationException", f"The snapshot '{snapshot_id}' is not pending.", "INVALID_SNAPSHOT_ID")
        headers = {k.lower(): v for k, v in self.headers.items()}
        data = self.body if isinstance(self.body, bytes) else str(self.body).encode()
        if len(data) != EBS_BLOCK_SIZE or headers.get("x-amz-data-length") != str(EBS_BLOCK_SIZE):
            return _ebs_error(400, "ValidationException", f"A block has {EBS_BLOCK_SIZE} bytes, not {len(data)}.", "INVALID_PARAMETER_VALUE")
        if headers.get("x-amz-checksum-algorithm") != "SHA256":
            return _ebs_error(400, "ValidationException", "Only SHA256 checksums are supported.", "INVALID_PARAMETER_VALUE")
        if base64.b64encode(hashlib.sha256(data).digest()).decode() != headers.get("x-amz-checksum"):
            return _ebs_error(400, "ValidationException", "The checksum does not match the block's data.", "INVALID_BLOCK")
        self.parsed_url = self.parsed_url._replace(path="/".join(parts[:-1] + [str(int(index))]))
        self.body = data
        return original_put(self)

    def listed(self: Any, snapshot_id: str) -> Any:
        snap = snapshot_of(self, snapshot_id)
        if snap is None:
            return missing(snapshot_id), None
        if snap.status != "completed":
            return _ebs_error(400, "ValidationException", f"The snapshot '{snapshot_id}' is not completed.", "INVALID_SNAPSHOT_ID"), None
        return None, snap

    def list_snapshot_blocks(self: Any) -> Any:
        snapshot_id = self.path.split("?")[0].split("/")[-2]
        err, snap = listed(self, snapshot_id)
        if err:
            return err
        params = self._get_params()
        max_results = int(params.get("maxResults") or 10000)
        if not 100 <= max_results <= 10000:
            return _ebs_error(400, "ValidationException", "MaxResults must be 100..10000.", "INVALID_PARAMETER_VALUE")
        start = int(params.get("startingBlockIndex") or 0)
        token = params.get("pageToken")
        if token:
            try:
                start = int(base64.b64decode(token).decode())
            except Exception:
                return _ebs_error(400, "ValidationException", "The page token is not valid.", "INVALID_PAGE_TOKEN")
        indexes = sorted(int(i) for i in snap.blocks)
        page = [i for i in indexes if i >= start][: max_results + 1]
        body: dict[str, Any] = {
            "Blocks": [{"BlockIndex": i, "BlockToken": snap.blocks[str(i)].block_token} for i in page[:max_results]],
            "VolumeSize": snap.volume_size,
            "BlockSize": EBS_BLOCK_SIZE,
        }
        if len(page) > max_results:
            body["NextToken"] = base64.b64encode(str(page[max_results]).encode()).decode()
        return json.dumps(body)

    def get_snapshot_block(self: Any) -> Any:
        parts = self.path.split("?")[0].split("/")
        snapshot_id, index = parts[-3], parts[-1]
        err, snap = listed(self, snapshot_id)
        if err:
            return err
        block = snap.blocks.get(str(int(index)))
        if block is None or block.block_token != self._get_params().get("blockToken"):
            return _ebs_error(400, "ValidationException", f"The block token does not name block {index}.", "INVALID_BLOCK_TOKEN")
        return original_get(self)

    EBSSnapshot.__init__ = init  # type: ignore[method-assign]
    for name, fn in [
        ("put_snapshot_block", put_snapshot_block),
        ("list_snapshot_blocks", list_snapshot_blocks),
        ("get_snapshot_block", get_snapshot_block),
    ]:
        fn._bench_patched = True  # type: ignore[attr-defined]
        setattr(EBSResponse, name, fn)
    return True

# --------------------------------------------------------------------------
# 12. Archive restores (RestoreObject, x-amz-restore) as S3 runs them
#
# What: moto 5.2.1 restores a GLACIER / DEEP_ARCHIVE object at once (its
#   "s3::keyrestore" state moves to RESTORED on the next read), answers a
#   RestoreObject of an object whose restore is under way with 200 instead of
#   S3's 409 RestoreAlreadyInProgress, and accepts a restore without Days (it
#   then restores nothing). S3 (RestoreObject API reference, "Special errors";
#   RestoreRequest.Days: "required for regular restores") takes hours
#   (Bulk: 5-12 from Glacier Flexible Retrieval, up to 48 from Deep Archive),
#   and HeadObject answers x-amz-restore: ongoing-request="true" meanwhile.
# Why: the restore drill (drills.glacier "restore") requests Bulk restores,
#   must not request one twice, and must wait for them; on unpatched moto no
#   test can tell waiting from not waiting.
# Upstream: moto models the restore as a state whose default progression is
#   "immediate"; no RestoreAlreadyInProgress.
# Fix: RestoreObject of an archived object (no SELECT) is handled here:
#   no Days, or Expedited from DEEP_ARCHIVE -> 400 InvalidArgument (the code
#   is ours: the reference names none);
#   an ongoing restore -> 409 RestoreAlreadyInProgress; a restored copy -> its
#   expiry moves to now + Days, 200; otherwise the restore starts, 202, with
#   the tier kept. The restore stays ongoing until the bench completes it, as
#   hours pass in AWS: POST /moto-api/bench/s3/complete-restores
#   {"bucket", "prefix"} completes the restores under way there and answers
#   {"completed": [keys]}; GET /moto-api/bench/s3/restores?bucket=... lists
#   every restore request (key, tier, days, status) in order. x-amz-restore
#   (HeadObject, GetObject's refusal of an unrestored archived object,
#   CopyObject's source check) follows that state. The state lives on the
#   region's S3 backend, so /moto-api/reset forgets it; an object written
#   again under the same key (another FakeKey) has no restore.
#   S3 Intelligent-Tiering's opt-in archive tiers (moto has none): POST
#   /moto-api/bench/s3/archive-tier {"bucket", "key", "tier"} moves an
#   INTELLIGENT_TIERING object to ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS, as S3
#   does after months unread: HeadObject answers x-amz-archive-status, GetObject
#   is refused (InvalidObjectState); RestoreObject takes no Days (with Days it
#   fails, S3 User Guide "Restore objects with Batch Operations"; InvalidArgument
#   is our code) and once completed the object is back in Frequent Access (no
#   archive status). Outside an archive tier its RestoreObject is refused with
#   the API model's ObjectAlreadyInActiveTierError (403).
# --------------------------------------------------------------------------
def _bench_restores(backend: Any) -> dict[tuple[str, str, str], dict[str, Any]]:
    return backend.__dict__.setdefault("_bench_restores", {})


def _restore_of(key: Any) -> dict[str, Any] | None:
    from moto.s3.models import s3_backends

    try:
        backend = s3_backends[key.account_id][key.partition]
    except Exception:  # noqa: BLE001 (a key outside any backend: no restore)
        return None
    entry = _bench_restores(backend).get((str(key.bucket_name), key.name, str(key.version_id)))
    return entry if entry is not None and entry["key"] is key else None


def _archive_tiers(backend: Any) -> dict[tuple[str, str, str], dict[str, Any]]:
    return backend.__dict__.setdefault("_bench_archive_tiers", {})


def _archive_tier_of(key: Any) -> str | None:
    from moto.s3.models import s3_backends

    try:
        backend = s3_backends[key.account_id][key.partition]
    except Exception:  # noqa: BLE001 (a key outside any backend: no tier)
        return None
    entry = _archive_tiers(backend).get((str(key.bucket_name), key.name, str(key.version_id)))
    return entry["tier"] if entry is not None and entry["key"] is key else None


def patch_archive_restores() -> bool:
    import datetime
    import json

    import xmltodict
    from moto.moto_api._internal import urls as moto_api_urls
    from moto.s3.exceptions import InvalidObjectState, MissingKey, S3ClientError
    from moto.s3.models import FakeKey, s3_backends
    from moto.s3.responses import S3Response
    from moto.s3.utils import ARCHIVE_STORAGE_CLASSES

    original_post = S3Response._key_response_post
    if getattr(original_post, "_bench_patched", False):
        return False

    def rfc1123(when: datetime.datetime) -> str:
        return when.strftime("%a, %d %b %Y %H:%M:%S GMT")

    def key_response_post(self: Any, request: Any, body: bytes, bucket_name: str, query: dict[str, Any], key_name: str) -> Any:
        if "restore" not in query:
            return original_post(self, request, body, bucket_name, query, key_name)
        params = (xmltodict.parse(body) or {}).get("RestoreRequest") or {}
        if params.get("Type") == "SELECT":
            return original_post(self, request, body, bucket_name, query, key_name)
        self._set_action("KEY", "POST", query)
        self._authenticate_and_authorize_s3_action(bucket_name=bucket_name, key_name=key_name)
        version_id = query.get("versionId", [None])[0]
        key = self.backend.get_object(bucket_name, key_name, version_id=version_id)
        if key is None:
            raise MissingKey(key=key_name)
        tiering = key.storage_class == "INTELLIGENT_TIERING"
        archive_tier = _archive_tier_of(key)
        if tiering and archive_tier is None:
            error = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ObjectAlreadyInActiveTierError</Code>'
                "<Message>This action is not allowed against this storage tier.</Message><RequestId>bench</RequestId></Error>"
            )
            return 403, {"Content-Type": "application/xml"}, error
        if not tiering and key.storage_class not in ARCHIVE_STORAGE_CLASSES:
            raise InvalidObjectState(storage_class=key.storage_class)
        days = params.get("Days")
        if tiering and days is not None:
            raise S3ClientError("InvalidArgument", "Days is not allowed for a restore from an Intelligent-Tiering archive tier")
        if not tiering and (days is None or not str(days).isdigit() or int(days) < 1):
            raise S3ClientError("InvalidArgument", "Days is required for a restore of an archived object (at least 1)")
        days = 0 if tiering else int(days)
        tier = (params.get("GlacierJobParameters") or {}).get("Tier") or params.get("Tier") or "Standard"
        if tier == "Expedited" and archive_tier == "DEEP_ARCHIVE_ACCESS":
            raise S3ClientError("InvalidArgument", "Expedited retrieval is not available for the Deep Archive Access tier")
        if tier == "Expedited" and key.storage_class == "DEEP_ARCHIVE":
            # "Expedited retrievals and provisioned capacity are not available for objects stored in the
            # S3 Glacier Deep Archive storage class" (the code is ours: the reference names none)
            raise S3ClientError("InvalidArgument", "Expedited retrieval is not available for the DEEP_ARCHIVE storage class")
        restores = _bench_restores(self.backend)
        slot = (bucket_name, key.name, str(key.version_id))
        entry = restores.get(slot)
        if entry is not None and entry["key"] is not key:
            entry = None
        log = self.backend.__dict__.setdefault("_bench_restore_log", [])
        if entry is not None and entry["ongoing"]:
            log.append({"bucket": bucket_name, "key": key.name, "tier": tier, "days": days, "answer": 409})
            error = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>RestoreAlreadyInProgress</Code>'
                "<Message>Object restore is already in progress</Message><RequestId>bench</RequestId></Error>"
            )
            return 409, {"Content-Type": "application/xml"}, error
        if entry is not None and not tiering:
            entry["days"] = days
            entry["expiry"] = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
            log.append({"bucket": bucket_name, "key": key.name, "tier": tier, "days": days, "answer": 200})
            return 200, {}, ""
        restores[slot] = {"key": key, "ongoing": True, "tier": tier, "days": days, "expiry": None, "tiering": tiering}
        log.append({"bucket": bucket_name, "key": key.name, "tier": tier, "days": days, "answer": 202})
        return 202, {}, ""

    original_response_dict = FakeKey.response_dict

    def response_dict(self: Any) -> dict[str, Any]:
        res = dict(original_response_dict.fget(self))  # type: ignore[attr-defined]
        res.pop("x-amz-restore", None)
        entry = _restore_of(self)
        archive_tier = _archive_tier_of(self)
        if archive_tier is not None:
            res["x-amz-archive-status"] = archive_tier
        if entry is not None and entry.get("tiering") and not entry["ongoing"]:
            pass  # back in Frequent Access: no restore to report
        elif entry is not None:
            res["x-amz-restore"] = (
                'ongoing-request="true"'
                if entry["ongoing"]
                else f'ongoing-request="false", expiry-date="{rfc1123(entry["expiry"])}"'
            )
        return res

    def all_backends() -> list[Any]:
        return [b for account in s3_backends.values() for b in account.values()]

    def payload(request: Any) -> dict[str, Any]:
        raw = getattr(request, "data", None) or getattr(request, "body", None) or b"{}"
        return json.loads(raw.decode() if isinstance(raw, bytes) else raw)

    def complete_restores(request: Any, full_url: str, headers: Any) -> Any:
        wanted = payload(request)
        bucket, prefix = wanted["bucket"], wanted.get("prefix", "")
        done = []
        for backend in all_backends():
            for (b, name, _), entry in _bench_restores(backend).items():
                if b == bucket and name.startswith(prefix) and entry["ongoing"]:
                    entry["ongoing"] = False
                    entry["expiry"] = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=entry["days"])
                    if entry.get("tiering"):
                        _archive_tiers(backend).pop((b, name, str(entry["key"].version_id)), None)
                    done.append(name)
        return 200, {"Content-Type": "application/json"}, json.dumps({"completed": sorted(done)})

    def list_restores(request: Any, full_url: str, headers: Any) -> Any:
        from urllib.parse import parse_qs, urlparse

        bucket = parse_qs(urlparse(full_url).query).get("bucket", [None])[0]
        out = [r for backend in all_backends() for r in backend.__dict__.get("_bench_restore_log", []) if r["bucket"] == bucket]
        return 200, {"Content-Type": "application/json"}, json.dumps({"requests": out})

    def set_archive_tier(request: Any, full_url: str, headers: Any) -> Any:
        wanted = payload(request)
        if wanted.get("tier") not in ("ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"):
            return 400, {}, "tier must be ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS"
        for backend in all_backends():
            key = backend.get_object(wanted["bucket"], wanted["key"]) if wanted["bucket"] in backend.buckets else None
            if key is not None:
                if key.storage_class != "INTELLIGENT_TIERING":
                    return 400, {}, f"{wanted['key']} is {key.storage_class}, not INTELLIGENT_TIERING"
                _archive_tiers(backend)[(wanted["bucket"], key.name, str(key.version_id))] = {"key": key, "tier": wanted["tier"]}
                return 200, {"Content-Type": "application/json"}, json.dumps({"key": key.name, "tier": wanted["tier"]})
        return 404, {}, "no such object"

    original_get_key = S3Response._get_key

    def get_key(self: Any, validate_storage_class: bool = True) -> Any:
        key, not_modified = original_get_key(self, validate_storage_class=validate_storage_class)
        if validate_storage_class and _archive_tier_of(key) is not None:
            raise InvalidObjectState(storage_class=key.storage_class)
        return key, not_modified

    S3Response._get_key = get_key  # type: ignore[method-assign]
    moto_api_urls.url_paths["{0}/moto-api/bench/s3/archive-tier"] = set_archive_tier
    key_response_post._bench_patched = True  # type: ignore[attr-defined]
    S3Response._key_response_post = key_response_post  # type: ignore[method-assign]
    FakeKey.response_dict = property(response_dict)  # type: ignore[assignment]
    moto_api_urls.url_paths["{0}/moto-api/bench/s3/complete-restores"] = complete_restores
    moto_api_urls.url_paths["{0}/moto-api/bench/s3/restores"] = list_restores
    return True


PATCHES: list[tuple[str, Callable[[], bool]]] = [
    ("stepfunctions StateMachine.__deepcopy__", patch_state_machine_deepcopy),
    ("stepfunctions ValidateStateMachineDefinition", patch_validate_state_machine_definition),
    ("stepfunctions unnamed StartExecution", patch_unnamed_start_execution),
    ("stepfunctions ListStateMachineVersions", patch_list_state_machine_versions),
    ("ec2 security group rule descriptions", patch_security_group_rule_description),
    ("s3 HeadObject composite checksum", patch_head_object_composite_checksum),
    ("ec2 CreateVolume ClientToken", patch_create_volume_client_token),
    ("s3 PutObject/UploadPart checksums", patch_object_checksums),
    *DYNAMODB_PATCHES,
    ("rds StartExportTask of an AWS Backup snapshot", patch_start_export_task_source_arn),
    ("rds snapshot identifiers of AWS Backup", patch_aws_backup_snapshot_identifiers),
    ("ebs direct APIs", patch_ebs_direct),
    ("s3 archive restores as S3 runs them", patch_archive_restores),
]


def apply_all() -> list[str]:
    """Apply every patch that is still needed; returns the names applied."""
    check_version()
    return [name for name, patch in PATCHES if patch()]
