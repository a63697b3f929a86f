"""DynamoDB backups, exports and imports in moto 5.2.1, made to behave like DynamoDB.

Registered in patches.py (PATCHES) and tested in __tests__/testing/moto.test.ts, like
the others. Each patch says what moto does, what DynamoDB does (with the page), and
what changes.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import gzip
import hashlib
import json
import time
import uuid
from typing import Any

# --------------------------------------------------------------------------
# 9. ExportTableToPointInTime / DescribeExport
#
# What: moto writes one gzip object of DYNAMODB_JSON items at
#   <prefix>/AWSDynamoDB/<uuid>/data/<uuid>.gz and nothing else; ignores
#   ExportTime, ClientToken, ExportFormat ION and the SSE settings; names the
#   export ...:table/<table ARN>/import/<id>; accepts an ExportTime outside the
#   PITR window.
# AWS: "DynamoDB table export output format" (developerguide/S3DataExport.Output.html):
#   <prefix>/AWSDynamoDB/<ExportId>/_started (empty), manifest-summary.json,
#   manifest-files.json (JSON lines: itemCount, md5Checksum, etag, dataFileS3Key),
#   data/<name>.json.gz or .ion.gz; API reference ExportTableToPointInTime: PITR off ->
#   PointInTimeRecoveryUnavailableException, ExportTime outside the PITR window ->
#   InvalidExportTimeException, ClientToken: identical calls are one call; the same token
#   with other parameters is refused (the page names ImportConflictException there, a name its
#   own error list lacks; the list's ExportConflictException is answered here).
# Fix: a backend method that validates as AWS does and an export that writes AWS's
#   layout (SSE as asked, KMS key recorded on the objects), with the export ARN
#   ...:table/<name>/export/<millis>-<8 hex> and ExportManifest the summary's key.
#   Items are the table's items at the time of the call: moto keeps no history,
#   so ExportTime is validated and recorded but cannot select older items.
# Fault injection: a table tagged `moto-bench:export-failure` = <FailureCode> ends
#   its exports FAILED with that code (the test bench's only way to see DynamoDB's
#   asynchronous failures, e.g. S3 access denied while writing).
# --------------------------------------------------------------------------
EXPORT_FAILURE_TAG = "moto-bench:export-failure"


def _now() -> float:
    return time.time()


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _pitr_window(table: Any) -> tuple[float, float] | None:
    desc = table.continuous_backups["PointInTimeRecoveryDescription"]
    if desc.get("PointInTimeRecoveryStatus") != "ENABLED":
        return None
    enabled_at = float(table.__dict__.get("_bench_pitr_enabled_at", desc.get("EarliestRestorableDateTime") or _now()))
    now = _now()
    days = int(desc.get("RecoveryPeriodInDays") or 35)
    return max(enabled_at, now - days * 86400), now


def _ion_value(value: dict[str, Any]) -> str:
    (kind, v), = value.items()
    if kind == "S":
        return json.dumps(v, ensure_ascii=False)
    if kind == "N":
        d = decimal.Decimal(v)
        text = format(d, "f")
        return text if "." in text else text + "."
    if kind == "B":
        return "{{" + (v if isinstance(v, str) else base64.b64encode(v).decode()) + "}}"
    if kind == "BOOL":
        return "true" if v else "false"
    if kind == "NULL":
        return "null"
    if kind in ("SS", "NS", "BS"):
        inner = {"SS": "S", "NS": "N", "BS": "B"}[kind]
        return f"$dynamodb_{kind}::[" + ",".join(_ion_value({inner: x}) for x in v) + "]"
    if kind == "L":
        return "[" + ",".join(_ion_value(x) for x in v) + "]"
    if kind == "M":
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_ion_value(x)}" for k, x in v.items()) + "}"
    raise ValueError(f"unknown DynamoDB type {kind}")


def _b64(value: Any) -> str:
    """Binary attributes (B, BS) are base64 in DynamoDB JSON, as on the wire."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


