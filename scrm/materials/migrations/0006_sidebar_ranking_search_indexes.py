"""Indexes for the sidebar's material tab, kept out of the model state on purpose.

- material_status_popular: sendable materials in popularity order (status, send_count DESC, id DESC). On
  PostgreSQL it also carries the validity window and the audience stages, so scoring the customer's
  tag matches reads this small index instead of the wide table.
- material_*_trgm (PostgreSQL only): pg_trgm GIN indexes for the tab's `LIKE/ILIKE '%word%'` search. They
  also give the planner statistics to see that a common word is found by walking the newest-first index.

They are raw SQL (no-ops where they do not apply), so the model state and SQLite stay unchanged.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

POPULAR = "material_status_popular"
TRIGRAM = {"material_title_trgm": "title", "material_content_trgm": "content", "material_keywords_trgm": "keywords"}


def create(apps, schema_editor):
    table = "materials_material"
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {POPULAR} ON {table} (status, send_count DESC, id DESC) "
            "INCLUDE (valid_from, valid_until, audience_stages)"
        )
        for name, column in TRIGRAM.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)")
    else:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {POPULAR} ON {table} (status, send_count DESC, id DESC)")


def drop(apps, schema_editor):
    names = [POPULAR, *TRIGRAM] if schema_editor.connection.vendor == "postgresql" else [POPULAR]
    for name in names:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("materials", "0005_material_status_newest_index"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create, drop),
    ]
