from django.contrib.auth import views as auth_views
from django.urls import path

from . import staff_views, views
from .forms import SignInForm

app_name = "accounts"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="accounts/login.html", authentication_form=SignInForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("two-factor/", views.two_factor_view, name="two_factor"),
    path("locked/", views.locked_out, name="locked_out"),
    path("team/", staff_views.team_accounts, name="team_accounts"),
    path("team/<int:user_id>/unlock/", staff_views.account_unlock, name="account_unlock"),
    path("team/<int:user_id>/two-factor/reset/", staff_views.two_factor_reset, name="two_factor_reset"),
    path("team/tokens/", staff_views.token_issue, name="token_issue"),
    path("team/tokens/<int:token_id>/revoke/", staff_views.token_revoke, name="token_revoke"),
]
