//! The commented default configuration, kept beside the settings it documents; a test checks
//! that every value shown is the real default.

/// The commented default configuration `init` writes beside the database.
pub const EXAMPLE: &str = r#"# tether-broker configuration. Every key is optional; the values shown are the defaults.
# listen = "127.0.0.1:7443"

[tls]
# min_version = "1.3"          # "1.2" to also accept TLS 1.2
# cert = "/etc/tether/fullchain.pem"   # your own certificate chain instead of the self-made one
# key = "/etc/tether/privkey.pem"

[auth]
# token_ttl_secs = 43200       # technician bearer tokens live 12 hours
# max_failures_per_source = 10 # failed logins per address per window before a block
# failure_window_secs = 60
# block_secs = 300

[codes]
# ttl_secs = 600               # one-time customer codes work for 10 minutes
# max_failures_per_source = 5  # failed guesses per address per window before a block
# failure_window_secs = 60
# block_secs = 300

[limits]
# max_connections = 10000
# max_connections_per_source = 64  # connections one address (IPv6: one /64) may hold
# staff_reserve = 100          # of max_connections, slots only signed-in staff may use
# customer_wait_secs = 3600    # a customer waits this long for a technician
# handshake_timeout_secs = 10
# idle_timeout_secs = 15       # a peer silent this long is gone (vanished, not closed)
# ping_interval_secs = 5
# max_queued_bytes = 8388608   # per peer, for never-dropped channels
# max_queued_messages = 4096
# stall_timeout_secs = 10      # a peer that reads nothing this long ends its session
# shutdown_grace_secs = 5
# resume_grace_secs = 30       # a customer whose connection drops may resume this long; 0: never

[bandwidth]
# pings = 10                   # round trips measured per check
# max_secs = 2.0               # each direction is measured for this long at most...
# max_bytes = 8388608          # ...or this many bytes, whichever comes first
# max_checks_per_source = 20   # checks one address may run unsigned-in per window...
# check_window_secs = 600      # ...of this many seconds
# quality_interval_secs = 5    # live round-trip samples during a session
# quality_warn_after = 3       # samples over the limit before both sides are warned

[bandwidth.agent]
# min_upload_mbps = 1.5        # below this fails: screen sharing waits for an override
# warn_upload_mbps = 3.0       # below this warns
# min_download_mbps = 0.0
# warn_download_mbps = 0.0
# max_rtt_ms = 300.0
# warn_rtt_ms = 150.0

[bandwidth.console]
# min_upload_mbps = 0.0
# warn_upload_mbps = 0.0
# min_download_mbps = 1.5
# warn_download_mbps = 3.0
# max_rtt_ms = 300.0
# warn_rtt_ms = 150.0

[desk]
# timezone = "UTC"             # IANA name, e.g. "Europe/Berlin"
# business_hours = "09:00-17:00"
# working_days = ["mon", "tue", "wed", "thu", "fri"]
# holidays = []                # e.g. ["2026-12-25", "2026-12-26"]
# critical_hours = 2.0         # critical: due this many hours after logging, day and night
# medium_days = 2              # high: by the end of the business day; medium and low:
# low_days = 5                 # after this many business days
# warn_at = 0.75               # dispatchers are warned when this share of the window passed
# auto_assign = true           # offer new tickets to the best available technician
# max_sessions = 1             # sessions at once before a technician shows as busy
# monitor_secs = 30            # how often deadlines are checked

# [[webhooks]]                 # repeat for each receiver
# url = "https://desk.example.com/hooks/tether"
# secret = "at least sixteen characters"   # signs X-Tether-Signature: sha256=HMAC
# events = []                  # created, assigned, priority_changed, eta_changed,
#                              # deadline_warning, deadline_breached, escalated, resolved,
#                              # closed, reopened, follow_up, onsite_scheduled, onsite_done
# attempts = 5                 # retried with backoff 1 s, 2 s, 4 s...

[p2p]
# enabled = true               # sessions try a direct (WebRTC) path for screen and input
# connect_timeout_secs = 5     # ...and stay on the relay if it is not up by then
# turn_ttl_secs = 43200        # how long a session's TURN credentials work
#                              # turn_secret = "...": shared with the TURN servers (coturn:
#                              # use-auth-secret, static-auth-secret); each session's TURN
#                              # credentials are made from it, never handed out themselves
# [[p2p.ice_servers]]          # none: host candidates only
# urls = ["stun:stun.example.com:3478", "turn:turn.example.com:3478"]

[transcripts]
# enabled = true               # record every session (off: no documentation; benchmarks only)
# required = true              # end a session whose transcript cannot be written
# dir = "/var/lib/tether/transcripts"  # default: DATA_DIR/transcripts
"#;
