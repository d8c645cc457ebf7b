"""What the generic tests need to know about each resource of the registry, and helpers
shared by the Isabl and API tests.

A resource added to the registry without a `CASES` entry fails `test_every_resource_has_a_case`,
so it cannot go untested.
"""

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from labapi.api.factory import ResourceSpec
from labapi.isabl.models import IsablModel
from labapi.isabl.specs import REGISTRY

PREFIX = "/api/v1"
PROBLEM_JSON = "application/problem+json"
NOT_FOUND = "Object not found try a different ID"
# ISO 8601 in UTC with a `Z`, microseconds when there are any.
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")

# Fields every Isabl object's representation carries (SPEC §5).
BASE_FIELDS = frozenset(
    {
        "pk",
        "uuid",
        "model_name",
        "created",
        "modified",
        "created_by",
        "tags",
        "notes",
        "custom_fields",
        "data",
        "storage_url",
        "storage_usage",
    }
)

BASE_FILTERS = (
    "search",
    "created",
    "created_by",
    "custom_fields",
    "data",
    "id",
    "modified",
    "notes",
    "pk",
    "storage_url",
    "storage_usage",
    "tags",
    "uuid",
    "uupk",
)
# The filter parameters each resource's list takes in the reference (isabl-api-v1.txt),
# besides count_limit, ordering, limit and offset.
REFERENCE_FILTERS: dict[str, tuple[str, ...]] = {
    "assemblies": (*BASE_FILTERS, "name", "reference_data", "species"),
    "centers": (*BASE_FILTERS, "acronym", "name", "slug"),
    "diseases": (*BASE_FILTERS, "acronym", "name", "slug"),
    "groups": (*BASE_FILTERS, "acronym", "name", "slug"),
    "platforms": (*BASE_FILTERS, "manufacturer", "slug", "system", "version"),
    "tags": ("search", "id", "name", "pk", "slug"),
    "techniques": (*BASE_FILTERS, "category", "method", "name", "reference_data", "slug"),
    # Relation filters whose factory objects have no related object (disease, group,
    # projects, aliquot), `category` of samples (one value in the factory), `raw_data`
    # (a list) and the filters of resources not built yet (submission, analyses,
    # results, has_bam_for) are tested in test_hierarchy.py or not at all.
    "individuals": (
        *BASE_FILTERS,
        "birth_year",
        "center",
        "gender",
        "identifier",
        "species",
        "system_id",
    ),
    "samples": (*BASE_FILTERS, "collection_days", "identifier", "individual", "system_id"),
    "aliquots": (*BASE_FILTERS, "identifier", "sample", "system_id"),
    "experiments": (
        *BASE_FILTERS,
        "bam_files",
        "identifier",
        "sample",
        "system_id",
        "technique",
    ),
    # Application fields (`name`, `version`, `description`), levels, experiments and
    # datetimes of analyses are tested in test_analyses.py.
    "analyses": (
        *BASE_FILTERS,
        "application",
        "previous_status",
        "ran_by",
        "results",
        "run_time",
        "status",
        "wait_time",
    ),
    "applications": (
        *BASE_FILTERS,
        "application_class",
        "description",
        "name",
        "results",
        "settings",
        "url",
        "version",
    ),
    "clients": ("search",),
    "custom_fields": (
        "search",
        "configuration",
        "created",
        "created_by",
        "field_name",
        "id",
        "model",
        "modified",
        "pk",
        "verbose_name",
    ),
    "signals": (*BASE_FILTERS, "import_string", "slug", "target_endpoint", "target_id"),
    "projects": (
        *BASE_FILTERS,
        "analyst",
        "coordinator",
        "description",
        "owner",
        "principal_investigator",
        "short_title",
        "title",
    ),
    "submissions": (*BASE_FILTERS, "description"),
}

MSK = {"name": "Memorial Sloan Kettering", "acronym": "MSK"}
PATIENT = {"identifier": "PATIENT-1", "species": "HUMAN", "center": MSK}
TUMOR = {"identifier": "TUMOR-1", "category": "TUMOR", "individual": PATIENT}
WGS = {"method": "WG", "name": "Whole Genome"}


@dataclass(frozen=True)
class Case:
    """Test data of one resource."""

    # A valid create body (a new object) and a second, different one.
    body: dict[str, Any]
    other: dict[str, Any]
    # The resource's own representation fields (besides BASE_FIELDS).
    fields: frozenset[str]
    # Fields a detail path may name the object by.
    identifiers: tuple[str, ...]
    # Create-only fields, each with a valid value different from `body`'s.
    create_only: dict[str, Any] = field(default_factory=dict)
    # Fields a PUT body must carry (besides the base ones), with new values.
    put: dict[str, Any] = field(default_factory=dict)


