"""``{% may "capability" as name %}``: whether the signed-in user holds a capability in any of their
teams (the permission matrix, ``accounts.permissions.can``), to show a link only to those it serves."""

from django import template

from accounts.permissions import can

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context, capability: str) -> bool:
    request = context.get("request")
    return request is not None and can(request.user, capability)
