import pytest
from django.urls import reverse
@pytest.mark.django_db
def test_dump(client, nurse):
    client.force_login(nurse)
    html = client.get(reverse("api-docs")).content.decode()
    open("/tmp/apidev/docs.html", "w").write(html)
