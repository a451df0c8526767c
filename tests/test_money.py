from decimal import Decimal

import pytest
from django.template import Context, Template

from scrm.money import yuan


@pytest.mark.parametrize(("value", "shown"), [(Decimal("12846.5"), "¥12,846.50"), (0, "¥0.00"), (None, "—")])
def test_money_reads_the_same_everywhere(value, shown):
    assert yuan(value) == shown
    assert Template("{% load money %}{{ v|yuan }}").render(Context({"v": value})) == shown