class _BenchExport:
    """One export, as DynamoDB describes it and writes it; carried out when created (moto has no delay)."""

    def __init__(self, backend: Any, table: Any, request: dict[str, Any], export_time: float) -> None:
        from moto.utilities.utils import get_partition

        self.backend = backend
        self.table = table
        self.request = request
        millis = int(_now() * 1000)
        self.export_id = f"{millis:014d}-{uuid.uuid4().hex[:8]}"
        partition = get_partition(backend.region_name)
        self.arn = f"arn:{partition}:dynamodb:{backend.region_name}:{backend.account_id}:table/{table.name}/export/{self.export_id}"
        self.bucket = request["S3Bucket"]
        self.prefix = request.get("S3Prefix") or ""
        self.format = request.get("ExportFormat") or "DYNAMODB_JSON"
        self.sse = request.get("S3SseAlgorithm") or "AES256"
        self.kms_key = request.get("S3SseKmsKeyId")
        self.export_time = export_time
        self.start_time = _now()
        self.end_time: float | None = None
        self.status = "IN_PROGRESS"
        self.failure_code: str | None = None
        self.failure_message: str | None = None
        self.item_count = 0
        self.billed = 0
        self.manifest_key: str | None = None

    def _key(self, rest: str) -> str:
        return f"{self.prefix}/AWSDynamoDB/{self.export_id}/{rest}" if self.prefix else f"AWSDynamoDB/{self.export_id}/{rest}"

    def _put(self, s3: Any, key: str, body: bytes) -> Any:
        extra: dict[str, Any] = {}
        if self.sse == "KMS":
            extra = {"encryption": "aws:kms", "kms_key_id": self.kms_key, "bucket_key_enabled": None}
        else:
            extra = {"encryption": "AES256"}
        return s3.put_object(bucket_name=self.bucket, key_name=key, value=body, **extra)

    def run(self) -> None:
        try:
            self._run()
        except Exception as err:  # an export that cannot be written ends FAILED, as in DynamoDB
            self._fail("UNKNOWN", str(err))

    def _run(self) -> None:
        from moto.s3.models import s3_backends
        from moto.utilities.utils import get_partition

        s3 = s3_backends[self.backend.account_id][get_partition(self.backend.region_name)]
        if self.bucket not in s3.buckets:
            self._fail("S3NoSuchBucket", "The specified bucket does not exist")
            return
        injected = {t["Key"]: t["Value"] for t in self.table.tags}
        self._put(s3, self._key("_started"), b"")
        if EXPORT_FAILURE_TAG in injected:
            self._fail(injected[EXPORT_FAILURE_TAG], "injected by the test bench (tag moto-bench:export-failure)")
            return
        lines = []
        for item in self.table.all_items():
            doc = item.to_json()["Attributes"]
            if self.format == "ION":
                lines.append("$ion_1_0 {Item:{" + ",".join(f"{json.dumps(k)}:{_ion_value(v)}" for k, v in doc.items()) + "}}")
            else:
                lines.append(json.dumps({"Item": doc}, ensure_ascii=False, separators=(",", ":"), default=_b64))
            self.billed += len(lines[-1])
        self.item_count = len(lines)
        data = gzip.compress(("\n".join(lines) + ("\n" if lines else "")).encode("utf-8"))
        extension = "ion.gz" if self.format == "ION" else "json.gz"
        data_key = self._key(f"data/{base64.b32encode(uuid.uuid4().bytes).decode().rstrip('=').lower()}.{extension}")
        stored = self._put(s3, data_key, data)
        files_line = {
            "itemCount": self.item_count,
            "md5Checksum": base64.b64encode(hashlib.md5(data).digest()).decode(),
            "etag": stored.etag.strip('"'),
            "dataFileS3Key": data_key,
        }
        files_key = self._key("manifest-files.json")
        files_body = (json.dumps(files_line) + "\n").encode()
        self._put(s3, files_key, files_body)
        self._put(s3, self._key("manifest-files.checksum"), hashlib.md5(files_body).hexdigest().encode())
        self.end_time = _now()
        summary = {
            "version": "2020-06-30",
            "exportArn": self.arn,
            "startTime": _iso(self.start_time),
            "endTime": _iso(self.end_time),
            "tableArn": self.table.table_arn,
            "tableId": _table_id(self.table),
            "exportTime": _iso(self.export_time),
            "s3Bucket": self.bucket,
            "s3Prefix": self.prefix or None,
            "s3SseAlgorithm": self.sse,
            "s3SseKmsKeyId": self.kms_key,
            "manifestFilesS3Key": files_key,
            "billedSizeBytes": self.billed,
            "itemCount": self.item_count,
            "outputFormat": self.format,
            "exportType": "FULL_EXPORT",
        }
        summary_key = self._key("manifest-summary.json")
        summary_body = json.dumps(summary).encode()
        self._put(s3, summary_key, summary_body)
        self._put(s3, self._key("manifest-summary.checksum"), hashlib.md5(summary_body).hexdigest().encode())
        self.manifest_key = summary_key
        self.status = "COMPLETED"

    def _fail(self, code: str, message: str) -> None:
        self.status = "FAILED"
        self.failure_code = code
        self.failure_message = message
        self.end_time = _now()

    def response(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ExportArn": self.arn,
            "ExportStatus": self.status,
            "StartTime": self.start_time,
            "ExportTime": self.export_time,
            "TableArn": self.table.table_arn,
            "TableId": _table_id(self.table),
            "ClientToken": self.request.get("ClientToken"),
            "S3Bucket": self.bucket,
            "S3BucketOwner": self.request.get("S3BucketOwner") or self.backend.account_id,
            "S3SseAlgorithm": self.sse,
            "ExportFormat": self.format,
            "ExportType": "FULL_EXPORT",
            "ItemCount": self.item_count,
            "BilledSizeBytes": self.billed,
        }
        if self.prefix:
            out["S3Prefix"] = self.prefix
        if self.kms_key:
            out["S3SseKmsKeyId"] = self.kms_key
        if self.end_time is not None:
            out["EndTime"] = self.end_time
        if self.manifest_key:
            out["ExportManifest"] = self.manifest_key
        if self.failure_code:
            out["FailureCode"] = self.failure_code
            out["FailureMessage"] = self.failure_message
        return out


