"""Users, care teams, roles, sign-in security (lockout, idle timeout, two-factor) and API tokens."""
