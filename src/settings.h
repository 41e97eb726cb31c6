// The pk_keys.* settings.
#pragma once

namespace pk::settings {

// pk_keys.max_tracked_windows: shared-memory rate-limit windows (postmaster).
extern int max_tracked_windows;
// pk_keys.flush_interval: ms between flushes of shared counters (sighup).
extern int flush_interval_ms;
// pk_keys.usage_queue_size: kB of shared memory queueing pk_usage_record rows (postmaster).
extern int usage_queue_kb;
// pk_keys.max_verification_counters: shared-memory verification counters (postmaster).
extern int max_verification_counters;

}  // namespace pk::settings
