from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0005_policies"),
    ]

    operations = [
        migrations.AddField(
            model_name="resource",
            name="pickup_instructions",
            field=models.TextField(
                blank=True, help_text="Shown to the user only when they check in.", verbose_name="pickup instructions"
            ),
        ),
        migrations.AddField(
            model_name="resource",
            name="access_code",
            field=models.CharField(
                blank=True,
                help_text="E.g. a locker code; shown only at check-in.",
                max_length=64,
                verbose_name="access code",
            ),
        ),
        migrations.AddField(
            model_name="resource",
            name="out_of_service_since",
            field=models.DateTimeField(blank=True, null=True, verbose_name="out of service since"),
        ),
    ]
