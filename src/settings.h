// The pk_keys.* settings.
#pragma once

namespace pk::settings {

// pk_keys.max_tracked_windows: shared-memory rate-limit windows (postmaster).
extern int max_tracked_windows;
// pk_keys.flush_interval: ms between flushes of shared counters (sighup).
extern int flush_interval_ms;

}  // namespace pk::settings