_TOKEN_FIELDS = ("TableArn", "ExportTime", "S3Bucket", "S3Prefix", "S3SseAlgorithm", "S3SseKmsKeyId", "ExportFormat", "ExportType")


def patch_dynamodb_export() -> bool:
    from moto.core.exceptions import JsonRESTError
    from moto.core.responses import ActionResult
    from moto.dynamodb.exceptions import PointInTimeRecoveryUnavailable, TableNotFoundException
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.export_table_to_point_in_time, "_bench_patched", False):
        return False
    prefix = "com.amazonaws.dynamodb.v20120810#"

    def export_table_to_point_in_time(self: Any) -> Any:
        backend = self.dynamodb_backend
        body = dict(self.body)
        table_arn = body.get("TableArn")
        table = next((t for t in backend.tables.values() if t.table_arn == table_arn), None)
        if table is None:
            raise TableNotFoundException(name=table_arn)
        fmt = body.get("ExportFormat") or "DYNAMODB_JSON"
        if fmt not in ("DYNAMODB_JSON", "ION"):
            raise JsonRESTError(prefix + "ValidationException", f"1 validation error detected: Value '{fmt}' at 'exportFormat' failed to satisfy constraint: Member must satisfy enum value set: [DYNAMODB_JSON, ION]")
        if (body.get("S3SseAlgorithm") or "AES256") not in ("AES256", "KMS"):
            raise JsonRESTError(prefix + "ValidationException", "S3SseAlgorithm must be AES256 or KMS")
        token = body.get("ClientToken")
        tokens = backend.__dict__.setdefault("_bench_export_tokens", {})
        request = tuple(json.dumps(body.get(f), default=str) for f in _TOKEN_FIELDS)
        if token and token in tokens:
            known_request, arn = tokens[token]
            if known_request != request:
                raise JsonRESTError(prefix + "ExportConflictException", f"The client token {token} was used with other parameters of ExportTableToPointInTime")
            return ActionResult({"ExportDescription": backend.table_exports[arn].response()})
        window = _pitr_window(table)
        if window is None:
            raise PointInTimeRecoveryUnavailable(name=table.name)
        export_time = body.get("ExportTime")
        if export_time is None:
            export_time = _now()
        else:
            # moto's request parser has made the epoch seconds of the wire a datetime.
            if isinstance(export_time, dt.datetime):
                export_time = (export_time if export_time.tzinfo else export_time.replace(tzinfo=dt.timezone.utc)).timestamp()
            export_time = float(export_time)
            earliest, latest = window
            if export_time < earliest or export_time > latest:
                raise JsonRESTError(prefix + "InvalidExportTimeException", f"Export time {_iso(export_time)} is outside of the point in time recovery window {_iso(earliest)} to {_iso(latest)}")
        export = _BenchExport(backend, table, body, export_time)
        backend.table_exports[export.arn] = export
        if token:
            tokens[token] = (request, export.arn)
        response = export.response()
        export.run()
        return ActionResult({"ExportDescription": response})

    def describe_export(self: Any) -> Any:
        arn = self.body.get("ExportArn")
        export = self.dynamodb_backend.table_exports.get(arn)
        if export is None:
            raise JsonRESTError(prefix + "ExportNotFoundException", f"Export not found: {arn}")
        return ActionResult({"ExportDescription": export.response()})

    export_table_to_point_in_time._bench_patched = True  # type: ignore[attr-defined]
    DynamoHandler.export_table_to_point_in_time = export_table_to_point_in_time  # type: ignore[method-assign]
    DynamoHandler.describe_export = describe_export  # type: ignore[method-assign]
    return True


