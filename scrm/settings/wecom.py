"""WeCom: the corp and app credentials, callback keys, API and OAuth endpoints (the simulator's in
dev), the chat archive SDK, the JS-SDK script and domain verification files."""

from scrm.settings.base import DEBUG, SITE_URL, VAR_DIR, WECOM_SIMULATOR
from scrm.settings.env import env

# WeCom. In dev the API base and OAuth page point at the bundled simulator; production sets
# WECOM_API_BASE=https://qyapi.weixin.qq.com/cgi-bin/ and the real OAuth URL.
# The simulator's caps on app messages (message/send) one member receives per minute and per day; WeCom
# documents 30 a minute per member and app, the daily cap depends on the corp's seats: keep both settings.
WECOM_SIM_APP_MSG_PER_MINUTE = int(env("WECOM_SIM_APP_MSG_PER_MINUTE", "30"))
WECOM_SIM_APP_MSG_PER_DAY = int(env("WECOM_SIM_APP_MSG_PER_DAY", "200"))
# 企业群发: how many brand group messages one customer may receive a month. WeCom's default is as many
# as the month has days (0 here); older corps had 4 a month. Both the product and the simulator use it.
GROUPSEND_MONTHLY_LIMIT = int(env("GROUPSEND_MONTHLY_LIMIT", "0"))
# add_msg_template takes up to 10,000 external_userid a call.
GROUPSEND_BATCH_SIZE = int(env("GROUPSEND_BATCH_SIZE", "10000"))
# The simulator completes a waiting customer transfer after this many seconds (WeCom: 24 hours).
WECOM_SIM_TRANSFER_SECONDS = int(env("WECOM_SIM_TRANSFER_SECONDS", "60"))
# Fault drills (bench/load/drill-wecom-faults): a JSON file of faults the simulator re-reads on every call.
WECOM_SIM_FAULTS_FILE = env("WECOM_SIM_FAULTS_FILE")
WECOM_CORP_ID = env("WECOM_CORP_ID", "ww_demo_corp")
WECOM_AGENT_ID = env("WECOM_AGENT_ID", "1000002")
WECOM_SECRET = env("WECOM_SECRET", "demo-app-secret")
WECOM_CONTACT_SECRET = env("WECOM_CONTACT_SECRET", "demo-contact-secret")
# The demo token and key are public (they are in this file): with DEBUG off they default to empty,
# and an unconfigured callback endpoint refuses everything rather than accept forged callbacks.
WECOM_CALLBACK_TOKEN = env("WECOM_CALLBACK_TOKEN", "demoCallbackToken" if DEBUG else "")
# 43 characters, as WeCom issues them.
WECOM_CALLBACK_AES_KEY = env("WECOM_CALLBACK_AES_KEY", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG" if DEBUG else "")
WECOM_API_BASE = env("WECOM_API_BASE", f"{SITE_URL}/_wecom/cgi-bin/")
WECOM_OAUTH_URL = env("WECOM_OAUTH_URL", f"{SITE_URL}/_wecom/connect/oauth2/authorize")
WECOM_TIMEOUT = float(env("WECOM_TIMEOUT", "5"))
# Chat archive (会话内容存档): chat messages reach the timeline only through WeCom's finance SDK. Off when
# empty; production: "scrm.wecom.finance_sdk.NativeFinanceSdk" with the library path, the archive secret and
# the RSA private key (PEM file) whose public half is set in WeCom's admin. The simulator ships a stand-in.
WECOM_CHAT_ARCHIVE_SDK = env(
    "WECOM_CHAT_ARCHIVE_SDK", "scrm.wecom.simulator.finance.SimFinanceSdk" if WECOM_SIMULATOR else ""
)
WECOM_CHAT_ARCHIVE_SDK_LIB = env("WECOM_CHAT_ARCHIVE_SDK_LIB", "libWeWorkFinanceSdk_C.so")
WECOM_CHAT_ARCHIVE_SECRET = env("WECOM_CHAT_ARCHIVE_SECRET")
WECOM_CHAT_ARCHIVE_KEY_FILE = env("WECOM_CHAT_ARCHIVE_KEY_FILE", str(VAR_DIR / "chat-archive-key.pem"))
# A CJK font for 渠道活码 posters (Pillow); empty = the first of the usual Debian fonts found
# (fonts-wqy-microhei, fonts-noto-cjk). Without any, posters print Latin letters only.
POSTER_FONT = env("POSTER_FONT", "")
# Static path of the JS-SDK the sidebar loads, in WeCom and in dev alike: the vendored @wecom/jssdk.
# With WECOM_SIMULATOR on, the shell also loads wecom/sim-jssdk.js, a stand-in for WeCom's native bridge.
WECOM_JSSDK_SCRIPT = env("WECOM_JSSDK_SCRIPT", "vendor/wecom-jssdk-2.4.4.global.prod.js")
# WeCom's domain verification files (WW_verify_<code>.txt), served at the root: drop them into this
# directory, or list them as WW_verify_<code>.txt:<content>,... in WECOM_VERIFY_FILES.
WECOM_VERIFY_DIR = env("WECOM_VERIFY_DIR", str(VAR_DIR / "wecom-verify"))
WECOM_VERIFY_FILES = dict(item.strip().split(":", 1) for item in env("WECOM_VERIFY_FILES").split(",") if ":" in item)
