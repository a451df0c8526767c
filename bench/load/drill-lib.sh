# Shared by the fault drills (bench/load/drill-*): the production process layout on a private database and
# a private Redis, so a drill harms nobody else on the machine. Source it after setting:
#   DRILL (name), PORT (web), REDIS_PORT; optional DATABASE_URL (default: database $DRILL on 127.0.0.1:5432).
# It exports the production environment (DEBUG off), and defines drill_up, which migrates and starts
# gunicorn (2 sync workers), a simulated WeCom in a gunicorn of its own on PORT+1 (so a slow WeCom never
# holds the product's workers, as the real one would not), a Celery worker on every queue supervised as
# systemd does (Restart=always, RestartSec=5; its pid in $work/worker.pid) and beat. Logs: $LOGS.
work=$(mktemp -d)
pids=()
LOGS=${DRILL_LOGS:-/tmp/$DRILL-logs}
SIM_PORT=$((PORT + 1))
: "${DATABASE_URL:=postgres://postgres@127.0.0.1:5432/$DRILL}"
drill_cleanup() {
  rm -rf "$LOGS" && mkdir -p "$LOGS" && cp "$work"/*.log "$LOGS"/ 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$(type -t drill_extra_cleanup)" = function ]; then drill_extra_cleanup; fi
  rm -rf "$work"
}
trap drill_cleanup EXIT

export DEBUG=false SECRET_KEY="drill-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export WECOM_SIMULATOR=true WECOM_SIMULATOR_UNSAFE_IN_PRODUCTION=yes-i-know
export ALLOWED_HOSTS=127.0.0.1 SITE_URL="http://127.0.0.1:$PORT" SECURE_COOKIES=false
export WECOM_API_BASE="http://127.0.0.1:$SIM_PORT/_wecom/cgi-bin/"
export WECOM_OAUTH_URL="http://127.0.0.1:$PORT/_wecom/connect/oauth2/authorize"
export WECOM_SIM_FAULTS_FILE="$work/wecom-faults.json"
export WECOM_CALLBACK_TOKEN=drillToken WECOM_CALLBACK_AES_KEY=drillAesKey0123456789abcdefghijklmnopqrstuv
export DATABASE_URL REDIS_PORT
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" CACHE_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/1"
export VAR_DIR="$work/var" STATIC_ROOT="$work/static" LOG_FORMAT=text DRILL_WORK="$work"

drill_up() {
  redis-server --port "$REDIS_PORT" --save "" --appendonly no --daemonize yes --logfile "$work/redis.log"
  .venv/bin/python manage.py migrate --noinput -v 0
  .venv/bin/python manage.py collectstatic --noinput -v 0
  api_key=$(.venv/bin/python manage.py api_key_create drill --scope write 2>/dev/null)

  GUNICORN_BIND="127.0.0.1:$PORT" GUNICORN_WORKERS=2 .venv/bin/gunicorn -c deploy/gunicorn.conf.py scrm.wsgi \
    >"$work/web.log" 2>&1 &
  pids+=($!)
  GUNICORN_BIND="127.0.0.1:$SIM_PORT" GUNICORN_WORKERS=1 GUNICORN_THREADS=16 GUNICORN_TIMEOUT=120 \
    .venv/bin/gunicorn -c deploy/gunicorn.conf.py scrm.wsgi >"$work/wecom.log" 2>&1 &
  pids+=($!)
  (
    trap 'kill "$child" 2>/dev/null; exit 0' TERM
    while true; do
      .venv/bin/celery -A scrm worker -Q fast,slow,welcome -n "drill@%h" --concurrency 2 -l info &
      child=$!
      echo "$child" >"$work/worker.pid"
      wait "$child" || true
      echo "worker exited; restarting in 5 s (Restart=always)"
      sleep 5
    done
  ) >"$work/worker.log" 2>&1 &
  pids+=($!)
  .venv/bin/celery -A scrm beat -l info -s "$work/celerybeat-schedule" >"$work/beat.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && curl -fs "http://127.0.0.1:$SIM_PORT/healthz" >/dev/null \
      && break
    sleep 0.2
  done
}
