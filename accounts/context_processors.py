"""Template context about the signed-in person's sign-in state."""

from __future__ import annotations

from .two_factor import requires_two_factor


def sign_in(request) -> dict[str, object]:
    """``signed_in_fully``: signed in, and past the two-factor step where the role needs one.

    Pages poll in the background only then: on the two-factor page a poll would be refused and sent
    back to that page, reloading it for ever. A callable, so the role lookup runs only if a template
    asks for it."""

    def signed_in_fully() -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        return user.is_verified() or not requires_two_factor(user)

    return {"signed_in_fully": signed_in_fully}
