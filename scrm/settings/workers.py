"""Celery: broker, time limits, queues and routes, and the beat schedule of the periodic jobs."""

from celery.schedules import crontab
from kombu import Queue

from scrm.settings.base import DEBUG, REDIS_URL, TIME_ZONE
from scrm.settings.env import env

# Celery: with no broker configured, tasks run inline so `make run` needs no Redis.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Redis redelivers an unacknowledged task after visibility_timeout: longer than the longest task
# (the nightly sync, 3 h) and the longest retry countdown, or a slow task would run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "socket_connect_timeout": 2, "visibility_timeout": 4 * 3600}
# A stuck WeCom call or query must not hold a worker for ever; long jobs set their own limits.
CELERY_TASK_SOFT_TIME_LIMIT = int(env("CELERY_TASK_SOFT_TIME_LIMIT", "300"))
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
CELERY_TIMEZONE = TIME_ZONE
# Queues by job, so a nightly sync or rollup never delays a callback: `fast` (callbacks, tag pushes,
# per-customer refreshes, hand-over sends, urgent pushes; seconds matter) and `slow` (sync, rollups,
# media, nightly sweeps, digests) and `welcome`: WeCom's WelcomeCode lives 20 seconds, so welcomes (and
# live-code user-list pushes) have their own threaded pool that never waits behind anything. A worker
# without -Q consumes all three (dev); production runs one pool each.
CELERY_TASK_DEFAULT_QUEUE = "fast"
CELERY_TASK_QUEUES = (Queue("fast"), Queue("slow"), Queue("welcome"))
CELERY_TASK_ROUTES = {
    "scrm.livecodes.tasks.send_welcome": {"queue": "welcome"},
    "scrm.livecodes.tasks.sync_code": {"queue": "welcome"},
    "scrm.wecom.tasks.wecom_sync": {"queue": "slow"},
    "scrm.analytics.tasks.*": {"queue": "slow"},
    "scrm.materials.tasks.*": {"queue": "slow"},
    "scrm.customers.tasks.refresh_all_figures": {"queue": "slow"},
    "scrm.today.tasks.refresh_all_reminders": {"queue": "slow"},
    "scrm.today.tasks.push_digests": {"queue": "slow"},
    "scrm.handover.tasks.poll_results": {"queue": "slow"},
    "scrm.org.tasks.clear_expired_sessions": {"queue": "slow"},
    # 企业群发 calls WeCom per guide and may upload attachments first.
    "scrm.taskcards.tasks.groupsend*": {"queue": "slow"},
}
# Our logging config (request ids, JSON) stays in force in the worker instead of Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A worker's own Prometheus endpoint (WeCom calls are made there); bind it to an internal address.
CELERY_METRICS_PORT = int(env("CELERY_METRICS_PORT", "0"))
CELERY_METRICS_ADDR = env("CELERY_METRICS_ADDR", "127.0.0.1")
CELERY_BEAT_SCHEDULE = {
    "customers-refresh-figures-nightly": {
        "task": "scrm.customers.tasks.refresh_all_figures",
        "schedule": crontab(hour=3, minute=10),
    },
    # Console performance figures read daily rollups; keep yesterday and today fresh.
    "analytics-rollup-recent": {
        "task": "scrm.analytics.tasks.rollup_recent_days",
        # Every minute in dev (`make run`), so today's figures follow what one just did.
        "schedule": int(env("ANALYTICS_ROLLUP_SECONDS", "60" if DEBUG else "900")),
    },
    # Callbacks and tag pushes whose dispatch was lost (broker down) are picked up here.
    "wecom-sweep-callback-inbox": {"task": "scrm.wecom.tasks.sweep_callback_inbox", "schedule": 60.0},
    "wecom-sweep-tag-outbox": {"task": "scrm.wecom.tasks.sweep_tag_outbox", "schedule": 60.0},
    "wecom-sync-nightly": {"task": "scrm.wecom.tasks.wecom_sync", "schedule": crontab(hour=2, minute=30)},
    # Customer hand-over: transfer_result for waiting items (the transfer_fail callback is faster).
    "handover-poll-results": {
        "task": "scrm.handover.tasks.poll_results",
        # Every minute in dev, so a demo hand-over shows 已接替 soon after the simulator settles it.
        "schedule": int(env("HANDOVER_POLL_SECONDS", "60" if DEBUG else "600")),
    },
    # WeCom media_ids last 3 days: re-upload the cached ones after 2.5 days so sends never wait.
    "materials-refresh-media": {"task": "scrm.materials.tasks.refresh_expiring_media", "schedule": 1800.0},
    "materials-settle-sends": {"task": "scrm.materials.tasks.settle_material_sends", "schedule": 60.0},
    "wecom-pull-chat-archive": {"task": "scrm.wecom.tasks.pull_chat_archive", "schedule": 60.0},
    # Expired sessions would otherwise pile up in the database for ever.
    "org-clear-expired-sessions": {
        "task": "scrm.org.tasks.clear_expired_sessions",
        "schedule": crontab(hour=4, minute=20),
    },
    # 今日: the nightly pass after the figures; the digest (sent once a guide a day, at the admin's hour)
    # and urgent pushes (carts waiting, deferred by quiet hours) are checked every few minutes.
    "today-refresh-nightly": {"task": "scrm.today.tasks.refresh_all_reminders", "schedule": crontab(hour=3, minute=40)},
    "today-push-digests": {"task": "scrm.today.tasks.push_digests", "schedule": 600.0},
    "today-push-urgent": {"task": "scrm.today.tasks.push_urgent", "schedule": 300.0},
    # 渠道活码: working hours start and end, caps reset at midnight; pushes a code's list only when it changes.
    "livecodes-sync-due": {"task": "scrm.livecodes.tasks.sync_due", "schedule": 60.0},
    # Welcomes left 发送中 by a worker killed mid-send: marked failed (WeCom may have delivered them).
    "livecodes-settle-stale-welcomes": {"task": "scrm.livecodes.tasks.settle_stale_welcomes", "schedule": 60.0},
    # Saved segments: each one's size once a day, after the nightly figures, for its trend.
    "segments-snapshot-nightly": {
        "task": "scrm.segments.tasks.snapshot_segment_counts",
        "schedule": crontab(hour=4, minute=40),
    },
    # Batch tagging of segments whose worker died or whose dispatch was lost.
    "segments-resume-tag-batches": {
        "task": "scrm.segments.tasks.resume_tag_batches",
        "schedule": crontab(hour=5, minute=0),
    },
    # 任务卡: guides with items still to send get an app message before the deadline.
    "taskcards-remind-lagging": {"task": "scrm.taskcards.tasks.remind_lagging", "schedule": 900.0},
    # 企业群发: submit the ones whose start time came (and retry refused ones), then pull who sent them.
    "taskcards-groupsends-submit-due": {"task": "scrm.taskcards.tasks.groupsends_submit_due", "schedule": 60.0},
    "taskcards-groupsends-pull": {
        "task": "scrm.taskcards.tasks.groupsends_pull",
        "schedule": int(env("GROUPSEND_PULL_SECONDS", "60" if DEBUG else "900")),
    },
}
