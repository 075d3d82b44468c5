# Each grade records the site decision policy in force when it was graded (issue 13: every grade names
# the rule set and the site policy). Rows stored before this get policy_recorded=False: their policy is
# shown as "not recorded", never guessed from the dates.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('monitoring', '0005_developmental_delay_help_text_cites_the_rule_book'),
    ]

    operations = [
        migrations.AddField(
            model_name='gradeevaluation',
            name='decision_policy',
            field=models.ForeignKey(blank=True, help_text="The site decision policy in force when graded (empty: none, the core's defaults)", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='evaluations', to='monitoring.decisionpolicy'),
        ),
        migrations.AddField(
            model_name='gradeevaluation',
            name='policy_recorded',
            field=models.BooleanField(default=False, help_text="Whether grading recorded the policy in force; grades stored before it was recorded say 'not recorded' rather than guess"),
        ),
    ]