CASES: dict[str, Case] = {
    "assemblies": Case(
        body={"name": "GRCh37", "species": "HUMAN"},
        other={"name": "GRCm38", "species": "MOUSE"},
        fields=frozenset({"name", "species", "reference_data"}),
        identifiers=("name",),
        create_only={"name": "GRCh38", "species": "MOUSE"},
    ),
    "centers": Case(
        body={"name": "Memorial Sloan Kettering", "acronym": "MSK"},
        other={"name": "Dana Farber", "acronym": "DFCI"},
        fields=frozenset({"name", "acronym", "slug"}),
        identifiers=("name", "slug"),
        create_only={"name": "Mount Sinai", "acronym": "MS"},
    ),
    "diseases": Case(
        body={"name": "Acute Myeloid Leukemia", "acronym": "AML"},
        other={"name": "Myelodysplastic Syndrome", "acronym": "MDS"},
        fields=frozenset({"name", "acronym", "slug"}),
        identifiers=("name", "slug"),
        put={"name": "Chronic Myeloid Leukemia", "acronym": "CML"},
    ),
    "groups": Case(
        body={"name": "Pediatrics", "acronym": "PEDS"},
        other={"name": "Hematology", "acronym": "HEME"},
        fields=frozenset({"name", "acronym", "slug"}),
        identifiers=("name", "slug"),
        create_only={"name": "Oncology", "acronym": "ONC"},
    ),
    "platforms": Case(
        body={"manufacturer": "ILLUMINA", "system": "HISEQ", "version": "2500"},
        other={"manufacturer": "PACBIO", "system": "SEQUEL", "version": "II"},
        fields=frozenset({"manufacturer", "system", "version", "slug"}),
        identifiers=("slug",),
        create_only={"manufacturer": "ONT", "system": "MINION", "version": "R9"},
    ),
    "individuals": Case(
        body=PATIENT,
        other={"identifier": "MOUSE-1", "species": "MOUSE", "center": MSK},
        fields=frozenset(
            {"identifier", "system_id", "species", "gender", "birth_year", "center", "submission"}
        ),
        identifiers=("identifier", "system_id"),
        create_only={"species": "MOUSE", "identifier": "PATIENT-2"},
    ),
    "samples": Case(
        body=TUMOR,
        other={"identifier": "NORMAL-1", "category": "NORMAL", "individual": PATIENT},
        fields=frozenset(
            {
                "identifier",
                "system_id",
                "category",
                "collection_days",
                "individual",
                "disease",
                "submission",
            }
        ),
        identifiers=("identifier", "system_id"),
        create_only={"category": "NORMAL"},
    ),
    "aliquots": Case(
        body={"identifier": "ALIQUOT-1", "sample": TUMOR},
        other={"identifier": "ALIQUOT-2", "sample": TUMOR},
        fields=frozenset({"identifier", "system_id", "sample"}),
        identifiers=("identifier", "system_id"),
    ),
    "experiments": Case(
        body={"identifier": "RUN-1", "sample": TUMOR, "technique": WGS},
        other={
            "identifier": "RUN-2",
            "sample": TUMOR,
            "technique": {"method": "TR", "name": "Transcriptome"},
        },
        fields=frozenset(
            {
                "identifier",
                "system_id",
                "sample",
                "aliquot",
                "aliquot_id",
                "technique",
                "platform",
                "center",
                "projects",
                "raw_data",
                "bam_files",
                "submission",
                "results",
            }
        ),
        identifiers=("identifier", "system_id"),
    ),
    "applications": Case(
        body={"name": "BWA", "version": "0.7.17"},
        other={
            "name": "GATK",
            "version": "4.1",
            "assembly": {"name": "GRCh37", "species": "HUMAN"},
        },
        fields=frozenset(
            {
                "name",
                "version",
                "assembly",
                "application_class",
                "description",
                "url",
                "results",
                "settings",
            }
        ),
        identifiers=("name",),
        create_only={"name": "Bowtie", "version": "2.0"},
    ),
    "analyses": Case(
        body={"application": {"name": "BWA", "version": "0.7.17"}},
        other={"application": {"name": "GATK", "version": "4.1"}, "status": "STAGED"},
        fields=frozenset(
            {
                "application",
                "status",
                "previous_status",
                "submitted",
                "started",
                "finished",
                "wait_time",
                "run_time",
                "ran_by",
                "results",
                "targets",
                "references",
                "analyses",
                "project_level_analysis",
                "individual_level_analysis",
            }
        ),
        identifiers=("pk",),
    ),
    "signals": Case(
        body={
            "import_string": "isabl_cli.signals.resume_analysis_signal",
            "target_endpoint": "analyses",
            "target_id": 1,
        },
        other={
            "import_string": "isabl_cli.signals.force_analysis_signal",
            "target_endpoint": "experiments",
            "target_id": 2,
        },
        fields=frozenset({"import_string", "target_endpoint", "target_id", "slug"}),
        identifiers=("slug",),
        create_only={"target_endpoint": "experiments", "target_id": 7},
        put={"import_string": "isabl_cli.signals.other_signal"},
    ),
    "clients": Case(
        body={"slug": "test-cli-client"},
        other={"slug": "other-client", "settings": {"EXTRA": [1]}},
        fields=frozenset({"slug", "settings"}),
        identifiers=("slug",),
        create_only={"slug": "renamed-client"},
    ),
    "custom_fields": Case(
        body={
            "model": "isabl_api.Individual",
            "field_name": "is_pdx",
            "configuration": {"type": "boolean"},
        },
        other={
            "model": "isabl_api.Sample",
            "field_name": "source",
            "configuration": {"type": "string"},
        },
        fields=frozenset({"model", "field_name", "verbose_name", "configuration"}),
        identifiers=("pk",),
        create_only={"model": "isabl_api.Sample", "field_name": "other_name"},
        put={"configuration": {"type": "string"}},
    ),
    "projects": Case(
        body={"title": "Leukemia relapse", "short_title": "leukemia-relapse"},
        other={"title": "Lymphoma", "principal_investigator": "pi@example.org"},
        fields=frozenset(
            {
                "title",
                "short_title",
                "description",
                "principal_investigator",
                "owner",
                "analyst",
                "coordinator",
                "sharing",
                "group",
            }
        ),
        identifiers=("pk",),
    ),
    "tags": Case(
        body={"name": "tumor normal"},
        other={"name": "relapse"},
        fields=frozenset({"pk", "name", "slug"}),
        identifiers=("name", "slug"),
        put={"name": "germline"},
    ),
    "techniques": Case(
        body={"method": "WG", "name": "Whole Genome"},
        other={"method": "TR", "name": "Transcriptome"},
        fields=frozenset({"method", "name", "slug", "category", "reference_data"}),
        identifiers=("name", "slug"),
        create_only={"method": "WE", "name": "Exome"},
    ),
    "submissions": Case(
        body={"description": "First batch"},
        other={"description": "Second batch"},
        fields=frozenset(
            {"description", "submission_form", "submission_form_name", "processed", "projects"}
        ),
        identifiers=("pk",),
    ),
}

