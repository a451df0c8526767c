from django.db import migrations, models


def items_of_resigned_batches(apps, schema_editor):
    # Items already sent went through the API of their batch's kind; their results are asked of it.
    HandoverItem = apps.get_model("handover", "HandoverItem")
    HandoverItem.objects.filter(batch__kind="resigned").update(resigned=True)


class Migration(migrations.Migration):
    dependencies = [
        ("handover", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="handoveritem",
            name="resigned",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(items_of_resigned_batches, migrations.RunPython.noop),
    ]
