"""Users, care teams, roles, sign-in security (lockout, idle timeout, two-factor) and API tokens."""


def enrol_demo_totp(user) -> str:
    """Demo data: give ``user`` a confirmed TOTP device and return its base32 secret
    (see :func:`accounts.two_factor.enrol_demo_totp`; ``manage.py demo_totp USERNAME`` prints the code)."""
    from .two_factor import enrol_demo_totp as enrol

    return enrol(user)