SPECS = {spec.name: spec for spec in REGISTRY}
# Resources with the Isabl base fields (notes, tags, custom_fields, …): all but tags.
ISABL_SPECS = tuple(spec for spec in REGISTRY if issubclass(spec.model, IsablModel))
CREATE_ONLY_SPECS = tuple(spec for spec in REGISTRY if CASES[spec.name].create_only)


def spec_id(spec: ResourceSpec) -> str:
    """Test id of a resource."""
    return spec.name


def expected_fields(spec: ResourceSpec) -> set[str]:
    """Every key of the resource's representation."""
    case = CASES[spec.name]
    return (
        set(case.fields | BASE_FIELDS) if issubclass(spec.model, IsablModel) else set(case.fields)
    )


def list_url(spec: ResourceSpec, slash: str = "") -> str:
    """The list path of a resource."""
    return f"{PREFIX}/{spec.name}{slash}"


def detail_url(spec: ResourceSpec, ident: object, slash: str = "") -> str:
    """The detail path of an object."""
    return f"{PREFIX}/{spec.name}/{ident}{slash}"


def assert_problem(
    response: httpx.Response, status: int, *, locs: list[list[Any]] | None = None
) -> dict[str, Any]:
    """Check an RFC 9457 problem response; `locs` are the expected `errors[].loc`, in order.

    Returns:
        The problem body.
    """
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    assert all(isinstance(body[key], str) and body[key] for key in ("type", "title", "code"))
    if locs is not None:
        assert [error["loc"] for error in body["errors"]] == locs, body
        for error in body["errors"]:
            assert set(error) == {"loc", "msg", "type"}
            assert error["msg"]
            assert error["type"]
    return body


def matches(rendered: Any, sent: Any) -> bool:
    """Whether a representation shows what a body sent: nested objects are rendered in
    full, so a sent object only needs its own keys to match."""
    if isinstance(sent, dict):
        return isinstance(rendered, dict) and all(
            key in rendered and matches(rendered[key], value) for key, value in sent.items()
        )
    return bool(rendered == sent)


def pks(response: httpx.Response) -> list[int]:
    """The pks of a list response's results, in order."""
    assert response.status_code == 200, response.text
    return [item["pk"] for item in response.json()["results"]]
