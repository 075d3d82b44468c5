from monitoring.models import Patient


def test_patients_of_another_team_are_invisible(nurse, patient, other_patient):
    visible = set(Patient.objects.visible_to(nurse))
    assert patient in visible
    assert other_patient not in visible