# --------------------------------------------------------------------------
# 10. Point-in-time recovery window
#
# What: moto sets EarliestRestorableDateTime = LatestRestorableDateTime = the time
#   PITR was switched on and never moves them, so no time after that is ever inside
#   the window; a table created by RestoreTableFromBackup keeps the restored data
#   but PITR off (as AWS: PITR is not restored).
# AWS: DescribeContinuousBackups (APIReference): EarliestRestorableDateTime is the
#   earliest point in time you can restore to (no earlier than when PITR was switched
#   on, nor than RecoveryPeriodInDays back); LatestRestorableDateTime is typically 5
#   minutes before now. The bench answers now (moto cannot age a backup by minutes);
#   the child treats a backup after the window as not covered either way.
# Fix: remember when PITR was switched on; answer the window from the clock.
# --------------------------------------------------------------------------


def patch_pitr_window() -> bool:
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend.describe_continuous_backups, "_bench_patched", False):
        return False
    original_update = DynamoDBBackend.update_continuous_backups
    original_describe = DynamoDBBackend.describe_continuous_backups

    def update_continuous_backups(self: Any, table_name: str, point_in_time_spec: dict[str, Any]) -> Any:
        table = self.get_table(table_name) if table_name in self.tables else None
        was = table.continuous_backups["PointInTimeRecoveryDescription"].get("PointInTimeRecoveryStatus") if table else None
        out = original_update(self, table_name, point_in_time_spec)
        if table is not None and point_in_time_spec.get("PointInTimeRecoveryEnabled") and was != "ENABLED":
            table.__dict__["_bench_pitr_enabled_at"] = _now()
        return describe_continuous_backups(self, table_name) if table is not None else out

    def describe_continuous_backups(self: Any, table_name: str) -> Any:
        out = original_describe(self, table_name)
        table = self.get_table(table_name)
        window = _pitr_window(table)
        desc = out["PointInTimeRecoveryDescription"]
        if window is not None:
            desc["EarliestRestorableDateTime"], desc["LatestRestorableDateTime"] = window
        return out

    describe_continuous_backups._bench_patched = True  # type: ignore[attr-defined]
    DynamoDBBackend.update_continuous_backups = update_continuous_backups  # type: ignore[method-assign]
    DynamoDBBackend.describe_continuous_backups = describe_continuous_backups  # type: ignore[method-assign]
    return True


# --------------------------------------------------------------------------
# 11. DescribeBackup's description
#
# What: moto answers the source table's whole TableDescription as
#   SourceTableDetails (AttributeDefinitions, TableStatus, indexes, ...) and no
#   SourceTableFeatureDetails.
# AWS: DescribeBackup (APIReference, BackupDescription): SourceTableDetails holds
#   TableName, TableId, TableArn, TableSizeBytes, KeySchema, TableCreationDateTime,
#   ProvisionedThroughput, ItemCount, BillingMode (no attribute types);
#   SourceTableFeatureDetails holds LocalSecondaryIndexes and GlobalSecondaryIndexes
#   (IndexName, KeySchema, Projection[, ProvisionedThroughput]), StreamDescription,
#   TimeToLiveDescription, SSEDescription. Code that needs attribute types must not
#   find them here.
# --------------------------------------------------------------------------
_SOURCE_FIELDS = ("TableName", "TableId", "TableArn", "TableSizeBytes", "KeySchema", "ProvisionedThroughput", "ItemCount", "BillingMode")


