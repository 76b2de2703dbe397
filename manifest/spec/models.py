"""Pydantic v2 models of manifest spec 1.0.

They accept and reject exactly the documents that ``schemas/manifest-1.0.schema.json`` accepts and
rejects (the conformance suite in ``tests/conformance`` checks it case by case). Cross-field rules
are not part of the models: :func:`manifest.validate_data` runs them.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal, Optional, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_serializer,
    model_validator,
)
from rfc3986_validator import validate_rfc3986

from ..core.reals import NON_FINITE, json_real
from ..document.reader import load_path
from ..document.writer import dump, dumps
from .forward import known_part, reading_version

SPEC_VERSION = "1.0"
_TIMESTAMP = re.compile(r"^(?!0000)[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z$")
_NAMESPACE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+(?![\s\S])")
_ORCID = re.compile(r"^https://orcid\.org/[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]$")


# --------------------------------------------------------------------------- value types


def _json_int(v: Any) -> Any:
    """JSON Schema counts 3.0 as an integer; so do we. Booleans are not integers."""
    if isinstance(v, bool):
        raise ValueError("expected integer, got boolean")
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        return int(v)
    return v


def _json_number(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("expected number, got boolean")
    return v


def _real(v: Any) -> Any:
    if isinstance(v, str):
        if v in NON_FINITE:
            return NON_FINITE[v]
        raise ValueError('expected a number or "NaN", "Infinity", "-Infinity"')
    return _json_number(v)


def _timestamp(v: str) -> str:
    if len(v) != 24 or not _TIMESTAMP.search(v):
        raise ValueError("not a UTC timestamp of the form YYYY-MM-DDTHH:MM:SS.sssZ")
    try:
        datetime.strptime(v[:10], "%Y-%m-%d")
    except ValueError:
        raise ValueError(f"{v!r} is not a valid date-time") from None
    return v


def _commit(v: str) -> str:
    if len(v) not in (40, 64) or not re.search(r"^[0-9a-f]+(?![\s\S])", v):
        raise ValueError("not a lowercase hexadecimal commit id of 40 or 64 digits")
    return v


def _orcid(v: str) -> str:
    if len(v) != 37 or not _ORCID.search(v):
        raise ValueError("not an ORCID iD URL")
    return v


def _namespace(v: str) -> str:
    if len(v) > 128 or not _NAMESPACE.search(v):
        raise ValueError("not a reverse-domain namespace such as org.example.tool")
    return v


def _date(v: str) -> str:
    """``format: date`` as jsonschema checks it (``YYYY-MM-DD`` that is a real date)."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v, re.ASCII):
        raise ValueError("not a date YYYY-MM-DD")
    date.fromisoformat(v)
    return v


Extensions = dict[Annotated[StrictStr, AfterValidator(_namespace)], Any]


JsonInt = Annotated[StrictInt, BeforeValidator(_json_int)]
NonNegInt = Annotated[JsonInt, Field(ge=0)]
PosInt = Annotated[JsonInt, Field(ge=1)]
Number = Annotated[StrictFloat, BeforeValidator(_json_number)]
Real = Annotated[StrictFloat, BeforeValidator(_real), PlainSerializer(json_real)]
Str = StrictStr
Str1 = Annotated[StrictStr, StringConstraints(min_length=1)]


def _uri(v: str) -> str:
    """``format: uri`` (RFC 3986, ``rfc3986-validator``, as the Python jsonschema engine checks it)
    and the schema's pattern of printable ASCII without spaces, which also refuses the trailing line
    feed that the validator's ``$`` lets through."""
    if not re.fullmatch(r"[!-~]+", v) or not validate_rfc3986(v, rule="URI"):
        raise ValueError("not a URI (RFC 3986)")
    return v


Uri = Annotated[StrictStr, StringConstraints(min_length=1), AfterValidator(_uri)]
Timestamp = Annotated[StrictStr, AfterValidator(_timestamp)]
EpochMillis = NonNegInt
Size = NonNegInt
Scalar = Annotated[Union[StrictBool, StrictInt, StrictFloat, StrictStr, None], Field(union_mode="left_to_right")]
StringMap = dict[Str1, StrictStr]
ParamMap = dict[Str1, Scalar]
JsonObject = dict[StrictStr, Any]


def _hex(n: int) -> Any:
    return Annotated[StrictStr, StringConstraints(min_length=n, max_length=n, pattern=rf"^[0-9a-f]{{{n}}}$")]


#: A directory digest (spec 6.3): in-toto's ``dirHash``, 64 lowercase hex digits.
_DIR_HASH = _hex(64)


