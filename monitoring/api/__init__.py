"""REST API of the monitoring app: patients, infusions, observations and grades.

Every query is scoped through ``Patient.objects.visible_to(user)`` (or the infusion/observation
equivalents): another team's record answers 404.  Capabilities come from
``accounts.permissions`` (403 when the role lacks one).  Clinical writes go through
``monitoring.services``; the API only translates HTTP to service calls and errors to status codes:
400 for invalid input (``{"field": ["message naming the allowed range"]}``), 404 for records the
user cannot see, 403 for a missing capability, 409 for a conflict (same idempotency key with a
different body, or a correction that lost the race).  Nothing here answers 500 on bad input.

- :mod:`.patients`: ``PatientViewSet``, ``InfusionViewSet``
- :mod:`.observations`: ``ObservationViewSet``
- :mod:`.grades`: ``GradeEvaluationViewSet``
- :mod:`.access`: ``ApiViewSetMixin`` (capabilities, token scopes and team) shared by every app's API
- :mod:`.errors`: the error mapping and the documented error responses
- :mod:`.inputs`: checks on ids, query parameters and payload values
"""
