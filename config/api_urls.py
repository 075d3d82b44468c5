"""REST API routes (DRF) and the OpenAPI schema with its docs page.

The docs page is rendered on the server from the same OpenAPI schema drf-spectacular serves at
``/api/schema/``: no Swagger UI bundle, no CDN, no script (the site's Content-Security-Policy allows
neither inline scripts nor third-party hosts).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template import engines
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views import View
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from alerts.api import AlertViewSet
from followup.api import FollowupResultViewSet
from monitoring.api.grades import GradeEvaluationViewSet
from monitoring.api.observations import ObservationViewSet
from monitoring.api.patients import InfusionViewSet, PatientViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("patients", PatientViewSet, basename="api-patient")
router.register("infusions", InfusionViewSet, basename="api-infusion")
router.register("observations", ObservationViewSet, basename="api-observation")
router.register("grades", GradeEvaluationViewSet, basename="api-grade")
router.register("alerts", AlertViewSet, basename="api-alert")
router.register("followup-results", FollowupResultViewSet, basename="api-followup-result")

DOCS_TEMPLATE = """{% extends "base.html" %}
{% block title %}API documentation — CAR-T Track{% endblock %}
{% block content %}
<h1>{{ schema.info.title }} <small>{{ schema.info.version }}</small></h1>
<p>{{ schema.info.description }}</p>
<p>Machine-readable schema: <a href="{{ schema_url }}">OpenAPI 3 (YAML)</a>,
<a href="{{ schema_url }}?format=json">JSON</a>. Authenticate with a session or an API token
(<code>Authorization: Bearer ctk_…</code>: personal or integration, with scopes, limited to one care
team, expiring within a year; a physician's, coordinator's or administrator's token needs two-factor
sign-in set up).
Errors: 400 <code>{"field": ["message"]}</code>,
403 role lacks the capability, 404 not found or another team's patient, 409 conflict.</p>
<nav aria-label="Operations"><ul>
{% for op in operations %}<li><a href="#{{ op.id }}"><code>{{ op.method }} {{ op.path }}</code></a>
 — {{ op.summary }}</li>
{% endfor %}</ul></nav>
{% for op in operations %}
<section id="{{ op.id }}" class="api-operation">
  <h2><code>{{ op.method }} {{ op.path }}</code></h2>
  <p>{{ op.summary }}</p>{% if op.description %}<p>{{ op.description }}</p>{% endif %}
  {% if op.parameters %}<h3>Parameters</h3><table><thead><tr><th scope="col">Name</th><th scope="col">In</th>
  <th scope="col">Type</th><th scope="col">Required</th><th scope="col">Description</th></tr></thead><tbody>
  {% for p in op.parameters %}<tr><td><code>{{ p.name }}</code></td><td>{{ p.in }}</td><td>{{ p.type }}</td>
  <td>{{ p.required|yesno:"yes,no" }}</td><td>{{ p.description }}</td></tr>{% endfor %}</tbody></table>
  {% endif %}
  {% if op.request %}<h3>Request body</h3>
  <p><a href="#schema-{{ op.request }}"><code>{{ op.request }}</code></a></p>{% endif %}
  <h3>Responses</h3><ul>{% for r in op.responses %}<li><strong>{{ r.code }}</strong> {{ r.description }}
  {% if r.schema %}<a href="#schema-{{ r.schema }}"><code>{{ r.schema }}</code></a>{% endif %}</li>
  {% endfor %}</ul>
</section>
{% endfor %}
<h2>Schemas</h2>
{% for s in schemas %}
<section id="schema-{{ s.name }}" class="api-schema"><h3><code>{{ s.name }}</code></h3>
{% if s.description %}<p>{{ s.description }}</p>{% endif %}
<table><thead><tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">Required</th>
<th scope="col">Notes</th></tr></thead><tbody>
{% for f in s.fields %}<tr><td><code>{{ f.name }}</code></td><td>{{ f.type }}</td>
<td>{{ f.required|yesno:"yes,no" }}</td>
<td>{{ f.notes }}</td></tr>{% endfor %}</tbody></table></section>
{% endfor %}
{% endblock %}
"""


def _ref_name(node: dict | None) -> str:
    if not node:
        return ""
    if "$ref" in node:
        return node["$ref"].rsplit("/", 1)[-1]
    if node.get("type") == "array" and "$ref" in node.get("items", {}):
        return node["items"]["$ref"].rsplit("/", 1)[-1]
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in node.get(key, []):
            name = _ref_name(sub)
            if name:
                return name
    return ""


def _type_text(node: dict) -> str:
    ref = _ref_name(node)
    if ref and node.get("type") == "array":
        return f"array of {ref}"
    if ref:
        return ref
    text = node.get("type", "any")
    if node.get("format"):
        text += f" ({node['format']})"
    if node.get("type") == "array":
        text = f"array of {_type_text(node.get('items', {}))}"
    return text


def _field_notes(node: dict) -> str:
    notes = []
    if node.get("readOnly"):
        notes.append("read-only")
    if node.get("nullable"):
        notes.append("may be null")
    if "enum" in node:
        notes.append("one of " + ", ".join(str(v) for v in node["enum"] if v not in ("", None)))
    for key, label in (("minimum", "min"), ("maximum", "max"), ("maxLength", "max length")):
        if key in node:
            notes.append(f"{label} {node[key]}")
    if node.get("description"):
        notes.append(node["description"])
    return "; ".join(notes)


def docs_context(schema: dict) -> dict:
    operations = []
    for route, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            if method.startswith("x-") or not isinstance(op, dict):
                continue
            body = (op.get("requestBody") or {}).get("content", {})
            request_ref = _ref_name(next(iter(body.values()), {}).get("schema")) if body else ""
            operations.append(
                {
                    "id": op.get("operationId", f"{method}-{route}"),
                    "method": method.upper(),
                    "path": route,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": [
                        {
                            "name": p.get("name"),
                            "in": p.get("in"),
                            "type": _type_text(p.get("schema", {})),
                            "required": p.get("required", False),
                            "description": p.get("description", ""),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "request": request_ref,
                    "responses": [
                        {
                            "code": code,
                            "description": resp.get("description", ""),
                            "schema": _ref_name(
                                next(iter(resp.get("content", {}).values()), {}).get("schema")
                            ),
                        }
                        for code, resp in op.get("responses", {}).items()
                    ],
                }
            )
    schemas = []
    for name, node in schema.get("components", {}).get("schemas", {}).items():
        required = set(node.get("required", []))
        schemas.append(
            {
                "name": name,
                "description": node.get("description", ""),
                "fields": [
                    {
                        "name": f,
                        "type": _type_text(sub),
                        "required": f in required,
                        "notes": _field_notes(sub),
                    }
                    for f, sub in node.get("properties", {}).items()
                ],
            }
        )
    return {"schema": schema, "operations": operations, "schemas": schemas}


@method_decorator(login_required, name="dispatch")
class ApiDocsView(View):
    """The API reference as a plain server-rendered page built from the OpenAPI schema."""

    def get(self, request):
        schema = SchemaGenerator().get_schema(request=None, public=True)
        template = engines["django"].from_string(DOCS_TEMPLATE)
        context = {**docs_context(schema), "schema_url": reverse("api-schema")}
        return HttpResponse(template.render(context, request))


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", ApiDocsView.as_view(), name="api-docs"),
    *router.urls,
]