class _Model(BaseModel):
    """Common behaviour: unknown fields and explicit nulls are errors; absent fields are omitted."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False, regex_engine="python-re", validate_default=False)
    _min_fields: ClassVar[int] = 0

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                if value is None and (key in cls.model_fields or any(f.alias == key for f in cls.model_fields.values())):
                    raise ValueError(f"{key}: null is not allowed; leave the field out instead")
            if len(data) < cls._min_fields:
                raise ValueError(f"must have at least {cls._min_fields} propert{'ies' if cls._min_fields > 1 else 'y'}")
        return data

    @model_serializer(mode="wrap")
    def _drop_absent(self, handler: Any) -> Any:
        out = handler(self)
        return {k: v for k, v in out.items() if v is not None or self._is_nullable(k)}

    def _is_nullable(self, key: str) -> bool:
        return False

    def to_dict(self) -> dict[str, Any]:
        """The document as JSON-model data (absent fields left out, non-finite reals as strings)."""
        return self.model_dump(mode="python", by_alias=True)


# --------------------------------------------------------------------------- building blocks


class DigestSet(_Model):
    _min_fields = 1
    md5: Optional[_hex(32)] = None  # type: ignore[valid-type]
    sha1: Optional[_hex(40)] = None  # type: ignore[valid-type]
    sha256: Optional[_hex(64)] = None  # type: ignore[valid-type]
    sha384: Optional[_hex(96)] = None  # type: ignore[valid-type]
    sha512: Optional[_hex(128)] = None  # type: ignore[valid-type]
    sha3_256: Optional[_hex(64)] = None  # type: ignore[valid-type]
    sha3_512: Optional[_hex(128)] = None  # type: ignore[valid-type]
    blake2b: Optional[_hex(128)] = None  # type: ignore[valid-type]
    dirHash: Optional[_DIR_HASH] = None  # the schema's member name (in-toto's key), not snake case


class FileRef(_Model):
    path: Str1
    size: Size
    digest: DigestSet
    media_type: Optional[Str1] = None


class Tool(_Model):
    name: Str1
    version: Str1
    url: Optional[Uri] = None


class Source(_Model):
    system: Str1
    system_version: Optional[Str1] = None
    tracking_uri: Optional[Str1] = None
    experiment_id: Optional[Str1] = None
    experiment_name: Optional[Str1] = None
    run_id: Optional[Str1] = None
    run_url: Optional[Uri] = None
    system_tags: Optional[StringMap] = None


class DerivedFrom(_Model):
    id: Str1
    digest: Optional[DigestSet] = None
    relation: Optional[Literal["imported", "reproduced"]] = None


class Provenance(_Model):
    created_at: Timestamp
    created_by: Tool
    source: Optional[Source] = None
    derived_from: Optional[DerivedFrom] = None


class ParentRef(_Model):
    _min_fields = 1
    run_id: Optional[Str1] = None
    manifest_id: Optional[Str1] = None


class Run(_Model):
    status: Literal["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]
    start_time: Timestamp
    end_time: Optional[Timestamp] = None
    error: Optional[Str1] = None
    user: Optional[Str1] = None
    parent: Optional[ParentRef] = None


class TableField(_Model):
    name: Str
    type: Optional[Str1] = None
    description: Optional[Str] = None


class TableSchema(_Model):
    fields: list[TableField]
    primary_key: Optional[list[Str]] = None


class Split(_Model):
    of: Str1
    method: Optional[Str1] = None
    fraction: Optional[Annotated[Number, Field(ge=0, le=1)]] = None
    seed: Optional[JsonInt] = None
    stratify: Optional[Str] = None
    indices: Optional[FileRef] = None


class TrackingDataset(_Model):
    name: Optional[Str1] = None
    fingerprint: Optional[Str1] = None
    source_type: Optional[Str1] = None
    source: Optional[Str] = None
    schema_: Optional[Str] = Field(default=None, alias="schema")
    profile: Optional[Str] = None
    tags: Optional[StringMap] = None


class DataInput(_Model):
    name: Str1
    role: Optional[Str1] = None
    description: Optional[Str] = None
    version: Optional[Str1] = None
    creators: Optional[Annotated[list[Author], Field(min_length=1)]] = None
    landing_page: Optional[Uri] = None
    uri: Optional[Str1] = None
    kind: Optional[Literal["file", "directory", "memory"]] = None
    media_type: Optional[Str1] = None
    format: Optional[Str1] = None
    size: Optional[Size] = None
    digest: Optional[DigestSet] = None
    rows: Optional[NonNegInt] = None
    table_schema: Optional[TableSchema] = None
    profile: Optional[JsonObject] = None
    split: Optional[Split] = None
    license: Optional[Str1] = None
    tracking: Optional[TrackingDataset] = None
    extensions: Optional[Extensions] = None


class CodeFile(_Model):
    path: Str1
    size: Size
    digest: DigestSet
    local_path: Optional[Str1] = None
    media_type: Optional[Str1] = None


class Code(_Model):
    repository: Optional[Str1] = None
    commit: Optional[Annotated[StrictStr, AfterValidator(_commit)]] = None
    branch: Optional[Str1] = None
    dirty: Optional[StrictBool] = None
    diff: Optional[FileRef] = None
    diff_digest: Optional[DigestSet] = None
    config_files: Optional[Annotated[list[CodeFile], Field(min_length=1)]] = None
    untracked_files: Optional[Annotated[list[CodeFile], Field(min_length=1)]] = None
    working_directory: Optional[Str] = None
    entry_point: Optional[Str1] = None
    command: Optional[Annotated[list[StrictStr], Field(min_length=1)]] = None
    command_template: Optional[Annotated[list[StrictStr], Field(min_length=1)]] = None
    source_type: Optional[Str1] = None
    source_name: Optional[Str1] = None
    license: Optional[Str1] = None
    extensions: Optional[Extensions] = None


class Python(_Model):
    version: Str1
    implementation: Optional[Str1] = None
    executable: Optional[Str1] = None


class Platform(_Model):
    os: Optional[Str1] = None
    os_release: Optional[Str1] = None
    os_version: Optional[Str1] = None
    architecture: Optional[Str1] = None
    libc: Optional[Str1] = None


class Cpu(_Model):
    model: Optional[Str1] = None
    logical_cores: Optional[PosInt] = None
    physical_cores: Optional[PosInt] = None


class Accelerator(_Model):
    kind: Optional[Str1] = None
    vendor: Optional[Str1] = None
    model: Str1
    count: Optional[PosInt] = None
    memory_bytes: Optional[NonNegInt] = None
    driver_version: Optional[Str1] = None
    cuda_version: Optional[Str1] = None
    compute_capability: Optional[Str1] = None


class Hardware(_Model):
    cpu: Optional[Cpu] = None
    memory_bytes: Optional[NonNegInt] = None
    accelerators: Optional[list[Accelerator]] = None


class Lockfile(_Model):
    path: Optional[Str1] = None
    format: Optional[Str1] = None
    size: Optional[Size] = None
    digest: DigestSet


class Determinism(_Model):
    level: Optional[Literal["bitwise", "tolerance", "none"]] = None
    settings: Optional[ParamMap] = None


class Container(_Model):
    image: Str1
    digest: Optional[DigestSet] = None
    runtime: Optional[Str1] = None


class Environment(_Model):
    python: Optional[Python] = None
    platform: Optional[Platform] = None
    container: Optional[Container] = None
    packages: Optional[dict[Str1, Str1]] = None
    lockfile: Optional[Lockfile] = None
    hardware: Optional[Hardware] = None
    seeds: Optional[dict[Str1, JsonInt]] = None
    determinism: Optional[Determinism] = None
    variables: Optional[StringMap] = None
    extensions: Optional[Extensions] = None


class Tolerance(_Model):
    _min_fields = 1
    absolute: Optional[Annotated[Number, Field(ge=0)]] = None
    relative: Optional[Annotated[Number, Field(ge=0)]] = None


class HistoryColumns(_Model):
    step: list[JsonInt]
    timestamp: list[EpochMillis]
    value: list[Real]


class HistoryFile(_Model):
    path: Str1
    size: Size
    digest: DigestSet
    points: NonNegInt


class Interval(_Model):
    lower: Number
    upper: Number
    level: Optional[Annotated[Number, Field(gt=0, lt=1)]] = None
    method: Optional[Str1] = None


class Metric(_Model):
    value: Real
    step: Optional[JsonInt] = None
    timestamp: Optional[EpochMillis] = None
    unit: Optional[Str1] = None
    direction: Optional[Literal["maximize", "minimize"]] = None
    description: Optional[Str] = None
    dataset: Optional[Str1] = None
    std: Optional[Annotated[Number, Field(ge=0)]] = None
    repetitions: Optional[PosInt] = None
    interval: Optional[Interval] = None
    tolerance: Optional[Tolerance] = None
    history: Optional[HistoryColumns] = None
    history_file: Optional[HistoryFile] = None
    extensions: Optional[Extensions] = None

    @model_validator(mode="after")
    def _one_history(self) -> Metric:
        if self.history is not None and self.history_file is not None:
            raise ValueError('"history" and "history_file" must not both be present')
        return self


class ArtifactFile(_Model):
    path: Str1
    size: Size
    digest: DigestSet


class Artifact(_Model):
    path: Str1
    uri: Optional[Uri] = None
    kind: Optional[Literal["file", "directory"]] = None
    media_type: Optional[Str1] = None
    size: Optional[Size] = None
    digest: Optional[DigestSet] = None
    local_path: Optional[Str1] = None
    license: Optional[Str1] = None
    extensions: Optional[Extensions] = None


class ModelMetricDataset(_Model):
    name: Str1
    fingerprint: Optional[Str1] = None


class ModelMetric(_Model):
    name: Str1
    value: Real
    step: Optional[JsonInt] = None
    timestamp: Optional[EpochMillis] = None
    dataset: Optional[ModelMetricDataset] = None


class RegisteredVersion(_Model):
    name: Str1
    version: Str1
    aliases: Optional[list[Str1]] = None
    stage: Optional[Str1] = None
    description: Optional[Str] = None
    tags: Optional[StringMap] = None


class ModelSignature(_Model):
    _min_fields = 1
    inputs: Optional[list[JsonObject]] = None
    outputs: Optional[list[JsonObject]] = None
    params: Optional[list[JsonObject]] = None


class ModelCard(_Model):
    _min_fields = 1
    task: Optional[Str1] = None
    framework: Optional[Str1] = None
    parameter_count: Optional[NonNegInt] = None
    signature: Optional[ModelSignature] = None
    intended_use: Optional[Str1] = None
    limitations: Optional[Str1] = None


class Model(_Model):
    name: Str1
    id: Optional[Str1] = None
    uri: Optional[Uri] = None
    created_at: Optional[Timestamp] = None
    step: Optional[JsonInt] = None
    flavors: Optional[list[Str1]] = None
    card: Optional[ModelCard] = None
    size: Optional[Size] = None
    digest: Optional[DigestSet] = None
    files: Optional[list[ArtifactFile]] = None
    local_path: Optional[Str1] = None
    params: Optional[ParamMap] = None
    tags: Optional[StringMap] = None
    metrics: Optional[list[ModelMetric]] = None
    registered: Optional[list[RegisteredVersion]] = None
    license: Optional[Str1] = None
    extensions: Optional[Extensions] = None


class Author(_Model):
    name: Str1
    type: Optional[Literal["person", "organization"]] = None
    given_name: Optional[Str1] = None
    family_name: Optional[Str1] = None
    email: Optional[Annotated[StrictStr, StringConstraints(min_length=3)]] = None
    orcid: Optional[Annotated[StrictStr, AfterValidator(_orcid)]] = None
    affiliation: Optional[Str1] = None
    roles: Optional[Annotated[list[Str1], Field(min_length=1)]] = None

    @model_validator(mode="after")
    def _unique_roles(self) -> Author:
        if self.roles is not None and len(set(self.roles)) != len(self.roles):
            raise ValueError("roles must be unique")
        return self


class Citation(_Model):
    _min_fields = 1
    title: Optional[Str1] = None
    version: Optional[Str1] = None
    date_released: Optional[Annotated[StrictStr, AfterValidator(_date)]] = None
    doi: Optional[Str1] = None
    url: Optional[Uri] = None
    text: Optional[Str1] = None
    bibtex: Optional[Str1] = None


class Manifest(_Model):
    """One ML run, as spec 1.0 describes it."""

    schema_uri: Optional[Str1] = Field(default=None, alias="$schema")
    spec_version: Literal["1.0"]
    id: Str1
    name: Str1
    description: Optional[Str] = None
    provenance: Provenance
    run: Run
    data: Optional[list[DataInput]] = None
    code: Optional[Code] = None
    environment: Optional[Environment] = None
    params: Optional[ParamMap] = None
    metrics: Optional[dict[Str1, Metric]] = None
    artifacts: Optional[list[Artifact]] = None
    models: Optional[list[Model]] = None
    tags: Optional[StringMap] = None
    authors: Optional[list[Author]] = None
    license: Optional[Str1] = None
    citation: Optional[Citation] = None
    extensions: Optional[Extensions] = None

    @classmethod
    def from_data(cls, data: Any) -> Manifest:
        """Validate JSON-model data (as :func:`manifest.load` returns) into a model. A document of a
        later minor version becomes the model of what this version knows of it (spec 4.5)."""
        if isinstance(data, dict) and isinstance(data.get("spec_version"), str):
            known = reading_version(data["spec_version"])
            if known is not None and known != data["spec_version"]:
                data, _ = known_part(data, known)
        return cls.model_validate(data)

    @classmethod
    def load(cls, path: str) -> Manifest:
        """Read a YAML or JSON manifest file into a model (schema only; rules are separate)."""
        return cls.from_data(load_path(path).data)

    def dumps(self, format: str = "yaml") -> str:
        return dumps(self.to_dict(), format)

    def save(self, path: str, format: str | None = None) -> None:
        dump(self.to_dict(), path, format)
