"""The closed set of problem codes: each with its severity, what it means, and its spec section.

Every :class:`~manifest.core.problems.Problem` is made with one of these codes (an unknown code is
a bug, refused when the problem is built), so a code means the same thing wherever it appears and a
reader can look it up. The spec lists the same table (section 16.4); a test checks the two against
each other in both directions. New codes are added here, and to the spec, never invented in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class CodeInfo:
    """One registered code: ``section`` is the spec section that defines it (``A`` = Appendix A)."""

    code: str
    severity: Severity
    section: str
    summary: str


#: code -> its registration. Filled by :func:`_register` below, in spec order.
REGISTRY: dict[str, CodeInfo] = {}


def _register(section: str, severity: Severity, *entries: tuple[str, str]) -> None:
    for code, summary in entries:
        if code in REGISTRY:
            raise ValueError(f"problem code {code!r} is registered twice")
        REGISTRY[code] = CodeInfo(code, severity, section, summary)


def info(code: str) -> CodeInfo:
    """The registration of ``code``; :class:`KeyError` for a code nobody registered."""
    try:
        return REGISTRY[code]
    except KeyError:
        raise KeyError(f"problem code {code!r} is not registered in manifest.core.codes") from None


def schema_code(keyword: str) -> str:
    """The code of a failing JSON Schema keyword (``minLength`` -> ``schema-min-length``)."""
    kebab = "".join("-" + c.lower() if c.isupper() else c for c in keyword)
    code = f"schema-{kebab}"
    return code if code in REGISTRY else "schema"


# --------------------------------------------------------------------------- reading (3, 14)

_register(
    "3.1", "error",
    ("empty-document", "the document holds no value"),
    ("not-a-mapping", "the top level (or a sidecar) is not an object"),
    ("number-out-of-range", "a number literal beyond the range of binary64 (it would read as an infinity)"),
    ("integer-out-of-range", "an integer beyond ±(2^53 − 1)"),
)
_register("3.2", "error", ("encoding", "the text is not UTF-8, or holds an unpaired surrogate"))
_register("3.3", "error", ("json-syntax", "not strict JSON (RFC 8259)"), ("duplicate-key", "an object has the same key twice"))
_register(
    "3.4", "error",
    ("yaml-syntax", "not YAML 1.2"),
    ("forbidden-tag", "a YAML tag outside the core schema"),
    ("tag-mismatch", "a core-schema tag on a scalar it does not match (!!int abc)"),
    ("non-string-key", "a mapping key that is not a string"),
)
_register(
    "14", "error",
    ("too-deep", "nesting deeper than the depth limit"),
    ("recursive-alias", "a YAML alias refers to a node that contains it"),
    ("alias-bomb", "YAML aliases expand the document beyond the limit"),
    ("file-too-large", "the input is larger than the size limit"),
)

# --------------------------------------------------------------------------- version (4.5)

_register("4.5", "error", ("missing-version", "spec_version is absent"), ("unknown-version", "spec_version names a version this reader does not know"))
_register("4.5", "warning", ("unknown-member", "a member of a newer minor version that this reader does not know, ignored"))

# --------------------------------------------------------------------------- digests (6)

_register("6.3", "error", ("unhashable-name", "a file name a directory digest cannot hold: a line feed, or not UTF-8"))

# --------------------------------------------------------------------------- schema (16.2)

_register(
    "16.2", "error",
    ("schema", "fails a schema keyword without a more specific code"),
    ("schema-required", "a required member is missing"),
    ("schema-additional-properties", "a member the schema does not define"),
    ("schema-property-names", "a map entry or extension name of the wrong form"),
    ("schema-type", "a value of the wrong JSON type"),
    ("schema-enum", "a value outside the allowed set"),
    ("schema-const", "a value other than the one allowed"),
    ("schema-pattern", "a string of the wrong form"),
    ("schema-format", "a string that is not of its format (date-time, uri, ...)"),
    ("schema-min-length", "a string shorter than allowed"),
    ("schema-max-length", "a string longer than allowed"),
    ("schema-minimum", "a number below the minimum"),
    ("schema-maximum", "a number above the maximum"),
    ("schema-exclusive-minimum", "a number not above the exclusive minimum"),
    ("schema-exclusive-maximum", "a number not below the exclusive maximum"),
    ("schema-min-items", "an array with fewer items than allowed"),
    ("schema-min-properties", "an object with fewer members than allowed"),
    ("schema-any-of", "a value of none of the allowed forms"),
    ("schema-not", "a value of a form that is not allowed"),
    ("schema-exclusive", "two members that must not both be present"),
)

# --------------------------------------------------------------------------- rules (15)

_register("15.1", "error", ("end-before-start", "end_time is earlier than start_time"))
_register("15.1", "warning", ("end-time-missing", "a run that ended has no end_time"), ("end-time-while-running", "a RUNNING run has an end_time"), ("error-without-failure", "a run that did not fail records an error"))
_register(
    "15.1", "warning",
    ("schema-uri-mismatch", "$schema is not the $id of the schema of the stated version"),
    ("id-not-urn-uuid", "the manifest's id is not a URN UUID"),
    ("system-not-lowercase", "the tracking system's name is not lowercase"),
    ("mapped-system-tag", "a system tag whose information a field of the manifest holds"),
    ("unknown-author-role", "an author's role that is not a CRediT role name"),
)
_register(
    "15.2", "error",
    ("dirty-without-diff", "a dirty tree without diff or diff_digest"),
    ("diff-digest-mismatch", "diff.digest and diff_digest differ"),
    ("template-syntax", "a command template argument with an unmatched brace or empty placeholder"),
    ("template-unknown-param", "a command template placeholder that names no parameter"),
)
_register("15.2", "warning", ("diff-when-clean", "a diff is given for a clean tree"), ("commit-missing", "a repository without the commit that ran"))
_register(
    "15.2", "warning",
    ("diff-media-type", "the diff's media type is not text/x-diff"),
    ("template-command-mismatch", "the command template filled with the params is not the command"),
)
_register(
    "15.3", "error",
    ("unsafe-path", "a relative path that is absolute, escapes its directory or is malformed"),
    ("credentials-in-uri", "a URI that carries a credential"),
)
_register(
    "15.3", "warning",
    ("path-not-nfc", "a relative path that is not in Unicode Normalization Form C"),
    ("dot-segment", "a relative path with a . segment"),
    ("secret-like-variable", "a recorded environment variable whose name suggests a secret"),
)
_register("15.4", "error", ("duplicate-name", "two data inputs with the same name"), ("split-unknown-input", "split.of names no other data input"))
_register("15.4", "warning", ("memory-with-uri", "an in-memory data input with a uri"))
_register(
    "15.4", "warning",
    ("unknown-role", "a data input's role outside the spec's list"),
    ("memory-with-content", "an in-memory data input with a size or digest"),
    ("unknown-key-field", "a primary key column that is not a field of the table"),
)
_register(
    "15.5", "error",
    ("history-length-mismatch", "history columns of different lengths"),
    ("history-steps-decreasing", "history steps out of order"),
    ("history-timestamps-decreasing", "timestamps of one step out of order"),
    ("final-value-mismatch", "the final value is not the last point's"),
    ("final-step-mismatch", "the final step is not the last point's"),
    ("final-timestamp-mismatch", "the final timestamp is not the last point's"),
    ("metric-unknown-dataset", "a metric's dataset names no data input"),
    ("interval-reversed", "a metric's interval has its lower bound above its upper bound"),
)
_register("15.5", "warning", ("value-outside-interval", "a metric's value lies outside its interval"))
_register("15.5", "warning", ("long-inline-history", "an inline history of more than 10,000 points"))
_register(
    "15.6", "error",
    ("duplicate-path", "a model lists one file path twice"),
    ("model-size-mismatch", "a model's size is not the sum of its files'"),
    ("model-digest-mismatch", "a model's digest is not the directory digest of its files"),
)
_register("15.6", "warning", ("model-metric-unknown-dataset", "a model metric's dataset names no data input"))
_register("15.8", "error", ("reserved-tag", "a user tag whose name begins with mlflow. or manifest."))
_register("15.8", "warning", ("extension-not-object", "the value of an extensions namespace is not an object"))
_register("15.7", "warning", ("sidecar-not-present", "a history file is not next to the manifest; not checked"))
_register(
    "15.7", "error",
    ("sidecar-size-mismatch", "a history file's size differs from the manifest"),
    ("sidecar-digest-mismatch", "a history file's digest differs from the manifest"),
    ("sidecar-points-mismatch", "a history file holds another number of points"),
)
_register("15.9", "error", ("digest-kind", "a file digest for a directory, or dirHash for a file"))
_register(
    "15.9", "warning",
    ("digest-without-sha256", "the digest set of a file has no sha256"),
    ("weak-digest-only", "a digest set holds only MD5 or SHA-1"),
    ("container-without-digest", "a container image without its digest"),
    ("derived-from-without-digest", "derived_from without the other manifest's digest"),
)

# --------------------------------------------------------------------------- the tool (16.3, 12.5, A)

_register(
    "16.3", "error",
    ("output-exists", "an export would replace a file that exists (without --force)"),
    ("usage", "the command was called wrongly"),
    ("not-found", "a path, run, experiment or model that does not exist"),
    ("is-a-directory", "a directory where a file is needed"),
    ("permission-denied", "a file that may not be read"),
    ("read-error", "a file that could not be read"),
    ("not-a-regular-file", "a FIFO, device, socket or symbolic link where a regular file is needed"),
    ("write-error", "a file that could not be written"),
    ("no-manifests", "a directory that holds no manifest"),
    ("bad-request", "the tracking store rejected the request as malformed"),
    ("tracking-unreachable", "the tracking server or store cannot be reached"),
    ("tracking-timeout", "the tracking server accepted the connection but did not answer in time"),
    ("tracking-auth", "the tracking server refused the credentials"),
    ("tracking-error", "the tracking store failed otherwise"),
    ("no-packages", "environment files need environment.packages"),
    ("bad-package", "a package name or version that is not a plain pin"),
    ("no-python-version", "python_env needs environment.python.version"),
    ("bundle-exists", "the bundle directory exists and is not empty"),
    ("bundle-sums-missing", "a bundle without SHA256SUMS"),
    ("bundle-sums-syntax", "a SHA256SUMS line of the wrong form"),
    ("bundle-file-missing", "a file listed in SHA256SUMS is missing"),
    ("bundle-checksum-mismatch", "a bundle file differs from its checksum"),
    ("bundle-file-unlisted", "a bundle file that SHA256SUMS does not cover"),
    ("bundle-index-missing", "a bundle without a readable index.json"),
    ("bundle-manifest-missing", "a manifest listed in index.json is missing"),
    ("bundle-index-mismatch", "a manifest differs from its digest in index.json"),
    ("signature-missing", "a bundle file that should be signed has no signature envelope"),
    ("signature-invalid", "a signature envelope that does not verify with the public key"),
    ("signature-mismatch", "a signed file differs from the digest its signed statement records"),
    ("key-invalid", "a key file that is not an ed25519 key, or whose passphrase is wrong"),
    ("data-unavailable", "a data input that --with-data cannot copy: missing, remote, or above the size limit"),
    ("code-unavailable", "the recorded code cannot be archived, or read from the bundle"),
    ("code-archive-mismatch", "a bundle's source archive is not the recorded commit with the recorded diff"),
    ("identity-leak", "an anonymised bundle would still name a person, host or path in a file the tool wrote"),
)
_register(
    "12.5", "error",
    ("no-command", "the manifest records no command to re-run"),
    ("no-metrics", "the manifest records no metric to compare"),
    ("no-commit", "the manifest records no commit"),
    ("no-git", "git is missing, or the repository is not a git repository"),
    ("unknown-commit", "the recorded commit is not in the repository"),
    ("clone-failed", "the repository could not be cloned"),
    ("checkout-failed", "the commit could not be checked out"),
    ("diff-does-not-apply", "the recorded diff does not apply to the commit"),
    ("command-failed", "the re-run command could not start, timed out or failed"),
    ("not-confirmed", "the re-run command was shown but not confirmed, so nothing ran"),
)
_register(
    "A", "error",
    ("run-not-found", "the run does not exist in the store"),
    ("run-deleted", "the run is deleted"),
    ("run-running", "the run has not ended"),
    ("experiment-not-found", "the experiment does not exist in the store"),
    ("experiment-deleted", "the experiment is deleted"),
    ("no-runs", "the experiment has no (matching) runs"),
    ("duplicate-import", "the manifest was imported into the store before"),
    ("missing-file", "a file the manifest brings along is missing"),
    ("size-mismatch", "a file the manifest brings along has another size"),
    ("digest-mismatch", "a file the manifest brings along has another digest"),
    ("unlisted-file", "a file in a model's folder that the model's files do not list"),
    ("store-limit", "the target tracking store would refuse or truncate a value of the manifest"),
    ("index-inconsistent", "an export index contradicts itself or the manifests it lists"),
    ("index-mismatch", "a manifest listed in an export index is missing or differs from its SHA-256"),
    ("registry-exists", "a registered model of the import already has versions in the store (without --registry-merge)"),
    ("parent-not-imported", "a run was not imported because its parent run failed to import"),
)