def patch_backup_description() -> bool:
    from moto.dynamodb.models.table import Backup

    if getattr(Backup.description.fget, "_bench_patched", False):  # type: ignore[attr-defined]
        return False

    def description(self: Any) -> dict[str, Any]:
        full = self.table.describe()["TableDescription"]
        source = {k: full[k] for k in _SOURCE_FIELDS if k in full}
        source["TableCreationDateTime"] = full.get("CreationDateTime")
        source.setdefault("BillingMode", (full.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED"))
        if source["BillingMode"] == "PAY_PER_REQUEST":
            source.pop("ProvisionedThroughput", None)
        features: dict[str, Any] = {}
        for name in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
            if full.get(name):
                features[name] = [
                    {k: i[k] for k in ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput") if k in i}
                    for i in full[name]
                ]
        out: dict[str, Any] = {"BackupDetails": self.details, "SourceTableDetails": source}
        if features:
            out["SourceTableFeatureDetails"] = features
        return out

    description._bench_patched = True  # type: ignore[attr-defined]
    Backup.description = property(description)  # type: ignore[assignment]
    return True


# --------------------------------------------------------------------------
# 12. ImportTable into an existing table name
#
# What: moto accepts the request and its import thread fails later (UNKNOWN).
# AWS: ImportTable (APIReference) creates a new table; a TableName that exists is
#   refused at once with ResourceInUseException.
# --------------------------------------------------------------------------


def patch_import_table_existing() -> bool:
    from moto.dynamodb.exceptions import ResourceInUseException
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.import_table
    if getattr(original, "_bench_patched", False):
        return False

    def import_table(self: Any) -> Any:
        name = (self.body.get("TableCreationParameters") or {}).get("TableName")
        if name in self.dynamodb_backend.tables:
            raise ResourceInUseException(f"Table already exists: {name}")
        return original(self)

    import_table._bench_patched = True  # type: ignore[attr-defined]
    DynamoHandler.import_table = import_table  # type: ignore[method-assign]
    return True


# --------------------------------------------------------------------------
# 13. TableId
#
# What: moto's DescribeTable (and so DescribeBackup's SourceTableDetails) has no TableId.
# AWS: DescribeTable (APIReference, TableDescription.TableId): "Unique identifier for the
#   table for which the backup was created"; a table deleted and created again under the
#   same name gets a new one. The DynamoDB child compares it with the backup's to know
#   whether the table of that name is still the backed-up one.
# Fix: every table gets a UUID when created (a restored table too); Backup deep-copies it.
# --------------------------------------------------------------------------


def _table_id(table: Any) -> str:
    return table.__dict__.setdefault("_bench_table_id", str(uuid.uuid4()))


def patch_table_id() -> bool:
    from moto.dynamodb.models.table import Table

    if getattr(Table.describe, "_bench_patched", False):
        return False
    original_init = Table.__init__
    original_describe = Table.describe

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.__dict__["_bench_table_id"] = str(uuid.uuid4())

    def describe(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = original_describe(self, *args, **kwargs)
        for value in out.values():
            if isinstance(value, dict) and "TableArn" in value:
                value["TableId"] = _table_id(self)
        return out

    describe._bench_patched = True  # type: ignore[attr-defined]
    Table.__init__ = __init__  # type: ignore[method-assign]
    Table.describe = describe  # type: ignore[method-assign]
    return True


PATCHES = [
    ("dynamodb TableId", patch_table_id),
    ("dynamodb ExportTableToPointInTime as AWS writes it", patch_dynamodb_export),
    ("dynamodb PITR window", patch_pitr_window),
    ("dynamodb DescribeBackup description", patch_backup_description),
    ("dynamodb ImportTable into an existing table", patch_import_table_existing),
]
