"""What the customers app announces to the apps built on it (今日 listens), so it never imports them.

- `event_recorded`: a new timeline event was stored (`event=`), inside the writing transaction.
- `customer_tag_changed`: a person added or removed a tag here (`customer=, staff=, tag=, added=`);
  wecom's tag outbox pushes it to WeCom.
- `facts_changed`: other facts about these customers changed (`customer_ids=`): figures, a merge, a birthday.
Receivers must be cheap and safe inside any transaction (defer real work to on_commit).
"""

from django.dispatch import Signal

event_recorded = Signal()
facts_changed = Signal()
customer_tag_changed = Signal()
